"""Crash recovery: turn unfinished match logs back into live rooms at start.

Each unfinished log (``replays.recovery.find_unfinished``) becomes a room with the same
id, seats, options, clock, state, version and rng: the room's core is given a ``Recover``
command with the match and the seats as the log left them (recovery sets nothing of a
room itself); its log is reopened and continued.
Seated humans become known players without a connection, so they resume with the
tokens they already hold (the token secret lives in the data directory) within the
grace period. A recovered public room is listed again (spectators can find it); a
private one, and one from a log that does not say, stays unlisted, and its invite code
is gone: only its players come back to it.

A match that ended shortly before the restart (its end record less than
``finished_room_ttl`` old, or written by recovery itself) comes back as a finished room,
as it would still be had the server not stopped: a player whose last answer or the
result was lost in the stop resumes the seat and sees the result.

``recover_rooms`` does this for the files of a replays directory; ``restore_room`` and
``finish_match`` are the steps for one match whose log the caller has reopened (cluster
mode reads it from a Redis stream).
"""

from __future__ import annotations

import functools
import logging
import time
from pathlib import Path
from typing import Protocol

import trio

from gameserver.protocol.messages import ClockSettings, OutcomeInfo
from gameserver.replays import records
from gameserver.replays.applied import applied_requests
from gameserver.replays.async_recorder import AsyncMatchRecorder
from gameserver.replays.recorder import MatchRecorder
from gameserver.replays.recovery import RecoveredMatch, find_recently_ended, find_unfinished
from gameserver.games.base import Termination, state_hash
from gameserver.games.strategy import get_strategy
from gameserver.rooms.commands import Recover, RecoveredSeat
from gameserver.rooms.journal import MatchLog
from gameserver.rooms.lobby import Lobby
from gameserver.rooms.match import Match
from gameserver.rooms.members import Member
from gameserver.rooms.room import Room

log = logging.getLogger(__name__)


class RecoveryHost(Protocol):
    """What recovery needs of the server (``sessions.service.GameService``)."""

    @property
    def lobby(self) -> Lobby:
        """Where recovered rooms are added."""

    def known_player(self, player_id: str, name: str) -> Member:
        """The player with ``player_id``, made known (without a connection) if it is not."""


def _match_number(match_id: str, room_id: str) -> int:
    suffix = match_id[len(room_id) + 1 :] if match_id.startswith(room_id + "-") else ""
    return int(suffix) if suffix.isdigit() else 1


def _clock(header: records.Header) -> ClockSettings | None:
    clock = header.clock
    return None if clock.initial_ms is None and clock.per_move_ms is None else clock


async def _reopen(recovered: RecoveredMatch, service: RecoveryHost) -> AsyncMatchRecorder:
    """The file log of ``recovered``, open for appending after its last whole record."""
    reopen = functools.partial(
        MatchRecorder.reopen, recovered.loaded, fsync=service.lobby.config.fsync
    )
    return AsyncMatchRecorder(await trio.to_thread.run_sync(reopen))


async def finish_match(recovered: RecoveredMatch, recorder: MatchLog) -> records.Ended:
    """The game had ended but the end record never reached the log: write it now, to
    ``recorder`` (``recovered``'s log, reopened), close it, and return the end record."""
    assert recovered.outcome is not None
    at = recovered.last_at
    end = records.Ended.from_outcome(recovered.outcome, at=at, version=recovered.version)
    await recorder.append_many(
        [
            records.StateHash(
                at=at, version=recovered.version, hash=state_hash(recovered.game, recovered.state)
            ),
            end,
        ]
    )
    await recorder.aclose()
    return end


def restore_room(
    recovered: RecoveredMatch, service: RecoveryHost, recorder: MatchLog | None,
    ended: records.Ended | None = None,
) -> Room:
    """The room of ``recovered``: playing on from its log (``recorder``, reopened), or
    finished as after ``ended`` (``recorder`` None: its log stays closed); the caller
    adds it to the lobby (``Lobby.add_room``)."""
    assert (recorder is None) == (ended is not None), "a log to play on, or an end"
    header = recovered.header
    players = len(recovered.seats)
    room = Room(
        header.room_id,
        recovered.game,
        players=players,
        options=recovered.options,
        host=service.lobby,
        config=service.lobby.config,
        private=header.private is not False,
        clock=_clock(header),
        rated=header.rated,  # issue 18
    )
    seats = []
    for index, occupant in enumerate(recovered.seats):
        if index in recovered.left:
            seats.append(RecoveredSeat(occupant.name, departed=True))
        elif occupant.kind is records.OccupantKind.BOT:
            strategy = occupant.strategy or "random"
            seats.append(
                RecoveredSeat(
                    occupant.name, strategy=(strategy, get_strategy(recovered.game.name, strategy))
                )
            )
        elif occupant.player_id is not None:
            member = service.known_player(occupant.player_id, occupant.name)
            seats.append(RecoveredSeat(occupant.name, member=member))
        else:
            seats.append(RecoveredSeat(occupant.name))  # nobody to hold it: it stays open
    match = Match.resume(
        recovered.game,
        players,
        recovered.options,
        header.seed,
        state=recovered.state,
        version=recovered.version,
        rng=recovered.rng,
    )
    command = Recover(
        match,
        match_number=_match_number(header.match_id, header.room_id),
        banks=recovered.clocks,
        seats=tuple(seats),
        applied=applied_requests(
            header, recovered.loaded.records, window=service.lobby.config.dedupe_window
        ),
        ended=None if ended is None else _outcome_of(ended),
    )
    room.recover(command, recorder)
    return room


def _outcome_of(end: records.Ended) -> OutcomeInfo:
    """The outcome an end record shows players (an aborted one included)."""
    return OutcomeInfo(
        winners=end.winners,
        draw=end.draw,
        scores=end.scores,
        reason=end.reason,
        # Older logs mark an aborted match by the flag alone.
        termination=Termination.ABORTED if end.aborted else end.termination,
    )


async def recover_rooms(service: RecoveryHost, replays_dir: Path) -> int:
    """Rebuild every unfinished match in ``replays_dir`` as a room; return how many.

    Then the rooms of matches that ended shortly before the restart come back finished
    (``_bring_back_finished``).
    """
    found = await trio.to_thread.run_sync(find_unfinished, replays_dir)
    count = 0
    ended_now: list[tuple[RecoveredMatch, records.Ended]] = []
    for recovered in found:
        try:
            if recovered.outcome is not None:
                ended = await finish_match(recovered, await _reopen(recovered, service))
                ended_now.append((recovered, ended))
                continue
            if recovered.header.room_id in service.lobby.rooms:
                log.warning("skipping %s: room already recovered", recovered.path)
                continue
            room = restore_room(recovered, service, await _reopen(recovered, service))
        except Exception:
            log.exception("cannot recover %s", recovered.path)
            continue
        service.lobby.add_room(room)
        count += 1
    await _bring_back_finished(service, replays_dir, ended_now)
    return count


async def _bring_back_finished(
    service: RecoveryHost,
    replays_dir: Path,
    ended_now: list[tuple[RecoveredMatch, records.Ended]],
) -> int:
    """Bring back, finished, the rooms of the matches in ``ended_now`` (whose end recovery
    just wrote: nobody was told) and of those that ended less than ``finished_room_ttl``
    ago (the room would still be there had the server not stopped); return how many.

    A player whose answer or result was lost in the stop resumes its seat and sees the
    result, as after any end (docs/protocol.md section 3.1). Call it after the unfinished
    matches are rooms: a room already there (a later match of it) is left as it is.
    """
    since = time.time() - service.lobby.config.finished_room_ttl
    find = functools.partial(find_recently_ended, replays_dir, since=since)
    ended = [*ended_now, *_with_end(await trio.to_thread.run_sync(find))]
    count = 0
    for recovered, end in _newest_per_room(ended):
        if recovered.header.room_id in service.lobby.rooms or not _someone_to_tell(recovered):
            continue
        try:
            room = restore_room(recovered, service, None, end)
        except Exception:
            log.exception("cannot bring back the finished room of %s", recovered.path)
            continue
        service.lobby.add_room(room)
        count += 1
    if count:
        log.info("brought back %d rooms whose match ended just before the restart", count)
    return count


def _with_end(found: list[RecoveredMatch]) -> list[tuple[RecoveredMatch, records.Ended]]:
    """Each ended match with its end record."""
    pairs = []
    for recovered in found:
        end = recovered.loaded.end
        assert end is not None, "find_recently_ended finds ended matches only"
        pairs.append((recovered, end))
    return pairs


def _newest_per_room(
    ended: list[tuple[RecoveredMatch, records.Ended]],
) -> list[tuple[RecoveredMatch, records.Ended]]:
    """Of each room's ended matches, the one with the highest match number."""
    newest: dict[str, tuple[RecoveredMatch, records.Ended]] = {}
    for recovered, end in ended:
        header = recovered.header
        kept = newest.get(header.room_id)
        number = _match_number(header.match_id, header.room_id)
        if kept is None or number > _match_number(kept[0].header.match_id, header.room_id):
            newest[header.room_id] = (recovered, end)
    return list(newest.values())


def _someone_to_tell(recovered: RecoveredMatch) -> bool:
    """Whether a human still held a seat at the end (someone to show the result to)."""
    return any(
        occupant.player_id is not None and index not in recovered.left
        for index, occupant in enumerate(recovered.seats)
    )
