"""Framing: whole frames come back, any damage is a reported tail, never an exception."""

from __future__ import annotations

import struct

from hypothesis import given, settings
from hypothesis import strategies as st

from gameserver.replays.framing import MAGIC, MAX_PAYLOAD, Tail, frame, has_magic, scan

payloads = st.lists(st.binary(max_size=40), max_size=6)


@settings(max_examples=100, deadline=None)
@given(payloads)
def test_frames_scan_back_to_the_same_payloads(items: list[bytes]) -> None:
    data = MAGIC + b"".join(frame(p) for p in items)
    result = scan(data)
    assert list(result.payloads) == items
    assert result.end == len(data)
    assert result.tail is Tail.CLEAN


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200))
def test_arbitrary_bytes_after_the_magic_never_raise(junk: bytes) -> None:
    result = scan(MAGIC + junk)
    assert len(MAGIC) <= result.end <= len(MAGIC) + len(junk)


def test_frame_layout_is_length_crc_payload() -> None:
    framed = frame(b"abc")
    length, _crc = struct.unpack(">II", framed[:8])
    assert length == 3 and framed[8:] == b"abc"


def test_impossible_length_is_corrupt_and_short_data_is_truncated() -> None:
    whole = frame(b"xyz")
    huge = struct.pack(">II", MAX_PAYLOAD + 1, 0)
    assert scan(MAGIC + whole + huge + b"\x00" * 10).tail is Tail.CORRUPT
    result = scan(MAGIC + whole + frame(b"hello")[:-1])
    assert result.tail is Tail.TRUNCATED
    assert result.payloads == (b"xyz",)
    assert result.end == len(MAGIC) + len(whole)
    assert scan(MAGIC + whole + b"\x00\x00").tail is Tail.TRUNCATED


def test_zero_filled_tail_is_not_taken_for_an_empty_record() -> None:
    result = scan(MAGIC + frame(b"a") + b"\x00" * 16)
    assert result.payloads == (b"a",)
    assert result.tail is Tail.CORRUPT


def test_a_torn_last_frame_has_nowhere_to_resume() -> None:
    whole = frame(b"xyz")
    for tail in (frame(b"hello")[:-1], frame(b"hello")[:5], b"\x00" * 30):
        result = scan(MAGIC + whole + tail)
        assert result.resumes_at is None and result.torn, tail
    assert not scan(MAGIC + whole).torn


def test_damage_followed_by_a_whole_frame_says_where_frames_resume() -> None:
    first, second, third = frame(b"first"), frame(b"second"), frame(b"third")
    damaged = bytearray(second)
    damaged[-1] ^= 0x01
    result = scan(MAGIC + first + bytes(damaged) + third)
    assert result.tail is Tail.CORRUPT and not result.torn
    assert result.end == len(MAGIC) + len(first)
    assert result.resumes_at == len(MAGIC) + len(first) + len(second)
    # A length made too long by the damage reaches past the end: still not a torn tail.
    longer = struct.pack(">I", 4000) + second[4:]
    result = scan(MAGIC + first + longer + third)
    assert result.tail is Tail.TRUNCATED and result.resumes_at == result.end + len(second)


def test_a_whole_frame_after_a_run_of_zeros_is_still_found() -> None:
    # The zeros run straight into the frame's own leading zero bytes.
    head, later = MAGIC + frame(b"a"), frame(b"b")
    for zeros in (1, 7, 8, 9, 100, 5000):
        result = scan(head + bytes(zeros) + later)
        assert result.resumes_at == len(head) + zeros and not result.torn, zeros


@settings(max_examples=200, deadline=None)
@given(payloads.filter(lambda items: len(items) >= 2), st.data())
def test_any_flipped_byte_before_the_last_frame_is_not_torn(
    items: list[bytes], data: st.DataObject
) -> None:
    frames = [frame(p) for p in items]
    log = bytearray(MAGIC + b"".join(frames))
    last = len(log) - len(frames[-1])
    pos = data.draw(st.integers(min_value=len(MAGIC), max_value=last - 1))
    log[pos] ^= data.draw(st.integers(min_value=1, max_value=255))
    result = scan(bytes(log))
    assert result.tail is not Tail.CLEAN and not result.torn


def test_magic() -> None:
    assert has_magic(MAGIC + b"rest")
    assert not has_magic(b"GSRLOG\n")
    assert not has_magic(b"")
