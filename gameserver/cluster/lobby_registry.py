"""The lobby's rooms in Redis: ``rooms.lobby.RoomDirectory`` for cluster mode.

The lobby tells the registry, synchronously, which public rooms it lists and which
rooms closed; ``run`` writes the latest of each room to Redis in the background (a room
that changed five times while a write was on its way is written once more, as it is
now). The hash ``{prefix}:lobby`` maps a room id to ``NODE_ID SP LEASE_TOKEN SP
LOBBY_UPDATE``: the owner, its lease token (which tells the entries of a gone process
from those of a later one under the same node id) and the room's summary as the lobby
pushes it (a msgpack ``LobbyUpdate``); ``parse_entry`` reads one. A room that closed
with nothing to recover is released: its claim goes (``NodeLease.release``), so its id
and epoch are free.

Invite codes of private rooms go to ``{prefix}:invites`` (code -> ``NODE_ID ROOM_ID``;
a code another node's room holds is not taken over, and is logged: with 31^8 codes this
is not expected to happen).

The registry also mirrors the other nodes' entries (``mirror``: it reads both hashes
every ``MIRROR_PERIOD`` seconds), so the lobby lists every node's rooms
(``rooms_elsewhere``), tells its watchers what changed elsewhere, and the bus finds a
listed room's owner (``owner_of``) and an invite code's node (``invite_node``).
"""

from __future__ import annotations

import logging
from typing import Any

import trio

from gameserver.protocol.codec import decode_server_message, encode
from gameserver.protocol.messages import LobbyUpdate, RoomStatus, RoomSummary, SeatKind
from gameserver.rooms.lobby import Lobby

from .errors import RedisUnavailable, StaleOwner
from .keys import KeyLayout
from .leases import NodeLease
from .redis_api import RedisAPI
from .room_logs import StreamLogs
from .scripts import INVITE, LOBBY, LOBBY_READ

log = logging.getLogger(__name__)

#: What is pending for a room: its summary to list, None to unlist, or ``RELEASED``;
#: for an invite code: the room id, or None to remove it.
_RELEASED = "released"
_ROOM, _INVITE = "room", "invite"
# How stale another node's room may be in this node's lobby; each read costs one
# HGETALL of every listed room, so not much more often than this.
MIRROR_PERIOD = 0.5


def parse_entry(entry: bytes) -> tuple[str, str, RoomSummary]:
    """The node id, lease token and room summary of one ``{prefix}:lobby`` entry."""
    node, token, update = entry.split(b" ", 2)
    message = decode_server_message(update)
    assert isinstance(message, LobbyUpdate) and len(message.rooms) == 1
    return node.decode(), token.decode(), message.rooms[0]


class LobbyRegistry:
    """Keeps ``{prefix}:lobby`` up to date with this node's listed rooms."""

    def __init__(
        self, api: RedisAPI, lease: NodeLease, logs: StreamLogs, *, retry: float
    ) -> None:
        self.api = api
        self.lease = lease
        self.logs = logs
        self.keys: KeyLayout = lease.keys
        self.retry = retry
        self._pending: dict[tuple[str, str], RoomSummary | str | None] = {}
        self._wake = trio.Event()
        #: room id -> (owner node, summary) of the rooms other nodes list.
        self._elsewhere: dict[str, tuple[str, RoomSummary]] = {}
        #: invite code -> node of its room, every node's.
        self._invites: dict[str, str] = {}

    # -- rooms.lobby.RoomDirectory ---------------------------------------------------------

    def listed(self, summary: RoomSummary) -> None:
        self._queue(summary.room_id, summary)

    def unlisted(self, room_id: str) -> None:
        if self._pending.get((_ROOM, room_id)) != _RELEASED:
            self._queue(room_id, None)

    def released(self, room_id: str) -> None:
        self._queue(room_id, _RELEASED)

    def invited(self, invite_code: str, room_id: str | None) -> None:
        self._pending[(_INVITE, invite_code)] = room_id
        self._wake.set()

    def rooms_elsewhere(self) -> list[RoomSummary]:
        return [summary for _node, summary in reversed(self._elsewhere.values())]

    def seats_elsewhere(self, player_id: str) -> dict[str, int]:
        """The seats ``player_id`` holds in other nodes' listed rooms, by room id."""
        return {
            room_id: seat.seat
            for room_id, (_node, summary) in self._elsewhere.items()
            for seat in summary.seats
            if seat.player_id == player_id and seat.kind is SeatKind.HUMAN
        }

    def invite_node(self, invite_code: str) -> str | None:
        """The node of the room ``invite_code`` opens (as of the latest read), or None."""
        return self._invites.get(invite_code.strip().upper())

    def owner_of(self, room_id: str) -> str | None:
        """The node that lists ``room_id`` (as of the latest read), or None."""
        found = self._elsewhere.get(room_id)
        return None if found is None else found[0]

    def quick_room_elsewhere(
        self, player_id: str, game: str, players: int, options: dict[str, Any]
    ) -> str | None:
        """The node of a waiting room of another node that a quick match of ``game``
        for ``players`` (default ``options``) could join, as of the latest read."""
        for node, summary in self._elsewhere.values():
            if (
                summary.status is RoomStatus.WAITING
                and summary.game == game
                and summary.players == players
                and dict(summary.options) == options
                and summary.clock is None
                and not summary.rated
                and any(seat.kind is SeatKind.OPEN for seat in summary.seats)
                and all(seat.player_id != player_id for seat in summary.seats)
            ):
                return node
        return None

    def _queue(self, room_id: str, what: RoomSummary | str | None) -> None:
        self._pending[(_ROOM, room_id)] = what
        self._wake.set()

    # -- the writer --------------------------------------------------------------------------

    async def run(self) -> None:
        """Write what the lobby said, forever; Redis not answering delays, never drops."""
        while True:
            await self._wake.wait()
            self._wake = trio.Event()
            while self._pending:
                key = next(iter(self._pending))
                what = self._pending.pop(key)
                try:
                    if key[0] == _ROOM:
                        await self._write(key[1], what)
                    else:
                        assert not isinstance(what, RoomSummary)
                        await self._write_invite(key[1], what)
                except RedisUnavailable as exc:
                    log.warning("lobby registry: Redis does not answer; retrying: %s", exc)
                    self._pending.setdefault(key, what)
                    await trio.sleep(self.retry)

    async def mirror(self, lobby: Lobby) -> None:
        """Read the other nodes' rooms every ``MIRROR_PERIOD`` seconds, forever, and
        tell ``lobby`` what changed (for its watchers)."""
        while True:
            try:
                flat = await self.api.run_script(LOBBY_READ, [self.keys.lobby], [])
                invites = await self.api.run_script(LOBBY_READ, [self.keys.invites], [])
            except RedisUnavailable as exc:
                log.warning("lobby registry: Redis does not answer; retrying: %s", exc)
            else:
                self._update(lobby, flat)
                self._invites = {
                    code.decode(): entry.split(b" ", 1)[0].decode()
                    for code, entry in zip(invites[::2], invites[1::2])
                }
            await trio.sleep(MIRROR_PERIOD)

    def _update(self, lobby: Lobby, flat: list[bytes]) -> None:
        found: dict[str, tuple[str, RoomSummary]] = {}
        for room_id, entry in zip(flat[::2], flat[1::2]):
            node, _token, summary = parse_entry(entry)
            if node != self.lease.node_id:
                found[room_id.decode()] = (node, summary)
        old = self._elsewhere
        self._elsewhere = found
        listed = [
            summary
            for room_id, (_node, summary) in found.items()
            if room_id not in old or old[room_id][1] != summary
        ]
        removed = [summary for room_id, (_node, summary) in old.items() if room_id not in found]
        if listed or removed:
            lobby.changed_elsewhere(listed, removed)

    async def _write_invite(self, code: str, room_id: str | None) -> None:
        args = [code] if room_id is None else [code, f"{self.lease.node_id} {room_id}"]
        reply = await self.api.run_script(INVITE, [self.keys.invites], args)
        if reply[0] == b"taken":
            log.error("invite code of room %s is another room's: joined on this node only", room_id)

    async def _write(self, room_id: str, what: RoomSummary | str | None) -> None:
        if isinstance(what, RoomSummary):
            update = encode(LobbyUpdate(rooms=(what,)))
            entry = f"{self.lease.node_id} {self.lease.token} ".encode() + update
            await self.api.run_script(LOBBY, [self.keys.lobby], [room_id, entry])
            return
        await self.api.run_script(LOBBY, [self.keys.lobby], [room_id])
        if what == _RELEASED:
            claim = self.logs.claims.get(room_id)
            if claim is None:
                return
            try:
                await self.lease.release(claim)
            except StaleOwner:
                pass  # another node claimed it since: it is that node's now
            if self.logs.claims.get(room_id) is claim:
                del self.logs.claims[room_id]
