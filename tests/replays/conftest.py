"""Fixtures: small real match logs written by the real recorder."""

from __future__ import annotations

from pathlib import Path

import pytest

from gameserver.protocol.messages import ClockSettings
from gameserver.replays.records import Occupant, OccupantKind
from gameserver.rooms.recording_match import RecordingMatch, bot_header

#: The committed sample logs (test fixtures, never rewritten; see docs/replays.md, Versions).
#: They live here and not in the top-level replays/, where ``gameserver serve`` records.
SAMPLES = Path(__file__).resolve().parent / "samples"


def eventful_tictactoe(directory: Path, match_id: str = "eventful") -> RecordingMatch:
    """A finished tic-tac-toe match with every kind of seat record, ending in a draw."""
    header = bot_header(
        "tictactoe",
        ["random", "random"],
        seed=7,
        match_id=match_id,
        clock=ClockSettings(initial_ms=60_000, increment_ms=1_000),
    )
    match = RecordingMatch(directory, header)
    match.move(0, {"cell": 4})
    match.disconnect(1, away_ms=3_000)
    match.move(1, {"cell": 0})
    match.disconnect(1)
    match.replace(1, Occupant(name="stand-in", kind=OccupantKind.BOT, strategy="best"))
    match.move(0, {"cell": 2})
    match.move(1, {"cell": 6})
    match.move(0, {"cell": 3})
    match.move(1, {"cell": 5})
    match.move(0, {"cell": 8})
    match.move(1, {"cell": 1})
    match.move(0, {"cell": 7})
    match.finish()
    return match


@pytest.fixture
def eventful_log(tmp_path: Path) -> Path:
    """Path of a finished, eventful tic-tac-toe log."""
    return eventful_tictactoe(tmp_path).recorder.path
