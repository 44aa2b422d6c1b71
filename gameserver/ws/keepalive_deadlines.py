"""When a WebSocket's next keepalive ping is due, and when its pong is overdue.

Sans-IO: no Trio here; every method that needs the time takes it as ``now`` (the
adapter passes ``trio.current_time()``). The owner sends the pings and fails the
connection; this object only keeps the two deadlines:

- ``start(now)``, at the connection's first read: the first ping is due
  ``ping_interval`` later (never, when ``ping_interval`` is None);
- the ping deadline passes (``check`` says ``Due.PING``): the owner sends a ping and
  calls ``ping_sent(now)``; its pong is due ``ping_timeout`` later;
- any pong arrives (``pong_received(now)``): the peer is alive, the next ping is due
  ``ping_interval`` later;
- the pong deadline passes (``Due.PONG_OVERDUE``): the owner fails the connection
  with 1011;
- the connection is closing (``stop()``): nothing is due any more.

The connection's reader waits for input until ``read_deadline``; with ``shared`` set,
a :class:`~gameserver.ws.keepalive.SharedKeepalive` timer calls ``check`` instead and
reads are not timed at all.
"""

from __future__ import annotations

import enum
import math

__all__ = ["Due", "KeepaliveDeadlines"]


class Due(enum.Enum):
    """What a passed deadline asks of the owner."""

    NOTHING = "nothing"  # no deadline has passed
    PING = "ping"  # send a keepalive ping, then call ping_sent
    PONG_OVERDUE = "pong overdue"  # the last ping went unanswered: fail with 1011


class KeepaliveDeadlines:
    """The keepalive deadlines of one connection (see module doc)."""

    __slots__ = ("ping_due", "pong_due", "shared", "_interval", "_timeout")

    def __init__(self, ping_interval: float | None, ping_timeout: float, *, shared: bool) -> None:
        self.ping_due: float | None = None
        """When the next ping is due (inf: never); None until ``start``."""
        self.pong_due: float | None = None
        """When the outstanding ping's pong is overdue; None when no ping is outstanding."""
        self.shared = shared
        """True: a shared timer calls ``check``; the connection's reads are not timed."""
        self._interval = ping_interval
        self._timeout = ping_timeout

    def start(self, now: float) -> None:
        """Start the clock (at the first read; later calls do nothing)."""
        if self.ping_due is None:
            interval = self._interval
            self.ping_due = math.inf if interval is None else now + interval

    @property
    def read_deadline(self) -> float:
        """When a read must stop waiting to call ``check``: inf when nothing is due,
        the timer is shared, or the clock has not started."""
        if self.shared:
            return math.inf
        due = self.pong_due if self.pong_due is not None else self.ping_due
        return math.inf if due is None else due

    def check(self, now: float) -> Due:
        """What is due at ``now`` (nothing before ``start``)."""
        if self.ping_due is None:
            return Due.NOTHING
        if self.pong_due is None:
            return Due.PING if now >= self.ping_due else Due.NOTHING
        return Due.PONG_OVERDUE if now >= self.pong_due else Due.NOTHING

    def ping_sent(self, now: float) -> None:
        """A keepalive ping went out at ``now``: its pong is due ``ping_timeout`` later."""
        self.pong_due = now + self._timeout

    def pong_received(self, now: float) -> None:
        """A pong arrived (any pong shows the peer is alive): the next ping is due
        ``ping_interval`` after ``now``, if one was outstanding."""
        if self.pong_due is not None:
            self.pong_due = None
            interval = self._interval
            self.ping_due = math.inf if interval is None else now + interval

    def stop(self) -> None:
        """The connection is closing: no more pings, no pong awaited."""
        self.ping_due, self.pong_due = math.inf, None
