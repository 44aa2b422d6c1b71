"""``SharedKeepalive``: one timer task keeps the keepalive of inline-read WebSockets."""

from __future__ import annotations

import pytest
import trio
import trio.testing

from gameserver.ws.config import WebSocketConfig
from gameserver.ws.connection import Connection, Role
from gameserver.ws.events import CloseReceived, Event, Ping
from gameserver.ws.exceptions import ConnectionClosed
from gameserver.ws.keepalive import SharedKeepalive
from gameserver.ws.websocket import WebSocket

CONFIG = WebSocketConfig(ping_interval=1, ping_timeout=1, close_timeout=0.5)


def socket_pair(nursery: trio.Nursery) -> tuple[WebSocket, trio.SocketStream]:
    """An inline server WebSocket with a shared keepalive, and the raw peer's stream."""
    ours, theirs = trio.socket.socketpair()
    ws = WebSocket(
        trio.SocketStream(ours), Connection(Role.SERVER), config=CONFIG,
        nursery=nursery, shared_keepalive=True,
    )
    return ws, trio.SocketStream(theirs)


def kept_alive(
    nursery: trio.Nursery,
) -> tuple[WebSocket, trio.SocketStream, SharedKeepalive]:
    """An inline WebSocket and its raw peer, kept alive by a shared timer (1 s ping
    interval, 1 s pong timeout) running in ``nursery``."""
    ws, raw = socket_pair(nursery)
    keepalive = SharedKeepalive(1, 1)
    keepalive.add(ws)
    nursery.start_soon(keepalive.run)
    return ws, raw, keepalive


async def events_from(stream: trio.SocketStream, peer: Connection) -> list[Event]:
    """Everything the peer can read without waiting."""
    with trio.move_on_after(0.01):
        while data := await stream.receive_some(65536):
            peer.receive_data(data)
    return peer.events_received()


async def test_a_silent_peer_is_pinged_then_cut_off_with_1011(
    nursery: trio.Nursery, autojump_clock: trio.testing.MockClock
) -> None:
    ws, raw, keepalive = kept_alive(nursery)
    start = trio.current_time()
    with trio.fail_after(10), pytest.raises(ConnectionClosed) as info:
        await ws.receive()  # the peer never answers the ping
    assert (info.value.code, info.value.reason) == (1011, "keepalive ping timeout")
    assert 2 <= trio.current_time() - start <= 2 + 2 * keepalive.tick
    events = await events_from(raw, Connection(Role.CLIENT))
    assert isinstance(events[0], Ping)
    assert isinstance(events[-1], CloseReceived) and events[-1].code == 1011


async def test_a_pong_keeps_the_connection_and_unread_pongs_do_not_cut_it_off(
    nursery: trio.Nursery, autojump_clock: trio.testing.MockClock
) -> None:
    ws, raw, keepalive = kept_alive(nursery)
    peer = Connection(Role.CLIENT)

    async def answer_pings() -> None:
        while True:
            await trio.sleep(0.05)
            await events_from(raw, peer)
            if data := peer.data_to_send():  # pongs are queued as pings are parsed
                await raw.send_all(data)

    nursery.start_soon(answer_pings)
    with trio.move_on_after(10):
        await ws.receive()  # reading: every ping is answered in time
    assert ws.closed is None
    await trio.sleep(10)  # nobody reads now, so no pong can be seen: no cut-off either
    assert ws.closed is None
    keepalive.discard(ws)
    assert len(keepalive) == 0
    await ws.close()
    assert ws.closed is not None and ws.closed.code == 1000
