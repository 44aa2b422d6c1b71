"""``termination`` in the end record: written by every new log, checked by re-simulation,
absent from logs written before it existed (which still load and verify)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import attrs
import pytest

from gameserver.games.base import Termination
from gameserver.replays import framing
from gameserver.replays.codec import encode_record, record_from_data, record_to_data
from gameserver.replays.errors import CorruptRecord, ReplayMismatch
from gameserver.replays.loader import LoadedMatch, load_match
from gameserver.replays.records import Ended
from gameserver.protocol.messages import ClockSettings
from gameserver.rooms.recording_match import RecordingMatch, bot_header
from gameserver.replays.simulate import resimulate

from .conftest import SAMPLES

ROOT = Path(__file__).resolve().parents[2]

# The finished samples, recorded before ``termination`` existed, and how each really ended.
OLD_SAMPLES = {
    "v1-tictactoe-best-vs-random": Termination.NORMAL,
    "v1-tictactoe-takeover-resign": Termination.RESIGNATION,
    "v1-tictactoe-timeout": Termination.TIMEOUT,
    "v1-connect4-random-vs-best": Termination.NORMAL,
    "v1-liarsdice-three-bots": Termination.NORMAL,
}


def end_of(loaded: LoadedMatch) -> Ended:
    end = loaded.records[-1]
    assert isinstance(end, Ended)
    return end


@pytest.mark.parametrize("name", sorted(OLD_SAMPLES))
def test_an_old_sample_has_no_termination_and_still_verifies(name: str) -> None:
    loaded = load_match(SAMPLES / f"{name}.gsr")
    assert end_of(loaded).termination is None  # nothing is derived for an old log
    sim = resimulate(loaded)
    assert sim.hashes_checked >= 1
    assert sim.outcome is not None and sim.outcome.termination is OLD_SAMPLES[name]


def tictactoe(directory: Path, match_id: str = "t") -> RecordingMatch:
    clock = ClockSettings(initial_ms=60_000)  # a timeout needs a clock to run out
    header = bot_header("tictactoe", ["random", "random"], seed=1, match_id=match_id, clock=clock)
    match = RecordingMatch(directory, header)
    match.move(0, {"cell": 4})
    return match


def three_in_a_row(match: RecordingMatch) -> None:
    for seat, cell in ((1, 0), (0, 3), (1, 1), (0, 5)):
        match.move(seat, {"cell": cell})


# How a new log's match ends -> its recorded termination.
ENDINGS: dict[str, tuple[Callable[[RecordingMatch], None], Termination]] = {
    "normal": (three_in_a_row, Termination.NORMAL),
    "timeout": (lambda m: m.timeout(1), Termination.TIMEOUT),
    "resign": (lambda m: m.resign(1), Termination.RESIGNATION),
    "aborted": (lambda m: None, Termination.ABORTED),
}


@pytest.mark.parametrize("how", sorted(ENDINGS))
def test_a_new_log_records_the_termination_and_verifies(how: str, tmp_path: Path) -> None:
    play, termination = ENDINGS[how]
    match = tictactoe(tmp_path)
    play(match)
    written = match.finish(aborted=how == "aborted")
    assert written.termination is termination and written.aborted == (how == "aborted")
    loaded = load_match(match.recorder.path)
    assert end_of(loaded) == written
    resimulate(loaded)


def test_a_termination_that_disagrees_with_the_game_is_a_mismatch(tmp_path: Path) -> None:
    match = tictactoe(tmp_path)
    match.timeout(1)
    match.finish()
    loaded = load_match(match.recorder.path)
    index = len(loaded.records) - 1
    end = end_of(loaded)
    for bad, message in [
        (attrs.evolve(end, termination=Termination.NORMAL), "by normal, the game says timeout"),
        (attrs.evolve(end, termination=None), None),  # as in an old log: accepted
    ]:
        records = loaded.records[:index] + (bad,)
        tampered = attrs.evolve(loaded, records=records)
        if message is None:
            resimulate(tampered)
            continue
        with pytest.raises(ReplayMismatch, match=message) as info:
            resimulate(tampered)
        assert info.value.index == index


def test_an_aborted_end_must_say_aborted(tmp_path: Path) -> None:
    match = tictactoe(tmp_path)
    match.finish(aborted=True)
    loaded = load_match(match.recorder.path)
    end = attrs.evolve(end_of(loaded), termination=Termination.FORFEIT)
    with pytest.raises(ReplayMismatch, match="ended by forfeit, the game says aborted"):
        resimulate(attrs.evolve(loaded, records=loaded.records[:-1] + (end,)))


def test_the_record_carries_the_lowercase_value_and_refuses_unknown_ones() -> None:
    end = Ended(at=1, version=5, winners=(0,), reason="timeout", termination=Termination.TIMEOUT)
    data = record_to_data(end)
    assert data["termination"] == "timeout"
    assert record_from_data(data) == end
    old = {key: value for key, value in data.items() if key != "termination"}
    assert record_from_data(old) == attrs.evolve(end, termination=None)
    with pytest.raises(CorruptRecord, match="end.termination must be one of 'normal'"):
        record_from_data({**data, "termination": "checkmate"})
    with pytest.raises(CorruptRecord, match="end.termination must be a string"):
        record_from_data({**data, "termination": 3})


def test_replay_verify_fails_a_log_whose_termination_was_changed(tmp_path: Path) -> None:
    match = tictactoe(tmp_path, "resigned")
    match.resign(0)
    match.finish()
    good = match.recorder.path
    data = good.read_bytes()
    offsets = framing.scan(data).offsets
    end = end_of(load_match(good))
    changed = framing.frame(encode_record(attrs.evolve(end, termination=Termination.TIMEOUT)))
    bad = tmp_path / "changed.gsr"
    bad.write_bytes(data[: offsets[-1]] + changed)
    run = subprocess.run(
        [sys.executable, "-m", "gameserver", "replay", "verify", str(good), str(bad)],
        capture_output=True, text=True, timeout=60, cwd=ROOT,
    )
    assert run.returncode == 1, run.stdout + run.stderr
    assert f"OK   {good}" in run.stdout
    assert "ended by timeout, the game says resignation" in run.stdout
