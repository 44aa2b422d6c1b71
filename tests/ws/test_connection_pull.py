"""Pull-style parsing: buffer_data() then next_event(), one event at a time.

Autobahn|Testsuite cases 3.2, 4.1.3 and 4.2.3 send a valid message, then a violation,
then a ping, all in one TCP segment. A strict endpoint answers the message before it
fails the connection; parsing no further than the application has read makes that so.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gameserver.ws.codes import Opcode
from gameserver.ws.connection import Connection, ConnectionState, Role
from gameserver.ws.events import CloseReceived, Event, Ping, TextMessage

from .strategies import decode_sent, fragmented, frame_to, splits

ROLES = pytest.mark.parametrize("role", [Role.SERVER, Role.CLIENT], ids=["server", "client"])


def _raw(role: Role, first_byte: int, payload: bytes = b"") -> bytes:
    frame = frame_to(role, Opcode.TEXT, payload)
    return bytes((first_byte,)) + frame[1:]


@ROLES
@pytest.mark.parametrize(
    "violation",
    [0xA1, 0x85, 0x8B],  # RSV2 set (3.2), reserved opcode 5 (4.1.3), reserved 0xB (4.2.3)
    ids=["rsv2", "opcode-5", "opcode-B"],
)
def test_echo_goes_out_before_the_failure_close(role: Role, violation: int) -> None:
    conn = Connection(role)
    conn.buffer_data(
        frame_to(role, Opcode.TEXT, b"Hello, world!")
        + _raw(role, violation, b"bad")
        + frame_to(role, Opcode.PING, b"")
    )
    event = conn.next_event()
    assert event == TextMessage("Hello, world!")
    assert conn.failure is None and conn.data_to_send() == b""
    conn.send_text(event.data)
    assert conn.next_event() is None
    assert conn.failure is not None and conn.failure.code == 1002
    assert conn.should_close_transport
    # The echo, then the close: and no pong for the ping after the violation.
    assert decode_sent(role, conn.data_to_send()) == [
        TextMessage("Hello, world!"), CloseReceived(1002, conn.failure.message),
    ]


@ROLES
def test_next_event_waits_for_a_whole_event(role: Role) -> None:
    wire = frame_to(role, Opcode.TEXT, b"abc", fin=False) + frame_to(
        role, Opcode.CONTINUATION, b"def"
    )
    conn = Connection(role)
    conn.buffer_data(wire[:-1])
    assert conn.next_event() is None
    assert conn.failure is None and conn.state is ConnectionState.OPEN
    conn.buffer_data(wire[-1:])
    assert conn.next_event() == TextMessage("abcdef")
    assert conn.next_event() is None


@ROLES
def test_pongs_are_queued_as_pings_are_pulled(role: Role) -> None:
    conn = Connection(role)
    conn.buffer_data(frame_to(role, Opcode.PING, b"1") + frame_to(role, Opcode.PING, b"2"))
    assert conn.next_event() == Ping(b"1")
    first = conn.data_to_send()
    assert conn.next_event() == Ping(b"2")
    second = conn.data_to_send()
    assert [len(decode_sent(role, w)) for w in (first, second)] == [1, 1]


@ROLES
def test_peer_close_is_pulled_and_answered(role: Role) -> None:
    conn = Connection(role)
    conn.buffer_data(
        frame_to(role, Opcode.TEXT, b"last")
        + frame_to(role, Opcode.CLOSE, (1000).to_bytes(2, "big"))
        + frame_to(role, Opcode.TEXT, b"ignored")
    )
    assert conn.next_event() == TextMessage("last")
    assert not conn.should_close_transport
    assert conn.next_event() == CloseReceived(1000, "")
    assert conn.should_close_transport and conn.next_event() is None
    assert decode_sent(role, conn.data_to_send()) == [CloseReceived(1000, "")]


@ROLES
def test_eof_delivers_what_was_buffered_before_it(role: Role) -> None:
    conn = Connection(role)
    conn.buffer_data(frame_to(role, Opcode.TEXT, b"a") + frame_to(role, Opcode.TEXT, b"b"))
    conn.receive_eof()
    assert conn.events_received() == [TextMessage("a"), TextMessage("b")]
    assert conn.close_code == 1006 and conn.next_event() is None


@ROLES
def test_events_parsed_eagerly_are_pulled_first(role: Role) -> None:
    conn = Connection(role)
    conn.receive_data(frame_to(role, Opcode.TEXT, b"a") + frame_to(role, Opcode.TEXT, b"b"))
    assert conn.next_event() == TextMessage("a")
    assert conn.events_received() == [TextMessage("b")]


@ROLES
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_pulling_yields_what_eager_parsing_yields(role: Role, data: st.DataObject) -> None:
    stream, _ = data.draw(fragmented(role))
    stream += data.draw(st.binary(max_size=30))  # maybe a violation at the end
    eager = Connection(role)
    eager.receive_data(stream)
    pull = Connection(role)
    pulled: list[Event] = []
    for chunk in data.draw(splits(stream)):
        pull.buffer_data(chunk)
        while (event := pull.next_event()) is not None:
            pulled.append(event)
    assert pulled == eager.events_received()
    assert decode_sent(role, pull.data_to_send()) == decode_sent(role, eager.data_to_send())
    assert (pull.failure is None) == (eager.failure is None)
    if eager.failure is not None:
        assert pull.failure is not None and pull.failure.code == eager.failure.code
