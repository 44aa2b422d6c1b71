"""``WebSocket.try_send_frame``: immediate writes for fan-out, over real sockets."""

from __future__ import annotations

import functools

import pytest
import trio
import trio.testing

from gameserver.ws.client import open_websocket
from gameserver.ws.codes import Opcode
from gameserver.ws.config import WebSocketServerConfig, WebSocketConfig
from gameserver.ws.connection import Connection, Role
from gameserver.ws.frames import encode_frame
from gameserver.ws.server import WebSocketServer, serve_websocket
from gameserver.ws.websocket import WebSocket

QUIET = WebSocketServerConfig(ping_interval=None, close_timeout=1)

# Every server test here runs twice: with a reader task per connection, and inline.
_READ_INLINE = [False]


@pytest.fixture(autouse=True, params=[False, True], ids=["reader-task", "read-inline"])
def read_inline(request: pytest.FixtureRequest) -> bool:
    _READ_INLINE[0] = request.param
    return bool(request.param)


async def start(nursery: trio.Nursery, handler: object) -> WebSocketServer:
    serve = functools.partial(
        serve_websocket, handler, "127.0.0.1", 0, config=QUIET, read_inline=_READ_INLINE[0]  # type: ignore[arg-type]
    )
    server: WebSocketServer = await nursery.start(serve)
    return server


async def test_frames_written_at_once_arrive_in_order(nursery: trio.Nursery) -> None:
    results: list[bool] = []

    async def handler(ws: WebSocket) -> None:
        await ws.send(b"queued first")
        for index in range(50):
            results.append(ws.try_send_frame(encode_frame(Opcode.BINARY, b"n%d" % index)))
        await ws.receive()

    server = await start(nursery, handler)
    async with open_websocket(f"ws://127.0.0.1:{server.port}/") as client:
        received = [await client.receive() for _ in range(51)]
        await client.send(b"done")
    assert received == [b"queued first"] + [b"n%d" % index for index in range(50)]
    assert results == [True] * 50


async def test_a_large_frame_the_kernel_cannot_take_is_finished_by_the_writer(
    nursery: trio.Nursery,
) -> None:
    payload = bytes(range(256)) * 40_000  # ~10 MiB: far more than a socket buffer
    results: list[bool] = []

    async def handler(ws: WebSocket) -> None:
        results.append(ws.try_send_frame(encode_frame(Opcode.BINARY, payload)))
        # The remainder is queued: the connection is busy, so the next one declines.
        results.append(ws.try_send_frame(encode_frame(Opcode.BINARY, b"declined")))
        await ws.send(b"later")
        await ws.receive()

    server = await start(nursery, handler)
    config = WebSocketConfig(max_message_size=2 * len(payload))
    async with open_websocket(f"ws://127.0.0.1:{server.port}/", config=config) as client:
        assert await client.receive() == payload
        assert await client.receive() == b"later"
        await client.send(b"done")
    # Asserted here: an assertion failing in the handler would only close the connection.
    assert results == [True, False]


async def test_declines_without_a_socket_and_after_close() -> None:
    stream, _ = trio.testing.memory_stream_pair()
    ws = WebSocket(stream, Connection(Role.SERVER))
    assert not ws.try_send_frame(encode_frame(Opcode.BINARY, b"x"))


async def test_declines_once_closing(nursery: trio.Nursery) -> None:
    declined: list[bool] = []

    async def handler(ws: WebSocket) -> None:
        await ws.close()
        declined.append(not ws.try_send_frame(encode_frame(Opcode.BINARY, b"x")))

    server = await start(nursery, handler)
    async with open_websocket(f"ws://127.0.0.1:{server.port}/") as client:
        async for _ in client:
            pass
    assert declined == [True]
