"""The input half of a :class:`~gameserver.ws.websocket.WebSocket`: reading the
stream, inline or in a background task, turning what arrived into queued messages and
answers, keeping the keepalive deadlines, and recording how the connection ended.

See :mod:`gameserver.ws.websocket` for the whole design.
"""

from __future__ import annotations

import logging
import math
import os

import trio

from gameserver.ws.connection import ConnectionState, Role
from gameserver.ws.events import BinaryMessage, Pong, TextMessage
from gameserver.ws.exceptions import ConnectionClosed
from gameserver.ws.websocket_output import WebSocketOutput

__all__ = ["WebSocketInput"]

logger = logging.getLogger("gameserver.ws.websocket")

# 64 KiB per read: large enough to take many small frames in one go, small enough
# to stay below malloc's mmap threshold so each read is cheap.
_RECEIVE_SIZE = 65536

_OPEN = ConnectionState.OPEN


def _read_nowait(fd: int) -> bytes | None:
    """Read what the non-blocking ``fd`` has, or None when it has nothing yet.

    A plain function, not inline in the reading coroutine: the BlockingIOError's
    traceback would give that coroutine a frame object (about 250 bytes) for as long as
    the connection lives.
    """
    try:
        return os.read(fd, _RECEIVE_SIZE)
    except BlockingIOError:
        return None


class WebSocketInput(WebSocketOutput):
    """A WebSocket's reading; part of :class:`~gameserver.ws.websocket.WebSocket`, not
    for use on its own."""

    __slots__ = ()

    # -- waiting for the end ---------------------------------------------------------------

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

    # -- inline reading (no run() task) ----------------------------------------------------

    async def _read_or_wait(self) -> None:
        """Read one round from the stream, or, while another task reads or reading is
        paused (the application has messages to take first), wait for progress.
        Callers loop until what they wait for happened."""
        if self._reading or self._read_paused():
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
            eof = False
            if conn.close_held:
                conn.release_close()  # the messages before the close were taken
            if not conn.should_close_transport:
                if conn.bytes_to_send or self._unsent:
                    self._flush_nowait()
                data, self._initial_data = self._initial_data, b""
                if not data:
                    chunk = await self._receive_chunk()
                    if chunk is None:
                        if await self._keepalive():
                            return
                        chunk, eof = b"", True
                    data = chunk
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
                self._flush_nowait()
        finally:
            self._reading = False
            self._wake_progress()

    def _read_paused(self) -> bool:
        """Inline: True while queued messages must be taken before reading on."""
        if self._close_called or not self._messages:
            return False
        return self._conn.close_held or len(self._messages) >= self.config.max_queued_messages

    async def _receive_chunk(self) -> bytes | None:
        """Read from the stream until the next keepalive deadline: the bytes read (b""
        when the stream ended or broke), or None when the deadline passed first.

        Over plain TCP it reads the socket's file descriptor itself (as try_send_frame
        writes it): an idle connection then waits in fewer, smaller frames than those
        of ``SocketStream.receive_some``, about 1 KB less per connection.
        """
        if self._local_failure is not None:
            return b""  # aborted: read nothing more
        due = self._ping_due
        if due is None:
            interval = self.config.ping_interval
            due = self._ping_due = (
                math.inf if interval is None else trio.current_time() + interval
            )
        if self._pong_due is not None:
            due = self._pong_due
        if self._shared_keepalive:
            due = math.inf  # check_keepalive keeps the deadlines
        if self._conn.bytes_to_send + len(self._unsent) > self.config.write_limit:
            # We owe the peer more than write_limit (pongs for a ping flood, say) and it
            # is not reading: read nothing more until the writer has caught up, so what
            # we hold for it stays bounded and TCP pushes back on the peer instead.
            with trio.move_on_at(due) as timer:
                await self._until_drained()
            if timer.cancelled_caught:
                return None
        sock = self._socket
        if sock is None:
            return await self._receive_from_stream(due)
        await trio.lowlevel.checkpoint_if_cancelled()
        fd = sock.fileno()
        waited = False
        while True:
            if fd < 0 or sock.fileno() != fd:  # closed (its number may be reused)
                return b""
            try:
                data = _read_nowait(fd)
            except OSError:
                return b""  # broken, e.g. reset by the peer
            if data is not None:
                break
            try:
                if due == math.inf:  # no timer, no cancel scope
                    await trio.lowlevel.wait_readable(fd)
                else:
                    with trio.move_on_at(due) as timer:
                        await trio.lowlevel.wait_readable(fd)
                    if timer.cancelled_caught:
                        return None
            except trio.ClosedResourceError:
                return b""
            waited = True
        if not waited:
            # Still a schedule point, so a flood cannot starve other connections.
            await trio.lowlevel.cancel_shielded_checkpoint()
        return data

    async def _receive_from_stream(self, due: float) -> bytes | None:
        """``_receive_chunk`` for streams that are not plain TCP (TLS, memory)."""
        try:
            with trio.move_on_at(due):
                chunk = await self._stream.receive_some(_RECEIVE_SIZE)
                return chunk if type(chunk) is bytes else bytes(chunk)
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            return b""
        return None

    async def _end(self, eof: bool) -> None:
        """Inline: say goodbye (see ``_say_goodbye``), then close the stream and record
        the end."""
        await self._say_goodbye(eof)
        with trio.CancelScope(shield=True):
            await self._finish()
    # -- background reading (the run() task) -----------------------------------------------

    async def _go_away(self) -> None:
        with trio.move_on_after(self.config.close_timeout):
            if self._conn.state is _OPEN and not self._conn.close_sent:
                self._conn.send_close(1001, "going away")
            await self._write_now()  # the writer task is cancelled too
            await self._read_until_closed()

    async def _read_until_closed(self) -> None:
        """Background: read and queue until the connection is over."""
        conn = self._conn
        data, self._initial_data = self._initial_data, b""
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
                self._flush_nowait()
            while (
                len(self._messages) >= self.config.max_queued_messages
                and not self._close_called
            ):
                room = self._room_for_messages = trio.Event()
                await room.wait()
            chunk = await self._receive_chunk()
            if chunk is None:
                data = b""
                if not await self._keepalive():
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
            self._wake(self._message_arrived)

    def _pong(self, payload: bytes) -> None:
        """Wake the ping with this payload and every earlier one (section 5.5.3)."""
        if self._pong_due is not None:
            # Any pong shows the peer is alive: the next keepalive ping is due later.
            self._pong_due = None
            interval = self.config.ping_interval
            self._ping_due = math.inf if interval is None else trio.current_time() + interval
        if payload not in self._pings:
            return
        for key in list(self._pings):
            self._pings.pop(key).set()
            if key == payload:
                break

    # -- keepalive -------------------------------------------------------------------------

    async def _keepalive(self) -> bool:
        """A keepalive deadline passed: send the next ping, or, when the last one went
        unanswered for ``ping_timeout``, fail the connection with 1011 and return False.

        The reader calls this between reads, so keepalive costs no task; while the
        application leaves ``max_queued_messages`` unread, pings wait too.
        """
        conn = self._conn
        if conn.close_sent or conn.state is not _OPEN:
            self._ping_due, self._pong_due = math.inf, None
            return True
        if self._pong_due is None:
            conn.send_ping(os.urandom(4))
            self._flush_nowait()
            self._pong_due = trio.current_time() + self.config.ping_timeout
            return True
        logger.info("keepalive ping timed out; closing %s", self.remote_address)
        self._local_failure = ConnectionClosed(1011, "keepalive ping timeout")
        conn.send_close(1011, "keepalive ping timeout")
        with trio.move_on_after(self.config.close_timeout):
            await self._write_now()
        await trio.aclose_forcefully(self._stream)
        return False

    def check_keepalive(self, now: float) -> None:
        """For a shared keepalive timer (the reads are then untimed): send the ping
        that is due at ``now``, or abort with 1011 when the last one went unanswered
        for ``ping_timeout`` while a task waits to read the pong."""
        conn = self._conn
        due = self._ping_due
        if (
            due is None  # not read yet: the first read sets the first deadline
            or self.closed is not None
            or self._local_failure is not None
            or conn.close_sent
            or conn.state is not _OPEN
        ):
            return
        pong_due = self._pong_due
        if pong_due is None:
            if now >= due:
                conn.send_ping(os.urandom(4))
                self._flush_nowait()
                self._pong_due = now + self.config.ping_timeout
        elif now >= pong_due and (self._reading or self._background):
            logger.info("keepalive ping timed out; closing %s", self.remote_address)
            self._fail(1011, "keepalive ping timeout")

    # -- the end ---------------------------------------------------------------------------

    async def _say_goodbye(self, eof: bool) -> None:
        """Write our close answer (or the close of a failure) before the stream goes,
        and, as a client, wait for the server to close TCP first (unless it has)."""
        if self._local_failure is not None:
            eof = True  # failed (keepalive, abort): what could be written was
        else:
            with trio.move_on_after(self.config.close_timeout):
                await self._write_now()
        if self._conn.role is Role.CLIENT and not eof:
            # RFC 6455 section 7.1.1: the client waits for the server to close TCP first.
            with trio.move_on_after(self.config.close_timeout):
                try:
                    while await self._stream.receive_some(_RECEIVE_SIZE):
                        pass
                except (trio.BrokenResourceError, trio.ClosedResourceError):
                    pass

    async def _finish(self) -> None:
        await trio.aclose_forcefully(self._stream)
        conn = self._conn
        if self._local_failure is not None:
            closed = self._local_failure
        elif conn.failure is not None:
            closed = ConnectionClosed(conn.failure.code, conn.failure.message)
        elif conn.close_code is not None:
            closed = ConnectionClosed(conn.close_code, conn.close_reason)
        else:
            closed = ConnectionClosed(1006, "connection lost without a close frame")
        self.closed = closed
        logger.debug("connection %s closed: %s", self.remote_address, closed)
        self._wake(self._closed_event)
        self._wake(self._message_arrived)
        self._wake(self._room_for_messages)
        self._wake(self._below_write_limit)
        for event in self._pings.values():
            event.set()

