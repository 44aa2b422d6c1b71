"""Rate limits, sans-IO (every method takes ``now`` in seconds):

* ``TokenBucket`` — message credits of one connection;
* ``EventWindow`` — "N events within T seconds" (flood refusals of one connection, wrong
  invite codes of one address);
* ``KeyedWindows`` — one ``EventWindow`` per key (a client address), forgetting quiet keys;
* ``AddressPenalties`` — addresses cut off for flooding, refused for a time that doubles
  on each repeat.
"""

from __future__ import annotations

import math
from collections import deque


class TokenBucket:
    """``rate`` credits per second, at most ``burst`` saved up; one credit per message.

    Call ``take(now)`` for each incoming message: False means answer ``rate_limited``
    (and count the refusal, see ``EventWindow``).
    """

    __slots__ = ("rate", "burst", "_credits", "_updated")  # one per connection

    def __init__(self, rate: float, burst: float, now: float) -> None:
        self.rate = rate
        self.burst = burst
        self._credits = burst
        self._updated = now

    def take(self, now: float) -> bool:
        """Spend one credit if there is one; return whether the message may be served."""
        self._credits = min(self.burst, self._credits + (now - self._updated) * self.rate)
        self._updated = now
        if self._credits >= 1:
            self._credits -= 1
            return True
        return False


class EventWindow:
    """Counts events over a sliding window: full once ``limit`` of them fell within
    ``period`` seconds (never with a ``limit`` of 0).

    Only the times of the latest ``limit`` events are kept, so the memory is bounded
    whatever the event rate.
    """

    __slots__ = ("limit", "period", "_times")

    def __init__(self, limit: int, period: float) -> None:
        self.limit = limit
        self.period = period
        self._times: deque[float] = deque(maxlen=max(1, limit))

    def add(self, now: float) -> bool:
        """Count one event at ``now``; return True when it is the ``limit``-th within
        ``period`` seconds (the caller then refuses or cuts off)."""
        self._times.append(now)
        return self.full(now)

    def full(self, now: float) -> bool:
        """True while ``limit`` events fell within the last ``period`` seconds."""
        times = self._times
        # A limit of 0 turns the window off: it is never full.
        return 0 < self.limit <= len(times) and now - times[0] <= self.period

    def retry_after(self, now: float) -> float:
        """Seconds until the window is no longer full (0.0 when it is not)."""
        if not self.full(now):
            return 0.0
        return self._times[0] + self.period - now

    def quiet(self, now: float) -> bool:
        """True when no event fell within the last ``period`` seconds (forget it)."""
        return not self._times or now - self._times[-1] > self.period


class KeyedWindows:
    """One ``EventWindow`` per key (a client address), dropping keys that went quiet."""

    # Sweeping quiet keys costs a pass over the dict; do it only when it has grown.
    _SWEEP_AT = 1024

    def __init__(self, limit: int, period: float) -> None:
        self.limit = limit
        self.period = period
        self._windows: dict[str, EventWindow] = {}
        self._sweep_at = self._SWEEP_AT

    def __len__(self) -> int:
        return len(self._windows)

    def retry_after(self, key: str, now: float) -> float:
        """Seconds until ``key`` may try again (0.0: now)."""
        window = self._windows.get(key)
        return 0.0 if window is None else window.retry_after(now)

    def add(self, key: str, now: float) -> bool:
        """Count one event for ``key``; True when its window is now full."""
        window = self._windows.get(key)
        if window is None:
            if len(self._windows) >= self._sweep_at:
                self._sweep(now)
            window = self._windows[key] = EventWindow(self.limit, self.period)
        return window.add(now)

    def _sweep(self, now: float) -> None:
        for key in [key for key, window in self._windows.items() if window.quiet(now)]:
            del self._windows[key]
        self._sweep_at = max(self._SWEEP_AT, 2 * len(self._windows))


class AddressPenalties:
    """Client addresses refused for a while after one of their connections flooded.

    The first cut-off refuses the address for ``base`` seconds; each further one while
    the address is remembered doubles the time, up to ``cap``. An address is forgotten
    once ``cap`` seconds have passed since its penalty ended.
    """

    # Bounds memory under an attack from many addresses; the oldest entries go first.
    MAX_ADDRESSES = 100_000
    _SWEEP_AT = 1024

    def __init__(self, base: float = 5.0, cap: float = 300.0) -> None:
        self.base = base
        self.cap = cap
        # address -> (refused until, number of cut-offs remembered)
        self._penalties: dict[str, tuple[float, int]] = {}
        self._sweep_at = self._SWEEP_AT

    def __len__(self) -> int:
        return len(self._penalties)

    def punish(self, address: str, now: float) -> float:
        """Record a flood cut-off of ``address``; return the seconds it is now refused."""
        until, strikes = self._penalties.pop(address, (0.0, 0))
        if now > until + self.cap:
            strikes = 0
        seconds = min(self.cap, self.base * 2.0 ** min(strikes, 64))
        if len(self._penalties) >= self._sweep_at:
            self._sweep(now)
        if len(self._penalties) >= self.MAX_ADDRESSES:
            del self._penalties[next(iter(self._penalties))]
        self._penalties[address] = (now + seconds, strikes + 1)
        return seconds

    def _sweep(self, now: float) -> None:
        forgotten = [
            address for address, (until, _) in self._penalties.items() if now > until + self.cap
        ]
        for address in forgotten:
            del self._penalties[address]
        self._sweep_at = max(self._SWEEP_AT, 2 * len(self._penalties))

    def retry_after(self, address: str, now: float) -> float:
        """Seconds ``address`` is still refused (0.0: welcome); whole seconds, rounded up,
        as an HTTP ``Retry-After`` header wants them."""
        penalty = self._penalties.get(address)
        if penalty is None or now >= penalty[0]:
            return 0.0
        return float(math.ceil(penalty[0] - now))
