"""The close handshake (RFC 6455 sections 5.5.1, 7.1-7.4), for both roles."""

from __future__ import annotations

import pytest

from gameserver.ws.codes import CloseCode, Opcode, is_valid_close_code
from gameserver.ws.connection import Connection, ConnectionState, Role
from gameserver.ws.events import CloseReceived, Ping, TextMessage
from gameserver.ws.exceptions import LocalProtocolError

from .strategies import decode_sent, frame_to, sent_close_code

ROLES = pytest.mark.parametrize("role", [Role.SERVER, Role.CLIENT], ids=["server", "client"])

VALID_CODES = [*range(1000, 1004), *range(1007, 1015), 3000, 3999, 4000, 4999]
INVALID_CODES = [0, 1, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535]


@pytest.mark.parametrize("code", VALID_CODES)
def test_valid_close_codes(code: int) -> None:
    assert is_valid_close_code(code)


@pytest.mark.parametrize("code", INVALID_CODES)
def test_invalid_close_codes(code: int) -> None:
    assert not is_valid_close_code(code)


def test_validity_over_the_whole_16_bit_range() -> None:
    valid = [code for code in range(65536) if is_valid_close_code(code)]
    assert valid == [1000, 1001, 1002, 1003, *range(1007, 1015), *range(3000, 5000)]


def test_close_codes_carry_rfc_values() -> None:
    assert (CloseCode.NORMAL, CloseCode.NO_STATUS_RCVD, CloseCode.ABNORMAL_CLOSURE) == (
        1000, 1005, 1006,
    )
    assert (CloseCode.MESSAGE_TOO_BIG, CloseCode.TLS_HANDSHAKE) == (1009, 1015)


def close_payload(code: int, reason: bytes = b"") -> bytes:
    return code.to_bytes(2, "big") + reason


@ROLES
@pytest.mark.parametrize("code", VALID_CODES)
def test_peer_close_is_echoed_and_the_handshake_completes(role: Role, code: int) -> None:
    conn = Connection(role)
    conn.receive_data(frame_to(role, Opcode.CLOSE, close_payload(code, "bye ✓".encode())))
    assert conn.events_received() == [CloseReceived(code, "bye ✓")]
    assert (conn.close_code, conn.close_reason) == (code, "bye ✓")
    assert sent_close_code(role, conn.data_to_send()) == code
    assert conn.state is ConnectionState.CLOSED
    assert conn.should_close_transport
    assert conn.failure is None


@ROLES
@pytest.mark.parametrize("code", INVALID_CODES)
def test_invalid_close_code_from_peer_fails_with_1002(role: Role, code: int) -> None:
    conn = Connection(role)
    conn.receive_data(frame_to(role, Opcode.CLOSE, close_payload(code)))
    assert conn.failure is not None and conn.failure.code == 1002
    assert f"invalid close code {code}" in conn.failure.message
    assert conn.events_received() == []
    assert sent_close_code(role, conn.data_to_send()) == 1002
    assert conn.should_close_transport


@ROLES
def test_empty_close_is_reported_as_1005_and_answered_empty(role: Role) -> None:
    conn = Connection(role)
    conn.receive_data(frame_to(role, Opcode.CLOSE, b""))
    assert conn.events_received() == [CloseReceived(1005, "")]
    assert conn.close_code == 1005
    assert decode_sent(role, conn.data_to_send()) == [CloseReceived(1005, "")]
    assert conn.state is ConnectionState.CLOSED


@ROLES
def test_one_byte_close_payload_fails_with_1002(role: Role) -> None:
    conn = Connection(role)
    conn.receive_data(frame_to(role, Opcode.CLOSE, b"\x03"))
    assert conn.failure is not None and conn.failure.code == 1002
    assert sent_close_code(role, conn.data_to_send()) == 1002


@ROLES
def test_close_reason_must_be_utf8(role: Role) -> None:
    conn = Connection(role)
    conn.receive_data(frame_to(role, Opcode.CLOSE, close_payload(1000, b"\xce\xba\xff")))
    assert conn.failure is not None and conn.failure.code == 1007
    assert "close reason" in conn.failure.message
    assert sent_close_code(role, conn.data_to_send()) == 1007


@ROLES
def test_close_reason_of_the_maximum_length_is_fine(role: Role) -> None:
    conn = Connection(role)
    conn.receive_data(frame_to(role, Opcode.CLOSE, close_payload(4000, b"r" * 123)))
    assert conn.events_received() == [CloseReceived(4000, "r" * 123)]


@ROLES
def test_we_close_first_then_the_peer_answers(role: Role) -> None:
    conn = Connection(role)
    conn.send_close(4001, "game over")
    assert decode_sent(role, conn.data_to_send()) == [CloseReceived(4001, "game over")]
    assert conn.state is ConnectionState.CLOSING
    assert not conn.should_close_transport
    # The peer may still deliver data before it sees our close.
    conn.receive_data(frame_to(role, Opcode.TEXT, b"in flight"))
    assert conn.events_received() == [TextMessage("in flight")]
    conn.receive_data(frame_to(role, Opcode.CLOSE, close_payload(4001)))
    assert conn.events_received() == [CloseReceived(4001, "")]
    assert conn.data_to_send() == b""  # no second close
    assert conn.state is ConnectionState.CLOSED
    assert conn.should_close_transport


@ROLES
def test_nothing_is_sent_after_our_close(role: Role) -> None:
    conn = Connection(role)
    conn.send_close()
    conn.data_to_send()
    for send in (
        lambda: conn.send_text("x"),
        lambda: conn.send_binary(b"x"),
        lambda: conn.send_ping(),
        lambda: conn.send_pong(),
        lambda: conn.send_close(),
        lambda: conn.send_frame_bytes(b"\x81\x00"),
    ):
        with pytest.raises(LocalProtocolError, match="after the close"):
            send()
    # A ping arriving while we wait for the peer's close is reported but not answered.
    conn.receive_data(frame_to(role, Opcode.PING, b"late"))
    assert conn.events_received() == [Ping(b"late")]
    assert conn.data_to_send() == b""


@ROLES
def test_after_the_peer_closes_sending_raises(role: Role) -> None:
    conn = Connection(role)
    conn.receive_data(frame_to(role, Opcode.CLOSE, close_payload(1001)))
    with pytest.raises(LocalProtocolError):
        conn.send_text("too late")


@ROLES
def test_bytes_after_the_peer_close_are_ignored(role: Role) -> None:
    conn = Connection(role)
    conn.receive_data(
        frame_to(role, Opcode.CLOSE, close_payload(1000)) + frame_to(role, Opcode.TEXT, b"x")
    )
    conn.receive_data(frame_to(role, Opcode.PING, b"y") + b"\xff\xff")
    assert conn.events_received() == [CloseReceived(1000, "")]
    assert conn.failure is None
    assert sent_close_code(role, conn.data_to_send()) == 1000


@ROLES
def test_eof_without_close_is_1006(role: Role) -> None:
    conn = Connection(role)
    conn.receive_data(frame_to(role, Opcode.TEXT, b"half", fin=False))
    conn.receive_eof()
    assert conn.close_code == 1006
    assert conn.state is ConnectionState.CLOSED
    assert conn.should_close_transport
    assert conn.events_received() == []
    with pytest.raises(LocalProtocolError):
        conn.send_close()


@ROLES
def test_eof_after_the_handshake_keeps_the_peer_code(role: Role) -> None:
    conn = Connection(role)
    conn.send_close(1000)
    conn.receive_data(frame_to(role, Opcode.CLOSE, close_payload(1000, b"ok")))
    conn.receive_eof()
    assert (conn.close_code, conn.close_reason) == (1000, "ok")


@ROLES
def test_eof_while_closing_is_1006(role: Role) -> None:
    conn = Connection(role)
    conn.send_close(1000)
    conn.receive_eof()
    assert conn.close_code == 1006 and conn.state is ConnectionState.CLOSED


@ROLES
def test_violation_after_our_close_sends_no_second_close(role: Role) -> None:
    conn = Connection(role)
    conn.send_close(1000)
    conn.data_to_send()
    conn.receive_data(frame_to(role, 0x5, b""))
    assert conn.failure is not None and conn.failure.code == 1002
    assert conn.data_to_send() == b""
    assert conn.state is ConnectionState.CLOSED and conn.should_close_transport


@ROLES
@pytest.mark.parametrize(
    ("code", "reason", "message"),
    [
        (1005, "why", "without a code"),
        (1006, "", "may not be sent"),
        (999, "", "may not be sent"),
        (5000, "", "may not be sent"),
        (1000, "é" * 62, "123"),
    ],
)
def test_send_close_validates_code_and_reason(
    role: Role, code: int, reason: str, message: str
) -> None:
    conn = Connection(role)
    with pytest.raises(LocalProtocolError, match=message):
        conn.send_close(code, reason)
    assert conn.state is ConnectionState.OPEN and conn.data_to_send() == b""


@ROLES
def test_send_close_without_a_code(role: Role) -> None:
    conn = Connection(role)
    conn.send_close(1005)
    assert decode_sent(role, conn.data_to_send()) == [CloseReceived(1005, "")]


@ROLES
def test_failure_close_frame_carries_the_reason(role: Role) -> None:
    conn = Connection(role)
    conn.receive_data(frame_to(role, Opcode.TEXT, "é".encode() * 10 + b"\xff"))
    assert conn.failure is not None and conn.failure.code == 1007
    assert decode_sent(role, conn.data_to_send()) == [
        CloseReceived(1007, conn.failure.message)
    ]
