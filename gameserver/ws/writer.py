"""The write side of a WebSocket: how the frames a connection queued reach the stream.

A :class:`Writer` belongs to one :class:`~gameserver.ws.websocket.WebSocket`. The
sans-IO :class:`~gameserver.ws.connection.Connection` queues frames; the writer takes
them (``data_to_send``) and writes them, in one of three ways:

- *at once*, from the calling task: ``queued`` when nothing else is being written
  and no burst of sends is likely. Over plain TCP it hands the bytes to the kernel
  itself (:func:`~gameserver.ws.rawfd.write_nowait`: one system call, no task switch,
  and a schedule point only once in 16 sends); otherwise, or for what the kernel did
  not take, it waits in ``send_all``;
- *coalesced*, by a writer task: while received messages are still waiting to be
  answered, more sends are likely to follow, so ``queued`` only wakes the writer
  task, which runs once the sending task blocks and writes everything queued by then
  with one ``send_all``;
- *without waiting*, straight to a plain TCP socket's file descriptor
  (``flush_nowait``, ``write_frame_nowait``, see :mod:`gameserver.ws.rawfd`): what the
  kernel does not take is kept as unsent bytes, which go out first, by the writer task.

Only one write is in progress at a time (``_busy``), so bytes never interleave.

The writer task starts on demand: in the nursery given to the constructor (then it
ends once everything is written; the next wait starts a new one), or, after
``attach``, in the WebSocket's ``run`` nursery, for as long as ``run`` lasts.

Backpressure: ``queued`` waits while more than ``write_limit`` bytes are queued.
"""

from __future__ import annotations

import trio

from gameserver.ws.connection import Connection
from gameserver.ws.rawfd import write_nowait

__all__ = ["Writer"]

# A send the kernel takes at once is a cancellation point but not a schedule point: a
# pass of the run loop per message would cost more than the write. A task that answers
# what it reads yields while it waits to read, but one that only sends would never
# yield while the peer keeps up, so every this many such sends one is a schedule point.
_SCHEDULE_POINT_EVERY = 16


def _wake(event: trio.Event | None) -> None:
    """Set ``event`` if anyone made it (lazily created events start unset)."""
    if event is not None:
        event.set()


class Writer:
    """Writes what ``connection`` queues to ``stream`` (see module doc).

    ``inbox`` is the WebSocket's list of received messages not yet taken by the
    application: while it is not empty, sends are coalesced. ``nursery``: where writer
    tasks start on demand; None until :meth:`attach` (a WebSocket read by ``run``).
    """

    # Slots, no per-instance dict: every open connection has one writer.
    __slots__ = (
        "_busy", "_conn", "_drained", "_failed", "_idle", "_inbox", "_nursery",
        "_persistent", "_queued_bytes", "_sends_at_once", "_socket", "_stream",
        "_task_running", "_unsent", "_wanted", "_write_limit",
    )

    def __init__(
        self,
        stream: trio.abc.Stream,
        connection: Connection,
        inbox: list[str | bytes],
        *,
        write_limit: int,
        nursery: trio.Nursery | None,
    ) -> None:
        self._stream = stream
        self._conn = connection
        self._inbox = inbox
        self._write_limit = write_limit
        # The plain TCP socket under the stream, for the writes that do not wait.
        self._socket = stream.socket if type(stream) is trio.SocketStream else None
        self._nursery = nursery
        # Without a nursery now, attach() gives one and the task lives until detach().
        self._persistent = nursery is None
        self._task_running = False
        # A write is in progress; who else wants to write waits for _idle (a flag and
        # an event made on first contention cost far less than a trio.Lock per
        # connection, about 340 bytes).
        self._busy = False
        self._idle: trio.Event | None = None
        # Events only some connections ever wait on are made on first use (an event
        # costs about 280 bytes, and an idle connection would hold them all its life).
        self._wanted: trio.Event | None = None
        self._drained: trio.Event | None = None  # set when below write_limit again
        # Bytes taken from the connection that the socket did not accept yet; they go
        # out before anything queued later.
        self._unsent = b""
        self._queued_bytes = 0
        # Sends written at once since the last schedule point they made (see queued).
        self._sends_at_once = 0
        # The stream failed or the connection ended: senders waiting for room give up.
        self._failed = False

    # -- what is owed ----------------------------------------------------------------------

    @property
    def owed(self) -> int:
        """Bytes queued or taken but not yet accepted by the stream."""
        return self._conn.bytes_to_send + len(self._unsent)

    @property
    def over_limit(self) -> bool:
        """True while more than ``write_limit`` bytes are owed: stop reading from a peer
        that does not read what we send (see :meth:`until_drained`)."""
        return self.owed > self._write_limit

    def take(self) -> bytes:
        """Everything due for the socket, in order: unsent bytes, then newly queued frames."""
        data = self._conn.data_to_send()
        if self._unsent:
            data, self._unsent = self._unsent + data, b""
        self._queued_bytes = 0
        return data

    # -- writing without waiting -----------------------------------------------------------

    def flush_nowait(self) -> None:
        """Write what the connection queued (pongs, pings, close frames) without waiting;
        the writer task writes what the socket does not take now."""
        sock = self._socket
        fd = -1 if sock is None or self._busy else sock.fileno()
        if fd < 0:
            self.wake()
            return
        data = self.take()
        if data:
            self._write_nowait(fd, data)

    def write_frame_nowait(self, frame: bytes) -> bool:
        """Write what is queued, then ``frame``, at once and without waiting.

        Returns True when it was handed to the kernel (the writer task finishes what the
        kernel did not take); False, with nothing written, when another write is in
        progress, bytes the kernel did not take last time still wait for the writer
        task (the peer is behind: the caller's queue, with its limit, is the place for
        more), or the stream is not plain TCP.
        """
        sock = self._socket
        if sock is None or self._busy or self._unsent:
            return False
        fd = sock.fileno()
        if fd < 0:
            return False
        # Pongs or close answers queued by the reader go first, in the same write.
        pending = self.take()
        self._write_nowait(fd, pending + frame if pending else frame)
        return True

    def _write_nowait(self, fd: int, data: bytes) -> None:
        written = write_nowait(fd, data)
        if written < len(data):
            self._unsent = data[written:]
            self._queued_bytes = len(self._unsent)
            self.wake()

    # -- writing from the calling task -----------------------------------------------------

    async def queued(self, size: int) -> bool:
        """Account for ``size`` newly queued bytes and get them written.

        With received messages still waiting to be answered, or another write in
        progress, wake the writer task, which runs when this task blocks and writes
        them all together. Otherwise write now, saving a task switch: straight to a
        plain TCP socket when the kernel takes it all (then this is a schedule point
        only once in 16 calls), else with a waiting ``send_all``. Either way, wait
        while more than ``write_limit`` bytes are queued (backpressure).

        Returns False when the stream failed or the connection ended: the caller then
        raises how the connection ended.
        """
        self._queued_bytes += size
        if self._inbox or self._busy:
            self.wake()
            if self._queued_bytes > self._write_limit:
                drained = self._drained
                if drained is None or drained.is_set():
                    drained = self._drained = trio.Event()
                await drained.wait()
                return not self._failed
            # A cancellation point but not a schedule point: the writer runs once
            # this task blocks, so a burst of sends becomes one write.
            await trio.lowlevel.checkpoint_if_cancelled()
            return True
        sock = self._socket
        fd = -1 if sock is None or self._unsent else sock.fileno()
        if fd >= 0:
            await trio.lowlevel.checkpoint_if_cancelled()
            if self._write_at_once(fd):
                self._sends_at_once += 1
                if self._sends_at_once >= _SCHEDULE_POINT_EVERY:
                    self._sends_at_once = 0
                    await trio.lowlevel.cancel_shielded_checkpoint()
                return True
        # No write is in progress (checked above), so start one without a schedule
        # point: the write itself is one, and each extra one costs a pass of the run loop.
        self._busy = True
        try:
            return await self._drain()
        finally:
            self._release()

    def _write_at_once(self, fd: int) -> bool:
        """Hand everything queued to the kernel now (nothing unsent waits: checked by
        the caller); True when it took it all, else keep the rest as unsent bytes for
        a waiting write."""
        data = self._conn.data_to_send()
        self._queued_bytes = 0
        written = write_nowait(fd, data)
        if written == len(data):
            return True
        self._unsent = data[written:]
        return False

    async def until_drained(self) -> None:
        """Wait until the writer task has written everything queued, or the stream failed."""
        if self._failed:  # nothing more will be written: there is nothing to wait for
            await trio.lowlevel.checkpoint()
            return
        drained = self._drained
        if drained is None or drained.is_set():
            drained = self._drained = trio.Event()
        self.wake()
        await drained.wait()

    async def write_now(self) -> None:
        """Write what is queued from the calling task (when the writer task may be gone,
        e.g. while closing); a failing stream is left for the reader to notice."""
        await self._acquire()
        try:
            data = self.take()
            if data:
                await self._stream.send_all(data)
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            pass
        finally:
            self._release()

    # -- the writer task -------------------------------------------------------------------

    def wake(self) -> None:
        """Have the writer task write what is queued, starting it if it is not running."""
        if self._wanted is None:
            self._wanted = trio.Event()
        self._wanted.set()
        if not self._task_running and self._nursery is not None:
            self._task_running = True
            self._nursery.start_soon(self._run)

    def attach(self, nursery: trio.Nursery) -> None:
        """Run the writer task in ``nursery`` from now on (the WebSocket's ``run``);
        call :meth:`detach` when that nursery ends."""
        self._nursery = nursery
        if self._wanted is not None and self._wanted.is_set():
            self.wake()

    def detach(self) -> None:
        """The nursery given to :meth:`attach` is gone: start no more tasks in it."""
        self._nursery = None

    def end(self) -> None:
        """The connection is over: wake every task waiting in :meth:`queued`."""
        self._failed = True
        _wake(self._drained)

    async def _run(self) -> None:
        """Write whatever is queued whenever woken; ends when the stream fails, and, when
        not persistent, once nothing more is wanted."""
        try:
            while True:
                wanted = self._wanted
                if wanted is None:
                    if not self._persistent:
                        return
                    wanted = self._wanted = trio.Event()
                await wanted.wait()
                self._wanted = None
                await self._acquire()
                try:
                    if not await self._drain():
                        return
                finally:
                    self._release()
        finally:
            self._task_running = False

    async def _drain(self) -> bool:
        """Write everything queued (``_busy`` is ours); False if the stream failed."""
        while data := self.take():
            try:
                await self._stream.send_all(data)
            except (trio.BrokenResourceError, trio.ClosedResourceError):
                # The reader then sees the stream end and records the closure.
                await trio.aclose_forcefully(self._stream)
                self._failed = True
                _wake(self._drained)
                return False
        self._queued_bytes = 0
        _wake(self._drained)
        return True

    # -- one write at a time ---------------------------------------------------------------

    async def _acquire(self) -> None:
        """Wait until no other write is in progress, then start ours (a checkpoint,
        as taking a ``trio.Lock`` is)."""
        await trio.lowlevel.checkpoint_if_cancelled()
        if not self._busy:
            await trio.lowlevel.cancel_shielded_checkpoint()
        while self._busy:
            idle = self._idle
            if idle is None:
                idle = self._idle = trio.Event()
            await idle.wait()
        self._busy = True

    def _release(self) -> None:
        self._busy = False
        idle, self._idle = self._idle, None
        _wake(idle)
