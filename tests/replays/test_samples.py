"""The committed sample logs in tests/replays/samples/ keep loading and re-simulating (old formats too)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from gameserver.replays.applied import applied_requests
from gameserver.replays.loader import load_match
from gameserver.replays.records import FORMAT_VERSION
from gameserver.replays.recovery import find_unfinished
from gameserver.replays.simulate import resimulate
from gameserver.replays.summary import summarize

from .conftest import SAMPLES

ROOT = Path(__file__).resolve().parents[2]

# name -> (game, complete, torn tail, moves, result)
EXPECTED = {
    "v1-tictactoe-best-vs-random": ("tictactoe", True, False, 5, "best-0 won (three in a row)"),
    "v1-tictactoe-takeover-resign": ("tictactoe", True, False, 5, "stand-in won (resigned)"),
    "v1-tictactoe-timeout": ("tictactoe", True, False, 4, "random-0 won (timeout)"),
    "v1-connect4-random-vs-best": ("connect4", True, False, 14, "best-1 won (four in a row)"),
    "v1-connect4-crashed": ("connect4", False, True, 6, "unfinished"),
    "v1-liarsdice-three-bots": (
        "liarsdice", True, False, 63, "best-1 won (last player with dice)"
    ),
    "v2-tictactoe-best-vs-random": ("tictactoe", True, False, 5, "best-0 won (three in a row)"),
    "v2-tictactoe-takeover-resign": ("tictactoe", True, False, 5, "stand-in won (resigned)"),
    "v2-tictactoe-timeout": ("tictactoe", True, False, 4, "random-0 won (timeout)"),
    "v2-connect4-random-vs-best": ("connect4", True, False, 14, "best-1 won (four in a row)"),
    "v2-connect4-crashed": ("connect4", False, True, 6, "unfinished"),
    "v2-liarsdice-three-bots": (
        "liarsdice", True, False, 55, "best-2 won (last player with dice)"
    ),
}
#: The samples the sample script writes today (the newest format version).
CURRENT = [name for name in EXPECTED if name.startswith(f"v{FORMAT_VERSION}-")]


def test_every_sample_file_is_expected() -> None:
    assert sorted(p.stem for p in SAMPLES.glob("*.gsr")) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_sample_loads_and_verifies(name: str) -> None:
    game, complete, torn, moves, result = EXPECTED[name]
    loaded = load_match(SAMPLES / f"{name}.gsr")
    summary = summarize(loaded)
    assert (summary.game, summary.complete, summary.torn_tail) == (game, complete, torn)
    assert (summary.moves, summary.result) == (moves, result)
    sim = resimulate(loaded)
    assert sim.version == moves
    if complete:
        assert sim.hashes_checked >= 1


def test_the_crashed_samples_are_the_matches_to_recover() -> None:
    result = find_unfinished(SAMPLES)
    assert [m.header.match_id for m in result] == ["v1-connect4-crashed", "v2-connect4-crashed"]
    assert all(m.clocks is not None and m.outcome is None for m in result)


def test_the_version_2_sample_names_the_requests_of_its_players_moves() -> None:
    loaded = load_match(SAMPLES / "v2-tictactoe-takeover-resign.gsr")
    assert loaded.header.format_version == 2
    # The stand-in's move (version 4) was no request's.
    assert applied_requests(loaded.header, loaded.records, window=256) == {
        ("p-ann", 1_767_225_602_500): 1,
        ("p-bob", 1_767_225_613_500): 2,
        ("p-ann", 1_767_225_602_501): 3,
    }


def test_the_sample_script_keeps_existing_files(tmp_path: Path) -> None:
    script = ROOT / "bench" / "make_sample_replays.py"
    run = subprocess.run(
        [sys.executable, str(script), "--dir", str(tmp_path)],
        capture_output=True, text=True, check=True, cwd=ROOT,
    )
    assert run.stdout.count("wrote") == len(CURRENT)
    for path in tmp_path.glob("*.gsr"):
        # Bots may play differently as strategies improve; the log must still replay.
        loaded = load_match(path)
        assert resimulate(loaded).version == loaded.moves > 0
    again = subprocess.run(
        [sys.executable, str(script), "--dir", str(tmp_path)],
        capture_output=True, text=True, check=True, cwd=ROOT,
    )
    assert again.stdout.count("kept") == len(CURRENT)
