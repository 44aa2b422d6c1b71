"""Loading: every whole record back, a torn last record ignored, other damage and bad headers
refused."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gameserver.replays import framing
from gameserver.replays.codec import encode_header, encode_record, pack
from gameserver.replays.errors import CorruptReplay
from gameserver.replays.loader import iter_matches, load_match, parse_match
from gameserver.replays.records import Ended, Header, Moved, Record, StateHash

from .conftest import SAMPLES, eventful_tictactoe
from .strategies import headers, records


def test_a_finished_log_loads_whole(eventful_log: Path) -> None:
    loaded = load_match(eventful_log)
    assert loaded.complete and not loaded.torn_tail
    assert loaded.tail_error is None
    assert loaded.valid_bytes == eventful_log.stat().st_size
    assert loaded.header.game == "tictactoe"
    assert loaded.moves == 9
    assert isinstance(loaded.records[-1], Ended)
    assert isinstance(loaded.records[-2], StateHash)


def test_truncation_at_every_byte_offset_keeps_every_whole_record(eventful_log: Path) -> None:
    data = eventful_log.read_bytes()
    full = load_match(eventful_log)
    boundaries = set(framing.scan(data).offsets[1:]) | {len(data)}
    header_end = min(boundaries)
    for cut in range(len(data) + 1):
        if cut < header_end:
            with pytest.raises(CorruptReplay):
                parse_match(data[:cut])
            continue
        loaded = parse_match(data[:cut])
        whole = sum(1 for b in boundaries if b <= cut) - 1
        assert loaded.records == full.records[:whole], cut
        assert loaded.torn_tail == (cut not in boundaries), cut
        assert loaded.valid_bytes == max(b for b in boundaries if b <= cut)
        assert loaded.complete == (cut == len(data))


def test_a_flipped_byte_in_the_last_record_is_detected(eventful_log: Path) -> None:
    data = eventful_log.read_bytes()
    last_start = framing.scan(data).offsets[-1]
    full = load_match(eventful_log)
    for pos in range(last_start, len(data)):
        for bit in (0x01, 0x80):
            damaged = bytearray(data)
            damaged[pos] ^= bit
            loaded = parse_match(bytes(damaged))
            assert loaded.torn_tail, (pos, bit)
            assert loaded.records == full.records[:-1]
            assert not loaded.complete
            assert loaded.valid_bytes == last_start


def test_a_flipped_byte_anywhere_before_the_last_record_is_corruption(eventful_log: Path) -> None:
    """Only the last record can be torn by a crash; damage with records after it means
    part of the match is lost, so the log is refused and the message says where."""
    data = eventful_log.read_bytes()
    offsets = framing.scan(data).offsets
    for pos in range(len(framing.MAGIC), offsets[-1]):
        frame = max(i for i, start in enumerate(offsets) if start <= pos)
        for bit in (0x01, 0x80):
            damaged = bytearray(data)
            damaged[pos] ^= bit
            if frame == 0:
                message = "no whole header record"
            else:
                where = f"record {frame - 1} (at byte {offsets[frame]}) is damaged"
                message = re.escape(where) + ".* whole records follow .* not torn"
            with pytest.raises(CorruptReplay, match=message):
                parse_match(bytes(damaged))


@settings(max_examples=200, deadline=None)
@given(name=st.sampled_from(sorted(p.name for p in SAMPLES.glob("*.gsr"))), at=st.data())
def test_damage_in_the_middle_of_a_sample_is_refused(name: str, at: st.DataObject) -> None:
    data = (SAMPLES / name).read_bytes()
    scan = framing.scan(data)
    last = scan.offsets[-1]
    pos = at.draw(st.integers(min_value=scan.offsets[1], max_value=last - 1), label="pos")
    bit = at.draw(st.sampled_from([0x01, 0x10, 0x80, 0xFF]), label="bit")
    damaged = bytearray(data)
    damaged[pos] ^= bit
    with pytest.raises(CorruptReplay, match="is damaged .* not torn"):
        parse_match(bytes(damaged))


def test_a_garbled_last_record_and_zero_filled_tails_are_torn(eventful_log: Path) -> None:
    data = eventful_log.read_bytes()
    last = framing.scan(data).offsets[-1]
    # A power loss can leave the file longer than what reached the disk, full of zeros.
    for tail in (b"\x00" * 40, bytes(len(data) - last)):
        loaded = parse_match(data[:last] + tail)
        assert loaded.torn_tail and loaded.valid_bytes == last
        assert loaded.tail_error == f"corrupt tail at byte {last}"


def test_a_whole_frame_with_an_invalid_record_is_corruption(eventful_log: Path) -> None:
    data = eventful_log.read_bytes()
    bogus = framing.frame(pack({"t": "move", "seat": "zero"}))
    after = framing.frame(encode_record(Moved(at=1, seat=0, version=1, move=1)))
    records = len(load_match(eventful_log).records)
    for log in (data + bogus + after, data + bogus):
        message = rf"record {records} \(at byte {len(data)}\) is not a valid record"
        with pytest.raises(CorruptReplay, match=message):
            parse_match(log)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "bad magic"),
        (b"PK\x03\x04whatever", "bad magic"),
        (framing.MAGIC, "no whole header record"),
        (framing.MAGIC + framing.frame(b"\xc1"), "malformed header: not valid msgpack"),
        (framing.MAGIC + framing.frame(pack({"t": "header"})), "not a gameserver-replay header"),
    ],
)
def test_missing_or_corrupt_header_raises_corrupt_replay(data: bytes, message: str) -> None:
    with pytest.raises(CorruptReplay, match=message):
        parse_match(data)


def test_missing_file_is_corrupt_replay(tmp_path: Path) -> None:
    with pytest.raises(CorruptReplay, match="cannot read"):
        load_match(tmp_path / "absent.gsr")


def test_iter_matches_skips_and_reports_bad_files(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    eventful_tictactoe(tmp_path, "b-good")
    eventful_tictactoe(tmp_path, "a-good")
    (tmp_path / "c-bad.gsr").write_bytes(b"garbage")
    (tmp_path / "notes.txt").write_text("not a log")
    errors: list[Path] = []
    with caplog.at_level(logging.WARNING):
        found = list(iter_matches(tmp_path, on_error=lambda path, exc: errors.append(path)))
    assert [m.header.match_id for m in found] == ["a-good", "b-good"]
    assert errors == [tmp_path / "c-bad.gsr"]
    assert "c-bad.gsr" in caplog.text


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    header=headers.filter(lambda h: bool(h.match_id)),
    written=st.lists(records, max_size=8),
    cut=st.floats(min_value=0, max_value=1),
)
def test_any_log_cut_anywhere_loads_a_prefix_of_its_records(
    header: Header, written: list[Record], cut: float
) -> None:
    data = framing.MAGIC + framing.frame(encode_header(header))
    header_end = len(data)
    for record in written:
        data += framing.frame(encode_record(record))
    at = int(cut * len(data))
    if at < header_end:
        with pytest.raises(CorruptReplay):
            parse_match(data[:at])
        return
    loaded = parse_match(data[:at])
    assert loaded.header == header
    assert loaded.records == tuple(written[: len(loaded.records)])
    assert loaded.valid_bytes <= at
    assert loaded.torn_tail == (loaded.valid_bytes != at)
