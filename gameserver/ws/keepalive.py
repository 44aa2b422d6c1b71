"""One timer task for the keepalive of many WebSockets that read inline.

A WebSocket read by its handler (``serve_websocket(read_inline=True)``) could time its
reads itself, but a cancel scope around every idle read costs about 1.2 KB per
connection. Instead the server registers each such WebSocket here, and one task ticks
every eighth of the shorter of ``ping_interval`` and ``ping_timeout``: it sends the
pings that are due, and aborts with 1011 a connection whose pong is overdue while a
task waits to read it (the pong of a connection nobody reads could not arrive).
"""

from __future__ import annotations

from typing import NoReturn

import trio

from gameserver.ws.websocket import WebSocket

__all__ = ["SharedKeepalive"]

# Ticks finer than this cost CPU without helping any realistic keepalive setting.
_MIN_TICK = 0.01


class SharedKeepalive:
    """The keepalive deadlines of a set of inline WebSockets, kept by :meth:`run`.

    Start ``run`` in a nursery, :meth:`add` each WebSocket once it is open and
    :meth:`discard` it when its handler is done.
    """

    __slots__ = ("tick", "_sockets")

    def __init__(self, ping_interval: float, ping_timeout: float) -> None:
        self.tick = max(_MIN_TICK, min(ping_interval, ping_timeout) / 8)
        """Seconds between two checks: deadlines are kept to within this."""
        self._sockets: set[WebSocket] = set()

    def __len__(self) -> int:
        return len(self._sockets)

    def add(self, ws: WebSocket) -> None:
        """Keep ``ws``'s keepalive from now on."""
        self._sockets.add(ws)

    def discard(self, ws: WebSocket) -> None:
        """Stop keeping ``ws``'s keepalive (its connection is over)."""
        self._sockets.discard(ws)

    async def run(self) -> NoReturn:
        """Check every registered WebSocket once per tick, until cancelled."""
        while True:
            await trio.sleep(self.tick)
            now = trio.current_time()
            # check_keepalive never awaits, so the set cannot change during the loop.
            for ws in self._sockets:
                ws.check_keepalive(now)
