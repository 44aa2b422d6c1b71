"""The read side of a WebSocket: the next bytes from the stream, waiting at most until
the connection's keepalive deadline.

A :class:`Reader` belongs to one :class:`~gameserver.ws.websocket.WebSocket`, whose
reading task calls :meth:`Reader.receive` once per round:

- bytes the opening handshake read past its end come first;
- over plain TCP it reads the socket's file descriptor itself
  (:func:`~gameserver.ws.rawfd.read_nowait`, then ``wait_readable``): an idle
  connection then waits in fewer, smaller frames than those of
  ``SocketStream.receive_some``, about 1 KB less per connection; other streams (TLS,
  memory) are read with ``receive_some``;
- after a read that emptied the socket (less than ``RECEIVE_SIZE`` bytes), the next
  one waits for readability before it reads: a peer that waits for our answer sends
  nothing until it has it, so reading at once would only fail (a system call and an
  exception per message);
- while we owe the peer more than ``write_limit`` bytes (pongs for a ping flood, say)
  it reads nothing until the writer has caught up, so what we hold for a peer that
  does not read stays bounded and TCP pushes back on the peer instead;
- the wait ends at the keepalive deadline
  (:attr:`~gameserver.ws.keepalive_deadlines.KeepaliveDeadlines.read_deadline`); the
  first read starts the keepalive clock.
"""

from __future__ import annotations

import math

import trio

from gameserver.ws.keepalive_deadlines import KeepaliveDeadlines
from gameserver.ws.rawfd import RECEIVE_SIZE, read_nowait
from gameserver.ws.writer import Writer

__all__ = ["Reader"]


class Reader:
    """Reads ``stream`` for one WebSocket (see module doc)."""

    # Slots, no per-instance dict: every open connection has one reader.
    __slots__ = (
        "_initial", "_keepalive", "_socket", "_stopped", "_stream", "_wait_first", "_writer",
    )

    def __init__(
        self,
        stream: trio.abc.Stream,
        writer: Writer,
        keepalive: KeepaliveDeadlines,
        *,
        initial_data: bytes = b"",
    ) -> None:
        self._stream = stream
        self._writer = writer
        self._keepalive = keepalive
        self._initial = initial_data
        # The plain TCP socket under the stream, read through its file descriptor.
        self._socket = stream.socket if type(stream) is trio.SocketStream else None
        self._stopped = False
        # The last read emptied the socket (it returned less than RECEIVE_SIZE), so the
        # next read would most likely find nothing: wait for readability first. A peer
        # that waits for our answer sends nothing more until it has it, and a read that
        # fails costs a system call and an exception per message.
        self._wait_first = False

    def stop(self) -> None:
        """Read nothing more (the connection was aborted): ``receive`` returns b""."""
        self._stopped = True

    async def receive(self) -> bytes | None:
        """The next bytes: b"" when the stream ended or broke (or after ``stop``), None
        when the keepalive deadline passed first (then see what is due, and call again).
        """
        if self._stopped:
            return b""
        initial = self._initial
        if initial:
            await trio.lowlevel.checkpoint_if_cancelled()
            self._initial = b""
            return initial
        keepalive = self._keepalive
        if keepalive.ping_due is None:
            keepalive.start(trio.current_time())
        due = keepalive.read_deadline
        sock = self._socket
        fd = -1 if sock is None else sock.fileno()
        if sock is not None and fd < 0:
            return b""  # closed under us: nothing to read, nothing will drain
        if self._writer.over_limit:
            with trio.move_on_at(due) as timer:
                await self._writer.until_drained()
            if timer.cancelled_caught:
                return None
            fd = -1 if sock is None else sock.fileno()
            if sock is not None and fd < 0:
                return b""
        if sock is None:
            return await self._receive_from_stream(due)
        # Closing a Trio socket wakes its waiters with ClosedResourceError, so the
        # number checked here stays ours across the waits below.
        data: bytes | None = None
        if self._wait_first:
            self._wait_first = False  # the wait below is the checkpoint
        else:
            await trio.lowlevel.checkpoint_if_cancelled()
            data = read_nowait(fd)
            if data is not None:
                # Still a schedule point, so a flood cannot starve other connections.
                await trio.lowlevel.cancel_shielded_checkpoint()
        while data is None:
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
            data = read_nowait(fd)
        self._wait_first = len(data) < RECEIVE_SIZE
        return data

    async def _receive_from_stream(self, due: float) -> bytes | None:
        """``receive`` for streams that are not plain TCP (TLS, memory)."""
        try:
            with trio.move_on_at(due):
                chunk = await self._stream.receive_some(RECEIVE_SIZE)
                return chunk if type(chunk) is bytes else bytes(chunk)
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            return b""
        return None
