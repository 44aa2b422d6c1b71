"""On-disk framing of a match log: a magic prefix, then length- and CRC-framed records.

::

    file   = MAGIC frame frame ...            (the first frame is the header)
    MAGIC  = b"GSRLOG\\r\\n"                 8 bytes; the \\r\\n catches text-mode mangling
    frame  = length:u32be crc:u32be payload   payload = one msgpack map, ``length`` bytes
    crc    = zlib.crc32(length bytes + payload)

A writer that crashes mid-record leaves a *tail* that is shorter than its length says,
or whose CRC does not match; ``scan`` stops there and reports where the whole records
end, so a torn tail is told apart from a whole record and is never fatal.

This module is sans-IO: it turns payloads into bytes and bytes into payloads.
"""

from __future__ import annotations

import enum
import struct
import zlib

import attrs

MAGIC = b"GSRLOG\r\n"
FRAME_HEAD = struct.Struct(">II")
#: Why: a record is a move and a few numbers; a length beyond this is damage, not data.
MAX_PAYLOAD = 1 << 20


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


def frame(payload: bytes) -> bytes:
    """One frame around ``payload``; raise ``ValueError`` if the payload is too large."""
    if len(payload) > MAX_PAYLOAD:
        raise ValueError(f"record of {len(payload)} bytes exceeds {MAX_PAYLOAD}")
    length = struct.pack(">I", len(payload))
    return length + struct.pack(">I", zlib.crc32(length + payload)) + payload


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
    return Scan(tuple(payloads), tuple(offsets), pos, tail)
