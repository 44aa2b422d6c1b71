"""The sample log generator keeps time with the room's own Match and Clocks."""

from __future__ import annotations

from pathlib import Path

import attrs
import pytest

from gameserver.protocol.errors import ErrorCode, RequestError
from gameserver.protocol.messages import ClockSettings
from gameserver.replays.loader import load_match
from gameserver.replays.records import Moved, Occupant, TimedOut
from gameserver.replays.simulate import resimulate
from gameserver.rooms.recording_match import RecordingMatch, bot_header, record_bot_match

START = 1_767_225_600_000


def _match(
    tmp_path: Path, clock: ClockSettings, humans: bool = False, match_id: str = "m"
) -> RecordingMatch:
    header = bot_header(
        "tictactoe", ["random", "random"], seed=1, match_id=match_id, clock=clock, started_at=START
    )
    if humans:
        header = attrs.evolve(header, seats=(Occupant(name="ann"), Occupant(name="bob")))
    return RecordingMatch(tmp_path, header)


def _records(match: RecordingMatch) -> list[object]:
    return list(load_match(match.recorder.path).records)


def test_a_seat_s_clock_runs_while_its_player_is_away(tmp_path: Path) -> None:
    match = _match(tmp_path, ClockSettings(initial_ms=120_000, increment_ms=1_000), humans=True)
    match.move(0, {"cell": 4}, 2_500)
    match.disconnect(1, away_ms=4_000)
    match.move(1, {"cell": 0}, 7_000)
    match.finish(aborted=True)
    moved = [r for r in _records(match) if isinstance(r, Moved)]
    assert [m.time_used_ms for m in moved] == [2_500, 11_000]
    assert moved[-1].clocks == (118_500, 110_000)
    assert moved[-1].at == START + 13_500


def test_a_timeout_comes_at_the_per_move_limit_when_it_is_shorter_than_the_bank(
    tmp_path: Path,
) -> None:
    match = _match(tmp_path, ClockSettings(initial_ms=120_000, per_move_ms=30_000))
    match.move(0, {"cell": 4}, 1_000)
    match.timeout(1)
    match.finish()
    timed_out = next(r for r in _records(match) if isinstance(r, TimedOut))
    assert timed_out.at == START + 31_000
    assert timed_out.clocks == (119_000, 90_000)


def test_only_a_running_clock_with_a_limit_can_run_out(tmp_path: Path) -> None:
    untimed = _match(tmp_path, ClockSettings())
    with pytest.raises(ValueError, match="seat 0's clock is not running"):
        untimed.timeout(0)
    timed = _match(tmp_path, ClockSettings(initial_ms=10_000), match_id="timed")
    with pytest.raises(ValueError, match="seat 1's clock is not running"):
        timed.timeout(1)  # seat 0 is to move


def test_a_refused_move_is_the_room_s_error_and_records_nothing(tmp_path: Path) -> None:
    match = _match(tmp_path, ClockSettings())
    match.move(0, {"cell": 4})
    with pytest.raises(RequestError) as info:
        match.move(0, {"cell": 5})
    assert info.value.code is ErrorCode.NOT_YOUR_TURN
    with pytest.raises(RequestError) as info:
        match.move(1, {"cell": 4})
    assert info.value.code is ErrorCode.ILLEGAL_MOVE
    assert match.version == 1
    match.finish(aborted=True)
    assert sum(isinstance(r, Moved) for r in _records(match)) == 1


def test_a_bot_match_replays_to_the_recorded_clocks(tmp_path: Path) -> None:
    clock = ClockSettings(initial_ms=300_000, increment_ms=5_000)
    header = bot_header("connect4", ["random", "best"], seed=4, match_id="c4", clock=clock)
    match = record_bot_match(tmp_path, header, bot_seed=5)
    sim = resimulate(load_match(match.recorder.path))
    assert sim.version == match.version and sim.outcome is not None
    assert sim.clocks == match.clocks.banks_now(0.0) == tuple(match.clocks.bank_ms)
