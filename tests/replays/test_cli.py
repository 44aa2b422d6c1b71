"""``gameserver replay`` on the sample logs: each subcommand as a real subprocess, and the
edge cases in-process through ``gameserver.cli.main`` (same code, no interpreter start-up).
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import attrs
import pytest

from gameserver.cli import main
from gameserver.commands import replay as replay_command
from gameserver.replays import framing
from gameserver.replays.codec import encode_record
from gameserver.replays.loader import load_match
from gameserver.replays.records import Moved
from gameserver.rooms.recording_match import RecordingMatch, bot_header

from .conftest import SAMPLES

ROOT = Path(__file__).resolve().parents[2]


def replay(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gameserver", "replay", *map(str, args)],
        capture_output=True, text=True, timeout=60, cwd=ROOT,
    )


@attrs.frozen
class Result:
    returncode: int
    stdout: str
    stderr: str


@pytest.fixture
def inproc(capsys: pytest.CaptureFixture[str]) -> Callable[..., Result]:
    """Run ``gameserver replay ...`` in this process; argparse errors give exit code 2."""

    def run(*args: str | Path) -> Result:
        try:
            code = main(["replay", *map(str, args)])
        except SystemExit as exc:
            code = int(exc.code or 0)
        out, err = capsys.readouterr()
        return Result(code, out, err)

    return run


def test_list_shows_game_players_result_length_and_date() -> None:
    run = replay("list", SAMPLES)
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    assert lines[0].split() == ["MATCH", "GAME", "PLAYERS", "RESULT", "MOVES", "DATE", "(UTC)"]
    row = next(line for line in lines if line.startswith("v1-tictactoe-takeover-resign"))
    assert "ann, bob -> stand-in [bot:best]" in row
    assert "stand-in won (resigned)" in row
    assert "2026-01-01 00:00:00" in row
    crashed = next(line for line in lines if line.startswith("v1-connect4-crashed"))
    assert "unfinished [torn tail]" in crashed
    assert len(lines) == 1 + len(list(SAMPLES.glob("*.gsr")))


def test_list_puts_the_newest_match_first_whatever_the_file_names(
    tmp_path: Path, inproc: Callable[..., Result]
) -> None:
    # File names in the opposite order of start times; two matches in the same millisecond.
    starts = {"a-newest": 3_000, "b-middle": 2_000, "c-tie": 1_000, "d-tie": 1_000, "e-old": 10}
    for match_id, started_at in starts.items():
        header = bot_header(
            "tictactoe", ["random", "random"], seed=1, match_id=match_id,
            started_at=1_767_225_600_000 + started_at,
        )  # fmt: skip
        RecordingMatch(tmp_path, header).recorder.close()
    run = inproc("list", tmp_path)
    assert run.returncode == 0, run.stderr
    listed = [line.split()[0] for line in run.stdout.splitlines()[1:]]
    assert listed == ["a-newest", "b-middle", "d-tie", "c-tie", "e-old"]


def test_list_reports_corrupt_files_on_stderr(
    tmp_path: Path, inproc: Callable[..., Result]
) -> None:
    shutil.copy(SAMPLES / "v1-tictactoe-timeout.gsr", tmp_path)
    (tmp_path / "broken.gsr").write_bytes(b"GSRLOG\r\n\x00")
    run = inproc("list", tmp_path)
    assert run.returncode == 0
    assert "v1-tictactoe-timeout" in run.stdout and "broken" not in run.stdout
    assert "skipped" in run.stderr and "broken.gsr" in run.stderr
    assert inproc("list", tmp_path / "missing").returncode == 1


def test_show_draws_the_board_at_a_move_as_a_seat_or_spectator() -> None:
    run = replay("show", SAMPLES / "v1-tictactoe-takeover-resign.gsr", "--move", "2")
    assert run.returncode == 0, run.stderr
    assert "after move 2 of 5" in run.stdout
    assert " O  .  .     0 1 2\n .  X  .     3 4 5\n .  .  .     6 7 8" in run.stdout
    assert "viewing as: spectator" in run.stdout
    assert "clocks: seat 0 117.5s, seat 1 113.0s" in run.stdout

    c4 = replay("show", SAMPLES / "v1-connect4-random-vs-best.gsr")
    assert c4.returncode == 0 and "  0  1  2  3  4  5  6" in c4.stdout
    assert "[" in c4.stdout  # the winning four is marked


def test_show_liars_dice_hides_other_cups_per_seat(inproc: Callable[..., Result]) -> None:
    path = SAMPLES / "v1-liarsdice-three-bots.gsr"
    spectator = inproc("show", path, "--move", "1")
    seat1 = inproc("show", path, "--move", "1", "--seat", "1")
    assert spectator.returncode == seat1.returncode == 0
    assert "seat 1: ? ? ? ? ?" in spectator.stdout
    assert "seat 1: ? ? ? ? ?" not in seat1.stdout
    assert "seat 0: ? ? ? ? ?" in seat1.stdout
    assert "viewing as: seat 1" in seat1.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--move", "99"), "--move must be between 0 and 5"),
        (("--move", "-1"), "--move must be between 0 and 5"),
        (("--seat", "2"), "--seat must be between 0 and 1"),
    ],
)
def test_show_rejects_out_of_range_arguments(
    args: tuple[str, ...], message: str, inproc: Callable[..., Result]
) -> None:
    run = inproc("show", SAMPLES / "v1-tictactoe-best-vs-random.gsr", *args)
    assert run.returncode == 2
    assert message in run.stderr


def test_verify_passes_the_samples_and_fails_a_tampered_log(tmp_path: Path) -> None:
    run = replay("verify", SAMPLES)
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.count("OK ") == len(list(SAMPLES.glob("*.gsr")))
    assert "ignored truncated tail at byte 893; no end record" in run.stdout

    good = SAMPLES / "v1-connect4-random-vs-best.gsr"
    data = bytearray(good.read_bytes())
    # Change the last move's column inside its msgpack (and fix the CRC): a valid but
    # different record, which re-simulation must reject.
    loaded = load_match(good)
    scan = framing.scan(bytes(data))
    moves = [i for i, r in enumerate(loaded.records) if isinstance(r, Moved)]
    index = moves[-1]
    start = scan.offsets[index + 1]
    end = scan.offsets[index + 2]
    record = loaded.records[index]
    assert isinstance(record, Moved)
    changed = attrs.evolve(record, move={"column": (record.move["column"] + 1) % 7})
    bad = tmp_path / "tampered.gsr"
    replaced = framing.frame(encode_record(changed))
    bad.write_bytes(bytes(data[:start]) + replaced + bytes(data[end:]))
    run = replay("verify", good, bad)
    assert run.returncode == 1
    # The changed move is legal, so the final state hash right after it catches it.
    assert f"FAIL {bad}: record {index + 1}: state hash at version 14 is" in run.stdout
    assert f"OK   {good}" in run.stdout


SAMPLE_NAMES = sorted(path.name for path in SAMPLES.glob("*.gsr"))


@pytest.mark.parametrize("name", SAMPLE_NAMES)
def test_verify_fails_a_log_with_a_flipped_byte_before_its_last_record(
    name: str, tmp_path: Path, inproc: Callable[..., Result]
) -> None:
    data = (SAMPLES / name).read_bytes()
    offsets = framing.scan(data).offsets
    # Thirty spots spread over every record after the header but the last.
    spots = sorted({offsets[1] + k * (offsets[-1] - offsets[1]) // 30 for k in range(30)})
    damaged = []
    for pos in spots:
        copy = bytearray(data)
        copy[pos] ^= 0x20
        damaged.append(tmp_path / f"flip-{pos}.gsr")
        damaged[-1].write_bytes(bytes(copy))
    run = inproc("verify", "--no-progress", *damaged)
    assert run.returncode == 1
    lines = run.stdout.splitlines()
    assert len(lines) == len(damaged) and all(line.startswith("FAIL ") for line in lines)
    for line, path in zip(lines, damaged):
        assert re.match(rf"FAIL {path}: record \d+ \(at byte \d+\) is damaged", line), line
        assert "whole records follow from byte" in line, line
    assert f"0 of {len(damaged)} logs verified" in run.stderr


@pytest.mark.parametrize("name", SAMPLE_NAMES)
def test_verify_forgives_a_log_cut_inside_its_last_record(
    name: str, tmp_path: Path, inproc: Callable[..., Result]
) -> None:
    data = (SAMPLES / name).read_bytes()
    scan = framing.scan(data)
    last = scan.offsets[-1]
    cuts = range(last + 1, scan.end)
    for cut in cuts:
        (tmp_path / f"cut-{cut}.gsr").write_bytes(data[:cut])
    run = inproc("verify", "--no-progress", tmp_path)
    assert run.returncode == 0, run.stdout
    lines = run.stdout.splitlines()
    assert len(lines) == len(cuts)
    for line in lines:
        assert line.startswith("OK ") and "; ignored truncated tail at byte " in line, line
        assert line.endswith("; no end record")
    assert inproc("verify", "--strict", tmp_path / f"cut-{last + 1}.gsr").returncode == 1


def test_verify_strict_fails_torn_and_unfinished_logs(inproc: Callable[..., Result]) -> None:
    run = inproc("verify", "--strict", SAMPLES / "v1-connect4-crashed.gsr")
    assert run.returncode == 1 and "FAIL" in run.stdout


def test_verify_draws_a_progress_bar_on_stderr(tmp_path: Path) -> None:
    for path in SAMPLES.glob("*.gsr"):
        for copy in range(3):
            shutil.copy(path, tmp_path / f"{copy}-{path.name}")
    run = replay("verify", "--progress", tmp_path)
    assert run.returncode == 0
    total = 3 * len(list(SAMPLES.glob("*.gsr")))
    assert f"[{'#' * 30}] {total}/{total}" in run.stderr
    assert f"{total} of {total} logs verified" in run.stderr
    assert run.stdout == ""  # with the bar, only failures are listed


def test_verify_missing_or_garbage_files_fail(
    tmp_path: Path, inproc: Callable[..., Result]
) -> None:
    (tmp_path / "x.gsr").write_bytes(b"junk")
    run = inproc("verify", tmp_path / "x.gsr", tmp_path / "none.gsr")
    assert run.returncode == 1
    assert "bad magic" in run.stdout and "cannot read" in run.stdout
    assert inproc("verify", tmp_path / "empty-dir-does-not-exist").returncode == 1


def test_export_json_has_header_and_typed_records() -> None:
    run = replay("export", SAMPLES / "v1-tictactoe-timeout.gsr", "--json")
    assert run.returncode == 0, run.stderr
    data = json.loads(run.stdout)
    assert data["header"]["format"] == "gameserver-replay" and data["header"]["v"] == 1
    assert [r["t"] for r in data["records"]] == ["move", "move", "move", "timeout", "hash", "end"]
    assert data["complete"] is True and data["torn_tail"] is False


def test_export_with_views_reveals_only_what_each_seat_saw() -> None:
    run = replay("export", SAMPLES / "v1-liarsdice-three-bots.gsr", "--json", "--views")
    assert run.returncode == 0, run.stderr
    positions = json.loads(run.stdout)["positions"]
    first = positions[0]["views"]
    assert set(first) == {"0", "1", "2", "spectator"}
    assert first["spectator"]["dice"] is None
    assert len(first["1"]["dice"]) == 5


def test_export_writes_json_without_the_json_flag_which_stays_accepted(
    tmp_path: Path, inproc: Callable[..., Result]
) -> None:
    path = SAMPLES / "v1-liarsdice-three-bots.gsr"
    plain, flagged = inproc("export", path, "--views"), inproc("export", path, "--json", "--views")
    assert plain.returncode == flagged.returncode == 0, plain.stderr
    assert plain.stdout == flagged.stdout
    assert json.loads(plain.stdout)["header"]["match_id"] == "v1-liarsdice-three-bots"
    run = inproc("export", tmp_path / "none.gsr")
    assert run.returncode == 1 and "cannot read" in run.stderr


def replay_actions() -> dict[str, argparse.ArgumentParser]:
    """The parser of every ``gameserver replay`` action, by name."""
    parser = argparse.ArgumentParser()
    replay_command.configure(parser)
    (actions,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(actions.choices)


def test_every_replay_action_and_argument_is_described(inproc: Callable[..., Result]) -> None:
    actions = replay_actions()
    assert sorted(actions) == ["export", "list", "show", "verify"]
    overview = inproc("--help")
    for name, parser in actions.items():
        assert parser.description and len(parser.description) > 40, name
        for argument in parser._actions:
            assert argument.help, (name, argument.dest)
        summary = parser.description.split(".")[0]
        assert re.search(rf"^ +{name} +{re.escape(summary)}$", overview.stdout, re.M | re.I)
        own = inproc(name, "--help")
        assert own.returncode == 0 and parser.description.split(".")[0] in own.stdout
