"""On-disk framing of a match log: a magic prefix, then length- and CRC-framed records.

::

    file   = MAGIC frame frame ...            (the first frame is the header)
    MAGIC  = b"GSRLOG\\r\\n"                 8 bytes; the \\r\\n catches text-mode mangling
    frame  = length:u32be crc:u32be payload   payload = one msgpack map, ``length`` bytes
    crc    = zlib.crc32(length bytes + payload)

A writer that crashes mid-record leaves a *tail* that is shorter than its length says,
or whose CRC does not match; ``scan`` stops there and reports where the whole records
end, so a torn tail is told apart from a whole record and is never fatal.

Damage *followed by* a whole frame is something else: a crash can only tear the last
append, so a bad frame with a good one after it means the file was damaged in the middle
and part of the match is lost. ``scan`` looks for such a frame after the damage and
reports where it found one in ``Scan.resumes_at``; the loader refuses those files.

This module is sans-IO: it turns payloads into bytes and bytes into payloads.
"""

from __future__ import annotations

import enum
import re
import struct
import zlib

import attrs

MAGIC = b"GSRLOG\r\n"
FRAME_HEAD = struct.Struct(">II")
_LENGTH = struct.Struct(">I")
#: Why: a record is a move and a few numbers; a length beyond this is damage, not data.
MAX_PAYLOAD = 1 << 20
_EMPTY_HEAD = bytes(FRAME_HEAD.size)
_NONZERO = re.compile(rb"[^\x00]")


class Tail(enum.Enum):
    """What follows the last whole frame."""

    #: Nothing: the file ends exactly after a whole frame.
    CLEAN = "clean"
    #: Fewer bytes than a frame head or than the head's length (a write cut short).
    TRUNCATED = "truncated"
    #: A frame whose CRC does not match or whose length is impossible.
    CORRUPT = "corrupt"


@attrs.frozen
class Scan:
    """The result of ``scan``."""

    #: The payloads of every whole frame, in order.
    payloads: tuple[bytes, ...]
    #: Offsets where each payload's frame starts (parallel to ``payloads``).
    offsets: tuple[int, ...]
    #: Offset just past the last whole frame: where an appender should continue.
    end: int
    tail: Tail
    #: Where a whole frame starts again after the damage at ``end``, or None. Not None
    #: means the file is damaged in the middle (records follow), not torn at its end.
    resumes_at: int | None = None

    @property
    def torn(self) -> bool:
        """True if the only damage is a cut-short or garbled last frame (a crash mid-append)."""
        return self.tail is not Tail.CLEAN and self.resumes_at is None


def frame(payload: bytes) -> bytes:
    """One frame around ``payload``; raise ``ValueError`` if the payload is too large."""
    if len(payload) > MAX_PAYLOAD:
        raise ValueError(f"record of {len(payload)} bytes exceeds {MAX_PAYLOAD}")
    length = _LENGTH.pack(len(payload))
    # The CRC runs over the length, then the payload, without copying them together.
    return FRAME_HEAD.pack(len(payload), zlib.crc32(payload, zlib.crc32(length))) + payload


def has_magic(data: bytes) -> bool:
    """True if ``data`` starts like a match log."""
    return data[: len(MAGIC)] == MAGIC


def scan(data: bytes) -> Scan:
    """Split a whole file's bytes (starting with ``MAGIC``) into whole-frame payloads.

    The caller must check ``has_magic`` first. Never raises for any input.
    """
    payloads: list[bytes] = []
    offsets: list[int] = []
    pos = len(MAGIC)
    size = len(data)
    tail = Tail.CLEAN
    while pos < size:
        if size - pos < FRAME_HEAD.size:
            tail = Tail.TRUNCATED
            break
        length, crc = FRAME_HEAD.unpack_from(data, pos)
        if length > MAX_PAYLOAD:
            tail = Tail.CORRUPT
            break
        start = pos + FRAME_HEAD.size
        if size - start < length:
            tail = Tail.TRUNCATED
            break
        payload = data[start : start + length]
        if zlib.crc32(data[pos : pos + 4] + payload) != crc:
            tail = Tail.CORRUPT
            break
        payloads.append(payload)
        offsets.append(pos)
        pos = start + length
    resumes_at = None if tail is Tail.CLEAN else next_whole_frame(data, pos + 1)
    return Scan(tuple(payloads), tuple(offsets), pos, tail, resumes_at)


def next_whole_frame(data: bytes, start: int) -> int | None:
    """Offset of the first whole frame (possible length, matching CRC) at or after ``start``.

    Used after damage, to tell a torn tail (None) from damage that records follow.
    """
    # MAX_PAYLOAD is below 2**24, so every frame starts with a zero byte: try only
    # the offsets of zero bytes instead of every offset.
    pos = data.find(b"\0", start)
    while pos != -1 and len(data) - pos >= FRAME_HEAD.size:
        if data.startswith(_EMPTY_HEAD, pos):
            # Length 0 with CRC 0 never matches: skip to where the zeros end, so a
            # zero-filled tail (a power loss can leave one) is passed in one step.
            nonzero = _NONZERO.search(data, pos)
            if nonzero is None:
                return None
            pos = nonzero.start() - FRAME_HEAD.size + 1
            continue
        length, crc = FRAME_HEAD.unpack_from(data, pos)
        stop = pos + FRAME_HEAD.size + length
        if length <= MAX_PAYLOAD and stop <= len(data):
            if zlib.crc32(data[pos : pos + 4] + data[pos + FRAME_HEAD.size : stop]) == crc:
                return pos
        pos = data.find(b"\0", pos + 1)
    return None
