"""The match log: format, recorder, loader, deterministic re-simulation and recovery.

The format is specified in ``docs/replays.md``. Modules, bottom up: ``records`` (the
model), ``codec`` (msgpack maps), ``framing`` (length + CRC32 frames), ``recorder`` and
``async_recorder`` (writing, with ``group_sync`` for group commit), ``progress`` (when a
state hash is due), ``loader`` (reading), ``simulate`` (re-simulation), ``recovery``
(unfinished matches at start), ``applied`` (the move requests a log says were applied,
for at-most-once after a restart) and ``summary`` / ``render`` / ``export`` (what
``gameserver replay`` prints). Recording a match without a server, on the
room's own match and clock code, is ``rooms.recording_match`` (rooms import replays, not
the other way round).
"""

from __future__ import annotations

from .errors import (
    CorruptRecord,
    CorruptReplay,
    InvalidRecord,
    RecorderError,
    ReplayError,
    ReplayMismatch,
    UnsupportedVersion,
)
from .loader import LoadedMatch, iter_matches, load_match
from .progress import HASH_EVERY
from .recorder import FsyncPolicy, MatchRecorder
from .recovery import RecoveredMatch, find_recently_ended, find_unfinished
from .simulate import Position, Simulation, iter_positions, resimulate

__all__ = [
    "HASH_EVERY",
    "InvalidRecord",
    "CorruptRecord",
    "CorruptReplay",
    "FsyncPolicy",
    "LoadedMatch",
    "MatchRecorder",
    "Position",
    "RecoveredMatch",
    "RecorderError",
    "ReplayError",
    "ReplayMismatch",
    "Simulation",
    "UnsupportedVersion",
    "find_recently_ended",
    "find_unfinished",
    "iter_matches",
    "iter_positions",
    "load_match",
    "resimulate",
]
