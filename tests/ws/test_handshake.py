"""The sans-IO opening handshake (RFC 6455 section 4), both roles, every refusal path."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gameserver.ws.deflate import DeflateParams
from gameserver.ws.exceptions import HandshakeError
from gameserver.ws.handshake import (
    ClientHandshake,
    accept,
    accept_value,
    is_websocket_request,
    reject,
)
from gameserver.ws.http import (
    HeadReader,
    HTTPRequest,
    HTTPResponse,
    parse_request_head,
    parse_response_head,
)

# RFC 6455 section 1.3's worked example.
RFC_KEY = "dGhlIHNhbXBsZSBub25jZQ=="
RFC_ACCEPT = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="

GOOD_HEADERS: dict[str, str] = {
    "Host": "example.com",
    "Upgrade": "websocket",
    "Connection": "Upgrade",
    "Sec-WebSocket-Key": RFC_KEY,
    "Sec-WebSocket-Version": "13",
}


def request(
    *, method: str = "GET", version: str = "HTTP/1.1", drop: tuple[str, ...] = (), **changes: str
) -> HTTPRequest:
    """A valid upgrade request with some headers changed (``_`` in names means ``-``) or dropped."""
    fields = dict(GOOD_HEADERS)
    for name in drop:
        del fields[name]
    for name, value in changes.items():
        fields[name.replace("_", "-")] = value
    return HTTPRequest(method, "/chat", tuple(fields.items()), version)


def test_accept_value_matches_rfc_example() -> None:
    assert accept_value(RFC_KEY) == RFC_ACCEPT


def test_valid_request_gets_101_with_accept() -> None:
    result = accept(request())
    assert result.response.status == 101
    assert result.response.get("Sec-WebSocket-Accept") == RFC_ACCEPT
    assert result.response.get("Upgrade") == "websocket"
    assert result.subprotocol is None and result.deflate is None
    wire = result.response.to_bytes()
    assert wire.startswith(b"HTTP/1.1 101 Switching Protocols\r\n")
    assert b"Content-Length" not in wire and wire.endswith(b"\r\n\r\n")


@pytest.mark.parametrize(
    "changes",
    [
        {"Upgrade": "WebSocket"},
        {"Upgrade": "foo, WEBSOCKET"},
        {"Connection": "keep-alive, upgrade"},
        {"Connection": "UPGRADE"},
        {"Sec_WebSocket_Version": " 13 "},
    ],
)
def test_token_lists_are_case_insensitive(changes: dict[str, str]) -> None:
    assert accept(request(**changes)).response.status == 101


REFUSALS = [
    # (request, status, words in the reason)
    (request(method="POST"), 400, "GET"),
    (request(version="HTTP/1.0"), 400, "HTTP/1.1"),
    (request(drop=("Host",)), 400, "Host"),
    (request(drop=("Upgrade",)), 400, "Upgrade"),
    (request(Upgrade="h2c"), 400, "Upgrade"),
    (request(drop=("Connection",)), 400, "Connection"),
    (request(Connection="keep-alive"), 400, "Connection"),
    (request(drop=("Sec-WebSocket-Key",)), 400, "Sec-WebSocket-Key"),
    (request(Sec_WebSocket_Key="not base64!!not base64!!"), 400, "base64"),
    (request(Sec_WebSocket_Key=base64.b64encode(b"x" * 15).decode()), 400, "16-byte"),
    (request(Sec_WebSocket_Key=base64.b64encode(b"x" * 17).decode()), 400, "16-byte"),
    (request(Sec_WebSocket_Key=""), 400, "16-byte"),
    (request(drop=("Sec-WebSocket-Version",)), 426, "Version"),
    (request(Sec_WebSocket_Version="8"), 426, "Version"),
    (request(Sec_WebSocket_Version="13, 8"), 426, "Version"),
    (request(Sec_WebSocket_Version="abc"), 426, "Version"),
]


@pytest.mark.parametrize(("bad", "status", "words"), REFUSALS)
def test_bad_upgrade_requests_are_refused(bad: HTTPRequest, status: int, words: str) -> None:
    with pytest.raises(HandshakeError) as info:
        accept(bad)
    assert info.value.status == status
    assert words in info.value.reason
    response = reject(info.value)
    assert response.status == status
    assert info.value.reason.encode() in response.body
    wire = response.to_bytes()
    assert f"HTTP/1.1 {status} ".encode() in wire and b"Connection: close" in wire
    assert (b"Sec-WebSocket-Version: 13" in wire) == (status == 426)


def test_duplicate_key_header_is_refused() -> None:
    bad = HTTPRequest("GET", "/", request().headers + (("Sec-WebSocket-Key", RFC_KEY),))
    with pytest.raises(HandshakeError, match="more than one Sec-WebSocket-Key"):
        accept(bad)


def test_origin_check_hook_sees_origin_and_can_refuse() -> None:
    seen: list[str | None] = []

    def only_example(origin: str | None) -> bool:
        seen.append(origin)
        return origin == "https://example.com"

    assert accept(request(Origin="https://example.com"), origin_check=only_example)
    with pytest.raises(HandshakeError) as info:
        accept(request(Origin="https://evil.test"), origin_check=only_example)
    assert info.value.status == 403 and "origin" in info.value.reason
    with pytest.raises(HandshakeError):
        accept(request(), origin_check=only_example)
    assert seen == ["https://example.com", "https://evil.test", None]


@pytest.mark.parametrize(
    ("offered", "supported", "chosen"),
    [
        ("chat, superchat", ("superchat", "chat"), "superchat"),
        ("chat, superchat", ("chat",), "chat"),
        ("chat", ("game.v1",), None),
        (None, ("game.v1",), None),
        ("game.v1", (), None),
    ],
)
def test_subprotocol_follows_server_preference(
    offered: str | None, supported: tuple[str, ...], chosen: str | None
) -> None:
    req = request() if offered is None else request(Sec_WebSocket_Protocol=offered)
    result = accept(req, subprotocols=supported)
    assert result.subprotocol == chosen
    assert result.response.get("Sec-WebSocket-Protocol") == chosen


def test_subprotocol_offers_in_several_headers_are_merged() -> None:
    req = HTTPRequest(
        "GET",
        "/",
        request().headers + (("Sec-WebSocket-Protocol", "a"), ("Sec-WebSocket-Protocol", "b")),
    )
    assert accept(req, subprotocols=("b",)).subprotocol == "b"


def test_is_websocket_request_separates_plain_http() -> None:
    assert is_websocket_request(request())
    assert is_websocket_request(request(drop=("Upgrade",)))  # malformed attempt -> 400 path
    plain = HTTPRequest("GET", "/healthz", (("Host", "x"),))
    assert not is_websocket_request(plain)
    assert not is_websocket_request(HTTPRequest("GET", "/", (("Upgrade", "h2c"),)))


# --- HTTP head parsing -----------------------------------------------------------------

PARSE_ERRORS = [
    (b"GET /\r\nHost: x", 400, "request line"),
    (b"GET / HTTP/1.1 extra\r\nHost: x", 400, "request line"),
    (b"G(T / HTTP/1.1", 400, "method"),
    (b"GET / HTTP/2.0", 400, "version"),
    (b"GET / SPDY", 400, "version"),
    (b"GET / HTTP/1.1\r\nNoColon", 400, "malformed header"),
    (b"GET / HTTP/1.1\r\nBad Name: x", 400, "header name"),
    (b"GET / HTTP/1.1\r\n: x", 400, "header name"),
    (b"GET / HTTP/1.1\r\nA: b\r\n folded", 400, "folding"),
    (b"GET / HTTP/1.1\r\nA: b\x00c", 400, "invalid character"),
    (b"GET \x01 HTTP/1.1", 400, "target"),
]


@pytest.mark.parametrize(("head", "status", "words"), PARSE_ERRORS)
def test_malformed_request_heads_are_400(head: bytes, status: int, words: str) -> None:
    with pytest.raises(HandshakeError) as info:
        parse_request_head(head)
    assert info.value.status == status and words in info.value.reason


def test_request_head_parses_fields_in_order() -> None:
    req = parse_request_head(b"GET /ws?room=2 HTTP/1.1\r\nHost: a\r\nX-A: 1\r\nx-a:  2 ")
    assert (req.method, req.path, req.query, req.version) == ("GET", "/ws", "room=2", "HTTP/1.1")
    assert req.get_all("X-A") == ["1", "2"] and req.get("host") == "a"
    assert req.get("missing") is None


def test_too_many_header_fields_is_431() -> None:
    head = b"GET / HTTP/1.1\r\n" + b"\r\n".join(b"X-%d: y" % i for i in range(11))
    with pytest.raises(HandshakeError) as info:
        parse_request_head(head, max_headers=10)
    assert info.value.status == 431
    assert parse_request_head(head, max_headers=11).get("X-10") == "y"


def test_head_reader_limits_size_and_keeps_trailing_bytes() -> None:
    reader = HeadReader(max_bytes=64)
    assert reader.feed(b"GET / HTTP/1.1\r\nHost: a\r") is None
    assert reader.feed(b"\n\r") is None
    assert reader.feed(b"\nFRAME") == b"GET / HTTP/1.1\r\nHost: a"
    assert reader.trailing == b"FRAME"

    big = HeadReader(max_bytes=64)
    with pytest.raises(HandshakeError) as info:
        for _ in range(10):
            big.feed(b"X-Filler: " + b"y" * 20 + b"\r\n")
    assert info.value.status == 431

    exact = b"GET / HTTP/1.1\r\nX: " + b"y" * 10
    assert HeadReader(len(exact) + 4).feed(exact + b"\r\n\r\n") == exact
    with pytest.raises(HandshakeError):
        HeadReader(len(exact) + 3).feed(exact + b"\r\n\r\n")


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
def test_arbitrary_heads_parse_or_fail_with_handshake_error(head: bytes) -> None:
    try:
        req = parse_request_head(head)
    except HandshakeError as exc:
        assert exc.status in (400, 431) and exc.reason
        return
    try:
        accept(req)
    except HandshakeError as exc:
        assert exc.status in (400, 403, 426) and exc.reason


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=200), st.integers(min_value=1, max_value=50))
def test_head_reader_result_independent_of_chunking(tail: bytes, step: int) -> None:
    data = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n" + tail
    reader = HeadReader(1024)
    for i in range(0, len(data), step):
        head = reader.feed(data[i : i + step])
        if head is not None:
            assert head == b"GET / HTTP/1.1\r\nHost: x"
            # Nothing after the head is lost: trailing plus the unread rest is the tail.
            assert reader.trailing + data[i + step :] == tail
            return
    raise AssertionError("head never completed")


def test_response_serialisation_adds_length_and_close() -> None:
    wire = HTTPResponse.text(404, "no such page").to_bytes()
    assert wire.startswith(b"HTTP/1.1 404 Not Found\r\n")
    assert b"Content-Length: 13\r\n" in wire and wire.endswith(b"\r\n\r\nno such page\n")
    parsed = parse_response_head(wire.split(b"\r\n\r\n")[0])
    assert parsed.status == 404 and parsed.get("content-type") == "text/plain; charset=utf-8"


# --- client side ------------------------------------------------------------------------


def server_answer(client: ClientHandshake, **kwargs: object) -> bytes:
    """What our server would answer to ``client``'s request."""
    req = parse_request_head(client.request_bytes()[:-4])
    return accept(req, **kwargs).response.to_bytes()  # type: ignore[arg-type]


def test_client_request_is_a_valid_upgrade_and_accepts_the_answer() -> None:
    client = ClientHandshake("example.com:9001", "/chat?x=1", subprotocols=("a", "b"))
    req = parse_request_head(client.request_bytes()[:-4])
    assert (req.method, req.target, req.get("Host")) == ("GET", "/chat?x=1", "example.com:9001")
    assert len(base64.b64decode(client.key)) == 16
    result = client.receive_data(server_answer(client, subprotocols=("b",)) + b"\x81\x00")
    assert result is not None and result.subprotocol == "b"
    assert client.trailing == b"\x81\x00"


def test_client_waits_for_the_whole_head() -> None:
    client = ClientHandshake("h")
    answer = server_answer(client)
    for byte in answer[:-1]:
        assert client.receive_data(bytes([byte])) is None
    assert client.receive_data(answer[-1:]) is not None


def good_response(client: ClientHandshake, *extra: tuple[str, str], drop: str = "") -> bytes:
    fields = [
        ("Upgrade", "websocket"),
        ("Connection", "Upgrade"),
        ("Sec-WebSocket-Accept", accept_value(client.key)),
        *extra,
    ]
    fields = [(n, v) for n, v in fields if n != drop]
    return HTTPResponse(101, tuple(fields)).to_bytes()


CLIENT_REFUSALS = [
    (lambda c: HTTPResponse.text(403, "go away").to_bytes(), 403, "refused"),
    (lambda c: HTTPResponse(200, (), b"hello").to_bytes(), 200, "refused"),
    (lambda c: b"HTTP/1.1 abc Nope\r\n\r\n", 0, "status line"),
    (lambda c: b"SSH-2.0-OpenSSH\r\n\r\n", 0, "status line"),
    (lambda c: b"HTTP/1.1 101 OK\r\nbad header\r\n\r\n", 0, "invalid response"),
    (lambda c: good_response(c, drop="Upgrade"), 101, "Upgrade"),
    (lambda c: good_response(c, drop="Connection"), 101, "Connection"),
    (lambda c: good_response(c, drop="Sec-WebSocket-Accept"), 101, "Accept"),
    (
        lambda c: good_response(c, drop="Sec-WebSocket-Accept")[:-2]
        + b"Sec-WebSocket-Accept: "
        + RFC_ACCEPT.encode()
        + b"\r\n\r\n",
        101,
        "Accept",
    ),
    (lambda c: good_response(c, ("Sec-WebSocket-Protocol", "other")), 101, "subprotocol"),
    (lambda c: good_response(c, ("Sec-WebSocket-Protocol", "a, b")), 101, "subprotocol"),
    (lambda c: good_response(c, ("Sec-WebSocket-Extensions", "x-foo")), 101, "extension"),
]


@pytest.mark.parametrize(("make", "status", "words"), CLIENT_REFUSALS)
def test_client_rejects_bad_answers(make: object, status: int, words: str) -> None:
    client = ClientHandshake("h", subprotocols=("a", "b"))
    with pytest.raises(HandshakeError) as info:
        client.receive_data(make(client))  # type: ignore[operator]
    assert info.value.status == status and words in info.value.reason


def test_client_oversized_response_head_is_refused() -> None:
    client = ClientHandshake("h", max_header_bytes=100)
    with pytest.raises(HandshakeError) as info:
        client.receive_data(b"HTTP/1.1 101 OK\r\n" + b"X: y\r\n" * 50)
    assert info.value.status == 0 and "larger" in info.value.reason


def test_client_eof_before_answer_is_a_handshake_error() -> None:
    with pytest.raises(HandshakeError, match="closed during the opening handshake"):
        ClientHandshake("h").receive_eof()


# --- permessage-deflate negotiation -----------------------------------------------------


def test_compression_negotiated_when_both_sides_enable_it() -> None:
    client = ClientHandshake("h", compression=DeflateParams())
    req = parse_request_head(client.request_bytes()[:-4])
    assert "permessage-deflate" in (req.get("Sec-WebSocket-Extensions") or "")
    server = accept(req, compression=DeflateParams())
    assert server.deflate is not None
    assert "permessage-deflate" in (server.response.get("Sec-WebSocket-Extensions") or "")
    result = client.receive_data(server.response.to_bytes())
    assert result is not None and result.deflate == server.deflate


def test_compression_declined_when_server_disables_it() -> None:
    client = ClientHandshake("h", compression=DeflateParams())
    req = parse_request_head(client.request_bytes()[:-4])
    server = accept(req, compression=None)
    assert server.deflate is None and server.response.get("Sec-WebSocket-Extensions") is None
    result = client.receive_data(server.response.to_bytes())
    assert result is not None and result.deflate is None


def test_compression_parameters_are_negotiated() -> None:
    offer = DeflateParams(client_no_context_takeover=True, client_max_window_bits=10)
    client = ClientHandshake("h", compression=offer)
    req = parse_request_head(client.request_bytes()[:-4])
    server = accept(req, compression=DeflateParams(server_no_context_takeover=True))
    assert server.deflate is not None
    assert server.deflate.client_no_context_takeover
    assert server.deflate.server_no_context_takeover
    result = client.receive_data(server.response.to_bytes())
    assert result is not None and result.deflate == server.deflate


def test_client_rejects_deflate_response_with_unoffered_parameter() -> None:
    client = ClientHandshake("h", compression=DeflateParams())
    answer = good_response(client, ("Sec-WebSocket-Extensions", "permessage-deflate; foo=1"))
    with pytest.raises(HandshakeError):
        client.receive_data(answer)


@pytest.mark.parametrize(
    "header", [("X-Evil", "a\r\nInjected: 1"), ("Bad Name", "x"), ("X-Nul", "a\x00b")]
)
def test_client_refuses_extra_headers_that_would_corrupt_the_request(
    header: tuple[str, str],
) -> None:
    with pytest.raises(ValueError):
        ClientHandshake("h", headers=(header,))
    assert ClientHandshake("h", headers=(("X-Fine", "ok; v=1"),)).request.get("X-Fine") == "ok; v=1"
