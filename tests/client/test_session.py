"""The session against misbehaving servers (built on our own WebSocket server)."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable

import msgpack
import pytest
import trio

from gameserver.client import ConnectionLost, ServerMisbehaved, connect
from gameserver.client.session import Backoff
from gameserver.protocol.version import SUBPROTOCOL
from gameserver.ws.exceptions import ConnectionClosed
from gameserver.ws.server import serve_websocket
from gameserver.ws.websocket import WebSocket

Handler = Callable[[WebSocket], Awaitable[None]]


async def serve(nursery: trio.Nursery, handler: Handler, subprotocols: tuple[str, ...] = (SUBPROTOCOL,)) -> str:
    server = await nursery.start(
        functools.partial(serve_websocket, handler, "127.0.0.1", 0, subprotocols=subprotocols)
    )
    return f"ws://127.0.0.1:{server.port}/ws"


async def hello_id(ws: WebSocket) -> int:
    request = msgpack.unpackb(await ws.receive())
    assert request["type"] == "hello"
    return int(request["id"])


async def test_garbage_from_the_server_fails_connect_cleanly(nursery: trio.Nursery) -> None:
    async def handler(ws: WebSocket) -> None:
        await hello_id(ws)
        await ws.send(b"\xc1 not msgpack")
        with pytest.raises(ConnectionClosed):
            while True:
                await ws.receive()

    url = await serve(nursery, handler)
    with trio.fail_after(10), pytest.raises(ConnectionLost):
        async with connect(url, name="ada", reconnect=False):
            pass  # pragma: no cover


async def test_a_hello_reply_of_the_wrong_shape_is_server_misbehaviour(nursery: trio.Nursery) -> None:
    async def handler(ws: WebSocket) -> None:
        request_id = await hello_id(ws)
        await ws.send(msgpack.packb({"type": "reply", "id": request_id, "result": {"player_id": 7}}))
        await trio.sleep_forever()

    url = await serve(nursery, handler)
    with trio.fail_after(10), pytest.raises(ServerMisbehaved) as info:
        async with connect(url, name="ada"):
            pass  # pragma: no cover
    assert "hello" in str(info.value)


async def test_a_server_without_the_subprotocol_is_refused(nursery: trio.Nursery) -> None:
    async def handler(ws: WebSocket) -> None:
        await trio.sleep_forever()  # pragma: no cover

    url = await serve(nursery, handler, subprotocols=())
    with trio.fail_after(10), pytest.raises(ConnectionLost) as info:
        async with connect(url, name="ada"):
            pass  # pragma: no cover
    assert SUBPROTOCOL in str(info.value)


async def test_the_client_gives_up_after_its_attempts(nursery: trio.Nursery) -> None:
    connections = 0

    async def handler(ws: WebSocket) -> None:
        nonlocal connections
        connections += 1
        request_id = await hello_id(ws)
        result = {"player_id": "p", "name": "ada", "token": "t", "resumed": connections > 1, "seats": []}
        await ws.send(msgpack.packb({"type": "reply", "id": request_id, "result": result}))
        await ws.close(1011, "going wrong")  # not a deliberate 1000: the client retries

    url = await serve(nursery, handler)
    with trio.fail_after(10):
        async with connect(url, name="ada", backoff=Backoff(initial=0.01, maximum=0.02, max_attempts=3)) as client:
            events = [event async for event in client.events()]
            with pytest.raises(ConnectionLost):
                await client.list_rooms()
    finals = [event for event in events if getattr(event, "final", False)]
    assert len(finals) == 1
    assert connections >= 3
    assert client.reconnects >= 2


def test_backoff_grows_to_its_maximum_with_bounded_jitter() -> None:
    import random

    backoff = Backoff(initial=0.1, factor=2.0, maximum=1.0, jitter=0.2)
    rng = random.Random(1)
    delays = [backoff.delay(attempt, rng) for attempt in range(1, 8)]
    for attempt, delay in enumerate(delays, start=1):
        base = min(1.0, 0.1 * 2 ** (attempt - 1))
        assert 0.8 * base <= delay <= base
    assert delays[-1] > 0.79


async def test_a_cancelled_request_is_forgotten_and_not_resent_after_a_reconnect(
    nursery: trio.Nursery,
) -> None:
    # Requests each connection received after hello, as (type, id).
    received: list[list[tuple[str, int]]] = []
    first_request_seen = trio.Event()
    cut = trio.Event()

    async def handler(ws: WebSocket) -> None:
        mine: list[tuple[str, int]] = []
        received.append(mine)
        request_id = await hello_id(ws)
        result = {"player_id": "p", "name": "ada", "token": "t", "resumed": len(received) > 1, "seats": []}
        await ws.send(msgpack.packb({"type": "reply", "id": request_id, "result": result}))
        while True:
            try:
                request = msgpack.unpackb(await ws.receive())
            except ConnectionClosed:
                return
            mine.append((request["type"], request["id"]))
            if len(received) == 1:
                first_request_seen.set()  # never answered: the client gives up waiting
                await cut.wait()
                await ws.close(1011, "server restarting")
                return
            await ws.send(msgpack.packb({"type": "reply", "id": request["id"], "result": {"rooms": []}}))

    url = await serve(nursery, handler)
    with trio.fail_after(10):
        async with connect(url, name="ada", backoff=Backoff(initial=0.01, maximum=0.02)) as client:
            with trio.move_on_after(5) as scope:
                async with trio.open_nursery() as waiting:
                    waiting.start_soon(client.list_rooms)
                    await first_request_seen.wait()
                    waiting.cancel_scope.cancel()  # the caller's own timeout, in effect
            assert not scope.cancelled_caught
            cut.set()
            await client.wait_connected()
            while len(received) < 2:
                await trio.sleep(0.01)
            assert await client.list_rooms() == []
    (cancelled,) = received[0]
    assert cancelled[0] == "list_rooms"
    assert [kind for kind, _ in received[1]] == ["list_rooms"]
    assert cancelled[1] not in {request_id for _, request_id in received[1]}
