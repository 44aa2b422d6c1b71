"""The client: URL parsing, connect/open_websocket against hand-written servers on 127.0.0.1."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable

import pytest
import trio

from gameserver.ws.client import WebSocketURL, connect, open_websocket, parse_url
from gameserver.ws.codes import Opcode
from gameserver.ws.exceptions import ConnectionClosed, HandshakeError
from gameserver.ws.frames import encode_frame
from gameserver.ws.handshake import accept
from gameserver.ws.http import HeadReader, parse_request_head


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("ws://example.com", WebSocketURL(False, "example.com", 80, "/")),
        ("ws://example.com:9001/chat?room=1", WebSocketURL(False, "example.com", 9001, "/chat?room=1")),
        ("wss://example.com/x", WebSocketURL(True, "example.com", 443, "/x")),
        ("ws://[::1]:8080/", WebSocketURL(False, "::1", 8080, "/")),
    ],
)
def test_parse_url(url: str, expected: WebSocketURL) -> None:
    assert parse_url(url) == expected


@pytest.mark.parametrize(
    ("url", "host_header"),
    [
        ("ws://example.com/", "example.com"),
        ("ws://example.com:80/", "example.com"),
        ("wss://example.com:443/", "example.com"),
        ("wss://example.com:80/", "example.com:80"),
        ("ws://[::1]:8080/", "[::1]:8080"),
    ],
)
def test_host_header_omits_default_port(url: str, host_header: str) -> None:
    assert parse_url(url).host_header == host_header


@pytest.mark.parametrize(
    "url", ["http://example.com/", "example.com", "ws:///path", "ws://host/#frag", "ftp://x"]
)
def test_parse_url_rejects_non_websocket_urls(url: str) -> None:
    with pytest.raises(ValueError):
        parse_url(url)


RawServer = Callable[[trio.SocketStream], Awaitable[None]]


async def serve_raw(nursery: trio.Nursery, behaviour: RawServer) -> int:
    """Serve ``behaviour`` on a loopback port; return the port."""
    listeners = await nursery.start(functools.partial(trio.serve_tcp, behaviour, 0, host="127.0.0.1"))
    return int(listeners[0].socket.getsockname()[1])


async def read_request(stream: trio.SocketStream) -> bytes:
    reader = HeadReader(65536)
    while (head := reader.feed(await stream.receive_some())) is None:
        pass
    return head


async def test_refused_upgrade_raises_with_the_status(nursery: trio.Nursery) -> None:
    async def not_found(stream: trio.SocketStream) -> None:
        await read_request(stream)
        await stream.send_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")

    port = await serve_raw(nursery, not_found)
    with pytest.raises(HandshakeError) as info:
        async with open_websocket(f"ws://127.0.0.1:{port}/missing"):
            pass  # pragma: no cover
    assert info.value.status == 404 and "404 Not Found" in info.value.reason


async def test_server_hanging_up_mid_handshake(nursery: trio.Nursery) -> None:
    async def hang_up(stream: trio.SocketStream) -> None:
        await read_request(stream)

    port = await serve_raw(nursery, hang_up)
    with pytest.raises(HandshakeError) as info:
        async with open_websocket(f"ws://127.0.0.1:{port}/"):
            pass  # pragma: no cover
    assert info.value.status == 0 and "closed during" in info.value.reason


async def test_silent_server_times_out(nursery: trio.Nursery) -> None:
    async def silent(stream: trio.SocketStream) -> None:
        await trio.sleep_forever()

    port = await serve_raw(nursery, silent)
    with trio.fail_after(5), pytest.raises(HandshakeError) as info:
        await connect(f"ws://127.0.0.1:{port}/", nursery=nursery, open_timeout=0.2)
    assert info.value.status == 0 and "timed out" in info.value.reason


async def test_connection_refused_is_oserror() -> None:
    listener = (await trio.open_tcp_listeners(0, host="127.0.0.1"))[0]
    port = listener.socket.getsockname()[1]
    await listener.aclose()
    with pytest.raises(OSError):
        async with open_websocket(f"ws://127.0.0.1:{port}/"):
            pass  # pragma: no cover


async def test_frames_in_the_same_packet_as_the_101_are_kept(nursery: trio.Nursery) -> None:
    async def eager(stream: trio.SocketStream) -> None:
        request = parse_request_head(await read_request(stream))
        response = accept(request).response.to_bytes()
        hello = encode_frame(Opcode.TEXT, b"hello at once")
        close = encode_frame(Opcode.CLOSE, (1000).to_bytes(2, "big") + b"done")
        await stream.send_all(response + hello + close)
        assert await stream.receive_some()  # the client's close answer; then drop TCP

    port = await serve_raw(nursery, eager)
    async with open_websocket(f"ws://127.0.0.1:{port}/", compression=False) as ws:
        assert await ws.receive() == "hello at once"
        with pytest.raises(ConnectionClosed) as info:
            await ws.receive()
        assert (info.value.code, info.value.reason) == (1000, "done")


async def test_connect_runs_in_the_callers_nursery(nursery: trio.Nursery) -> None:
    async def echo_once(stream: trio.SocketStream) -> None:
        from gameserver.ws.connection import Connection, Role

        request = parse_request_head(await read_request(stream))
        await stream.send_all(accept(request).response.to_bytes())
        conn = Connection(Role.SERVER)
        while True:
            data = await stream.receive_some()
            if not data:
                return
            conn.receive_data(data)
            for event in conn.events_received():
                if hasattr(event, "data"):
                    conn.send_text(event.data)
            await stream.send_all(conn.data_to_send())
            if conn.should_close_transport:
                return

    port = await serve_raw(nursery, echo_once)
    ws = await connect(f"ws://127.0.0.1:{port}/", nursery=nursery, headers=(("X-Token", "t"),))
    assert ws.request is not None and ws.request.get("X-Token") == "t"
    await ws.send("ping?")
    assert await ws.receive() == "ping?"
    await ws.close()
    assert ws.closed is not None and ws.closed.code == 1000
