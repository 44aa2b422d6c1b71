"""hold_close: batch parsing that still answers earlier messages before closing."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gameserver.ws.codes import Opcode
from gameserver.ws.connection import Connection, ConnectionState, Role
from gameserver.ws.events import CloseReceived, TextMessage

from .strategies import decode_sent, fragmented, frame_to, splits

ROLES = pytest.mark.parametrize("role", [Role.SERVER, Role.CLIENT], ids=["server", "client"])


def _message_violation_ping(role: Role) -> bytes:
    """Autobahn 4.1.3's shape: a message, a reserved opcode, a ping, in one segment."""
    good = frame_to(role, Opcode.TEXT, b"Hello, world!")
    bad = frame_to(role, Opcode.BINARY, b"")
    return good + bytes((0x85,)) + bad[1:] + frame_to(role, Opcode.PING, b"")


@ROLES
def test_close_waits_for_the_release_and_follows_the_answers(role: Role) -> None:
    conn = Connection(role, hold_close=True)
    conn.receive_data(_message_violation_ping(role))
    assert conn.events_received() == [TextMessage("Hello, world!")]
    assert conn.failure is not None and conn.failure.code == 1002
    assert conn.close_held
    assert not conn.should_close_transport and conn.state is ConnectionState.OPEN
    assert conn.data_to_send() == b""  # no pong: the ping came after the violation
    conn.send_text("Hello, world!")
    conn.release_close()
    assert not conn.close_held
    assert conn.should_close_transport and conn.state is ConnectionState.CLOSED
    assert decode_sent(role, conn.data_to_send()) == [
        TextMessage("Hello, world!"), CloseReceived(1002, conn.failure.message),
    ]
    conn.release_close()  # a second release changes nothing
    assert conn.data_to_send() == b""


@ROLES
def test_eof_releases_the_held_close(role: Role) -> None:
    conn = Connection(role, hold_close=True)
    conn.receive_data(frame_to(role, Opcode.TEXT, b"\xff"))
    assert conn.close_held
    conn.receive_eof()
    assert not conn.close_held and conn.should_close_transport
    assert conn.close_code == 1006
    assert conn.failure is not None
    assert decode_sent(role, conn.data_to_send()) == [CloseReceived(1007, conn.failure.message)]


@ROLES
def test_an_application_close_while_held_is_the_only_close(role: Role) -> None:
    conn = Connection(role, hold_close=True)
    conn.receive_data(frame_to(role, 0x3, b""))
    conn.send_close(1001, "bye")
    conn.release_close()
    assert conn.state is ConnectionState.CLOSED and conn.should_close_transport
    assert decode_sent(role, conn.data_to_send()) == [CloseReceived(1001, "bye")]


@ROLES
def test_without_hold_release_is_a_no_op(role: Role) -> None:
    conn = Connection(role)
    conn.receive_data(frame_to(role, 0x3, b""))
    assert not conn.close_held and conn.should_close_transport
    wire = conn.data_to_send()
    conn.release_close()
    assert conn.data_to_send() == b"" and len(decode_sent(role, wire)) == 1


@ROLES
def test_answer_to_the_peer_close_waits_for_the_release(role: Role) -> None:
    # Autobahn 7.1.6's shape: a message, the peer's close and a ping in one segment.
    conn = Connection(role, hold_close=True)
    conn.receive_data(
        frame_to(role, Opcode.TEXT, b"Hello World!")
        + frame_to(role, Opcode.CLOSE, (1000).to_bytes(2, "big") + b"done")
        + frame_to(role, Opcode.PING, b"")
    )
    assert conn.events_received() == [TextMessage("Hello World!"), CloseReceived(1000, "done")]
    assert (conn.close_code, conn.close_reason) == (1000, "done")
    assert conn.close_held and conn.state is ConnectionState.OPEN
    assert not conn.should_close_transport and conn.data_to_send() == b""
    conn.send_text("Hello World!")
    conn.release_close()
    assert conn.state is ConnectionState.CLOSED and conn.should_close_transport
    assert decode_sent(role, conn.data_to_send()) == [
        TextMessage("Hello World!"), CloseReceived(1000, ""),
    ]


@ROLES
def test_held_answer_to_an_empty_close_is_empty(role: Role) -> None:
    conn = Connection(role, hold_close=True)
    conn.receive_data(frame_to(role, Opcode.CLOSE, b""))
    conn.release_close()
    assert decode_sent(role, conn.data_to_send()) == [CloseReceived(1005, "")]


@ROLES
def test_our_own_close_first_makes_the_held_answer_unneeded(role: Role) -> None:
    conn = Connection(role, hold_close=True)
    conn.receive_data(frame_to(role, Opcode.CLOSE, (4000).to_bytes(2, "big")))
    conn.send_close(1001, "going away")
    conn.release_close()
    assert conn.state is ConnectionState.CLOSED and conn.should_close_transport
    assert decode_sent(role, conn.data_to_send()) == [CloseReceived(1001, "going away")]



@ROLES
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_hold_then_release_equals_no_hold(role: Role, data: st.DataObject) -> None:
    stream, _ = data.draw(fragmented(role))
    stream += data.draw(st.sampled_from([b"", frame_to(role, Opcode.CLOSE, b"\x03\xe8")]))
    stream += data.draw(st.binary(max_size=20))
    plain = Connection(role)
    held = Connection(role, hold_close=True)
    for chunk in data.draw(splits(stream)):
        plain.receive_data(chunk)
        held.receive_data(chunk)
    held.release_close()
    assert held.events_received() == plain.events_received()
    assert decode_sent(role, held.data_to_send()) == decode_sent(role, plain.data_to_send())
    assert (held.state, held.should_close_transport, held.close_code) == (
        plain.state, plain.should_close_transport, plain.close_code,
    )
    assert (held.failure is None) == (plain.failure is None)
