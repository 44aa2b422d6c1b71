"""The Trio WebSocket endpoint over in-memory streams: messages, close paths, timers.

One side is usually our :class:`WebSocket`; the other is either another WebSocket or
a sans-IO :class:`Connection` driven by hand, so a test can make the peer misbehave
(stay silent, drop the stream, break the protocol) at an exact point.
"""

from __future__ import annotations

import pytest
import trio
import trio.testing

from gameserver.ws.config import WebSocketConfig
from gameserver.ws.connection import Connection, Role
from gameserver.ws.events import CloseReceived, Event, Ping
from gameserver.ws.exceptions import ConnectionClosed
from gameserver.ws.codes import Opcode
from gameserver.ws.frames import encode_frame
from gameserver.ws.websocket import WebSocket

# No keepalive, and a short close timeout so a test's teardown never waits long.
QUIET = WebSocketConfig(ping_interval=None, close_timeout=0.5)


def make_pair(
    nursery: trio.Nursery,
    server_config: WebSocketConfig = QUIET,
    client_config: WebSocketConfig = QUIET,
) -> tuple[WebSocket, WebSocket]:
    """A connected (server, client) pair over a memory stream, both running."""
    server_stream, client_stream = trio.testing.memory_stream_pair()
    server = WebSocket(server_stream, Connection(Role.SERVER), config=server_config)
    client = WebSocket(client_stream, Connection(Role.CLIENT), config=client_config)
    nursery.start_soon(server.run)
    nursery.start_soon(client.run)
    return server, client


class RawPeer:
    """The far end of a WebSocket, driven step by step through a sans-IO Connection."""

    def __init__(self, stream: trio.abc.Stream, role: Role) -> None:
        self.stream = stream
        self.conn = Connection(role)

    async def flush(self) -> None:
        data = self.conn.data_to_send()
        if data:
            await self.stream.send_all(data)

    async def next_events(self) -> list[Event]:
        """Read until at least one event arrives (or EOF); return the events."""
        while True:
            events = self.conn.events_received()
            if events:
                return events
            data = await self.stream.receive_some(65536)
            if not data:
                self.conn.receive_eof()
                return self.conn.events_received()
            self.conn.receive_data(data)


def serve_raw(
    nursery: trio.Nursery, config: WebSocketConfig = QUIET
) -> tuple[WebSocket, RawPeer]:
    """A running server-side WebSocket and a hand-driven client peer."""
    ours, theirs = trio.testing.memory_stream_pair()
    connection = Connection(Role.SERVER, max_message_size=config.max_message_size)
    ws = WebSocket(ours, connection, config=config)
    nursery.start_soon(ws.run)
    return ws, RawPeer(theirs, Role.CLIENT)


async def test_text_and_binary_messages_round_trip(nursery: trio.Nursery) -> None:
    server, client = make_pair(nursery)
    for message in ["hello", "", "ünïcødé ✓", b"", b"\x00\xff" * 1000, "x" * 70000]:
        await client.send(message)
        got = await server.receive()
        assert got == message and type(got) is type(message)
        await server.send(got)
        assert await client.receive() == message
    await client.send(bytearray(b"abc"))
    assert await server.receive() == b"abc"
    await client.close()


async def test_async_for_ends_on_normal_close(nursery: trio.Nursery) -> None:
    server, client = make_pair(nursery)
    for i in range(5):
        await client.send(str(i))
    await client.close()
    assert [m async for m in server] == ["0", "1", "2", "3", "4"]
    assert server.closed is not None and server.closed.code == 1000


async def test_async_for_raises_on_error_close(nursery: trio.Nursery) -> None:
    server, client = make_pair(nursery)
    await client.send("a")
    await client.close(4001, "game over")
    received = []
    with pytest.raises(ConnectionClosed) as info:
        async for message in server:
            received.append(message)
    assert received == ["a"]
    assert (info.value.code, info.value.reason) == (4001, "game over")


@pytest.mark.parametrize("closer", ["server", "client"])
async def test_close_with_code_and_reason_reaches_both_sides(
    nursery: trio.Nursery, closer: str
) -> None:
    server, client = make_pair(nursery)
    active, passive = (server, client) if closer == "server" else (client, server)
    await active.close(1001, "see you")
    with pytest.raises(ConnectionClosed) as info:
        await passive.receive()
    assert (info.value.code, info.value.reason) == (1001, "see you")
    assert active.closed is not None and active.closed.code == 1001  # the peer echoed it
    assert passive.closed is not None and passive.closed.code == 1001
    with pytest.raises(ConnectionClosed):
        await active.send("too late")
    with pytest.raises(ConnectionClosed):
        await passive.send("too late")
    await active.close()  # idempotent


async def test_messages_before_close_are_still_delivered(nursery: trio.Nursery) -> None:
    server, client = make_pair(nursery)
    await client.send("one")
    await client.send("two")
    await client.close()
    await trio.testing.wait_all_tasks_blocked()
    assert server.closed is not None
    assert await server.receive() == "one"
    assert await server.receive() == "two"
    with pytest.raises(ConnectionClosed):
        await server.receive()


async def test_abrupt_eof_is_1006(nursery: trio.Nursery) -> None:
    ws, peer = serve_raw(nursery)
    peer.conn.send_text("last words")
    await peer.flush()
    await peer.stream.aclose()
    assert await ws.receive() == "last words"
    with pytest.raises(ConnectionClosed) as info:
        await ws.receive()
    assert info.value.code == 1006
    with pytest.raises(ConnectionClosed) as info:
        await ws.send("anyone?")
    assert info.value.code == 1006


async def test_peer_protocol_violation_closes_with_its_code(nursery: trio.Nursery) -> None:
    ws, peer = serve_raw(nursery)
    # An unmasked frame from a client is a protocol error (RFC 6455 section 5.1).
    await peer.stream.send_all(encode_frame(Opcode.TEXT, b"unmasked"))
    events = await peer.next_events()
    assert isinstance(events[0], CloseReceived) and events[0].code == 1002
    with pytest.raises(ConnectionClosed) as info:
        await ws.receive()
    assert info.value.code == 1002


async def test_oversized_message_closes_with_1009(nursery: trio.Nursery) -> None:
    ws, peer = serve_raw(nursery, WebSocketConfig(ping_interval=None, max_message_size=100))
    peer.conn.send_binary(b"x" * 101)
    await peer.flush()
    events = await peer.next_events()
    assert isinstance(events[0], CloseReceived) and events[0].code == 1009
    with pytest.raises(ConnectionClosed) as info:
        await ws.receive()
    assert info.value.code == 1009


async def test_ping_waits_for_pong_and_pings_are_answered(nursery: trio.Nursery) -> None:
    server, client = make_pair(nursery)
    with trio.fail_after(1):
        await client.ping(b"hello")
        await server.ping()
    ws, peer = serve_raw(nursery)
    peer.conn.send_ping(b"are you there")
    await peer.flush()
    events = await peer.next_events()
    assert [type(e).__name__ for e in events] == ["Pong"]
    assert events[0].payload == b"are you there"  # type: ignore[attr-defined]


async def test_ping_to_silent_peer_can_time_out(
    nursery: trio.Nursery, autojump_clock: trio.testing.MockClock
) -> None:
    ws, peer = serve_raw(nursery)  # the peer never reads, so never answers
    with trio.move_on_after(5) as scope:
        await ws.ping()
    assert scope.cancelled_caught
    assert ws.closed is None


async def test_keepalive_detects_a_dead_peer(
    nursery: trio.Nursery, autojump_clock: trio.testing.MockClock
) -> None:
    config = WebSocketConfig(ping_interval=10, ping_timeout=5)
    ws, peer = serve_raw(nursery, config)  # the peer is alive but never answers pings
    start = trio.current_time()
    with pytest.raises(ConnectionClosed) as info:
        await ws.receive()
    assert (info.value.code, info.value.reason) == (1011, "keepalive ping timeout")
    assert 15 <= trio.current_time() - start < 16


async def test_keepalive_keeps_a_live_peer(
    nursery: trio.Nursery, autojump_clock: trio.testing.MockClock
) -> None:
    config = WebSocketConfig(ping_interval=10, ping_timeout=5)
    server, client = make_pair(nursery, config, config)
    await trio.sleep(100)  # ten keepalive rounds each way
    assert server.closed is None and client.closed is None
    await client.send("still here")
    assert await server.receive() == "still here"
    await client.close()


async def test_keepalive_pings_are_seen_by_the_peer(
    nursery: trio.Nursery, autojump_clock: trio.testing.MockClock
) -> None:
    ws, peer = serve_raw(nursery, WebSocketConfig(ping_interval=10, ping_timeout=5))
    events = await peer.next_events()
    assert isinstance(events[0], Ping) and len(events[0].payload) == 4
    await peer.flush()  # the automatic pong
    await trio.sleep(7)
    assert ws.closed is None


async def test_close_timeout_drops_a_silent_peer(
    nursery: trio.Nursery, autojump_clock: trio.testing.MockClock
) -> None:
    config = WebSocketConfig(ping_interval=None, close_timeout=3)
    ws, peer = serve_raw(nursery, config)
    start = trio.current_time()
    await ws.close(1000, "bye")
    assert 3 <= trio.current_time() - start < 3.5
    assert ws.closed is not None and ws.closed.code == 1006  # the handshake never finished
    events = await peer.next_events()  # but the close frame was sent
    assert isinstance(events[0], CloseReceived) and events[0].reason == "bye"


async def test_client_waits_for_server_to_drop_tcp(
    nursery: trio.Nursery, autojump_clock: trio.testing.MockClock
) -> None:
    ours, theirs = trio.testing.memory_stream_pair()
    config = WebSocketConfig(ping_interval=None, close_timeout=4)
    client = WebSocket(ours, Connection(Role.CLIENT), config=config)
    nursery.start_soon(client.run)
    peer = RawPeer(theirs, Role.SERVER)
    peer.conn.send_close(1000, "done")
    await peer.flush()
    events = await peer.next_events()  # the client's answer
    assert isinstance(events[0], CloseReceived) and events[0].code == 1000
    # The server "forgets" to close TCP: the client gives up after close_timeout.
    start = trio.current_time()
    with pytest.raises(ConnectionClosed) as info:
        await client.receive()
    assert info.value.code == 1000 and info.value.reason == "done"
    assert 4 <= trio.current_time() - start < 4.5


async def test_cancelling_the_endpoint_says_going_away(nursery: trio.Nursery) -> None:
    ours, theirs = trio.testing.memory_stream_pair()
    ws = WebSocket(ours, Connection(Role.SERVER), config=QUIET)
    peer = RawPeer(theirs, Role.CLIENT)
    scope = trio.CancelScope()

    async def run_until_cancelled() -> None:
        with scope:
            await ws.run()

    nursery.start_soon(run_until_cancelled)
    await trio.testing.wait_all_tasks_blocked()
    scope.cancel()
    events = await peer.next_events()
    assert isinstance(events[0], CloseReceived) and events[0].code == 1001
    await peer.flush()  # answer the close: the endpoint finishes the handshake
    with pytest.raises(ConnectionClosed) as info:
        await ws.receive()
    assert info.value.code == 1001 and ws.closed is info.value


async def test_backpressure_pauses_reading_without_losing_messages(
    nursery: trio.Nursery,
) -> None:
    config = WebSocketConfig(ping_interval=None, max_queued_messages=2)
    server, client = make_pair(nursery, config, QUIET)
    # 30 KB each, so one 64 KiB read holds at most three of them.
    messages = [f"m{i}".ljust(30_000, ".") for i in range(20)]
    async with trio.open_nursery() as sending:
        for message in messages:
            sending.start_soon(client.send, message)
            await trio.testing.wait_all_tasks_blocked()
        # Reading paused once the queue reached the limit (one read may add a few).
        assert 2 <= len(server._messages) <= 5
        assert [await server.receive() for _ in range(20)] == messages
    await client.close()


async def test_send_frame_bytes_fans_one_encoding_out(nursery: trio.Nursery) -> None:
    pairs = [make_pair(nursery) for _ in range(3)]
    frame = encode_frame(Opcode.TEXT, "state v7".encode())
    for server, _ in pairs:
        await server.send_frame_bytes(frame)
    for _, client in pairs:
        assert await client.receive() == "state v7"


async def test_concurrent_senders_interleave_whole_messages(nursery: trio.Nursery) -> None:
    server, client = make_pair(nursery)

    async def sender(tag: str) -> None:
        for i in range(50):
            await client.send(f"{tag}{i}" * 100)

    async with trio.open_nursery() as senders:
        for tag in "abc":
            senders.start_soon(sender, tag)
        received = [await server.receive() for _ in range(150)]
    for tag in "abc":
        mine = [m for m in received if isinstance(m, str) and m.startswith(tag)]
        assert mine == [f"{tag}{i}" * 100 for i in range(50)]


async def test_writes_are_batched_into_one_send_all(nursery: trio.Nursery) -> None:
    ours, theirs = trio.testing.memory_stream_pair()
    calls: list[int] = []
    original = ours.send_stream.send_all

    async def counting_send_all(data: bytes | bytearray | memoryview) -> None:
        calls.append(len(data))
        await original(data)

    ours.send_stream.send_all = counting_send_all  # type: ignore[method-assign]
    ws = WebSocket(ours, Connection(Role.SERVER), config=QUIET)
    peer = RawPeer(theirs, Role.CLIENT)
    nursery.start_soon(ws.run)
    # Three pings in one read make three queued pongs: one write carries them all.
    for payload in (b"1", b"2", b"3"):
        peer.conn.send_ping(payload)
    await peer.flush()
    events = await peer.next_events()
    while len(events) < 3:
        events += await peer.next_events()
    assert [e.payload for e in events] == [b"1", b"2", b"3"]  # type: ignore[attr-defined]
    assert len(calls) == 1


async def test_text_from_raw_peer_is_whole_even_when_fragmented(nursery: trio.Nursery) -> None:
    ws, peer = serve_raw(nursery)
    mask = b"\x01\x02\x03\x04"
    await peer.stream.send_all(
        encode_frame(Opcode.TEXT, b"Hel", fin=False, mask=mask)
        + encode_frame(Opcode.PING, b"p", mask=mask)
        + encode_frame(Opcode.CONTINUATION, b"lo", mask=mask)
    )
    assert await ws.receive() == "Hello"
