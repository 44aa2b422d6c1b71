"""Crash recovery: find matches whose log has no end record and rebuild them.

At start the server calls ``find_unfinished(replays_dir)`` and turns each
``RecoveredMatch`` into a live room: same header, state, version and rng, so play goes on
exactly as if the server had never stopped. It continues the log with
``MatchRecorder.reopen(recovered.loaded)``, which first cuts off any torn tail.
``find_recently_ended(replays_dir, since=...)`` finds the matches that ended shortly
before the restart: their rooms come back finished, so a player who missed the result
sees it on resuming.

Only a damaged *tail* is cut off: a log with whole records after its damage (a record
torn in the middle) fails to load (``CorruptReplay``, see ``framing.scan``) and is listed
in ``skipped``, because reopening it would throw those records away (possibly the end of
a finished match). A log with its end record is never touched.

Clocks: ``clocks`` are the banks recorded with the last move, timeout or resignation.
Resume the seats to act from those banks; the time the server was down (and the part of
the current turn before the crash, which was never recorded) is not charged.
"""

from __future__ import annotations

import logging
import os
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs

from gameserver.games.base import AnyGame, Outcome

from .errors import CorruptReplay, ReplayError
from .loader import LoadedMatch, load_match, match_paths
from .records import Header, Occupant
from .simulate import resimulate

logger = logging.getLogger(__name__)


@attrs.frozen
class RecoveredMatch:
    """An unfinished match, re-simulated to where its log stops."""

    #: The log's file (None for a log read from elsewhere, e.g. a Redis stream).
    path: Path | None
    #: The log as loaded (pass it to ``MatchRecorder.reopen``).
    loaded: LoadedMatch
    header: Header
    game: AnyGame
    #: The validated options.
    options: dict[str, Any]
    #: The state after the last recorded event.
    state: Any
    #: Its version.
    version: int
    #: The match rng, positioned exactly after the last recorded event.
    rng: random.Random
    #: Current occupant of every seat.
    seats: tuple[Occupant, ...]
    #: Remaining bank per seat as last recorded (None if untimed or no move yet: start banks).
    clocks: tuple[int, ...] | None
    #: Wall time of the last record, ms since the epoch.
    last_at: int
    #: Seats disconnected or gone when the log stops.
    disconnected: frozenset[int]
    left: frozenset[int]
    #: The game's outcome. From ``find_unfinished``: not None if the game was already
    #: over but the end record never made it to disk (the room should append the final
    #: hash and end record and not resume play).
    outcome: Outcome | None


@attrs.frozen
class SkippedFile:
    """A log that could not be recovered, and why."""

    path: Path
    reason: str


class RecoveryResult(list[RecoveredMatch]):
    """The matches to resume (a list), plus ``skipped``: files that could not be used."""

    def __init__(self) -> None:
        super().__init__()
        self.skipped: list[SkippedFile] = []


def recover(loaded: LoadedMatch) -> RecoveredMatch:
    """Rebuild one unfinished match; raise ``ReplayMismatch`` if its log does not replay."""
    sim = resimulate(loaded)
    return RecoveredMatch(
        path=loaded.path,
        loaded=loaded,
        header=loaded.header,
        game=sim.game,
        options=sim.options,
        state=sim.state,
        version=sim.version,
        rng=sim.rng,
        seats=sim.seats,
        clocks=sim.clocks,
        last_at=sim.last_at,
        disconnected=sim.disconnected,
        left=sim.left,
        outcome=sim.outcome,
    )


def find_unfinished(directory: str | os.PathLike[str]) -> list[RecoveredMatch]:
    """Every match in ``directory`` whose log has no end record, re-simulated.

    Never raises for a bad file: corrupt logs, logs damaged before whole records and
    logs that do not re-simulate are logged
    and listed in the result's ``skipped`` (the result is a ``RecoveryResult``). A
    missing directory yields an empty result. Sorted by file name.
    """
    return _recover_where(directory, lambda loaded: not loaded.complete)


def find_recently_ended(directory: str | os.PathLike[str], *, since: float) -> list[RecoveredMatch]:
    """Every match in ``directory`` whose end record says it ended at ``since`` (Unix
    seconds, wall clock) or later, re-simulated to its end.

    Their rooms come back finished after a restart (``rooms.recovery``). ``outcome`` is
    the game's (None for an aborted match: read ``loaded.end``). A file last changed
    before ``since`` is not read at all. Bad files are handled as ``find_unfinished``
    handles them.
    """
    since_ms = since * 1000

    def ended_since(loaded: LoadedMatch) -> bool:
        end = loaded.end
        return end is not None and end.at >= since_ms

    return _recover_where(directory, ended_since, changed_since=since)


def _recover_where(
    directory: str | os.PathLike[str],
    wanted: Callable[[LoadedMatch], bool],
    *,
    changed_since: float | None = None,
) -> RecoveryResult:
    """Load every log of ``directory`` (changed at ``changed_since`` or later, when given)
    and re-simulate those ``wanted``; bad files go to ``skipped``."""
    result = RecoveryResult()
    directory = Path(directory)
    if not directory.is_dir():
        return result
    for path in match_paths(directory):
        try:
            if changed_since is not None and path.stat().st_mtime < changed_since:
                continue
            loaded = load_match(path)
            if wanted(loaded):
                result.append(recover(loaded))
        except ReplayError as exc:
            logger.error("cannot recover %s: %s", path, exc)
            result.skipped.append(SkippedFile(path, str(exc)))
    return result
