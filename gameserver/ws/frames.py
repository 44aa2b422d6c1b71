"""Frame header parsing and frame encoding (RFC 6455 section 5.2).

::

     0                   1                   2                   3
    |F|R|R|R| opcode|M| Payload len |    Extended payload length    |
    |I|S|S|S|  (4)  |A|     (7)     |             (16/64)           |
    |N|V|V|V|       |S|             |   (if payload len==126/127)   |
    | |1|2|3|       |K|             |                               |
    +-+-+-+-+-------+-+-------------+ - - - - - - - - - - - - - - - +
    |     Extended payload length continued, if payload len == 127  |
    + - - - - - - - - - - - - - - - +-------------------------------+
    |                               | Masking-key, if MASK set to 1 |
    +-------------------------------+-------------------------------+
    | Masking-key (continued)       |          Payload Data         |

Only the header is parsed here; the payload is streamed by the connection so large
frames are never buffered whole. Header checks that need no connection state (reserved
opcodes, control frame rules, length encoding) raise :class:`ProtocolError` here.
"""

from __future__ import annotations

import struct
from typing import NamedTuple

from .codes import CloseCode, Opcode
from .exceptions import LocalProtocolError, ProtocolError
from .mask import apply_mask

__all__ = ["FrameHeader", "parse_header", "encode_frame", "MAX_CONTROL_PAYLOAD"]

# Section 5.5: control frame payloads are at most 125 bytes (they fit the 7-bit length).
MAX_CONTROL_PAYLOAD = 125

# Section 5.2: the 64-bit length's most significant bit must be 0.
_MAX_PAYLOAD = 2**63 - 1

_FIN = 0x80
_RSV1 = 0x40
_RSV2 = 0x20
_RSV3 = 0x10
_MASK = 0x80

# Opcode by its 4-bit value; None for the reserved ones (a list index beats Opcode(n)).
_OPCODES: list[Opcode | None] = [None] * 16
for _op in Opcode:
    _OPCODES[_op] = _op

_U16 = struct.Struct("!H")
_U64 = struct.Struct("!Q")


class FrameHeader(NamedTuple):
    """The fixed part of a frame, before its payload.

    A named tuple rather than an attrs class: one is built per frame on the hot path.
    """

    fin: bool
    """True on the last frame of a message (always True on control frames)."""
    rsv1: bool
    """Per-message compressed bit (RFC 7692), only meaningful on a message's first frame."""
    opcode: Opcode
    """What the payload is."""
    mask: bytes | None
    """The 4-byte masking key, or None for an unmasked frame."""
    length: int
    """Payload length in bytes."""
    header_length: int
    """Bytes the header took on the wire; the payload starts right after."""


def parse_header(buf: bytes | bytearray, *, allow_rsv1: bool = False) -> FrameHeader | None:
    """Parse the frame header at the start of ``buf``.

    Return None when ``buf`` does not yet hold the whole header: feed more bytes and call
    again. Raise :class:`ProtocolError` (1002) for reserved bits, reserved opcodes,
    malformed control frames and non-minimal or oversized length encodings.
    ``allow_rsv1`` is True when an extension (permessage-deflate) negotiated RSV1.
    """
    available = len(buf)
    if available < 2:
        return None
    b0 = buf[0]
    b1 = buf[1]
    if b0 & (_RSV2 | _RSV3):
        raise ProtocolError(CloseCode.PROTOCOL_ERROR, "reserved bits RSV2/RSV3 set")
    rsv1 = bool(b0 & _RSV1)
    if rsv1 and not allow_rsv1:
        raise ProtocolError(
            CloseCode.PROTOCOL_ERROR, "reserved bit RSV1 set without a negotiated extension"
        )
    raw_opcode = b0 & 0x0F
    opcode = _OPCODES[raw_opcode]
    if opcode is None:
        raise ProtocolError(CloseCode.PROTOCOL_ERROR, f"reserved opcode {raw_opcode:#x}")
    fin = bool(b0 & _FIN)
    length = b1 & 0x7F
    if raw_opcode & 0x8:
        if not fin:
            raise ProtocolError(CloseCode.PROTOCOL_ERROR, "fragmented control frame")
        if length > MAX_CONTROL_PAYLOAD:
            raise ProtocolError(
                CloseCode.PROTOCOL_ERROR, "control frame payload longer than 125 bytes"
            )
        if rsv1:
            raise ProtocolError(CloseCode.PROTOCOL_ERROR, "RSV1 set on a control frame")
    pos = 2
    if length == 126:
        if available < 4:
            return None
        (length,) = _U16.unpack_from(buf, 2)
        pos = 4
        if length < 126:
            raise ProtocolError(CloseCode.PROTOCOL_ERROR, "non-minimal 16-bit payload length")
    elif length == 127:
        if available < 10:
            return None
        (length,) = _U64.unpack_from(buf, 2)
        pos = 10
        if length > _MAX_PAYLOAD:
            raise ProtocolError(
                CloseCode.PROTOCOL_ERROR, "64-bit payload length has its top bit set"
            )
        if length <= 0xFFFF:
            raise ProtocolError(CloseCode.PROTOCOL_ERROR, "non-minimal 64-bit payload length")
    mask: bytes | None = None
    if b1 & _MASK:
        if available < pos + 4:
            return None
        mask = bytes(buf[pos : pos + 4])
        pos += 4
    return FrameHeader(fin, rsv1, opcode, mask, length, pos)


def encode_frame(
    opcode: int,
    payload: bytes,
    *,
    fin: bool = True,
    rsv1: bool = False,
    mask: bytes | None = None,
) -> bytes:
    """Return one whole frame (header + payload) as a single bytes object.

    Servers pass ``mask=None`` (their frames must not be masked) and may write the
    returned bytes to any number of peers. Clients must pass a fresh random 4-byte
    ``mask`` per frame. Raise :class:`LocalProtocolError` for frames RFC 6455 forbids
    sending (reserved opcodes, control frames over 125 bytes or fragmented, a mask
    that is not 4 bytes).
    """
    length = len(payload)
    if length < 126 and mask is None and fin and not rsv1 and (opcode == 2 or opcode == 1):
        return bytes((_FIN | opcode, length)) + payload  # the common case, nothing to check
    if not 0 <= opcode <= 0xF or _OPCODES[opcode] is None:
        raise LocalProtocolError(f"opcode {opcode:#x} is reserved or out of range")
    if opcode & 0x8 and (length > MAX_CONTROL_PAYLOAD or not fin):
        raise LocalProtocolError("control frames must be unfragmented and at most 125 bytes")
    b0 = (_FIN if fin else 0) | (_RSV1 if rsv1 else 0) | (opcode & 0x0F)
    mask_bit = 0
    if mask is not None:
        if len(mask) != 4:
            raise LocalProtocolError("a masking key is exactly 4 bytes")
        mask_bit = _MASK
        payload = apply_mask(payload, mask)
    if length < 126:
        header = bytes((b0, mask_bit | length))
    elif length <= 0xFFFF:
        header = bytes((b0, mask_bit | 126)) + _U16.pack(length)
    else:
        header = bytes((b0, mask_bit | 127)) + _U64.pack(length)
    if mask is not None:
        header += mask
    return header + payload
