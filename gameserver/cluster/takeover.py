"""Taking over the rooms of nodes that are gone: claim, read the log, play on.

A room is an orphan when its owner's lease is gone or holds another token (the node
died, stalled past its lease, or restarted under the same id). For each one this node
claims it (epoch + 1: from then on every append of the old owner is refused), reads its
latest match log from Redis and hands it to today's crash recovery
(``replays.recovery.recover`` re-simulates it; ``rooms.recovery.restore_room`` gives
the room its ``Recover`` command). The players resume with the tokens they hold.

Every node does this at start and then every half lease time while it runs
(``watch``), so the rooms of a node that died (kill -9) or stalled past its lease
(SIGSTOP) move to a survivor within about one and a half lease times; of several
survivors exactly one claims each room. Players connected to the new owner who sit in
the room are sent a snapshot at once; the others resume (with their tokens, on the new
owner) within the grace period.

A room whose log is missing (no match started) or complete has nothing to recover: it
is released. A game that was over without its end record gets the end record
(``rooms.recovery.finish_match``), as a crash recovery from files does.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import trio

from gameserver.replays.errors import ReplayError
from gameserver.replays.recovery import recover
from gameserver.rooms.commands import Attached
from gameserver.rooms.recovery import RecoveryHost, finish_match, restore_room

from .errors import RoomHeld
from .leases import Claim, NodeLease
from .match_stream import MatchStreams
from .redis_api import RedisAPI
from .room_logs import StreamLogs, until_answered
from .scripts import LOBBY, LOBBY_PRUNE, ROOM

log = logging.getLogger(__name__)


async def room_log(api: RedisAPI, lease: NodeLease, room_id: str) -> str | None:
    """The match id of ``room_id``'s latest log, None if it never started a match."""
    reply = await api.run_script(ROOM, [lease.keys.room(room_id)], [])
    key = reply[2].decode() if isinstance(reply[2], bytes) else str(reply[2])
    return lease.keys.match_id_of(key) if key else None


class Takeover:
    """Claims and rebuilds orphaned rooms into one node's lobby."""

    def __init__(
        self, api: RedisAPI, lease: NodeLease, streams: MatchStreams, logs: StreamLogs
    ) -> None:
        self.api = api
        self.lease = lease
        self.streams = streams
        self.logs = logs
        #: Asks the other nodes which of these players are connected to them (the bus).
        self.seek: Callable[[list[str]], None] | None = None

    async def run_once(self, host: RecoveryHost) -> int:
        """Take over every orphaned room now; return how many play on here.

        First forgets the lobby entries of gone nodes' rooms that no node owns (they
        never started a match, so nothing else would remove them); a room taken over is
        listed again by its new owner, which overwrites its entry (no moment without
        one: a player coming back through any node finds its seat there).
        """
        keys = self.lease.keys
        await until_answered(
            lambda: self.api.run_script(LOBBY_PRUNE, [keys.lobby], [keys.prefix]),
            self.logs.retry,
            "lobby",
        )
        rooms = await until_answered(self.lease.orphaned_rooms, self.logs.retry, "orphans")
        count = 0
        for room_id in rooms:
            if room_id in host.lobby.rooms:
                continue
            try:
                claim = await until_answered(
                    lambda: self.lease.claim(room_id), self.logs.retry, f"room {room_id}"
                )
            except RoomHeld:
                continue  # another node was quicker
            try:
                count += await self._rebuild(claim, host)
            except (ReplayError, ValueError) as exc:
                # Kept claimed and not played: an operator looks at the log.
                log.error("cannot take over room %s: %s", room_id, exc)
            except Exception:
                # One room that cannot be rebuilt must not keep the others down.
                log.exception("cannot take over room %s", room_id)
        return count

    async def watch(self, host: RecoveryHost, period: float) -> None:
        """Take over orphaned rooms every ``period`` seconds, forever."""
        while True:
            await trio.sleep(period)
            count = await self.run_once(host)
            if count:
                log.info("took over %d rooms of nodes that are gone", count)

    async def _rebuild(self, claim: Claim, host: RecoveryHost) -> int:
        """Play ``claim``'s room on from its log here (1), or release it (0)."""
        room_id = claim.room_id
        match_id = await until_answered(
            lambda: room_log(self.api, self.lease, room_id), self.logs.retry, f"room {room_id}"
        )
        loaded = None
        if match_id is not None:
            loaded = await until_answered(
                lambda: self.streams.load(match_id), self.logs.retry, f"match {match_id}"
            )
        if loaded is None or loaded.complete:
            await self._release(claim)
            return 0
        recovered = await trio.to_thread.run_sync(recover, loaded)
        recorder = self.logs.adopt(await self.streams.reopen(claim, loaded))
        if recovered.outcome is not None:
            await finish_match(recovered, recorder)
            await self._release(claim)
            return 0
        room = restore_room(recovered, host, recorder)
        host.lobby.add_room(room)
        host.lobby.room_changed(room)  # listed again (in Redis too), as by its old owner
        away = []
        for seat in room.seats:
            if seat.member is not None and seat.member.connected:
                room.submit(Attached(seat.member))  # connected here: a snapshot now
            elif seat.member is not None:
                away.append(seat.member.player_id)
        if away and self.seek is not None:
            self.seek(away)  # those connected to other nodes are relayed from there
        log.info("took over room %s (match %s) at epoch %d", room_id, match_id, claim.epoch)
        return 1

    async def _release(self, claim: Claim) -> None:
        await self.api.run_script(LOBBY, [self.lease.keys.lobby], [claim.room_id])
        await self.lease.release(claim)
        self.logs.claims.pop(claim.room_id, None)
