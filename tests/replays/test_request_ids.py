"""Format version 2: moves carry their request ids; every older log still loads and verifies."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import attrs
import pytest

from gameserver.cli import main
from gameserver.replays import framing
from gameserver.replays.codec import encode_record
from gameserver.replays.loader import load_match
from gameserver.replays.recorder import FsyncPolicy, MatchRecorder
from gameserver.replays.records import FORMAT_VERSION, Moved, Occupant
from gameserver.replays.recovery import find_unfinished
from gameserver.rooms.recording_match import RecordingMatch, bot_header

from .conftest import SAMPLES

OLDER_SAMPLES = sorted(
    path.name
    for path in SAMPLES.glob("*.gsr")
    if load_match(path).header.format_version < FORMAT_VERSION
)

Run = Callable[..., tuple[int, str]]


@pytest.fixture
def replay(capsys: pytest.CaptureFixture[str]) -> Run:
    """``gameserver replay ARGS`` in this process: (exit status, stdout)."""

    def run(*args: str | Path) -> tuple[int, str]:
        code = main(["replay", *map(str, args)])
        return code, capsys.readouterr().out

    return run


def test_there_are_older_samples_to_check() -> None:
    assert len(OLDER_SAMPLES) >= 6 and all(name.startswith("v1-") for name in OLDER_SAMPLES)


@pytest.mark.parametrize("name", OLDER_SAMPLES)
def test_an_older_sample_verifies_and_its_moves_name_no_request(name: str, replay: Run) -> None:
    code, out = replay("verify", SAMPLES / name)
    assert code == 0 and out.startswith(f"OK   {SAMPLES / name}: "), out
    code, out = replay("export", SAMPLES / name)
    exported = json.loads(out)
    assert code == 0 and exported["header"]["v"] == 1
    moves = [record for record in exported["records"] if record["t"] == "move"]
    assert moves and all(move["request_id"] is None for move in moves)


def _played_with_request_ids(directory: Path) -> RecordingMatch:
    """A finished tic-tac-toe match between two players whose moves name their requests."""
    header = bot_header("tictactoe", ["random", "random"], seed=5, match_id="v2-ids")
    header = attrs.evolve(
        header, seats=(Occupant(name="ann", player_id="p-ann"), Occupant(name="bob", player_id="p-bob"))
    )
    match = RecordingMatch(directory, header)
    for ply, cell in enumerate((4, 0, 2, 6, 3, 5, 8, 1, 7)):
        match.move(ply % 2, {"cell": cell}, request_id=1_767_225_600_000 + ply)
    match.finish()
    return match


def test_a_version_2_log_with_request_ids_verifies_and_round_trips(
    tmp_path: Path, replay: Run
) -> None:
    path = _played_with_request_ids(tmp_path).recorder.path
    code, out = replay("verify", "--strict", path)
    assert code == 0, out
    loaded = load_match(path)
    assert loaded.header.format_version == FORMAT_VERSION == 2
    moves = [record for record in loaded.records if isinstance(record, Moved)]
    assert [move.request_id for move in moves] == [1_767_225_600_000 + ply for ply in range(9)]
    # Every record encodes back to exactly the bytes on disk.
    payloads = list(framing.scan(path.read_bytes()).payloads[1:])
    assert [encode_record(record) for record in loaded.records] == payloads
    code, out = replay("export", path)
    assert [r["request_id"] for r in json.loads(out)["records"] if r["t"] == "move"] == [
        move.request_id for move in moves
    ]


def test_a_version_1_log_continued_after_an_upgrade_keeps_new_request_ids(
    tmp_path: Path, replay: Run
) -> None:
    path = tmp_path / "v1-connect4-crashed.gsr"
    shutil.copy(SAMPLES / path.name, path)
    (recovered,) = find_unfinished(tmp_path)
    column = recovered.game.legal_moves(recovered.state, 0)[0]
    seat = min(recovered.game.to_act(recovered.state))
    with MatchRecorder.reopen(recovered.loaded, fsync=FsyncPolicy.NEVER) as recorder:
        recorder.append(
            Moved(
                at=recovered.last_at + 1,
                seat=seat,
                version=recovered.version + 1,
                move=column,
                clocks=recovered.clocks,
                request_id=42,
            )
        )
    loaded = load_match(path)
    assert loaded.header.format_version == 1
    last = loaded.records[-1]
    assert isinstance(last, Moved) and last.request_id == 42
    code, out = replay("verify", path)
    assert code == 0, out
