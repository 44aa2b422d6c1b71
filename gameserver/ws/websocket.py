"""The Trio adapter: one WebSocket endpoint over any ``trio.abc.Stream``.

A :class:`WebSocket` wraps a sans-IO :class:`~gameserver.ws.connection.Connection`:
it feeds it what the stream delivers, queues the whole messages that come out for
:meth:`WebSocket.receive`, and has what the connection queues written. It is one
class composed of small parts, each in its own module:

- :class:`~gameserver.ws.writer.Writer` (``writer.py``): the write side: immediate,
  coalesced and non-waiting writes, the writer task, backpressure;
- :class:`~gameserver.ws.reader.Reader` (``reader.py``): the read side: the next bytes
  from the stream, waiting at most until the keepalive deadline;
- :mod:`~gameserver.ws.rawfd`: the raw file-descriptor fast path of a plain TCP
  socket, under the writer's non-waiting writes and the reader's reads;
- :class:`~gameserver.ws.keepalive_deadlines.KeepaliveDeadlines`: when the next
  keepalive ping is due and when its pong is overdue.

What stays here is the API and what ties the parts together: feeding the connection
what the reader returns, queueing the whole messages that come out, getting pongs and
close answers written, acting on keepalive deadlines, and how the connection ends.

It reads the stream in one of two ways:

- *background*: a task runs :meth:`WebSocket.run` (the client and, by default, the
  server do this), which reads all the time, queues whole messages for
  :meth:`receive`, answers pings and keeps the keepalive deadlines;
- *inline*: no task runs ``run`` (a server started with ``read_inline=True`` does
  this, to spend one task per connection, not two). Then whichever task waits for
  input (in :meth:`receive`, :meth:`ping`, :meth:`close`) reads the stream itself,
  answering pings and keeping the keepalive deadlines while it waits (or leaving
  them to a shared timer, see :mod:`gameserver.ws.keepalive`); other waiting tasks
  wait for its progress. The stream is read only while some task waits for input.

``send`` writes at once, or, while received messages are still waiting to be
answered, leaves the frame to the writer task so a burst of replies costs one system
call (see :mod:`gameserver.ws.writer`). It waits only when more than ``write_limit``
bytes are queued (backpressure). Reading waits too while more than ``write_limit``
bytes are owed to a peer that does not read them (pongs to a ping flood, say), so TCP
pushes back on the peer instead of the buffer growing.

How a connection ends, as seen in :attr:`WebSocket.closed` and raised to callers:

- the peer sent a close frame: its code and reason (1005 when it gave no code);
- the peer broke the protocol: the code we closed with (1002, 1007, 1009, ...);
- a keepalive pong did not arrive in time: 1011 "keepalive ping timeout";
- :meth:`WebSocket.abort` was called: its code and reason;
- the stream ended or broke without a close frame, or our close was never answered:
  1006.
"""

from __future__ import annotations

import logging
import os
from typing import Any

import trio

from gameserver.ws.codes import CloseCode
from gameserver.ws.config import WebSocketConfig
from gameserver.ws.connection import Connection, ConnectionState, Role
from gameserver.ws.events import BinaryMessage, Pong, TextMessage
from gameserver.ws.exceptions import ConnectionClosed, LocalProtocolError
from gameserver.ws.http import HTTPRequest, HTTPResponse
from gameserver.ws.keepalive_deadlines import Due, KeepaliveDeadlines
from gameserver.ws.rawfd import RECEIVE_SIZE
from gameserver.ws.reader import Reader
from gameserver.ws.writer import Writer

__all__ = ["WebSocket", "Message", "OK_CLOSE_CODES", "peer_address"]

logger = logging.getLogger(__name__)

Message = str | bytes
"""A whole WebSocket message: text as ``str``, binary as ``bytes``."""

# Close codes that end ``async for`` quietly: normal closure, going away, no code given.
OK_CLOSE_CODES = frozenset({CloseCode.NORMAL, CloseCode.GOING_AWAY, CloseCode.NO_STATUS_RCVD})

_OPEN = ConnectionState.OPEN
_KEEPALIVE_TIMEOUT = "keepalive ping timeout"


def peer_address(stream: trio.abc.Stream) -> Any:
    """The peer's socket address, or None when ``stream`` is not (over) a socket."""
    while isinstance(stream, trio.SSLStream):
        stream = stream.transport_stream
    if isinstance(stream, trio.SocketStream):
        try:
            return stream.socket.getpeername()
        except OSError:
            return None
    return None


def _wake(event: trio.Event | None) -> None:
    """Set ``event`` if anyone made it (lazily created events start unset)."""
    if event is not None:
        event.set()


class WebSocket:
    """One open WebSocket connection; use it from any number of tasks.

    Do not construct it directly: :func:`~gameserver.ws.server.serve_websocket` hands
    one to each handler, :func:`~gameserver.ws.client.open_websocket` yields one.
    Constructed with a ``nursery`` it reads inline (see module doc) and starts its
    writer tasks there; without one, a task must run :meth:`run`. With
    ``shared_keepalive`` its reads are not timed: a
    :class:`~gameserver.ws.keepalive.SharedKeepalive` calls :meth:`check_keepalive`.
    """

    # Slots: one per attribute, no per-instance dict (an idle connection's WebSocket
    # would otherwise cost over a kilobyte).
    __slots__ = (
        "__weakref__", "_answers_due", "_background", "_close_called", "_closed_event",
        "_conn", "_keepalive", "_local_failure", "_message_arrived", "_messages", "_pings",
        "_progress", "_reader", "_reading", "_room_for_messages", "_stream", "_writer",
        "closed", "config", "remote_address", "request", "response", "subprotocol",
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
        self.config = config = config or WebSocketConfig()
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
        # Whole messages not yet taken by receive(). A list, not a deque: an empty deque
        # takes 760 bytes per idle connection, and at most max_queued_messages wait here.
        self._messages: list[Message] = []
        self._writer = Writer(
            stream, connection, self._messages, write_limit=config.write_limit, nursery=nursery
        )
        self._keepalive = KeepaliveDeadlines(
            config.ping_interval, config.ping_timeout, shared=shared_keepalive
        )
        self._reader = Reader(stream, self._writer, self._keepalive, initial_data=initial_data)
        # Without a nursery, run() reads (background); with one, waiting tasks do.
        self._background = nursery is None
        # Inline: True while a task reads; the others wait for _progress, which is made
        # on first wait and set after each round of reading.
        self._reading = False
        self._progress: trio.Event | None = None
        # Events and the ping table are made on first use: an event costs about 280
        # bytes, a dict 70, and an idle connection would hold them all its life.
        self._message_arrived: trio.Event | None = None
        self._room_for_messages: trio.Event | None = None
        self._closed_event: trio.Event | None = None
        self._pings: dict[bytes, trio.Event] | None = None
        self._local_failure: ConnectionClosed | None = None
        self._close_called = False
        self._answers_due = False

    # -- receiving -------------------------------------------------------------------------

    async def receive(self) -> Message:
        """Return the next whole message: ``str`` for text, ``bytes`` for binary.

        Raises :class:`ConnectionClosed` once the connection is over and every message
        that arrived before the end has been returned.
        """
        messages = self._messages
        if messages:
            # Nothing to wait for, but still a cancellation point, as every wait below is.
            await trio.lowlevel.checkpoint_if_cancelled()
        while not messages:
            if self.closed is not None:
                await trio.lowlevel.checkpoint_if_cancelled()
                raise self.closed
            if self._background:
                arrived = self._message_arrived
                if arrived is None or arrived.is_set():
                    arrived = self._message_arrived = trio.Event()
                await arrived.wait()
            else:
                await self._read_or_wait()
        message = messages.pop(0)
        # Whoever waits for room (a paused reader) is woken once below the limit.
        if self._room_for_messages is not None or self._progress is not None:
            if len(messages) < self.config.max_queued_messages:
                _wake(self._room_for_messages)
                self._wake_progress()
        return message

    def __aiter__(self) -> WebSocket:
        return self

    async def __anext__(self) -> Message:
        """The next message; ends iteration when the peer closes normally (1000, 1001, 1005).

        Any other ending is raised as :class:`ConnectionClosed`.
        """
        try:
            return await self.receive()
        except ConnectionClosed as exc:
            if exc.code in OK_CLOSE_CODES:
                raise StopAsyncIteration from None
            raise

    # -- sending ---------------------------------------------------------------------------

    async def send(self, message: Message) -> None:
        """Send one message: ``str`` as text, ``bytes`` (or bytearray) as binary.

        Writes it at once, or leaves it to the writer task while received messages wait
        to be answered; waits only while more than ``write_limit`` bytes are queued.
        Raises :class:`ConnectionClosed` when the connection is closing or closed.
        """
        conn = self._conn
        try:
            if isinstance(message, str):
                conn.send_text(message)
            else:
                conn.send_binary(message)
        except LocalProtocolError:
            # Checked only on failure: the connection refuses sends once closing.
            if conn.close_sent or conn.state is not _OPEN:
                await self._raise_closed()
            raise
        if not await self._writer.queued(len(message)):
            await self._raise_closed()

    async def send_frame_bytes(self, frame: bytes) -> None:
        """Send a frame already built by :func:`~gameserver.ws.frames.encode_frame`.

        For fan-out: encode once, then call this on every recipient. Raises
        :class:`ConnectionClosed` like :meth:`send`.
        """
        conn = self._conn
        if conn.close_sent or conn.state is not _OPEN:
            await self._raise_closed()
        conn.send_frame_bytes(frame)
        if not await self._writer.queued(len(frame)):
            await self._raise_closed()

    def try_send_frame(self, frame: bytes) -> bool:
        """Write a frame built by :func:`~gameserver.ws.frames.encode_frame` at once,
        without blocking and without waking any task; for fan-out to many connections.

        Returns True when the frame was handed to the kernel (whatever the kernel did
        not take is queued for the writer task, which finishes it). Returns False when
        nothing was sent because the connection is busy writing, closing, or not over a
        plain TCP socket: then send the frame with :meth:`send_frame_bytes`, which
        queues it behind what is already waiting and applies backpressure.
        """
        conn = self._conn
        if conn.close_sent or conn.state is not _OPEN:
            return False
        return self._writer.write_frame_nowait(frame)

    async def ping(self, payload: bytes | None = None) -> None:
        """Send a ping and wait for its pong (a random 4-byte payload when None).

        Wrap it in ``trio.move_on_after`` to bound the wait. Raises
        :class:`ConnectionClosed` if the connection ends first.
        """
        pings = self._pings
        if pings is None:
            pings = self._pings = {}
        if payload is None:
            payload = os.urandom(4)
            while payload in pings:
                payload = os.urandom(4)
        if self._conn.close_sent or self._conn.state is not _OPEN:
            await self._raise_closed()
        event = pings.get(payload)
        if event is None:
            event = pings[payload] = trio.Event()
        self._conn.send_ping(payload)
        if not await self._writer.queued(len(payload)):
            await self._raise_closed()
        if self._background:
            await event.wait()
        else:
            while not event.is_set():
                await self._read_or_wait()
        if pings.get(payload) is event:  # woken by the end, not by the pong
            await self._raise_closed()

    # -- closing ---------------------------------------------------------------------------

    async def close(self, code: int = CloseCode.NORMAL, reason: str = "") -> None:
        """Close the connection with ``code`` and ``reason`` and wait until it is closed.

        Waits at most ``close_timeout`` for the peer's answer, then drops the stream.
        Safe to call more than once and after the peer has closed. Messages arriving
        after this call are discarded.
        """
        self._close_called = True
        _wake(self._room_for_messages)
        self._wake_progress()
        if self.closed is None:
            if self._conn.state is _OPEN and not self._conn.close_sent:
                self._conn.send_close(code, reason)
                self._writer.wake()
            with trio.move_on_after(self.config.close_timeout):
                await self._until_closed()
            if self.closed is None:
                logger.debug("close handshake timed out; dropping the stream")
                await trio.aclose_forcefully(self._stream)
                # Nothing more can come, and what we owe the peer can never drain now:
                # reading must not wait for it (a peer that never read would hang us).
                self._reader.stop()
                await self._until_closed()
        else:
            await trio.lowlevel.checkpoint()

    def abort(self, code: int, reason: str = "") -> None:
        """Fail the connection now, from any task and without waiting: queue a close
        frame with ``code`` and ``reason``, write what the socket takes at once, and
        wake every waiting task, which then sees ``ConnectionClosed(code, reason)``.

        For a peer that stopped reading, where a close handshake would only wait.
        Only streams over a socket can be woken; others end at the next read.
        """
        if self.closed is not None or self._local_failure is not None:
            return
        self._local_failure = ConnectionClosed(code, reason)
        self._reader.stop()
        self._close_called = True
        conn = self._conn
        if conn.state is _OPEN and not conn.close_sent:
            conn.send_close(code, reason)
            self._writer.flush_nowait()
        stream: Any = self._stream
        while isinstance(stream, trio.SSLStream):
            stream = stream.transport_stream
        if isinstance(stream, trio.SocketStream):
            # Readers and writers blocked on the socket get ClosedResourceError; the
            # reader then closes the stream and records the end.
            trio.lowlevel.notify_closing(stream.socket)

    async def aclose(self) -> None:
        """Close with 1000 (normal closure); the ``trio.abc.AsyncResource`` spelling."""
        await self.close()

    # -- keepalive -------------------------------------------------------------------------

    def check_keepalive(self, now: float) -> None:
        """For a shared keepalive timer (the reads are then untimed): send the ping
        that is due at ``now``, or abort with 1011 when the last one went unanswered
        for ``ping_timeout`` while a task waits to read the pong."""
        conn = self._conn
        if (
            self.closed is not None
            or self._local_failure is not None
            or conn.close_sent
            or conn.state is not _OPEN
        ):
            return
        due = self._keepalive.check(now)
        if due is Due.PING:
            self._send_keepalive_ping(now)
        elif due is Due.PONG_OVERDUE and (self._reading or self._background):
            # Only while a task reads: the pong of a connection nobody reads can't arrive.
            logger.info("keepalive ping timed out; closing %s", self.remote_address)
            self.abort(CloseCode.INTERNAL_ERROR, _KEEPALIVE_TIMEOUT)

    def _send_keepalive_ping(self, now: float) -> None:
        self._conn.send_ping(os.urandom(4))
        self._writer.flush_nowait()
        self._keepalive.ping_sent(now)

    async def _keepalive_due(self) -> bool:
        """A read stopped at its keepalive deadline: send the next ping, or, when the
        last one went unanswered for ``ping_timeout``, fail the connection with 1011 and
        return False.

        The reader calls this between reads, so keepalive costs no task; while the
        application leaves ``max_queued_messages`` unread, pings wait too.
        """
        conn = self._conn
        keepalive = self._keepalive
        if conn.close_sent or conn.state is not _OPEN:
            keepalive.stop()
            return True
        now = trio.current_time()
        due = keepalive.check(now)
        if due is Due.PING:
            self._send_keepalive_ping(now)
        if due is not Due.PONG_OVERDUE:
            return True
        logger.info("keepalive ping timed out; closing %s", self.remote_address)
        code = CloseCode.INTERNAL_ERROR
        self._local_failure = ConnectionClosed(code, _KEEPALIVE_TIMEOUT)
        self._reader.stop()
        conn.send_close(code, _KEEPALIVE_TIMEOUT)
        with trio.move_on_after(self.config.close_timeout):
            await self._writer.write_now()
        await trio.aclose_forcefully(self._stream)
        return False

    # -- the background task ---------------------------------------------------------------

    async def run(self) -> None:
        """Read, answer pings, keep alive; return once the stream is closed.

        The server and client start this in the connection's nursery. If cancelled
        (e.g. the server shuts down) it closes with 1001 "going away" first, waiting at
        most ``close_timeout`` for the peer's answer.
        """
        if not self._background:
            raise RuntimeError("this WebSocket reads inline; run() is not for it")
        try:
            async with trio.open_nursery() as nursery:
                self._writer.attach(nursery)
                try:
                    await self._read_until_closed()
                except trio.Cancelled:
                    with trio.CancelScope(shield=True):
                        await self._go_away()
                    raise
                nursery.cancel_scope.cancel()
        finally:
            self._writer.detach()
            with trio.CancelScope(shield=True):
                await self._finish()

    async def _go_away(self) -> None:
        with trio.move_on_after(self.config.close_timeout):
            if self._conn.state is _OPEN and not self._conn.close_sent:
                self._conn.send_close(CloseCode.GOING_AWAY, "going away")
            await self._writer.write_now()  # the writer task is cancelled too
            await self._read_until_closed()

    async def _read_until_closed(self) -> None:
        """Background: read and queue until the connection is over."""
        conn = self._conn
        data = b""
        eof = False
        while True:
            if data:
                conn.receive_data(data)
            elif eof:
                conn.receive_eof()
            self._dispatch()
            if conn.close_held:
                await self._answer_before_closing()
            if conn.should_close_transport:
                break
            if conn.close_sent or self._answers_due:
                self._writer.flush_nowait()
            while (
                len(self._messages) >= self.config.max_queued_messages
                and not self._close_called
            ):
                room = self._room_for_messages = trio.Event()
                await room.wait()
            chunk = await self._reader.receive()
            if chunk is None:
                data = b""
                if not await self._keepalive_due():
                    eof = True
                    break
                continue
            data = chunk
            eof = not data
        await self._say_goodbye(eof)

    async def _answer_before_closing(self) -> None:
        """Let the application take the messages that came before the peer's close or
        a protocol violation (and queue its answers), then queue our close after them;
        waits at most ``close_timeout``. Needs a connection made with ``hold_close``."""
        with trio.move_on_after(self.config.close_timeout):
            while self._messages and not self._close_called:
                room = self._room_for_messages = trio.Event()
                await room.wait()
        self._conn.release_close()

    # -- inline reading (no run() task) ----------------------------------------------------

    async def _read_or_wait(self) -> None:
        """Read one round from the stream, or, while another task reads or reading is
        paused (the application has messages to take first), wait for progress.
        Callers loop until what they wait for happened."""
        if self._reading or (self._messages and self._read_paused()):
            progress = self._progress
            if progress is None:
                progress = self._progress = trio.Event()
            await progress.wait()
            return
        # This task reads: write what is queued, read once (or meet a keepalive
        # deadline), queue what arrived; end the connection when it is over.
        self._reading = True
        try:
            conn = self._conn
            writer = self._writer
            eof = False
            if conn.close_held:
                conn.release_close()  # the messages before the close were taken
            if not conn.should_close_transport:
                if writer.owed:
                    writer.flush_nowait()
                data = await self._reader.receive()
                if data is None:  # a keepalive deadline passed
                    if await self._keepalive_due():
                        return
                    data, eof = b"", True
                if data:
                    conn.receive_data(data)
                elif not eof:
                    conn.receive_eof()
                    eof = True
                self._dispatch()
                if conn.close_held and (not self._messages or self._close_called):
                    conn.release_close()
            if conn.should_close_transport or eof:
                await self._end(eof)
            elif conn.close_sent or self._answers_due:
                writer.flush_nowait()
        finally:
            self._reading = False
            if self._progress is not None:
                self._wake_progress()

    def _read_paused(self) -> bool:
        """Inline: True while queued messages must be taken before reading on."""
        if self._close_called or not self._messages:
            return False
        return self._conn.close_held or len(self._messages) >= self.config.max_queued_messages

    def _wake_progress(self) -> None:
        """Wake the tasks waiting for the inline reader's next round."""
        progress, self._progress = self._progress, None
        if progress is not None:
            progress.set()

    async def _end(self, eof: bool) -> None:
        """Inline: say goodbye (see ``_say_goodbye``), then close the stream and record
        the end."""
        await self._say_goodbye(eof)
        with trio.CancelScope(shield=True):
            await self._finish()

    # -- what arrived ----------------------------------------------------------------------

    def _dispatch(self) -> None:
        self._answers_due = False
        arrived = False
        for event in self._conn.events_received():
            kind = type(event)
            if kind is TextMessage or kind is BinaryMessage:
                if not self._close_called:
                    self._messages.append(event.data)  # type: ignore[attr-defined]
                    arrived = True
            elif kind is Pong:
                self._pong(event.payload)  # type: ignore[attr-defined]
            else:  # a Ping (its pong is queued) or the peer's close (its answer is queued)
                self._answers_due = True
        if arrived:
            _wake(self._message_arrived)

    def _pong(self, payload: bytes) -> None:
        """Wake the ping with this payload and every earlier one (section 5.5.3)."""
        keepalive = self._keepalive
        if keepalive.pong_due is not None:
            keepalive.pong_received(trio.current_time())
        pings = self._pings
        if not pings or payload not in pings:
            return
        for key in list(pings):
            pings.pop(key).set()
            if key == payload:
                break

    # -- the end ---------------------------------------------------------------------------

    async def _raise_closed(self) -> None:
        """Wait until the connection is fully closed, then raise how it ended."""
        await self._until_closed()
        assert self.closed is not None
        raise self.closed

    async def _until_closed(self) -> None:
        """Return once the connection is fully closed (reading meanwhile, inline)."""
        while self.closed is None:
            if self._background:
                event = self._closed_event
                if event is None:
                    event = self._closed_event = trio.Event()
                await event.wait()
            else:
                await self._read_or_wait()

    async def _say_goodbye(self, eof: bool) -> None:
        """Write our close answer (or the close of a failure) before the stream goes,
        and, as a client, wait for the server to close TCP first (unless it has)."""
        if self._local_failure is not None:
            eof = True  # failed (keepalive, abort): what could be written was
        else:
            with trio.move_on_after(self.config.close_timeout):
                await self._writer.write_now()
        if self._conn.role is Role.CLIENT and not eof:
            # RFC 6455 section 7.1.1: the client waits for the server to close TCP first.
            with trio.move_on_after(self.config.close_timeout):
                try:
                    while await self._stream.receive_some(RECEIVE_SIZE):
                        pass
                except (trio.BrokenResourceError, trio.ClosedResourceError):
                    pass

    async def _finish(self) -> None:
        """Close the stream, record how the connection ended, wake every waiting task."""
        await trio.aclose_forcefully(self._stream)
        conn = self._conn
        if self._local_failure is not None:
            closed = self._local_failure
        elif conn.failure is not None:
            closed = ConnectionClosed(conn.failure.code, conn.failure.message)
        elif conn.close_code is not None:
            closed = ConnectionClosed(conn.close_code, conn.close_reason)
        else:
            closed = ConnectionClosed(
                CloseCode.ABNORMAL_CLOSURE, "connection lost without a close frame"
            )
        self.closed = closed
        logger.debug("connection %s closed: %s", self.remote_address, closed)
        _wake(self._closed_event)
        _wake(self._message_arrived)
        _wake(self._room_for_messages)
        self._writer.end()
        if self._pings:
            for event in self._pings.values():
                event.set()
