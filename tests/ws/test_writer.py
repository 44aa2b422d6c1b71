"""``Writer``: the write side of a WebSocket, over real TCP connections on 127.0.0.1.

Each test writes with a server-side ``Writer`` and reads the raw peer with a sans-IO
client :class:`Connection`, so what arrived is checked frame by frame.
"""

from __future__ import annotations

import select

import trio
import trio.testing

from gameserver.ws.codes import Opcode
from gameserver.ws.connection import Connection, Role
from gameserver.ws.events import BinaryMessage
from gameserver.ws.frames import encode_frame
from gameserver.ws.writer import Writer

BIG = bytes(range(256)) * 20_000  # ~5 MiB: more than the socket buffers hold


async def tcp_pair() -> tuple[trio.SocketStream, trio.SocketStream]:
    """(ours, peer) connected over 127.0.0.1."""
    listener = (await trio.open_tcp_listeners(0, host="127.0.0.1"))[0]
    port = listener.socket.getsockname()[1]
    peer = await trio.open_tcp_stream("127.0.0.1", port)
    ours = await listener.accept()
    await listener.aclose()
    return ours, peer


class Peer:
    """The reading end: decodes what arrives into whole messages."""

    def __init__(self, stream: trio.SocketStream) -> None:
        self.stream = stream
        self.conn = Connection(Role.CLIENT, max_message_size=2 * len(BIG))
        self.reads = 0

    def available(self) -> bool:
        """True when bytes are waiting to be read (checked without waiting)."""
        readable, _, _ = select.select([self.stream.socket.fileno()], [], [], 0)
        return bool(readable)

    async def messages(self, count: int) -> list[bytes]:
        received: list[bytes] = []
        with trio.fail_after(10):
            while len(received) < count:
                data = await self.stream.receive_some(1 << 20)
                assert data, "the stream ended early"
                self.reads += 1
                self.conn.receive_data(data)
                for event in self.conn.events_received():
                    assert isinstance(event, BinaryMessage)
                    received.append(event.data)
        return received


async def make_writer(
    nursery: trio.Nursery, inbox: list[str | bytes] | None = None, write_limit: int = 65536
) -> tuple[Writer, Connection, Peer]:
    ours, theirs = await tcp_pair()
    conn = Connection(Role.SERVER)
    writer = Writer(ours, conn, [] if inbox is None else inbox, write_limit=write_limit, nursery=nursery)
    return writer, conn, Peer(theirs)


async def test_a_send_with_nothing_waiting_is_written_by_the_calling_task(
    nursery: trio.Nursery,
) -> None:
    writer, conn, peer = await make_writer(nursery)
    conn.send_binary(b"at once")
    assert await writer.queued(7)
    assert not nursery.child_tasks  # no writer task was needed
    assert await peer.messages(1) == [b"at once"]


async def test_sends_the_kernel_takes_at_once_are_schedule_points_only_now_and_then(
    nursery: trio.Nursery,
) -> None:
    # A pass of the run loop per send would cost more than the write; a task that
    # only sends still lets the others run once in 16 sends.
    writer, conn, peer = await make_writer(nursery)
    other_task_turns = 0
    done = False

    async def other_task() -> None:
        nonlocal other_task_turns
        while not done:
            other_task_turns += 1
            await trio.lowlevel.cancel_shielded_checkpoint()

    nursery.start_soon(other_task)
    try:
        for index in range(15):
            conn.send_binary(b"%02d" % index)
            assert await writer.queued(4)
        assert other_task_turns == 0  # this task never let it run
        for index in range(15, 32):
            conn.send_binary(b"%02d" % index)
            assert await writer.queued(4)
        assert 1 <= other_task_turns <= 2  # the 16th and the 32nd send were schedule points
    finally:
        done = True
    assert await peer.messages(32) == [b"%02d" % index for index in range(32)]


async def test_sends_while_messages_wait_to_be_answered_leave_in_one_write(
    nursery: trio.Nursery,
) -> None:
    inbox: list[str | bytes] = [b"a request not yet answered"]
    writer, conn, peer = await make_writer(nursery, inbox)
    for index in range(3):
        conn.send_binary(b"reply %d" % index)
        assert await writer.queued(7)
    assert not peer.available()  # queued, not written: the sending task has not blocked
    await trio.testing.wait_all_tasks_blocked()
    assert await peer.messages(3) == [b"reply 0", b"reply 1", b"reply 2"]
    assert peer.reads == 1


async def test_one_write_at_a_time_and_frames_never_interleave(
    nursery: trio.Nursery,
) -> None:
    writer, conn, peer = await make_writer(nursery, write_limit=len(BIG) * 2)
    conn.send_binary(BIG)

    async def big_write() -> None:
        assert await writer.queued(len(BIG))  # blocks: the peer is not reading yet

    async def write_now_after_it() -> None:
        conn.send_binary(b"closing words")
        await writer.write_now()  # waits for the big write to finish

    nursery.start_soon(big_write)
    await trio.testing.wait_all_tasks_blocked()
    # The big write is in progress: the non-waiting path declines, nothing is taken.
    assert not writer.write_frame_nowait(encode_frame(Opcode.BINARY, b"declined"))
    nursery.start_soon(write_now_after_it)
    await trio.testing.wait_all_tasks_blocked()
    assert await peer.messages(2) == [BIG, b"closing words"]


async def test_what_the_kernel_does_not_take_at_once_is_finished_by_a_writer_task(
    nursery: trio.Nursery,
) -> None:
    writer, _, peer = await make_writer(nursery)
    assert writer.write_frame_nowait(encode_frame(Opcode.BINARY, BIG))
    assert writer.owed > 0  # the rest waits for the writer task
    assert len(nursery.child_tasks) == 1
    # While those bytes wait, the peer is behind: the next frame is declined.
    assert not writer.write_frame_nowait(encode_frame(Opcode.BINARY, b"declined"))
    assert await peer.messages(1) == [BIG]
    await trio.testing.wait_all_tasks_blocked()
    assert writer.owed == 0
    assert not nursery.child_tasks  # the inline writer task ends once all is written
    assert writer.write_frame_nowait(encode_frame(Opcode.BINARY, b"after"))
    assert await peer.messages(1) == [b"after"]


async def test_backpressure_waits_until_the_peer_reads(nursery: trio.Nursery) -> None:
    inbox: list[str | bytes] = [b"unanswered"]  # so sends go through the writer task
    writer, conn, peer = await make_writer(nursery, inbox, write_limit=1000)
    done: list[bool] = []

    async def send_big() -> None:
        conn.send_binary(BIG)
        done.append(await writer.queued(len(BIG)))

    nursery.start_soon(send_big)
    await trio.testing.wait_all_tasks_blocked()
    assert done == []  # more than write_limit queued: the sender waits
    assert await peer.messages(1) == [BIG]
    await trio.testing.wait_all_tasks_blocked()
    assert done == [True]


async def test_end_releases_a_sender_waiting_for_room_with_false(
    nursery: trio.Nursery,
) -> None:
    inbox: list[str | bytes] = [b"unanswered"]
    writer, conn, _ = await make_writer(nursery, inbox, write_limit=1000)
    done: list[bool] = []

    async def send_big() -> None:
        conn.send_binary(BIG)
        done.append(await writer.queued(len(BIG)))

    nursery.start_soon(send_big)
    await trio.testing.wait_all_tasks_blocked()
    writer.end()
    await trio.testing.wait_all_tasks_blocked()
    assert done == [False]


async def test_once_ended_waiting_for_a_drain_returns_at_once(nursery: trio.Nursery) -> None:
    # Bytes still owed to a peer that never read them can never drain after the end:
    # a reader waiting for them (to resume reading) must not wait forever.
    writer, conn, _ = await make_writer(nursery, [], write_limit=1000)
    conn.send_binary(BIG)
    writer.end()
    with trio.fail_after(5):
        await writer.until_drained()
        await writer.until_drained()  # and again: the end is for good
