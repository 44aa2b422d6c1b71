"""The Trio adapter: one WebSocket endpoint over any ``trio.abc.Stream``.

A :class:`WebSocket` wraps a sans-IO :class:`~gameserver.ws.connection.Connection`.
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

A writer task (in ``run``'s nursery, or inline in the nursery given to the
constructor) starts when a write has to wait. While received messages are still
waiting to be answered, ``send`` only queues a frame and wakes the writer, which runs
once the sending task blocks and writes everything queued by then with one
``send_all``: a burst of replies costs one system call, not one each. Otherwise
``send`` writes at once. It waits only when more than ``write_limit`` bytes are
queued (backpressure). Reading waits too while more than ``write_limit`` bytes are owed
to a peer that does not read them (pongs to a ping flood, say), so TCP pushes back on
the peer instead of the buffer growing.

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

from gameserver.ws.connection import ConnectionState
from gameserver.ws.exceptions import ConnectionClosed
from gameserver.ws.websocket_input import WebSocketInput
from gameserver.ws.websocket_output import Message

__all__ = ["WebSocket", "Message", "OK_CLOSE_CODES", "peer_address"]

logger = logging.getLogger(__name__)

# Close codes that end ``async for`` quietly: normal closure, going away, no code given.
OK_CLOSE_CODES = frozenset({1000, 1001, 1005})

_OPEN = ConnectionState.OPEN


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


class WebSocket(WebSocketInput):
    """One open WebSocket connection; use it from any number of tasks.

    Do not construct it directly: :func:`~gameserver.ws.server.serve_websocket` hands
    one to each handler, :func:`~gameserver.ws.client.open_websocket` yields one.
    Constructed with a ``nursery`` it reads inline (see module doc) and starts its
    writer tasks there; without one, a task must run :meth:`run`. With
    ``shared_keepalive`` its reads are not timed: a
    :class:`~gameserver.ws.keepalive.SharedKeepalive` calls :meth:`check_keepalive`.
    """

    # The state lives in WebSocketOutput's slots.
    __slots__ = ()

    # -- receiving -------------------------------------------------------------------------

    async def receive(self) -> Message:
        """Return the next whole message: ``str`` for text, ``bytes`` for binary.

        Raises :class:`ConnectionClosed` once the connection is over and every message
        that arrived before the end has been returned.
        """
        await trio.lowlevel.checkpoint_if_cancelled()
        while not self._messages:
            if self.closed is not None:
                raise self.closed
            if self._background:
                arrived = self._message_arrived
                if arrived is None or arrived.is_set():
                    arrived = self._message_arrived = trio.Event()
                await arrived.wait()
            else:
                await self._read_or_wait()
        message = self._messages.pop(0)
        if len(self._messages) < self.config.max_queued_messages:
            self._wake(self._room_for_messages)
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

        Queues the frame for the writer task; waits only while more than
        ``write_limit`` bytes are queued. Raises :class:`ConnectionClosed` when the
        connection is closing or closed.
        """
        conn = self._conn
        if conn.close_sent or conn.state is not _OPEN:
            await self._raise_closed()
        if isinstance(message, str):
            conn.send_text(message)
        else:
            conn.send_binary(message)
        if not await self._queued(len(message)):
            await self._raise_closed()

    async def send_frame_bytes(self, frame: bytes) -> None:
        """Send a frame already built by :func:`~gameserver.ws.frames.encode_frame`.

        For fan-out: encode once, then call this on every recipient. Raises
        :class:`ConnectionClosed` like :meth:`send`.
        """
        if self._conn.close_sent or self._conn.state is not _OPEN:
            await self._raise_closed()
        self._conn.send_frame_bytes(frame)
        if not await self._queued(len(frame)):
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
        sock = self._socket
        conn = self._conn
        if (
            sock is None
            or self._send_lock.locked()
            or conn.close_sent
            or conn.state is not _OPEN
        ):
            return False
        fd = sock.fileno()
        if fd < 0:
            return False
        # Pongs or close answers queued by the reader go first, in the same write.
        pending = self._take_output()
        self._write_nowait(fd, pending + frame if pending else frame)
        return True

    async def ping(self, payload: bytes | None = None) -> None:
        """Send a ping and wait for its pong (a random 4-byte payload when None).

        Wrap it in ``trio.move_on_after`` to bound the wait. Raises
        :class:`ConnectionClosed` if the connection ends first.
        """
        if payload is None:
            payload = os.urandom(4)
            while payload in self._pings:
                payload = os.urandom(4)
        if self._conn.close_sent or self._conn.state is not _OPEN:
            await self._raise_closed()
        event = self._pings.get(payload)
        if event is None:
            event = self._pings[payload] = trio.Event()
        self._conn.send_ping(payload)
        if not await self._queued(len(payload)):
            await self._raise_closed()
        if self._background:
            await event.wait()
        else:
            while not event.is_set():
                await self._read_or_wait()
        if self._pings.get(payload) is event:  # woken by the end, not by the pong
            await self._raise_closed()

    # -- closing ---------------------------------------------------------------------------

    async def close(self, code: int = 1000, reason: str = "") -> None:
        """Close the connection with ``code`` and ``reason`` and wait until it is closed.

        Waits at most ``close_timeout`` for the peer's answer, then drops the stream.
        Safe to call more than once and after the peer has closed. Messages arriving
        after this call are discarded.
        """
        self._close_called = True
        self._wake(self._room_for_messages)
        self._wake_progress()
        if self.closed is None:
            if self._conn.state is _OPEN and not self._conn.close_sent:
                self._conn.send_close(code, reason)
                self._wake_writer()
            with trio.move_on_after(self.config.close_timeout):
                await self._until_closed()
            if self.closed is None:
                logger.debug("close handshake timed out; dropping the stream")
                await trio.aclose_forcefully(self._stream)
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
        self._fail(code, reason)

    async def aclose(self) -> None:
        """Close with 1000 (normal closure); the ``trio.abc.AsyncResource`` spelling."""
        await self.close()

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
                self._nursery = nursery
                if self._write_wanted is not None and self._write_wanted.is_set():
                    self._wake_writer()
                try:
                    await self._read_until_closed()
                except trio.Cancelled:
                    with trio.CancelScope(shield=True):
                        await self._go_away()
                    raise
                nursery.cancel_scope.cancel()
        finally:
            self._nursery = None
            with trio.CancelScope(shield=True):
                await self._finish()

