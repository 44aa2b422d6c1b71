"""``Reader``: the read side of a WebSocket, over real TCP on 127.0.0.1 (and a memory
stream for the path that is not plain TCP)."""

from __future__ import annotations

import os

import pytest
import trio
import trio.testing

from gameserver.ws.connection import Connection, Role
from gameserver.ws.keepalive_deadlines import KeepaliveDeadlines
from gameserver.ws import rawfd
from gameserver.ws.reader import Reader
from gameserver.ws.writer import Writer


async def tcp_pair() -> tuple[trio.SocketStream, trio.SocketStream]:
    """(ours, peer) connected over 127.0.0.1."""
    listener = (await trio.open_tcp_listeners(0, host="127.0.0.1"))[0]
    port = listener.socket.getsockname()[1]
    peer = await trio.open_tcp_stream("127.0.0.1", port)
    ours = await listener.accept()
    await listener.aclose()
    return ours, peer


def make_reader(
    stream: trio.abc.Stream,
    nursery: trio.Nursery,
    *,
    ping_interval: float | None = None,
    initial_data: bytes = b"",
    write_limit: int = 65536,
) -> tuple[Reader, Connection, KeepaliveDeadlines]:
    conn = Connection(Role.SERVER)
    writer = Writer(stream, conn, [], write_limit=write_limit, nursery=nursery)
    keepalive = KeepaliveDeadlines(ping_interval, 1.0, shared=False)
    return Reader(stream, writer, keepalive, initial_data=initial_data), conn, keepalive


async def test_bytes_left_over_from_the_handshake_come_first(nursery: trio.Nursery) -> None:
    ours, peer = await tcp_pair()
    reader, _, _ = make_reader(ours, nursery, initial_data=b"early")
    await peer.send_all(b"later")
    assert await reader.receive() == b"early"
    assert await reader.receive() == b"later"


async def test_reads_what_arrives_then_empty_bytes_at_the_end(nursery: trio.Nursery) -> None:
    ours, peer = await tcp_pair()
    reader, _, _ = make_reader(ours, nursery)

    async def talk() -> None:
        await trio.testing.wait_all_tasks_blocked()  # the reader waits first
        await peer.send_all(b"hello")
        await trio.testing.wait_all_tasks_blocked()
        await peer.aclose()

    nursery.start_soon(talk)
    with trio.fail_after(10):
        assert await reader.receive() == b"hello"
        assert await reader.receive() == b""


async def test_after_stop_it_reads_nothing_more(nursery: trio.Nursery) -> None:
    ours, peer = await tcp_pair()
    reader, _, _ = make_reader(ours, nursery)
    await peer.send_all(b"unread")
    reader.stop()
    assert await reader.receive() == b""


async def test_the_first_read_starts_the_keepalive_clock_and_returns_none_when_due(
    nursery: trio.Nursery, autojump_clock: trio.testing.MockClock
) -> None:
    ours, peer = await tcp_pair()
    reader, _, keepalive = make_reader(ours, nursery, ping_interval=5.0)
    assert keepalive.ping_due is None
    start = trio.current_time()
    assert await reader.receive() is None  # the silent peer sent nothing
    assert keepalive.ping_due == start + 5.0
    assert trio.current_time() == start + 5.0
    await peer.aclose()


async def test_streams_that_are_not_plain_tcp_are_read_and_timed_too(
    nursery: trio.Nursery, autojump_clock: trio.testing.MockClock
) -> None:
    ours, theirs = trio.testing.memory_stream_pair()
    reader, _, keepalive = make_reader(ours, nursery, ping_interval=5.0)
    await theirs.send_all(b"over memory")
    assert await reader.receive() == b"over memory"
    assert await reader.receive() is None
    keepalive.stop()  # what the WebSocket does once it is closing: no deadline left
    await theirs.aclose()
    assert await reader.receive() == b""


async def test_reads_nothing_while_the_peer_owes_us_reading_what_we_sent(
    nursery: trio.Nursery, autojump_clock: trio.testing.MockClock
) -> None:
    ours, peer = await tcp_pair()
    reader, conn, _ = make_reader(ours, nursery, ping_interval=5.0, write_limit=1000)
    conn.send_binary(b"x" * 20_000_000)  # far more than the socket buffers hold
    await peer.send_all(b"waiting to be read")
    # The peer does not read: more than write_limit stays owed, so nothing is read
    # until the keepalive deadline.
    assert await reader.receive() is None

    async def peer_reads_everything() -> None:
        received = 0
        while received < 20_000_000:
            received += len(await peer.receive_some(1 << 20))

    nursery.start_soon(peer_reads_everything)
    with trio.fail_after(60):
        assert await reader.receive() == b"waiting to be read"


async def test_a_stream_closed_while_we_owe_the_peer_reads_as_its_end() -> None:
    # A peer that never reads, no keepalive deadline, and the stream dropped under us
    # (a close handshake that timed out): waiting for the owed bytes to drain would wait
    # forever, since nothing can be written any more.
    ours, peer = await tcp_pair()
    conn = Connection(Role.SERVER)
    # No nursery: the writer task cannot run (as when the server's shared writer
    # nursery is shutting down), so nothing will ever drain.
    writer = Writer(ours, conn, [], write_limit=1000, nursery=None)
    reader = Reader(ours, writer, KeepaliveDeadlines(None, 1.0, shared=False))
    conn.send_binary(b"x" * 20_000_000)
    assert writer.over_limit
    await trio.aclose_forcefully(ours)
    with trio.fail_after(10):
        assert await reader.receive() == b""
    await peer.aclose()


async def test_after_a_read_that_emptied_the_socket_it_waits_before_reading_again(
    nursery: trio.Nursery, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A peer waiting for our answer sends nothing more until it has it: reading at
    # once would only fail (a system call and an exception per message).
    ours, peer = await tcp_pair()
    reader, _, _ = make_reader(ours, nursery)
    reads: list[bytes] = []
    real_read = os.read

    def counting_read(fd: int, size: int) -> bytes:
        if fd == ours.socket.fileno():
            reads.append(b"")
        return real_read(fd, size)

    monkeypatch.setattr(rawfd.os, "read", counting_read)
    await peer.send_all(b"request 1")
    assert await reader.receive() == b"request 1"
    assert len(reads) == 1

    async def next_request() -> None:
        await trio.testing.wait_all_tasks_blocked()  # the reader waits first
        await peer.send_all(b"request 2")

    nursery.start_soon(next_request)
    with trio.fail_after(10):
        assert await reader.receive() == b"request 2"
    assert len(reads) == 2  # no failed read before the wait


async def test_what_takes_more_than_one_read_arrives_whole_and_in_order(nursery: trio.Nursery) -> None:
    ours, peer = await tcp_pair()
    reader, _, _ = make_reader(ours, nursery)
    sent = bytes(range(256)) * (3 * rawfd.RECEIVE_SIZE // 256)

    async def send_then_close() -> None:
        await peer.send_all(sent)
        await peer.aclose()

    nursery.start_soon(send_then_close)
    received = b""
    with trio.fail_after(10):
        while chunk := await reader.receive():
            received += chunk
    assert received == sent
