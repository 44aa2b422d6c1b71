"""Recovery: unfinished logs come back as matches that continue exactly as before."""

from __future__ import annotations

import logging
import os
import random
from pathlib import Path

import pytest

from gameserver.games.base import state_hash
from gameserver.protocol.messages import ClockSettings
from gameserver.replays import framing
from gameserver.replays.errors import CorruptReplay
from gameserver.replays.loader import load_match
from gameserver.replays.records import Moved, StateHash
from gameserver.replays.recorder import FsyncPolicy, MatchRecorder
from gameserver.replays.recovery import (
    RecoveryResult,
    find_recently_ended,
    find_unfinished,
    recover,
)
from gameserver.replays.simulate import resimulate
from gameserver.rooms.recording_match import RecordingMatch, bot_header

from .conftest import eventful_tictactoe


def _unfinished(directory: Path, match_id: str, game: str = "connect4") -> RecordingMatch:
    header = bot_header(game, ["random", "random"], seed=99, match_id=match_id,
                        clock=ClockSettings(initial_ms=90_000, increment_ms=2_000))
    match = RecordingMatch(directory, header)
    choices = random.Random(5)
    for _ in range(6):
        seat = min(match.game.to_act(match.state))
        match.move(seat, choices.choice(match.game.legal_moves(match.state, seat)), 3_000)
    match.disconnect(1)
    match.recorder.close()  # the server dies here: no end record
    return match


def test_find_unfinished_returns_only_unfinished_matches_in_their_exact_state(
    tmp_path: Path,
) -> None:
    eventful_tictactoe(tmp_path, "finished")
    live = _unfinished(tmp_path, "running")
    result = find_unfinished(tmp_path)
    assert isinstance(result, RecoveryResult) and result.skipped == []
    assert [m.header.match_id for m in result] == ["running"]
    recovered = result[0]
    assert recovered.version == live.version == 6
    assert state_hash(recovered.game, recovered.state) == live.hash()
    assert recovered.rng.getstate() == live.rng.getstate()
    assert recovered.clocks == tuple(live.clocks.bank_ms)
    assert recovered.last_at == live.now
    assert recovered.disconnected == frozenset({1})
    assert recovered.outcome is None
    assert recovered.seats == live.header.seats


def test_a_recovered_match_continues_and_its_log_verifies(tmp_path: Path) -> None:
    live = _unfinished(tmp_path, "running")
    with open(live.recorder.path, "ab") as file:
        file.write(b"\x00\x00\x01")  # torn write at the crash
    (recovered,) = find_unfinished(tmp_path)
    assert recovered.loaded.torn_tail
    recorder = MatchRecorder.reopen(recovered.loaded, fsync=FsyncPolicy.NEVER)
    game, state, rng, version = recovered.game, recovered.state, recovered.rng, recovered.version
    while game.outcome(state) is None:
        seat = min(game.to_act(state))
        move = game.legal_moves(state, seat)[0]
        state = game.apply(state, seat, move, rng)
        version += 1
        recorder.append(Moved(at=version, seat=seat, version=version, move=move))
    recorder.append(StateHash(at=version, version=version, hash=state_hash(game, state)))
    recorder.close()
    loaded = load_match(recovered.path)
    assert not loaded.torn_tail
    assert state_hash(game, resimulate(loaded).state) == state_hash(game, state)
    # The game is over but the end record is missing: recovery says so instead of resuming.
    (again,) = find_unfinished(tmp_path)
    assert again.outcome is not None and again.version == version


def test_corrupt_and_mismatching_logs_are_skipped_and_reported(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    _unfinished(tmp_path, "good")
    (tmp_path / "garbage.gsr").write_bytes(b"\x00" * 40)
    header = bot_header("tictactoe", ["random", "random"], seed=1, match_id="tampered")
    with MatchRecorder.create(tmp_path, header, fsync=FsyncPolicy.NEVER) as recorder:
        recorder.append(Moved(at=1, seat=0, version=1, move={"cell": 4}))
        recorder.append(Moved(at=2, seat=1, version=2, move={"cell": 4}))
    with caplog.at_level(logging.ERROR):
        result = find_unfinished(tmp_path)
    assert [m.header.match_id for m in result] == ["good"]
    assert isinstance(result, RecoveryResult)
    skipped = {s.path.name: s.reason for s in result.skipped}
    assert set(skipped) == {"garbage.gsr", "tampered.gsr"}
    assert "bad magic" in skipped["garbage.gsr"]
    assert "record 1: Moved by seat 1 fails: cell 4 is already taken" in skipped["tampered.gsr"]
    assert "garbage.gsr" in caplog.text and "tampered.gsr" in caplog.text


def test_a_log_damaged_in_the_middle_is_skipped_not_revived(tmp_path: Path) -> None:
    """Resuming from the record before the damage would replay a different match than
    the one played (later moves are lost), so recovery leaves such a log alone."""
    live = _unfinished(tmp_path, "damaged")
    data = bytearray(live.recorder.path.read_bytes())
    third_move = framing.scan(bytes(data)).offsets[3]
    data[third_move + 10] ^= 0x01
    live.recorder.path.write_bytes(bytes(data))
    result = find_unfinished(tmp_path)
    assert result == []
    ((path, reason),) = [(s.path, s.reason) for s in result.skipped]
    assert path == live.recorder.path
    assert f"record 2 (at byte {third_move}) is damaged" in reason
    assert path.read_bytes() == bytes(data)  # not truncated, not continued


def test_missing_directory_is_simply_empty(tmp_path: Path) -> None:
    assert find_unfinished(tmp_path / "nope") == []


def test_recover_reports_a_game_that_ended_without_its_end_record(tmp_path: Path) -> None:
    header = bot_header("tictactoe", ["random", "random"], seed=3, match_id="won")
    match = RecordingMatch(tmp_path, header)
    for seat, cell in [(0, 0), (1, 3), (0, 1), (1, 4), (0, 2)]:
        match.move(seat, {"cell": cell})
    match.recorder.close()
    recovered = recover(load_match(match.recorder.path))
    assert recovered.version == 5
    assert recovered.outcome is not None and recovered.outcome.winners == (0,)
    assert recovered.game.to_act(recovered.state) == frozenset()


def test_a_log_damaged_before_whole_records_is_left_alone(tmp_path: Path) -> None:
    # A torn record in the middle (e.g. an append cut short, then more appends after it):
    # cutting the "tail" would throw away whole records, here the end of a finished match.
    finished = eventful_tictactoe(tmp_path, "finished").recorder.path
    data = finished.read_bytes()
    loaded = load_match(finished)
    middle = loaded.valid_bytes - 200  # inside the records, before the end record
    damaged = data[:middle] + b"\x00\x00\x10\x00\xde\xad" + data[middle:]
    finished.write_bytes(damaged)
    with pytest.raises(CorruptReplay, match="whole records follow"):
        load_match(finished)
    result = find_unfinished(tmp_path)
    assert list(result) == []
    (skipped,) = result.skipped
    assert skipped.path == finished and "whole records follow" in skipped.reason
    assert finished.read_bytes() == damaged  # untouched: nothing resumed, nothing cut


def test_find_recently_ended_returns_the_matches_that_ended_since_a_time(
    tmp_path: Path,
) -> None:
    finished = eventful_tictactoe(tmp_path, "finished")
    _unfinished(tmp_path, "running")
    end = load_match(finished.recorder.path).end
    assert end is not None
    found = find_recently_ended(tmp_path, since=end.at / 1000)
    assert [m.header.match_id for m in found] == ["finished"] and found.skipped == []
    assert found[0].version == finished.version and found[0].loaded.end == end
    assert found[0].outcome is not None and found[0].outcome.draw
    assert find_recently_ended(tmp_path, since=end.at / 1000 + 0.001) == []


def test_find_recently_ended_does_not_read_files_older_than_its_time(tmp_path: Path) -> None:
    path = eventful_tictactoe(tmp_path, "finished").recorder.path
    path.write_bytes(b"not a match log")  # reading it would list it in skipped
    os.utime(path, (1_000_000, 1_000_000))
    found = find_recently_ended(tmp_path, since=2_000_000)
    assert found == [] and found.skipped == []
    assert [s.path for s in find_recently_ended(tmp_path, since=0).skipped] == [path]
