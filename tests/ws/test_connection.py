"""The sans-IO connection: reassembly, control frames, limits and protocol errors.

Every test runs for both roles: the peer's frames are masked toward a server and
unmasked toward a client, as RFC 6455 section 5.1 requires.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gameserver.ws.codes import Opcode
from gameserver.ws.connection import Connection, ConnectionState, Role
from gameserver.ws.events import BinaryMessage, Event, Ping, Pong, TextMessage
from gameserver.ws.exceptions import LocalProtocolError
from gameserver.ws.frames import encode_frame, parse_header

from .strategies import decode_sent, fragmented, frame_to, sent_close_code, splits

ROLES = pytest.mark.parametrize("role", [Role.SERVER, Role.CLIENT], ids=["server", "client"])


def feed(conn: Connection, *chunks: bytes) -> list[Event]:
    for chunk in chunks:
        conn.receive_data(chunk)
    return conn.events_received()


@ROLES
def test_rfc_single_frame_and_fragmented_text(role: Role) -> None:
    conn = Connection(role)
    events = feed(
        conn,
        frame_to(role, Opcode.TEXT, b"Hello"),
        frame_to(role, Opcode.TEXT, b"Hel", fin=False),
        frame_to(role, Opcode.CONTINUATION, b"lo"),
    )
    assert events == [TextMessage("Hello"), TextMessage("Hello")]
    assert conn.data_to_send() == b""
    assert conn.state is ConnectionState.OPEN and conn.failure is None


@ROLES
@pytest.mark.parametrize("size", [0, 125, 126, 256, 65535, 65536, 300_000])
def test_binary_messages_across_length_encodings(role: Role, size: int) -> None:
    payload = bytes(range(256)) * (size // 256) + bytes(size % 256)
    conn = Connection(role)
    assert feed(conn, frame_to(role, Opcode.BINARY, payload)) == [BinaryMessage(payload)]


@ROLES
def test_ping_is_answered_with_the_same_payload_every_time_in_order(role: Role) -> None:
    conn = Connection(role)
    events = feed(
        conn,
        frame_to(role, Opcode.PING, b"one") + frame_to(role, Opcode.PING, b"")
        + frame_to(role, Opcode.PING, b"x" * 125),
    )
    assert events == [Ping(b"one"), Ping(b""), Ping(b"x" * 125)]
    assert decode_sent(role, conn.data_to_send()) == [Pong(b"one"), Pong(b""), Pong(b"x" * 125)]


@ROLES
def test_unsolicited_pong_is_reported_and_not_answered(role: Role) -> None:
    conn = Connection(role)
    assert feed(conn, frame_to(role, Opcode.PONG, b"beat")) == [Pong(b"beat")]
    assert conn.data_to_send() == b""


@ROLES
def test_control_frames_interleave_with_a_fragmented_message(role: Role) -> None:
    conn = Connection(role)
    events = feed(
        conn,
        frame_to(role, Opcode.TEXT, b"frag", fin=False),
        frame_to(role, Opcode.PING, b"p"),
        frame_to(role, Opcode.CONTINUATION, b"men", fin=False),
        frame_to(role, Opcode.PONG, b"q"),
        frame_to(role, Opcode.CONTINUATION, b"ted"),
    )
    assert events == [Ping(b"p"), Pong(b"q"), TextMessage("fragmented")]


@ROLES
def test_many_fragments_are_fine_within_the_size_limit(role: Role) -> None:
    conn = Connection(role, max_message_size=5000)
    stream = frame_to(role, Opcode.BINARY, b"", fin=False)
    stream += b"".join(frame_to(role, Opcode.CONTINUATION, b"ab", fin=False) for _ in range(2499))
    stream += frame_to(role, Opcode.CONTINUATION, b"")
    assert feed(conn, stream) == [BinaryMessage(b"ab" * 2499)]


@ROLES
def test_a_frame_is_delivered_across_byte_by_byte_feeding(role: Role) -> None:
    wire = frame_to(role, Opcode.TEXT, "héllo wörld".encode() * 50)
    conn = Connection(role)
    events: list[Event] = []
    for i in range(len(wire)):
        events += feed(conn, wire[i : i + 1])
    assert events == [TextMessage("héllo wörld" * 50)]


@ROLES
def test_messages_up_to_the_limit_pass(role: Role) -> None:
    conn = Connection(role, max_message_size=10)
    events = feed(
        conn,
        frame_to(role, Opcode.BINARY, b"0123456789"),
        frame_to(role, Opcode.TEXT, b"01234", fin=False),
        frame_to(role, Opcode.CONTINUATION, b"56789"),
    )
    assert events == [BinaryMessage(b"0123456789"), TextMessage("0123456789")]


# (name, frames from the peer, expected close code, text in the failure message)
VIOLATIONS = [
    ("reserved-opcode", [(0x3, b"", True, False)], 1002, "reserved opcode"),
    ("reserved-control-opcode", [(0xB, b"", True, False)], 1002, "reserved opcode"),
    ("rsv1-without-extension", [(Opcode.TEXT, b"a", True, True)], 1002, "RSV1"),
    ("continuation-first", [(Opcode.CONTINUATION, b"a", True, False)], 1002, "continuation"),
    (
        "text-inside-fragmented",
        [(Opcode.TEXT, b"a", False, False), (Opcode.TEXT, b"b", True, False)],
        1002,
        "inside a fragmented",
    ),
    (
        "binary-inside-fragmented",
        [(Opcode.BINARY, b"a", False, False), (Opcode.BINARY, b"b", True, False)],
        1002,
        "inside a fragmented",
    ),
    ("invalid-utf8", [(Opcode.TEXT, b"\xff", True, False)], 1007, "UTF-8"),
    ("truncated-utf8", [(Opcode.TEXT, b"\xce", True, False)], 1007, "UTF-8"),
    ("too-big", [(Opcode.BINARY, b"x" * 11, True, False)], 1009, "limit"),
    (
        "too-big-fragmented",
        [(Opcode.TEXT, b"x" * 6, False, False), (Opcode.CONTINUATION, b"x" * 5, True, False)],
        1009,
        "limit",
    ),
]


def _raw_frame(receiver: Role, opcode: int, payload: bytes, fin: bool, rsv1: bool) -> bytes:
    b0 = (0x80 if fin else 0) | (0x40 if rsv1 else 0) | opcode
    masked = receiver is Role.SERVER
    frame = encode_frame(Opcode.BINARY, payload, mask=b"\x01\x02\x03\x04" if masked else None)
    return bytes((b0,)) + frame[1:]


@ROLES
@pytest.mark.parametrize(
    ("frames", "code", "message"), [v[1:] for v in VIOLATIONS], ids=[v[0] for v in VIOLATIONS]
)
def test_peer_violations_fail_with_the_right_close_code(
    role: Role, frames: list[tuple[int, bytes, bool, bool]], code: int, message: str
) -> None:
    conn = Connection(role, max_message_size=10)
    wire = b"".join(_raw_frame(role, *frame) for frame in frames)
    conn.receive_data(wire)
    assert conn.failure is not None
    assert conn.failure.code == code
    assert message in conn.failure.message
    assert conn.events_received() == []
    assert sent_close_code(role, conn.data_to_send()) == code
    assert conn.state is ConnectionState.CLOSED
    assert conn.should_close_transport
    # Anything after the failure is ignored, and nothing more may be sent.
    conn.receive_data(frame_to(role, Opcode.TEXT, b"late"))
    assert conn.events_received() == [] and conn.data_to_send() == b""
    with pytest.raises(LocalProtocolError):
        conn.send_text("late")


def test_server_rejects_unmasked_frames() -> None:
    conn = Connection(Role.SERVER)
    conn.receive_data(encode_frame(Opcode.TEXT, b"hi"))
    assert conn.failure is not None and conn.failure.code == 1002
    assert "not masked" in conn.failure.message
    assert sent_close_code(Role.SERVER, conn.data_to_send()) == 1002


def test_client_rejects_masked_frames() -> None:
    conn = Connection(Role.CLIENT)
    conn.receive_data(encode_frame(Opcode.TEXT, b"hi", mask=b"abcd"))
    assert conn.failure is not None and conn.failure.code == 1002
    assert "masked" in conn.failure.message
    assert sent_close_code(Role.CLIENT, conn.data_to_send()) == 1002


@ROLES
def test_size_limit_is_checked_from_the_header_before_the_payload_arrives(role: Role) -> None:
    conn = Connection(role, max_message_size=1000)
    wire = frame_to(role, Opcode.BINARY, b"x" * 10**6)
    header = parse_header(wire)
    assert header is not None
    conn.receive_data(wire[: header.header_length])
    assert conn.failure is not None and conn.failure.code == 1009


@ROLES
def test_data_frames_are_masked_only_by_clients(role: Role) -> None:
    conn = Connection(role)
    conn.send_text("hi")
    conn.send_binary(b"\x00\x01")
    conn.send_ping(b"p")
    conn.send_pong(b"q")
    wire = conn.data_to_send()
    header = parse_header(wire)
    assert header is not None
    assert (header.mask is not None) == (role is Role.CLIENT)
    assert decode_sent(role, wire) == [
        TextMessage("hi"), BinaryMessage(b"\x00\x01"), Ping(b"p"), Pong(b"q"),
    ]


@ROLES
def test_client_masks_use_fresh_keys(role: Role) -> None:
    conn = Connection(role)
    masks = set()
    for _ in range(20):
        conn.send_binary(b"same")
        header = parse_header(conn.data_to_send())
        assert header is not None
        masks.add(header.mask)
    assert len(masks) == (20 if role is Role.CLIENT else 1)


def test_send_frame_bytes_queues_the_same_bytes_for_every_peer() -> None:
    frame = encode_frame(Opcode.TEXT, b"state v7")
    peers = [Connection(Role.SERVER) for _ in range(3)]
    for peer in peers:
        peer.send_frame_bytes(frame)
    assert all(peer.data_to_send() == frame for peer in peers)


@ROLES
def test_control_payloads_over_125_bytes_are_refused(role: Role) -> None:
    conn = Connection(role)
    with pytest.raises(LocalProtocolError, match="125"):
        conn.send_ping(b"x" * 126)
    with pytest.raises(LocalProtocolError, match="125"):
        conn.send_pong(b"x" * 126)
    assert conn.data_to_send() == b""


def test_negative_message_limit_is_refused() -> None:
    with pytest.raises(ValueError, match="max_message_size"):
        Connection(Role.SERVER, max_message_size=-1)


def _expected_events(expected: list[tuple[Opcode, object]]) -> list[Event]:
    out: list[Event] = []
    for opcode, data in expected:
        if opcode is Opcode.PING:
            assert isinstance(data, bytes)
            out.append(Ping(data))
        elif opcode is Opcode.TEXT:
            assert isinstance(data, str)
            out.append(TextMessage(data))
        else:
            assert isinstance(data, bytes)
            out.append(BinaryMessage(data))
    return out


@ROLES
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_any_split_of_a_valid_stream_yields_the_same_events(
    role: Role, data: st.DataObject
) -> None:
    stream, expected = data.draw(fragmented(role))
    conn = Connection(role)
    events: list[Event] = []
    for chunk in data.draw(splits(stream)):
        conn.receive_data(chunk)
        events += conn.events_received()
    assert events == _expected_events(expected)
    assert conn.failure is None
    pings = [Pong(e.payload) for e in events if isinstance(e, Ping)]
    assert decode_sent(role, conn.data_to_send()) == pings


@ROLES
@settings(max_examples=300, deadline=None)
@given(chunks=st.lists(st.binary(max_size=64), max_size=8))
def test_arbitrary_bytes_never_raise(role: Role, chunks: list[bytes]) -> None:
    conn = Connection(role, max_message_size=100)
    for chunk in chunks:
        conn.receive_data(chunk)
    conn.events_received()
    if conn.failure is not None:
        assert conn.failure.code in (1002, 1007, 1009)
        assert conn.state is ConnectionState.CLOSED and conn.should_close_transport
    conn.receive_eof()
    assert conn.state is ConnectionState.CLOSED


@ROLES
@settings(max_examples=200, deadline=None)
@given(
    prefix=st.binary(max_size=2).map(lambda b: b"\x81" + b),
    body=st.binary(max_size=200),
)
def test_arbitrary_frame_like_bytes_never_raise_toward_either_role(
    role: Role, prefix: bytes, body: bytes
) -> None:
    conn = Connection(role)
    conn.receive_data(prefix + body)
    events = conn.events_received()
    if conn.failure is None:
        assert all(isinstance(e, Event) for e in events)
    else:
        assert conn.failure.code in (1002, 1007, 1009)
        assert sent_close_code(role, conn.data_to_send()) == conn.failure.code


@ROLES
def test_a_one_mebibyte_message_in_small_chunks(role: Role) -> None:
    payload = bytes(range(256)) * 4096
    wire = frame_to(role, Opcode.BINARY, payload[:500_000], fin=False) + frame_to(
        role, Opcode.CONTINUATION, payload[500_000:]
    )
    conn = Connection(role)
    events: list[Event] = []
    for i in range(0, len(wire), 4096):
        conn.receive_data(wire[i : i + 4096])
        events += conn.events_received()
    assert events == [BinaryMessage(payload)]


@ROLES
def test_text_with_a_lone_surrogate_is_refused(role: Role) -> None:
    conn = Connection(role)
    with pytest.raises(LocalProtocolError, match="text message is not valid Unicode"):
        conn.send_text("half \ud800 a pair")
    with pytest.raises(LocalProtocolError, match="close reason is not valid Unicode"):
        conn.send_close(1000, "\udfff")
    assert conn.data_to_send() == b"" and conn.state is ConnectionState.OPEN


@ROLES
def test_bytes_to_send_counts_what_is_queued(role: Role) -> None:
    conn = Connection(role)
    assert conn.bytes_to_send == 0
    conn.receive_data(frame_to(role, Opcode.PING, b"x" * 100) * 3)
    conn.send_text("hi")
    conn.send_frame_bytes(encode_frame(Opcode.BINARY, b"abc"))
    queued = conn.bytes_to_send
    assert queued == len(conn.data_to_send()) > 300
    assert conn.bytes_to_send == 0
