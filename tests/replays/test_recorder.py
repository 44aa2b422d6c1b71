"""MatchRecorder: durable header, appends, fsync policies, reopening after a crash."""

from __future__ import annotations

from pathlib import Path

import attrs
import pytest

from gameserver.replays.errors import CorruptReplay, InvalidRecord, RecorderError
from gameserver.replays.loader import load_match
from gameserver.replays.records import (
    Disconnected,
    Ended,
    Header,
    Moved,
    Occupant,
    Record,
    StateHash,
)
from gameserver.replays.progress import HASH_EVERY
from gameserver.replays.recorder import FsyncPolicy, MatchRecorder, log_path


def make_header(match_id: str = "m-1") -> Header:
    return Header(
        match_id=match_id,
        room_id="room",
        game="tictactoe",
        seed=42,
        seats=(Occupant(name="ann"), Occupant(name="bob")),
        server_version="0.1.0",
        started_at=1_000,
    )


def moved(version: int) -> Moved:
    seat = (version + 1) % 2
    return Moved(at=1_000 + version, seat=seat, version=version, move={"cell": version})


@pytest.mark.parametrize("policy", list(FsyncPolicy))
def test_create_append_close_round_trip(tmp_path: Path, policy: FsyncPolicy) -> None:
    records: list[Record] = [
        moved(1),
        Disconnected(at=2_000, seat=1),
        moved(2),
        Ended(at=3_000, version=2, aborted=True, reason="aborted"),
    ]
    with MatchRecorder.create(tmp_path, make_header(), fsync=policy) as recorder:
        assert recorder.path == tmp_path / "m-1.gsr"
        # The header is on disk before the first append.
        assert load_match(recorder.path).records == ()
        for record in records:
            recorder.append(record)
            assert load_match(recorder.path).records[-1] == record
    assert recorder.closed
    loaded = load_match(tmp_path / "m-1.gsr")
    assert loaded.header == make_header()
    assert list(loaded.records) == records
    assert loaded.complete


def test_create_refuses_an_existing_log_and_unusable_ids(tmp_path: Path) -> None:
    MatchRecorder.create(tmp_path, make_header()).close()
    with pytest.raises(FileExistsError):
        MatchRecorder.create(tmp_path, make_header())
    for bad in ("../escape", "a/b", ".hidden", "", "x" * 200):
        with pytest.raises(ValueError, match="not usable as a file name"):
            log_path(tmp_path, bad)


def test_append_after_end_or_close_is_refused(tmp_path: Path) -> None:
    recorder = MatchRecorder.create(tmp_path, make_header(), fsync=FsyncPolicy.NEVER)
    recorder.append(Ended(at=1, version=0, aborted=True))
    with pytest.raises(RecorderError, match="already ended"):
        recorder.append(moved(1))
    recorder.close()
    recorder.close()
    with pytest.raises(RecorderError, match="closed"):
        recorder.append(moved(1))


def test_hash_due_counts_state_changes_since_the_last_hash(tmp_path: Path) -> None:
    recorder = MatchRecorder.create(tmp_path, make_header(), fsync=FsyncPolicy.NEVER)
    for version in range(1, HASH_EVERY):
        recorder.append(moved(version))
        recorder.append(Disconnected(at=1, seat=0))
        assert not recorder.hash_due
    recorder.append(moved(HASH_EVERY))
    assert recorder.hash_due
    recorder.append(StateHash(at=1, version=HASH_EVERY, hash="0" * 64))
    assert not recorder.hash_due
    recorder.close()


def test_reopen_cuts_a_torn_tail_and_continues(tmp_path: Path) -> None:
    recorder = MatchRecorder.create(tmp_path, make_header(), fsync=FsyncPolicy.NEVER)
    recorder.append_many([moved(v) for v in range(1, HASH_EVERY)])
    recorder.close()
    path = recorder.path
    whole = path.stat().st_size
    with open(path, "ab") as file:  # a crash in the middle of the next record
        file.write(b"\x00\x00\x00\x30\x12\x34")
    assert load_match(path).torn_tail
    again = MatchRecorder.reopen(path, fsync=FsyncPolicy.ALWAYS)
    assert path.stat().st_size == whole
    assert not again.hash_due
    again.append(moved(HASH_EVERY))
    assert again.hash_due  # the count carries over from the records already in the log
    again.close()
    loaded = load_match(path)
    assert not loaded.torn_tail
    versions = [r.version for r in loaded.records if isinstance(r, Moved)]
    assert versions == list(range(1, HASH_EVERY + 1))


def test_reopen_refuses_ended_and_headerless_logs(tmp_path: Path) -> None:
    recorder = MatchRecorder.create(tmp_path, make_header(), fsync=FsyncPolicy.NEVER)
    recorder.append(Ended(at=1, version=0, aborted=True))
    recorder.close()
    with pytest.raises(RecorderError, match="already ended"):
        MatchRecorder.reopen(recorder.path)
    bad = tmp_path / "bad.gsr"
    bad.write_bytes(b"nothing")
    with pytest.raises(CorruptReplay):
        MatchRecorder.reopen(bad)


@pytest.mark.parametrize(
    ("record", "message"),
    [
        (Moved(at=1.5, seat=0, version=1, move=1), "at must be an integer"),  # type: ignore
        (Moved(at=1, seat=64, version=1, move=1), "out of range"),
        (Moved(at=1, seat=0, version=1, move={1, 2}), "cannot be encoded"),
        (Moved(at=1, seat=0, version=1, move={1: "a"}), "would not load back"),
        (StateHash(at=1, version=1, hash="ABC"), "64 lower-case hex"),
        (Moved(at=1, seat=0, version=1, move="x" * (1 << 20)), "too large"),
    ],
)
def test_records_that_would_not_load_back_are_refused_before_writing(
    tmp_path: Path, record: Moved | StateHash, message: str
) -> None:
    recorder = MatchRecorder.create(tmp_path, make_header(), fsync=FsyncPolicy.NEVER)
    size = recorder.path.stat().st_size
    with pytest.raises(InvalidRecord, match=message):
        recorder.append_many([moved(1), record])
    assert isinstance(InvalidRecord("x"), ValueError)
    recorder.append(moved(1))  # the recorder is still usable
    recorder.close()
    assert recorder.path.stat().st_size > size
    assert load_match(recorder.path).records == (moved(1),)


def test_a_header_that_would_not_load_back_creates_no_file(tmp_path: Path) -> None:
    header = attrs.evolve(make_header(), seats=tuple(Occupant(name=str(i)) for i in range(65)))
    with pytest.raises(InvalidRecord, match="1 to 64 seats"):
        MatchRecorder.create(tmp_path, header)
    assert list(tmp_path.iterdir()) == []
