"""Interoperability with the ``websockets`` library over real sockets on 127.0.0.1.

Both ways: our client against a ``websockets`` asyncio server (running in a thread),
and a ``websockets`` sync client (in a worker thread) against our server. Both echo
servers understand a few commands so the far side can be made to fragment, ping,
close with a code, or drop TCP without a close frame.
"""

from __future__ import annotations

import asyncio
import functools
import random
import socket
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import trio
from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed as LibConnectionClosed
from websockets.extensions.permessage_deflate import (
    ClientPerMessageDeflateFactory,
    ServerPerMessageDeflateFactory,
)
from websockets.sync.client import ClientConnection
from websockets.sync.client import connect as lib_connect

from gameserver.ws.client import open_websocket
from gameserver.ws.config import WebSocketServerConfig, WebSocketConfig
from gameserver.ws.deflate import DeflateParams
from gameserver.ws.exceptions import ConnectionClosed
from gameserver.ws.server import WebSocketServer, serve_websocket
from gameserver.ws.websocket import WebSocket

MiB = 2**20
SIZES = [0, 1, 125, 126, 65535, 65536, 16 * MiB]
QUIET = WebSocketConfig(ping_interval=None, close_timeout=2)


def payload(size: int) -> bytes:
    """Incompressible bytes of ``size``, the same on every run."""
    return random.Random(size).randbytes(size)


# --- a websockets asyncio server in a thread ---------------------------------------


class LibServer:
    """A ``websockets`` echo server with commands, in its own thread and event loop."""

    def __init__(self, **options: Any) -> None:
        self.options = {"max_size": None, "ping_interval": None, **options}
        self.closes: list[tuple[int | None, str | None]] = []
        self.requests: list[Any] = []
        self.port = 0
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=asyncio.run, args=(self._main(),), daemon=True)

    async def _handler(self, ws: ServerConnection) -> None:
        self.requests.append(ws.request)
        try:
            async for message in ws:
                if message == "cmd:fragment":
                    await ws.send(["frag", "ment", "ed"])
                elif message == "cmd:fragment-binary":
                    await ws.send([b"\x01" * 70000, b"", b"\x02" * 3])
                elif message == "cmd:ping":
                    await (await ws.ping(b"from-lib"))
                    await ws.send("pong received")
                elif isinstance(message, str) and message.startswith("cmd:close:"):
                    _, _, code, reason = message.split(":", 3)
                    await ws.close(int(code), reason)
                elif message == "cmd:drop":
                    ws.transport.abort()
                    return
                else:
                    await ws.send(message)
        except LibConnectionClosed:
            pass
        finally:
            await ws.wait_closed()
            self.closes.append((ws.close_code, ws.close_reason))

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        async with serve(self._handler, "127.0.0.1", 0, **self.options) as server:
            self.port = next(iter(server.sockets)).getsockname()[1]
            self._ready.set()
            await self._stop.wait()

    def __enter__(self) -> LibServer:
        self._thread.start()
        assert self._ready.wait(10)
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._loop is not None and self._stop is not None
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/lib"

    async def wait_for_closes(self, count: int) -> None:
        with trio.fail_after(5):
            while len(self.closes) < count:
                await trio.sleep(0.01)


@pytest.fixture
def lib_server() -> Iterator[LibServer]:
    with LibServer() as server:
        yield server


# --- our server with the same commands ------------------------------------------------


class OurServer:
    def __init__(self) -> None:
        self.closes: list[tuple[int, str]] = []
        self.server: WebSocketServer | None = None

    async def handler(self, ws: WebSocket) -> None:
        try:
            async for message in ws:
                if message == "cmd:ping":
                    await ws.ping(b"from-us")
                    await ws.send("pong received")
                elif isinstance(message, str) and message.startswith("cmd:close:"):
                    _, _, code, reason = message.split(":", 3)
                    await ws.close(int(code), reason)
                else:
                    await ws.send(message)
        finally:
            closed = ws.closed
            if closed is not None:
                self.closes.append((closed.code, closed.reason))

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"ws://127.0.0.1:{self.server.port}/ours"

    async def wait_for_closes(self, count: int) -> None:
        with trio.fail_after(5):
            while len(self.closes) < count:
                await trio.sleep(0.01)


async def start_ours(
    nursery: trio.Nursery, config: WebSocketServerConfig | None = None, *, read_inline: bool = False
) -> OurServer:
    ours = OurServer()
    config = config or WebSocketServerConfig(ping_interval=None, close_timeout=2)
    serve = functools.partial(
        serve_websocket, ours.handler, "127.0.0.1", 0, config=config, read_inline=read_inline
    )
    ours.server = await nursery.start(serve)
    return ours


def in_lib_client(url: str, body: Callable[[ClientConnection], Any], **options: Any) -> Any:
    """Run ``body`` with a connected websockets sync client; return what it returns."""
    options = {"max_size": None, "proxy": None, "ping_interval": None, **options}
    with lib_connect(url, **options) as client:
        return body(client)


# --- our client against the websockets server -------------------------------------------


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("compression", [False, True])
async def test_our_client_echoes_sizes(lib_server: LibServer, size: int, compression: bool) -> None:
    data = payload(size)
    async with open_websocket(lib_server.url, compression=compression, config=QUIET) as ws:
        await ws.send(data)
        assert await ws.receive() == data
        text = "é" * (size // 2)
        await ws.send(text)
        assert await ws.receive() == text


async def test_our_client_receives_fragmented_messages(lib_server: LibServer) -> None:
    async with open_websocket(lib_server.url, config=QUIET) as ws:
        await ws.send("cmd:fragment")
        assert await ws.receive() == "fragmented"
        await ws.send("cmd:fragment-binary")
        assert await ws.receive() == b"\x01" * 70000 + b"\x02" * 3


@pytest.mark.parametrize(
    ("server_params", "offer"),
    [
        ({}, DeflateParams()),
        ({"server_no_context_takeover": True}, DeflateParams()),
        ({"client_no_context_takeover": True, "server_max_window_bits": 10}, DeflateParams()),
        ({}, DeflateParams(server_no_context_takeover=True, client_max_window_bits=9)),
        # (websockets declines server_max_window_bits=8: zlib has no 8-bit raw window.)
        ({}, DeflateParams(server_max_window_bits=9, client_no_context_takeover=True)),
    ],
)
async def test_our_client_compression_with_parameters(
    server_params: dict[str, Any], offer: DeflateParams
) -> None:
    factory = ServerPerMessageDeflateFactory(**server_params)
    with LibServer(extensions=[factory], compression=None) as lib:
        async with open_websocket(lib.url, compression=offer, config=QUIET) as ws:
            assert ws.response is not None
            assert "permessage-deflate" in (ws.response.get("Sec-WebSocket-Extensions") or "")
            for i in range(5):  # several messages exercise context takeover (or its absence)
                text = f"message {i} " + "abcabc" * 3000
                await ws.send(text)
                assert await ws.receive() == text
                await ws.send(text.encode())
                assert await ws.receive() == text.encode()


async def test_our_client_ping_pong(lib_server: LibServer) -> None:
    async with open_websocket(lib_server.url, config=QUIET) as ws:
        with trio.fail_after(5):
            await ws.ping(b"from-us")
            await ws.ping()
        await ws.send("cmd:ping")  # the server pings us and waits for our pong
        assert await ws.receive() == "pong received"


async def test_our_client_closes_normally_and_with_reason(lib_server: LibServer) -> None:
    async with open_websocket(lib_server.url, config=QUIET) as ws:
        await ws.send("x")
        assert await ws.receive() == "x"
    assert ws.closed is not None and ws.closed.code == 1000
    async with open_websocket(lib_server.url, config=QUIET) as ws:
        await ws.close(4123, "custom reason")
        assert ws.closed is not None and ws.closed.code == 4123
    await lib_server.wait_for_closes(2)
    assert lib_server.closes == [(1000, ""), (4123, "custom reason")]


async def test_lib_server_initiated_close_reaches_our_client(lib_server: LibServer) -> None:
    async with open_websocket(lib_server.url, config=QUIET) as ws:
        await ws.send("cmd:close:4001:game over")
        with pytest.raises(ConnectionClosed) as info:
            await ws.receive()
        assert (info.value.code, info.value.reason) == (4001, "game over")
        assert ws.closed is info.value


async def test_lib_server_drop_is_1006_for_our_client(lib_server: LibServer) -> None:
    async with open_websocket(lib_server.url, config=QUIET) as ws:
        await ws.send("cmd:drop")
        with pytest.raises(ConnectionClosed) as info:
            await ws.receive()
        assert info.value.code == 1006


# --- the websockets client against our server -------------------------------------------


@pytest.mark.parametrize("read_inline", [False, True], ids=["reader-task", "read-inline"])
@pytest.mark.parametrize("compression", [None, "deflate"])
async def test_lib_client_echoes_sizes(
    nursery: trio.Nursery, compression: str | None, read_inline: bool
) -> None:
    ours = await start_ours(nursery, read_inline=read_inline)

    def body(client: ClientConnection) -> list[bool]:
        results = []
        for size in SIZES:
            data = payload(size)
            client.send(data)
            results.append(client.recv() == data)
            text = "é" * (size // 2)
            client.send(text)
            results.append(client.recv() == text)
        return results

    results = await trio.to_thread.run_sync(
        functools.partial(in_lib_client, ours.url, body, compression=compression)
    )
    assert results == [True] * (2 * len(SIZES))


@pytest.mark.parametrize("read_inline", [False, True], ids=["reader-task", "read-inline"])
async def test_lib_client_sends_fragmented_messages(nursery: trio.Nursery, read_inline: bool) -> None:
    ours = await start_ours(nursery, read_inline=read_inline)

    def body(client: ClientConnection) -> list[Any]:
        client.send(["Hel", "lo, ", "", "world"])
        client.send([b"\x00" * 70000, b"\xff"])
        client.ping(b"between")
        return [client.recv(), client.recv()]

    got = await trio.to_thread.run_sync(functools.partial(in_lib_client, ours.url, body))
    assert got == ["Hello, world", b"\x00" * 70000 + b"\xff"]


@pytest.mark.parametrize(
    ("client_params", "server_params"),
    [
        ({}, DeflateParams()),
        ({"client_no_context_takeover": True, "server_no_context_takeover": True}, DeflateParams()),
        ({"client_max_window_bits": 9, "server_max_window_bits": 10}, DeflateParams()),
        ({}, DeflateParams(server_no_context_takeover=True, server_max_window_bits=11)),
        ({}, DeflateParams(client_no_context_takeover=True, client_max_window_bits=12)),
    ],
)
async def test_lib_client_compression_with_parameters(
    nursery: trio.Nursery, client_params: dict[str, Any], server_params: DeflateParams
) -> None:
    config = WebSocketServerConfig(ping_interval=None, close_timeout=2, deflate=server_params)
    ours = await start_ours(nursery, config)
    factory = ClientPerMessageDeflateFactory(**client_params)

    def body(client: ClientConnection) -> tuple[str, list[bool]]:
        agreed = client.response.headers.get("Sec-WebSocket-Extensions", "")
        results = []
        for i in range(5):
            text = f"message {i} " + "xyzxyz" * 3000
            client.send(text)
            results.append(client.recv() == text)
        return agreed, results

    agreed, results = await trio.to_thread.run_sync(
        functools.partial(in_lib_client, ours.url, body, extensions=[factory], compression=None)
    )
    assert agreed.startswith("permessage-deflate") and results == [True] * 5


@pytest.mark.parametrize("read_inline", [False, True], ids=["reader-task", "read-inline"])
async def test_lib_client_ping_pong(nursery: trio.Nursery, read_inline: bool) -> None:
    ours = await start_ours(nursery, read_inline=read_inline)

    def body(client: ClientConnection) -> tuple[bool, Any]:
        answered = client.ping(b"from-lib").wait(5)
        client.send("cmd:ping")  # our server pings and waits for the library's pong
        return answered, client.recv()

    answered, reply = await trio.to_thread.run_sync(
        functools.partial(in_lib_client, ours.url, body)
    )
    assert answered and reply == "pong received"


@pytest.mark.parametrize("read_inline", [False, True], ids=["reader-task", "read-inline"])
async def test_lib_client_close_paths(nursery: trio.Nursery, read_inline: bool) -> None:
    ours = await start_ours(nursery, read_inline=read_inline)

    def normal(client: ClientConnection) -> None:
        client.send("hi")
        client.recv()

    def with_reason(client: ClientConnection) -> None:
        client.close(4321, "bye now")

    def server_closes(client: ClientConnection) -> tuple[int | None, str | None]:
        client.send("cmd:close:4002:you lost")
        try:
            client.recv()
        except LibConnectionClosed:
            pass
        return client.close_code, client.close_reason

    def drop(client: ClientConnection) -> None:
        client.socket.shutdown(socket.SHUT_RDWR)
        client.socket.close()

    await trio.to_thread.run_sync(functools.partial(in_lib_client, ours.url, normal))
    await ours.wait_for_closes(1)
    await trio.to_thread.run_sync(functools.partial(in_lib_client, ours.url, with_reason))
    await ours.wait_for_closes(2)
    seen = await trio.to_thread.run_sync(functools.partial(in_lib_client, ours.url, server_closes))
    await ours.wait_for_closes(3)
    assert seen == (4002, "you lost")
    await trio.to_thread.run_sync(functools.partial(in_lib_client, ours.url, drop))
    await ours.wait_for_closes(4)
    assert ours.closes[:3] == [(1000, ""), (4321, "bye now"), (4002, "you lost")]
    assert ours.closes[3][0] == 1006
