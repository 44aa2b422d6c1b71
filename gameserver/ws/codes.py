"""Wire codes of RFC 6455: frame opcodes and close status codes."""

from __future__ import annotations

from enum import IntEnum

__all__ = ["CloseCode", "Opcode", "is_valid_close_code", "is_control"]


class Opcode(IntEnum):
    """Frame opcodes (RFC 6455 section 5.2 and 11.8); 0x3-0x7 and 0xB-0xF are reserved."""

    CONTINUATION = 0x0  # section 5.4
    TEXT = 0x1  # section 5.6
    BINARY = 0x2  # section 5.6
    CLOSE = 0x8  # section 5.5.1
    PING = 0x9  # section 5.5.2
    PONG = 0xA  # section 5.5.3


def is_control(opcode: int) -> bool:
    """Return True for control opcodes (the high bit of the 4-bit opcode is set, section 5.5)."""
    return opcode & 0x8 != 0


class CloseCode(IntEnum):
    """Close status codes (RFC 6455 section 7.4.1 and the IANA registry, section 11.7)."""

    NORMAL = 1000  # 7.4.1: purpose fulfilled
    GOING_AWAY = 1001  # 7.4.1: server going down / browser leaving the page
    PROTOCOL_ERROR = 1002  # 7.4.1: peer violated the protocol
    UNSUPPORTED_DATA = 1003  # 7.4.1: a data type we cannot accept
    NO_STATUS_RCVD = 1005  # 7.4.1: reserved, never sent: close frame had no payload
    ABNORMAL_CLOSURE = 1006  # 7.4.1: reserved, never sent: connection lost without close
    INVALID_PAYLOAD = 1007  # 7.4.1: data inconsistent with its type (e.g. bad UTF-8)
    POLICY_VIOLATION = 1008  # 7.4.1: generic policy violation
    MESSAGE_TOO_BIG = 1009  # 7.4.1: message too big to process
    MANDATORY_EXTENSION = 1010  # 7.4.1: client expected an extension the server refused
    INTERNAL_ERROR = 1011  # 7.4.1: server hit an unexpected condition
    SERVICE_RESTART = 1012  # IANA registry (11.7): server restarting
    TRY_AGAIN_LATER = 1013  # IANA registry (11.7): temporary overload
    BAD_GATEWAY = 1014  # IANA registry (11.7): gateway got an invalid upstream response
    TLS_HANDSHAKE = 1015  # 7.4.1: reserved, never sent: TLS handshake failed


# Codes a peer may put on the wire (section 7.4.1/7.4.2): 1004-1006 and 1015 are reserved
# and must never appear in a close frame; 1016-2999 are unassigned; 3000-4999 belong to
# libraries/frameworks (3000-3999) and applications (4000-4999).
_SENDABLE_REGISTERED = frozenset(CloseCode) - {
    CloseCode.NO_STATUS_RCVD, CloseCode.ABNORMAL_CLOSURE, CloseCode.TLS_HANDSHAKE
}


def is_valid_close_code(code: int) -> bool:
    """Return True when ``code`` may appear in a close frame on the wire."""
    return code in _SENDABLE_REGISTERED or 3000 <= code <= 4999
