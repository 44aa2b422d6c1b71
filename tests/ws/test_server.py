"""The server over real sockets on 127.0.0.1: handler lifecycle, HTTP fallback, limits, TLS."""

from __future__ import annotations

import functools
import ssl
import subprocess
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
import trio

from gameserver.ws.client import open_websocket
from gameserver.ws.config import WebSocketServerConfig
from gameserver.ws.exceptions import ConnectionClosed, HandshakeError
from gameserver.ws.http import HTTPRequest, HTTPResponse
from gameserver.ws.server import WebSocketServer, serve_websocket
from gameserver.ws.websocket import WebSocket

QUIET = WebSocketServerConfig(ping_interval=None, close_timeout=1)

# Every test here runs twice: with a reader task per connection, and reading inline.
_READ_INLINE = [False]


@pytest.fixture(autouse=True, params=[False, True], ids=["reader-task", "read-inline"])
def read_inline(request: pytest.FixtureRequest) -> bool:
    _READ_INLINE[0] = request.param
    return bool(request.param)


async def start(
    nursery: trio.Nursery,
    handler: Callable[[WebSocket], Awaitable[None]],
    **kwargs: Any,
) -> WebSocketServer:
    kwargs.setdefault("config", QUIET)
    kwargs.setdefault("read_inline", _READ_INLINE[0])
    server: WebSocketServer = await nursery.start(
        functools.partial(serve_websocket, handler, "127.0.0.1", 0, **kwargs)
    )
    return server


async def echo(ws: WebSocket) -> None:
    async for message in ws:
        await ws.send(message)


async def raw_request(port: int, request: bytes) -> bytes:
    """Send raw bytes to the server and read everything until it closes."""
    stream = await trio.open_tcp_stream("127.0.0.1", port)
    async with stream:
        await stream.send_all(request)
        chunks = []
        while chunk := await stream.receive_some():
            chunks.append(chunk)
    return b"".join(chunks)


UPGRADE = (
    b"GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
)


async def test_echo_over_real_sockets(nursery: trio.Nursery) -> None:
    server = await start(nursery, echo)
    async with open_websocket(f"ws://127.0.0.1:{server.port}/ws") as ws:
        for message in ["hi", b"\x00\x01", "", b"y" * 200_000]:
            await ws.send(message)
            assert await ws.receive() == message
        assert ws.remote_address[:2] == ("127.0.0.1", server.port)


async def test_handler_sees_request_and_address(nursery: trio.Nursery) -> None:
    async def describe(ws: WebSocket) -> None:
        assert ws.request is not None
        await ws.send(f"{ws.request.path}|{ws.request.query}|{ws.remote_address[0]}")

    server = await start(nursery, describe)
    async with open_websocket(f"ws://127.0.0.1:{server.port}/room/7?seat=2") as ws:
        assert await ws.receive() == "/room/7|seat=2|127.0.0.1"


async def test_handler_return_closes_with_1000(nursery: trio.Nursery) -> None:
    async def greet(ws: WebSocket) -> None:
        await ws.send("welcome")

    server = await start(nursery, greet)
    async with open_websocket(f"ws://127.0.0.1:{server.port}/") as ws:
        assert await ws.receive() == "welcome"
        with pytest.raises(ConnectionClosed) as info:
            await ws.receive()
        assert info.value.code == 1000


async def test_handler_error_closes_with_1011_and_server_goes_on(
    nursery: trio.Nursery, caplog: pytest.LogCaptureFixture
) -> None:
    async def broken(ws: WebSocket) -> None:
        message = await ws.receive()
        if message == "crash":
            raise RuntimeError("boom")
        await ws.send("fine")

    server = await start(nursery, broken)
    async with open_websocket(f"ws://127.0.0.1:{server.port}/") as ws:
        await ws.send("crash")
        with pytest.raises(ConnectionClosed) as info:
            await ws.receive()
        assert (info.value.code, info.value.reason) == (1011, "internal error")
    assert "handler failed" in caplog.text and "boom" in caplog.text
    async with open_websocket(f"ws://127.0.0.1:{server.port}/") as ws:
        await ws.send("hello")
        assert await ws.receive() == "fine"


async def test_server_shutdown_closes_connections_with_1001(nursery: trio.Nursery) -> None:
    server_scope = trio.CancelScope()
    started: list[WebSocketServer] = []

    async def run_server(task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        with server_scope:
            async with trio.open_nursery() as inner:
                started.append(await start(inner, echo))
                task_status.started()

    await nursery.start(run_server)
    async with open_websocket(f"ws://127.0.0.1:{started[0].port}/") as ws:
        await ws.send("x")
        assert await ws.receive() == "x"
        server_scope.cancel()
        with pytest.raises(ConnectionClosed) as info:
            await ws.receive()
        assert info.value.code == 1001


async def test_plain_http_goes_to_the_http_handler(nursery: trio.Nursery) -> None:
    seen: list[HTTPRequest] = []

    async def http(request: HTTPRequest) -> HTTPResponse:
        seen.append(request)
        if request.path == "/healthz":
            return HTTPResponse.text(200, "ok")
        return HTTPResponse.text(404, "not found")

    server = await start(nursery, echo, http_handler=http)
    answer = await raw_request(server.port, b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 200 OK\r\n") and answer.endswith(b"\r\n\r\nok\n")
    answer = await raw_request(server.port, b"GET /nope?a=1 HTTP/1.1\r\nHost: x\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 404 ")
    assert [(r.path, r.query) for r in seen] == [("/healthz", ""), ("/nope", "a=1")]
    # The same port still speaks WebSocket.
    async with open_websocket(f"ws://127.0.0.1:{server.port}/") as ws:
        await ws.send("still ws")
        assert await ws.receive() == "still ws"


async def test_http_handler_error_is_500(nursery: trio.Nursery) -> None:
    async def http(request: HTTPRequest) -> HTTPResponse:
        raise ValueError("bad route")

    server = await start(nursery, echo, http_handler=http)
    answer = await raw_request(server.port, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 500 ")


async def test_plain_http_without_handler_is_426(nursery: trio.Nursery) -> None:
    server = await start(nursery, echo)
    answer = await raw_request(server.port, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 426 ") and b"WebSocket only" in answer


@pytest.mark.parametrize(
    ("request_bytes", "status", "words"),
    [
        (UPGRADE.replace(b"13", b"8") + b"\r\n", b"426", b"Sec-WebSocket-Version: 13"),
        (UPGRADE.replace(b"GET", b"PUT") + b"\r\n", b"400", b"needs GET"),
        (UPGRADE.replace(b"dGhlIHNhbXBsZSBub25jZQ==", b"short") + b"\r\n", b"400", b"16-byte"),
        (b"GARBAGE\r\n\r\n", b"400", b"malformed request line"),
        (UPGRADE + b"X-Big: " + b"a" * 20000 + b"\r\n\r\n", b"431", b"larger than"),
    ],
)
async def test_bad_requests_get_an_http_error(
    nursery: trio.Nursery, request_bytes: bytes, status: bytes, words: bytes
) -> None:
    server = await start(nursery, echo)
    answer = await raw_request(server.port, request_bytes)
    assert answer.startswith(b"HTTP/1.1 " + status + b" ")
    assert words in answer


async def test_handshake_timeout_gets_408(nursery: trio.Nursery) -> None:
    config = WebSocketServerConfig(ping_interval=None, handshake_timeout=0.3)
    server = await start(nursery, echo, config=config)
    with trio.fail_after(5):
        answer = await raw_request(server.port, UPGRADE)  # the head never ends
    assert answer.startswith(b"HTTP/1.1 408 ")


async def test_origin_check_refuses_with_403(nursery: trio.Nursery) -> None:
    server = await start(nursery, echo, origin_check=lambda origin: origin == "https://ok.test")
    url = f"ws://127.0.0.1:{server.port}/"
    async with open_websocket(url, origin="https://ok.test") as ws:
        await ws.send("in")
        assert await ws.receive() == "in"
    with pytest.raises(HandshakeError) as info:
        async with open_websocket(url, origin="https://evil.test"):
            pass  # pragma: no cover
    assert info.value.status == 403


async def test_subprotocol_is_negotiated(nursery: trio.Nursery) -> None:
    async def report(ws: WebSocket) -> None:
        await ws.send(str(ws.subprotocol))

    server = await start(nursery, report, subprotocols=("game.v2", "game.v1"))
    url = f"ws://127.0.0.1:{server.port}/"
    async with open_websocket(url, subprotocols=("game.v1", "game.v2")) as ws:
        assert ws.subprotocol == "game.v2" and await ws.receive() == "game.v2"
    async with open_websocket(url, subprotocols=("other",)) as ws:
        assert ws.subprotocol is None and await ws.receive() == "None"


async def test_connection_limits_answer_503(nursery: trio.Nursery) -> None:
    config = WebSocketServerConfig(ping_interval=None, max_connections_per_ip=2)
    server = await start(nursery, echo, config=config)
    url = f"ws://127.0.0.1:{server.port}/"
    async with open_websocket(url) as first, open_websocket(url) as second:
        with pytest.raises(HandshakeError) as info:
            async with open_websocket(url):
                pass  # pragma: no cover
        assert info.value.status == 503
        await first.send("1")
        await second.send("2")
        assert (await first.receive(), await second.receive()) == ("1", "2")
    await trio.sleep(0.05)  # let the server notice both closes
    assert server.connections == 0 and server.per_ip == {}
    async with open_websocket(url) as again:
        await again.send("3")
        assert await again.receive() == "3"

    total = WebSocketServerConfig(ping_interval=None, max_connections=1)
    server = await start(nursery, echo, config=total)
    async with open_websocket(f"ws://127.0.0.1:{server.port}/"):
        answer = await raw_request(server.port, UPGRADE + b"\r\n")
        assert answer.startswith(b"HTTP/1.1 503 ")


async def test_compression_is_used_when_enabled(nursery: trio.Nursery) -> None:
    server = await start(nursery, echo)
    async with open_websocket(f"ws://127.0.0.1:{server.port}/") as ws:
        assert ws.response is not None
        assert "permessage-deflate" in (ws.response.get("Sec-WebSocket-Extensions") or "")
        await ws.send("z" * 100_000)
        assert await ws.receive() == "z" * 100_000
    off = WebSocketServerConfig(ping_interval=None, compression=False)
    server = await start(nursery, echo, config=off)
    async with open_websocket(f"ws://127.0.0.1:{server.port}/") as ws:
        assert ws.response is not None and ws.response.get("Sec-WebSocket-Extensions") is None
        await ws.send("plain")
        assert await ws.receive() == "plain"


@pytest.fixture(scope="session")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for localhost/127.0.0.1, made with the openssl CLI."""
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-days", "1", "-subj", "/CN=localhost", "-keyout", str(key), "-out", str(cert),
         "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
        check=True,
        capture_output=True,
    )
    return cert, key


async def test_wss_with_tls(nursery: trio.Nursery, tls_files: tuple[Path, Path]) -> None:
    cert, key = tls_files
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_context.load_cert_chain(cert, key)
    server = await start(nursery, echo, ssl_context=server_context)
    client_context = ssl.create_default_context(cafile=str(cert))
    url = f"wss://localhost:{server.port}/secure"
    async with open_websocket(url, ssl_context=client_context) as ws:
        await ws.send("secret")
        assert await ws.receive() == "secret"
        await ws.send(b"\x01" * 100_000)
        assert await ws.receive() == b"\x01" * 100_000
    # A client that does not trust the certificate fails the TLS handshake.
    with pytest.raises((trio.BrokenResourceError, ssl.SSLError)):
        async with open_websocket(url, ssl_context=ssl.create_default_context()):
            pass  # pragma: no cover


async def test_keepalive_closes_a_silent_client_over_a_real_socket(
    nursery: trio.Nursery, autojump_clock: trio.testing.MockClock
) -> None:
    outcome: list[ConnectionClosed] = []

    async def wait_for_end(ws: WebSocket) -> None:
        try:
            await ws.receive()
        except ConnectionClosed as exc:
            outcome.append(exc)
            raise

    config = WebSocketServerConfig(ping_interval=5, ping_timeout=3, close_timeout=2)
    server = await start(nursery, wait_for_end, config=config)
    stream = await trio.open_tcp_stream("127.0.0.1", server.port)
    await stream.send_all(UPGRADE + b"\r\n")  # then never read or answer a ping again
    start_time = trio.current_time()
    with trio.fail_after(60):
        while not outcome:
            await trio.sleep(0.5)
    assert (outcome[0].code, outcome[0].reason) == (1011, "keepalive ping timeout")
    assert 8 <= trio.current_time() - start_time <= 9
    await stream.aclose()


async def test_close_timeout_over_a_real_socket(
    nursery: trio.Nursery, autojump_clock: trio.testing.MockClock
) -> None:
    ended: list[tuple[float, ConnectionClosed | None]] = []

    async def close_at_once(ws: WebSocket) -> None:
        start_time = trio.current_time()
        await ws.close(4000, "bye")  # the client never answers
        ended.append((trio.current_time() - start_time, ws.closed))

    config = WebSocketServerConfig(ping_interval=None, close_timeout=7)
    server = await start(nursery, close_at_once, config=config)
    stream = await trio.open_tcp_stream("127.0.0.1", server.port)
    await stream.send_all(UPGRADE + b"\r\n")
    received = b""
    with trio.fail_after(60):
        while not ended:
            received += await stream.receive_some()
    elapsed, closed = ended[0]
    assert 7 <= elapsed < 8
    assert closed is not None and closed.code == 1006  # the close handshake never finished
    assert b"\x88\x05\x0f\xa0bye" in received  # but our close frame (4000, "bye") was sent
    await stream.aclose()


async def test_abort_wakes_the_handler_at_once(nursery: trio.Nursery) -> None:
    ended: list[tuple[float, ConnectionClosed]] = []

    async def abort_soon(ws: WebSocket) -> None:
        async def abort_later() -> None:
            await trio.sleep(0.2)
            ws.abort(4001, "cut off")

        async with trio.open_nursery() as inner:
            inner.start_soon(abort_later)
            start_time = trio.current_time()
            try:
                await ws.receive()
            except ConnectionClosed as exc:
                ended.append((trio.current_time() - start_time, exc))

    server = await start(nursery, abort_soon)
    async with open_websocket(f"ws://127.0.0.1:{server.port}/") as ws:
        with pytest.raises(ConnectionClosed) as info:
            await ws.receive()
    assert info.value.code == 4001 and info.value.reason == "cut off"
    elapsed, closed = ended[0]
    assert elapsed < 1 and (closed.code, closed.reason) == (4001, "cut off")


async def test_pings_answered_and_keepalive_kept_while_the_handler_waits(
    nursery: trio.Nursery, autojump_clock: trio.testing.MockClock
) -> None:
    pongs: list[float] = []

    async def ping_then_echo(ws: WebSocket) -> None:
        await ws.ping(b"hi")
        pongs.append(trio.current_time())
        await echo(ws)

    config = WebSocketServerConfig(ping_interval=1, ping_timeout=1, close_timeout=1)
    server = await start(nursery, ping_then_echo, config=config)
    async with open_websocket(f"ws://127.0.0.1:{server.port}/") as ws:
        await trio.sleep(30)  # thirty keepalive rounds, each answered by our client
        await ws.send("still here")
        assert await ws.receive() == "still here"
    assert len(pongs) == 1
