"""The output half of a :class:`~gameserver.ws.websocket.WebSocket`: its state, and
how queued frames reach the stream.

Frames are written at once when nothing else is waiting to be written, by a writer task
(started on demand) when a burst of replies should leave in one ``send_all``, or
straight to the socket's file descriptor for fan-out (``try_send_frame``). See
:mod:`gameserver.ws.websocket` for the whole design.
"""

from __future__ import annotations

import os
from typing import Any

import trio

from gameserver.ws.config import WebSocketConfig
from gameserver.ws.connection import Connection, ConnectionState
from gameserver.ws.exceptions import ConnectionClosed
from gameserver.ws.http import HTTPRequest, HTTPResponse

__all__ = ["Message", "WebSocketOutput"]

Message = str | bytes
"""A whole WebSocket message: text as ``str``, binary as ``bytes``."""

_OPEN = ConnectionState.OPEN


class WebSocketOutput:
    """A WebSocket's state and its writing; the base of
    :class:`~gameserver.ws.websocket.WebSocket`, not for use on its own."""

    # Slots: one per attribute, no per-instance dict (an idle connection's WebSocket
    # would otherwise cost over a kilobyte).
    __slots__ = (
        "__weakref__", "_answers_due", "_background", "_below_write_limit", "_close_called",
        "_closed_event", "_conn", "_initial_data", "_local_failure", "_message_arrived",
        "_shared_keepalive",
        "_messages", "_nursery", "_ping_due", "_pings", "_pong_due", "_progress",
        "_queued_bytes", "_reading", "_room_for_messages", "_send_lock", "_socket",
        "_stream", "_unsent", "_write_wanted", "_writer_started", "closed", "config",
        "remote_address", "request", "response", "subprotocol",
    )

    def __init__(
        self,
        stream: trio.abc.Stream,
        connection: Connection,
        *,
        config: WebSocketConfig | None = None,
        subprotocol: str | None = None,
        request: HTTPRequest | None = None,
        response: HTTPResponse | None = None,
        remote_address: Any = None,
        initial_data: bytes = b"",
        nursery: trio.Nursery | None = None,
        shared_keepalive: bool = False,
    ) -> None:
        self._stream = stream
        self._conn = connection
        self.config = config or WebSocketConfig()
        self.subprotocol = subprotocol
        """The negotiated subprotocol, or None."""
        self.request = request
        """The opening request (path, query, headers): what the client asked for."""
        self.response = response
        """The opening response (client side: what the server answered)."""
        self.remote_address = remote_address
        """The peer's socket address (e.g. ``("127.0.0.1", 50123)``), None when unknown."""
        self.closed: ConnectionClosed | None = None
        """None while the connection lives; afterwards, how it ended (see module doc)."""
        self._initial_data = initial_data
        # The plain TCP socket under the stream, for try_send_frame's immediate writes.
        self._socket = stream.socket if type(stream) is trio.SocketStream else None
        self._send_lock = trio.Lock()
        # Events only some connections ever wait on are created on first use (an event
        # costs about 280 bytes, and an idle connection would hold them all its life).
        self._write_wanted: trio.Event | None = None
        # The writer task starts on the first write that has to wait (see _wake_writer):
        # an idle connection, or one whose writes the socket takes at once, needs none.
        # Inline (no run() task), it starts in ``nursery`` and ends once all is written.
        self._nursery = nursery
        self._writer_started = False
        # Without a nursery, run() reads (background); with one, waiting tasks do.
        self._background = nursery is None
        # Inline: True while a task reads; the others wait for _progress, which is made
        # on first wait and set after each round of reading.
        self._reading = False
        self._progress: trio.Event | None = None
        # Bytes taken from the connection that the socket did not accept yet; they go
        # out before anything queued later.
        self._unsent = b""
        # Keepalive deadlines (trio time), kept by the reader: no task of its own.
        # None until the first read (the constructor may run outside Trio).
        self._ping_due: float | None = None
        # True: a shared timer keeps the deadlines (check_keepalive), reads are untimed.
        self._shared_keepalive = shared_keepalive
        self._pong_due: float | None = None
        self._queued_bytes = 0
        self._below_write_limit: trio.Event | None = None  # None: below the limit
        # A list, not a deque: an empty deque takes 760 bytes per idle connection, and
        # at most max_queued_messages wait here.
        self._messages: list[Message] = []
        self._message_arrived: trio.Event | None = None
        self._room_for_messages: trio.Event | None = None
        self._closed_event: trio.Event | None = None
        self._pings: dict[bytes, trio.Event] = {}
        self._local_failure: ConnectionClosed | None = None
        self._close_called = False
        self._answers_due = False

    # -- waking ----------------------------------------------------------------------------

    @staticmethod
    def _wake(event: trio.Event | None) -> None:
        """Set ``event`` if anyone made it (lazily created events start unset)."""
        if event is not None:
            event.set()

    def _wake_progress(self) -> None:
        """Wake the tasks waiting for the inline reader's next round."""
        progress, self._progress = self._progress, None
        if progress is not None:
            progress.set()

    def _wake_writer(self) -> None:
        """Have the writer task write what is queued, starting it if it is not running."""
        if self._write_wanted is None:
            self._write_wanted = trio.Event()
        self._write_wanted.set()
        if not self._writer_started and self._nursery is not None:
            self._writer_started = True
            self._nursery.start_soon(self._writer)

    # -- writing ---------------------------------------------------------------------------

    def _take_output(self) -> bytes:
        """Everything due for the socket, in order: unsent bytes, then newly queued frames."""
        data = self._conn.data_to_send()
        if self._unsent:
            data, self._unsent = self._unsent + data, b""
        self._queued_bytes = 0
        return data

    def _write_nowait(self, fd: int, data: bytes) -> None:
        """Write ``data`` as far as the socket takes it now; the writer task does the rest."""
        try:
            written = os.write(fd, data)
        except BlockingIOError:
            written = 0
        except OSError:
            written = 0  # broken: the writer task meets the error and ends the connection
        if written < len(data):
            self._unsent = data[written:]
            self._queued_bytes = len(self._unsent)
            self._wake_writer()

    def _flush_nowait(self) -> None:
        """Write what the connection queued (pongs, pings, close frames) without waiting."""
        sock = self._socket
        fd = -1 if sock is None or self._send_lock.locked() else sock.fileno()
        if fd < 0:
            self._wake_writer()
            return
        data = self._take_output()
        if data:
            self._write_nowait(fd, data)

    async def _queued(self, size: int) -> bool:
        """Account for ``size`` newly queued bytes and get them written.

        With received messages still waiting to be answered, more sends are likely to
        follow at once: wake the writer, which runs when this task blocks and writes
        them all together. Otherwise write now, saving a task switch. Either way, wait
        while more than ``write_limit`` bytes are queued (backpressure).

        Returns False when the stream failed: the caller then raises how the
        connection ended (``_raise_closed``).
        """
        self._queued_bytes += size
        if self._messages or self._send_lock.locked():
            self._wake_writer()
            if self._queued_bytes > self.config.write_limit:
                limit = self._below_write_limit
                if limit is None or limit.is_set():
                    limit = self._below_write_limit = trio.Event()
                await limit.wait()
                if self.closed is not None:
                    raise self.closed
            else:
                # A cancellation point but not a schedule point: the writer runs once
                # this task blocks, so a burst of sends becomes one write.
                await trio.lowlevel.checkpoint_if_cancelled()
            return True
        # The lock is free (checked above), so take it without a schedule point: the
        # write itself is one, and each extra one costs a pass of the run loop.
        self._send_lock.acquire_nowait()
        try:
            written = await self._drain()
        finally:
            self._send_lock.release()
        return written

    async def _until_drained(self) -> None:
        """Wait until the writer has written everything queued, or the stream failed."""
        drained = self._below_write_limit
        if drained is None or drained.is_set():
            drained = self._below_write_limit = trio.Event()
        self._wake_writer()
        await drained.wait()

    async def _drain(self) -> bool:
        """Write everything queued (the send lock is held); False if the stream failed."""
        while data := self._take_output():
            try:
                await self._stream.send_all(data)
            except (trio.BrokenResourceError, trio.ClosedResourceError):
                # The reader then sees the stream end and records the closure.
                await trio.aclose_forcefully(self._stream)
                self._wake(self._below_write_limit)
                return False
        self._queued_bytes = 0
        self._wake(self._below_write_limit)
        return True

    async def _writer(self) -> None:
        """Write whatever is queued whenever woken; ends when the stream fails, and,
        inline, once nothing more is wanted (the next wait starts a new one)."""
        try:
            while True:
                wanted = self._write_wanted
                if wanted is None:
                    if not self._background:
                        return
                    wanted = self._write_wanted = trio.Event()
                await wanted.wait()
                self._write_wanted = None
                async with self._send_lock:
                    if not await self._drain():
                        return
        finally:
            self._writer_started = False

    async def _write_now(self) -> None:
        """Write what is queued from the calling task (when the writer may be gone)."""
        try:
            async with self._send_lock:
                data = self._take_output()
                if data:
                    await self._stream.send_all(data)
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            pass

    def _fail(self, code: int, reason: str) -> None:
        """What ``abort`` does (see there); also used by the keepalive timer."""
        if self.closed is not None or self._local_failure is not None:
            return
        self._local_failure = ConnectionClosed(code, reason)
        self._close_called = True
        conn = self._conn
        if conn.state is _OPEN and not conn.close_sent:
            conn.send_close(code, reason)
            self._flush_nowait()
        stream: Any = self._stream
        while isinstance(stream, trio.SSLStream):
            stream = stream.transport_stream
        if isinstance(stream, trio.SocketStream):
            # Readers and writers blocked on the socket get ClosedResourceError; the
            # reader then closes the stream and records the end.
            trio.lowlevel.notify_closing(stream.socket)

