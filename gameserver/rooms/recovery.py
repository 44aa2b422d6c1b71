"""Crash recovery: turn unfinished match logs back into live rooms at start.

Each unfinished log (``replays.recovery.find_unfinished``) becomes a room with the same
id, seats, options, clock, state, version and rng; its log is reopened and continued.
Seated humans become known players without a connection, so they resume with the
tokens they already hold (the token secret lives in the data directory) within the
grace period. A recovered public room is listed again (spectators can find it); a
private one, and one from a log that does not say, stays unlisted, and its invite code
is gone: only its players come back to it.
"""

from __future__ import annotations

import functools
import logging
from pathlib import Path

import trio

from gameserver.protocol.messages import ClockSettings
from gameserver.replays import records
from gameserver.replays.applied import applied_requests
from gameserver.replays.async_recorder import AsyncMatchRecorder
from gameserver.replays.recorder import MatchRecorder
from gameserver.replays.recovery import RecoveredMatch, find_unfinished
from gameserver.games.base import state_hash
from gameserver.games.strategy import get_strategy
from gameserver.rooms.match import Match
from gameserver.sessions.players import Player
from gameserver.rooms.room import Room
from gameserver.sessions.service import GameService

log = logging.getLogger(__name__)


def _match_number(match_id: str, room_id: str) -> int:
    suffix = match_id[len(room_id) + 1 :] if match_id.startswith(room_id + "-") else ""
    return int(suffix) if suffix.isdigit() else 1


def _clock(header: records.Header) -> ClockSettings | None:
    clock = header.clock
    return None if clock.initial_ms is None and clock.per_move_ms is None else clock


async def _finish(recovered: RecoveredMatch, service: GameService) -> None:
    """The game had ended but the end record never reached the disk: write it now."""
    assert recovered.outcome is not None
    reopen = functools.partial(
        MatchRecorder.reopen, recovered.loaded, fsync=service.config.rooms.fsync
    )
    recorder = AsyncMatchRecorder(await trio.to_thread.run_sync(reopen))
    at = recovered.last_at
    await recorder.append_many(
        [
            records.StateHash(
                at=at, version=recovered.version, hash=state_hash(recovered.game, recovered.state)
            ),
            records.Ended.from_outcome(recovered.outcome, at=at, version=recovered.version),
        ]
    )
    await recorder.aclose()


async def _restore(recovered: RecoveredMatch, service: GameService) -> Room:
    header = recovered.header
    players = len(recovered.seats)
    room = Room(
        header.room_id,
        recovered.game,
        players=players,
        options=recovered.options,
        host=service.lobby,
        config=service.config.rooms,
        private=header.private is not False,
        clock=_clock(header),
        rated=header.rated,  # issue 18
    )
    for seat, occupant in zip(room.seats, recovered.seats):
        seat.name = occupant.name
        if seat.index in recovered.left:
            seat.departed = True
        elif occupant.kind is records.OccupantKind.BOT:
            seat.strategy_name = occupant.strategy or "random"
            seat.strategy = get_strategy(recovered.game.name, seat.strategy_name)
        elif occupant.player_id is not None:
            player = service.players.get(occupant.player_id)
            if player is None:
                player = service.players.add(Player(occupant.player_id, occupant.name))
            seat.player = player
            player.entered_room(room.room_id)
    reopen = functools.partial(
        MatchRecorder.reopen, recovered.loaded, fsync=service.config.rooms.fsync
    )
    recorder = AsyncMatchRecorder(await trio.to_thread.run_sync(reopen))
    match = Match.resume(
        recovered.game,
        players,
        recovered.options,
        header.seed,
        state=recovered.state,
        version=recovered.version,
        rng=recovered.rng,
    )
    room.resume(
        match,
        match_number=_match_number(header.match_id, header.room_id),
        banks=recovered.clocks,
        recorder=recorder,
        applied=applied_requests(
            header, recovered.loaded.records, window=service.config.rooms.dedupe_window
        ),
    )
    return room


async def recover_rooms(service: GameService, replays_dir: Path) -> int:
    """Rebuild every unfinished match in ``replays_dir`` as a room; return how many."""
    found = await trio.to_thread.run_sync(find_unfinished, replays_dir)
    count = 0
    for recovered in found:
        try:
            if recovered.outcome is not None:
                await _finish(recovered, service)
                continue
            if recovered.header.room_id in service.lobby.rooms:
                log.warning("skipping %s: room already recovered", recovered.path)
                continue
            room = await _restore(recovered, service)
        except Exception:
            log.exception("cannot recover %s", recovered.path)
            continue
        service.lobby.add_room(room)
        count += 1
    return count
