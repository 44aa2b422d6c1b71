"""permessage-deflate (RFC 7692): negotiation, the codec, and its limits."""

from __future__ import annotations

import itertools
import tracemalloc
import zlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gameserver.ws.codes import Opcode
from gameserver.ws.connection import Connection, Role
from gameserver.ws.deflate import (
    DeflateCodec,
    DeflateParams,
    client_check_response,
    client_offer,
    server_accept,
)
from gameserver.ws.events import BinaryMessage, Event, Ping, TextMessage
from gameserver.ws.exceptions import HandshakeError, ProtocolError
from gameserver.ws.extensions import format_extension, parse_extensions
from gameserver.ws.frames import parse_header
from gameserver.ws.mask import apply_mask

from .strategies import frame_to, sent_close_code, splits

ROLES = pytest.mark.parametrize("role", [Role.SERVER, Role.CLIENT], ids=["server", "client"])

# -- negotiation ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "header"),
    [
        (DeflateParams(), "permessage-deflate; client_max_window_bits"),
        (
            DeflateParams(True, True, 10, 12),
            "permessage-deflate; server_no_context_takeover; client_no_context_takeover; "
            "server_max_window_bits=10; client_max_window_bits=12",
        ),
    ],
)
def test_client_offer(params: DeflateParams, header: str) -> None:
    assert client_offer(params) == header


def test_window_bits_outside_8_to_15_are_refused() -> None:
    with pytest.raises(ValueError, match="server_max_window_bits"):
        DeflateParams(server_max_window_bits=16)
    with pytest.raises(ValueError, match="client_max_window_bits"):
        DeflateParams(client_max_window_bits=7)


ACCEPTED = [
    (["permessage-deflate"], DeflateParams(), "permessage-deflate"),
    (
        ["permessage-deflate; client_max_window_bits"],
        DeflateParams(),
        "permessage-deflate",
    ),
    (
        ["x-webkit-deflate-frame", "permessage-deflate; client_max_window_bits=9"],
        DeflateParams(client_max_window_bits=9),
        "permessage-deflate; client_max_window_bits=9",
    ),
    (
        ["permessage-deflate; unknown_param, permessage-deflate; server_no_context_takeover"],
        DeflateParams(server_no_context_takeover=True),
        "permessage-deflate; server_no_context_takeover",
    ),
    (
        ['PerMessage-Deflate ; server_max_window_bits="10" ; client_no_context_takeover'],
        DeflateParams(client_no_context_takeover=True, server_max_window_bits=10),
        "permessage-deflate; client_no_context_takeover; server_max_window_bits=10",
    ),
]


@pytest.mark.parametrize(("offers", "agreed", "response"), ACCEPTED)
def test_server_accepts_the_first_valid_offer(
    offers: list[str], agreed: DeflateParams, response: str
) -> None:
    assert server_accept(offers) == (agreed, response)


@pytest.mark.parametrize(
    "offer",
    [
        "permessage-deflate; foo",
        "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
        "permessage-deflate; server_max_window_bits",
        "permessage-deflate; server_max_window_bits=16",
        "permessage-deflate; server_max_window_bits=7",
        "permessage-deflate; server_max_window_bits=08",
        "permessage-deflate; client_max_window_bits=16",
        "permessage-deflate; client_no_context_takeover=1",
        "permessage-deflate; server_max_window_bits=10=",
        "x-other-extension",
        "",
    ],
)
def test_server_declines_invalid_offers(offer: str) -> None:
    assert server_accept([offer]) is None


@pytest.mark.parametrize(
    ("offer", "preferences", "agreed"),
    [
        (
            "permessage-deflate",
            DeflateParams(server_no_context_takeover=True, client_no_context_takeover=True),
            DeflateParams(server_no_context_takeover=True, client_no_context_takeover=True),
        ),
        (
            "permessage-deflate; client_max_window_bits",
            DeflateParams(client_max_window_bits=10),
            DeflateParams(client_max_window_bits=10),
        ),
        (
            "permessage-deflate; client_max_window_bits=9",
            DeflateParams(client_max_window_bits=10),
            DeflateParams(client_max_window_bits=9),
        ),
        (  # the client did not say it can limit its window: do not ask it to
            "permessage-deflate",
            DeflateParams(client_max_window_bits=10),
            DeflateParams(),
        ),
        (
            "permessage-deflate; server_max_window_bits=12",
            DeflateParams(server_max_window_bits=10),
            DeflateParams(server_max_window_bits=10),
        ),
        (
            "permessage-deflate; server_max_window_bits=9",
            DeflateParams(server_max_window_bits=10),
            DeflateParams(server_max_window_bits=9),
        ),
    ],
)
def test_server_preferences(offer: str, preferences: DeflateParams, agreed: DeflateParams) -> None:
    result = server_accept([offer], preferences)
    assert result is not None
    assert result[0] == agreed
    # The response, read back by a client that made this offer, agrees with the server.
    assert client_check_response(result[1], DeflateParams()) == agreed


@pytest.mark.parametrize(
    ("response", "offered", "message"),
    [
        ("x-foo", DeflateParams(), "did not offer"),
        ("permessage-deflate, permessage-deflate", DeflateParams(), "did not offer"),
        ("permessage-deflate; client_max_window_bits", DeflateParams(), "needs a value"),
        ("permessage-deflate; mystery", DeflateParams(), "unknown parameter"),
        ("permessage-deflate; server_max_window_bits=20", DeflateParams(), "8..15"),
        ("permessage-deflate", DeflateParams(server_no_context_takeover=True), "ignored"),
        ("permessage-deflate", DeflateParams(server_max_window_bits=10), "server_max_window"),
        (
            "permessage-deflate; server_max_window_bits=12",
            DeflateParams(server_max_window_bits=10),
            "server_max_window",
        ),
        (
            "permessage-deflate; client_max_window_bits=12",
            DeflateParams(client_max_window_bits=10),
            "client_max_window",
        ),
        ("permessage-deflate;", DeflateParams(), "malformed"),
    ],
)
def test_client_rejects_bad_responses(
    response: str, offered: DeflateParams, message: str
) -> None:
    with pytest.raises(HandshakeError, match=message):
        client_check_response(response, offered)


def test_client_keeps_its_own_no_context_takeover_promise() -> None:
    offered = DeflateParams(client_no_context_takeover=True)
    assert client_check_response("permessage-deflate", offered).client_no_context_takeover


BITS = [None, 8, 9, 12, 15]
ALL_PARAMS = [
    DeflateParams(snct, cnct, sbits, cbits)
    for snct, cnct, sbits, cbits in itertools.product([False, True], [False, True], BITS, BITS)
]


def _negotiate(offer_params: DeflateParams) -> DeflateParams:
    accepted = server_accept([client_offer(offer_params)])
    assert accepted is not None
    server_params, response = accepted
    client_params = client_check_response(response, offer_params)
    assert client_params == server_params
    return server_params


def _exchange(
    sender: Connection, receiver: Connection, messages: list[str | bytes]
) -> list[Event]:
    for message in messages:
        if isinstance(message, str):
            sender.send_text(message)
        else:
            sender.send_binary(message)
    receiver.receive_data(sender.data_to_send())
    assert receiver.failure is None, receiver.failure
    return receiver.events_received()


MESSAGES: list[str | bytes] = [
    "Hello", "Hello", "", b"\x00" * 5000, "κόσμε " * 300, bytes(range(256)) * 40, "Hello",
]
EXPECTED = [TextMessage(m) if isinstance(m, str) else BinaryMessage(m) for m in MESSAGES]


@pytest.mark.parametrize("params", ALL_PARAMS, ids=str)
def test_round_trip_with_every_parameter_combination(params: DeflateParams) -> None:
    agreed = _negotiate(params)
    client = Connection(Role.CLIENT, deflate=agreed)
    server = Connection(Role.SERVER, deflate=agreed)
    assert _exchange(client, server, MESSAGES) == EXPECTED
    assert _exchange(server, client, MESSAGES) == EXPECTED


@ROLES
@pytest.mark.parametrize("takeover", [True, False])
def test_context_takeover_shrinks_repeated_messages(role: Role, takeover: bool) -> None:
    params = DeflateParams(
        server_no_context_takeover=not takeover, client_no_context_takeover=not takeover
    )
    conn = Connection(role, deflate=params)
    message = bytes(range(256)) * 4
    sizes = []
    for _ in range(3):
        conn.send_binary(message)
        sizes.append(len(conn.data_to_send()))
    if takeover:
        assert sizes[1] < sizes[0] / 4 and sizes[2] == sizes[1]
    else:
        assert sizes[0] == sizes[1] == sizes[2]


# RFC 7692 section 7.2.3, byte for byte (server to client, so unmasked).
RFC7692_EXAMPLES = [
    pytest.param([bytes.fromhex("c107f248cdc9c90700")], ["Hello"], id="7.2.3.1-one-frame"),
    pytest.param(
        [bytes.fromhex("4103f248cd"), bytes.fromhex("8004c9c90700")], ["Hello"],
        id="7.2.3.1-fragmented",
    ),
    pytest.param(
        [bytes.fromhex("c107f248cdc9c90700"), bytes.fromhex("c105f200110000")],
        ["Hello", "Hello"], id="7.2.3.2-shared-window",
    ),
    pytest.param([bytes.fromhex("c10b000500faff48656c6c6f00")], ["Hello"], id="7.2.3.3-stored"),
    pytest.param([bytes.fromhex("c108f348cdc9c9070000")], ["Hello"], id="7.2.3.4-bfinal"),
]


@pytest.mark.parametrize(("frames", "texts"), RFC7692_EXAMPLES)
def test_rfc7692_examples_decode(frames: list[bytes], texts: list[str]) -> None:
    conn = Connection(Role.CLIENT, deflate=DeflateParams())
    for frame in frames:
        conn.receive_data(frame)
    assert conn.failure is None
    assert conn.events_received() == [TextMessage(t) for t in texts]


def test_rfc7692_examples_encode() -> None:
    conn = Connection(Role.SERVER, deflate=DeflateParams())
    conn.send_text("Hello")
    assert conn.data_to_send() == bytes.fromhex("c107f248cdc9c90700")
    conn.send_text("Hello")
    assert conn.data_to_send() == bytes.fromhex("c105f200110000")


def test_bfinal_block_starts_a_fresh_stream_for_the_next_message() -> None:
    conn = Connection(Role.CLIENT, deflate=DeflateParams())
    conn.receive_data(bytes.fromhex("c108f348cdc9c9070000") * 2)
    assert conn.events_received() == [TextMessage("Hello")] * 2


@ROLES
def test_an_8_bit_window_agreement_yields_streams_an_8_bit_inflater_reads(role: Role) -> None:
    params = DeflateParams(server_max_window_bits=8, client_max_window_bits=8)
    conn = Connection(role, deflate=params)
    words = [bytes([i, i * 7 % 256, i * 13 % 256]) * (i % 5 + 1) for i in range(200)]
    message = b"".join(words[(i * 31) % 200] for i in range(20000))
    conn.send_binary(message)
    wire = conn.data_to_send()
    header = parse_header(wire, allow_rsv1=True)
    assert header is not None and header.rsv1
    body = wire[header.header_length :]
    if header.mask is not None:
        body = apply_mask(body, header.mask)
    inflater = zlib.decompressobj(-8)
    assert inflater.decompress(body + b"\x00\x00\xff\xff") == message
    assert len(body) < len(message) / 2


@ROLES
def test_uncompressed_messages_pass_when_deflate_is_negotiated(role: Role) -> None:
    conn = Connection(role, deflate=DeflateParams())
    conn.receive_data(frame_to(role, Opcode.BINARY, b"plain"))
    assert conn.events_received() == [BinaryMessage(b"plain")]


@ROLES
def test_control_frames_are_never_compressed(role: Role) -> None:
    conn = Connection(role, deflate=DeflateParams())
    conn.send_ping(b"p" * 100)
    header = parse_header(conn.data_to_send(), allow_rsv1=True)
    assert header is not None and not header.rsv1 and header.length == 100
    conn.receive_data(frame_to(role, Opcode.PING, b"x", rsv1=True))
    assert conn.failure is not None and conn.failure.code == 1002


@ROLES
def test_rsv1_only_on_the_first_frame(role: Role) -> None:
    conn = Connection(role, deflate=DeflateParams())
    payload = DeflateCodec(DeflateParams(), is_server=True).compress(b"abcdef")
    conn.receive_data(
        frame_to(role, Opcode.TEXT, payload[:2], fin=False, rsv1=True)
        + frame_to(role, Opcode.CONTINUATION, payload[2:], rsv1=True)
    )
    assert conn.failure is not None and conn.failure.code == 1002
    assert "continuation" in conn.failure.message


@ROLES
def test_corrupt_compressed_data_fails_with_1007(role: Role) -> None:
    conn = Connection(role, deflate=DeflateParams())
    conn.receive_data(frame_to(role, Opcode.BINARY, b"\xff\xff\xff\xff", rsv1=True))
    assert conn.failure is not None and conn.failure.code == 1007
    assert sent_close_code(role, conn.data_to_send()) == 1007


@ROLES
def test_compressed_text_is_still_utf8_checked(role: Role) -> None:
    conn = Connection(role, deflate=DeflateParams())
    payload = DeflateCodec(DeflateParams(), is_server=True).compress(b"ok\xff")
    conn.receive_data(frame_to(role, Opcode.TEXT, payload, rsv1=True))
    assert conn.failure is not None and conn.failure.code == 1007


@ROLES
@pytest.mark.parametrize("limit", [0, 1, 999, 1000])
def test_limit_applies_to_the_decompressed_size(role: Role, limit: int) -> None:
    payload = DeflateCodec(DeflateParams(), is_server=True).compress(b"a" * 1000)
    assert len(payload) < 20
    conn = Connection(role, max_message_size=limit, deflate=DeflateParams())
    conn.receive_data(frame_to(role, Opcode.BINARY, payload, rsv1=True))
    if limit >= 1000:
        assert conn.events_received() == [BinaryMessage(b"a" * 1000)]
    else:
        assert conn.failure is not None and conn.failure.code == 1009


@ROLES
def test_limit_counts_every_fragment_of_a_compressed_message(role: Role) -> None:
    codec = DeflateCodec(DeflateParams(server_no_context_takeover=True), is_server=True)
    payload = codec.compress(bytes(range(256)) * 8)
    conn = Connection(role, max_message_size=2000, deflate=DeflateParams())
    mid = len(payload) // 2
    conn.receive_data(frame_to(role, Opcode.BINARY, payload[:mid], fin=False, rsv1=True))
    conn.receive_data(frame_to(role, Opcode.PING, b""))
    conn.receive_data(frame_to(role, Opcode.CONTINUATION, payload[mid:]))
    assert conn.failure is not None and conn.failure.code == 1009
    assert conn.events_received() == [Ping(b"")]


@pytest.fixture(scope="module")
def zero_bomb() -> bytes:
    """100 MB of zeros as one permessage-deflate payload (about 100 KB)."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = bytes(2**20)
    parts = [compressor.compress(block) for _ in range(100)]
    parts.append(compressor.flush(zlib.Z_SYNC_FLUSH)[:-4])
    return b"".join(parts)


@ROLES
def test_decompression_bomb_fails_with_1009_without_large_allocations(
    role: Role, zero_bomb: bytes
) -> None:
    limit = 2**20
    wire = frame_to(role, Opcode.BINARY, zero_bomb, rsv1=True)
    conn = Connection(role, max_message_size=limit, deflate=DeflateParams())
    tracemalloc.start()
    try:
        for i in range(0, len(wire), 65536):
            conn.receive_data(wire[i : i + 65536])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert conn.failure is not None and conn.failure.code == 1009
    assert peak < 4 * limit


@settings(max_examples=40, deadline=None)
@given(
    messages=st.lists(st.binary(max_size=3000) | st.text(max_size=500), max_size=5),
    params=st.sampled_from(ALL_PARAMS),
)
def test_round_trip_property(messages: list[str | bytes], params: DeflateParams) -> None:
    agreed = _negotiate(params)
    client = Connection(Role.CLIENT, deflate=agreed)
    server = Connection(Role.SERVER, deflate=agreed)
    expected = [TextMessage(m) if isinstance(m, str) else BinaryMessage(m) for m in messages]
    assert _exchange(client, server, list(messages)) == expected
    assert _exchange(server, client, list(messages)) == expected


def test_codec_errors_carry_close_codes() -> None:
    codec = DeflateCodec(DeflateParams(), is_server=False)
    data = DeflateCodec(DeflateParams(), is_server=True).compress(b"x" * 100)
    with pytest.raises(ProtocolError) as info:
        codec.decompress(data, 50)
    assert info.value.code == 1009
    with pytest.raises(ProtocolError) as info:
        DeflateCodec(DeflateParams(), is_server=False).decompress(b"\xff\xff", 50)
    assert info.value.code == 1007


@ROLES
@settings(max_examples=150, deadline=None)
@given(
    frames=st.lists(
        st.tuples(
            st.sampled_from([Opcode.TEXT, Opcode.BINARY, Opcode.CONTINUATION, Opcode.PING]),
            st.binary(max_size=60),
            st.booleans(),
            st.booleans(),
        ),
        max_size=6,
    )
)
def test_arbitrary_compressed_frames_never_raise(
    role: Role, frames: list[tuple[Opcode, bytes, bool, bool]]
) -> None:
    conn = Connection(role, max_message_size=200, deflate=DeflateParams())
    for opcode, payload, fin, rsv1 in frames:
        is_control = opcode is Opcode.PING
        conn.receive_data(
            frame_to(role, opcode, payload, fin=fin or is_control, rsv1=rsv1)
        )
    conn.events_received()
    if conn.failure is not None:
        assert conn.failure.code in (1002, 1007, 1009)
        assert sent_close_code(role, conn.data_to_send()) == conn.failure.code


# -- Sec-WebSocket-Extensions parsing --------------------------------------------------

TOKENS = st.text(
    alphabet="abcdefghijklmnopqrstuvwxyzABC0123456789-_.!#$%&'*+^`|~", min_size=1, max_size=12
)
EXTENSIONS = st.lists(
    st.tuples(TOKENS, st.lists(st.tuples(TOKENS, st.none() | TOKENS), max_size=4)),
    min_size=1,
    max_size=4,
)


@settings(max_examples=150)
@given(extensions=EXTENSIONS, split=st.booleans())
def test_extension_header_round_trip(
    extensions: list[tuple[str, list[tuple[str, str | None]]]], split: bool
) -> None:
    values = [format_extension(name, params) for name, params in extensions]
    headers = values if split else [", ".join(values)]
    assert parse_extensions(headers) == extensions


@settings(max_examples=300)
@given(st.text(max_size=60))
def test_arbitrary_extension_headers_parse_or_raise_value_error(value: str) -> None:
    try:
        parsed = parse_extensions([value])
    except ValueError as exc:
        assert "position" in str(exc) or "token" in str(exc)
    else:
        assert all(name for name, _ in parsed)


@pytest.mark.parametrize(
    ("value", "parsed"),
    [
        ('a; b="10"', [("a", [("b", "10")])]),
        ('a; b="1\\0"', [("a", [("b", "10")])]),
        ("a ,, b ;c", [("a", []), ("b", [("c", None)])]),
        ("a\t;\tb = 9", [("a", [("b", "9")])]),
    ],
)
def test_extension_header_forms(value: str, parsed: list[object]) -> None:
    assert parse_extensions([value]) == parsed


@pytest.mark.parametrize(
    "value", ['a; b="x y"', 'a; b="unterminated', "a b", "a;", "=a", "a; b=,"]
)
def test_malformed_extension_headers(value: str) -> None:
    with pytest.raises(ValueError):
        parse_extensions([value])


@ROLES
@settings(max_examples=60, deadline=None)
@given(data=st.data(), params=st.sampled_from(ALL_PARAMS))
def test_fragmented_compressed_stream_in_any_split(
    role: Role, data: st.DataObject, params: DeflateParams
) -> None:
    agreed = _negotiate(params)
    # The peer's compressor: the other side of the agreement.
    codec = DeflateCodec(agreed, is_server=role is Role.CLIENT)
    messages = data.draw(
        st.lists(st.binary(max_size=2000) | st.text(max_size=300), max_size=5)
    )
    stream = b""
    for message in messages:
        raw = message.encode() if isinstance(message, str) else message
        compressed = data.draw(st.booleans())
        payload = codec.compress(raw) if compressed else raw
        cuts = sorted(data.draw(st.lists(st.integers(0, len(payload)), max_size=3)))
        pieces = [payload[a:b] for a, b in zip([0, *cuts], [*cuts, len(payload)], strict=True)]
        opcode = Opcode.TEXT if isinstance(message, str) else Opcode.BINARY
        for i, piece in enumerate(pieces):
            stream += frame_to(
                role,
                opcode if i == 0 else Opcode.CONTINUATION,
                piece,
                fin=i == len(pieces) - 1,
                rsv1=compressed and i == 0,
            )
            if data.draw(st.booleans()):
                stream += frame_to(role, Opcode.PING, b"p")
    conn = Connection(role, deflate=agreed)
    events: list[Event] = []
    for chunk in data.draw(splits(stream)):
        conn.receive_data(chunk)
        events += conn.events_received()
    assert conn.failure is None, conn.failure
    expected = [TextMessage(m) if isinstance(m, str) else BinaryMessage(m) for m in messages]
    assert [e for e in events if not isinstance(e, Ping)] == expected
