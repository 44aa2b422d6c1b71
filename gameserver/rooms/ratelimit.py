"""Message credits (sans-IO token bucket) for one connection."""

from __future__ import annotations


class TokenBucket:
    """``rate`` credits per second, at most ``burst`` saved up; one credit per message.

    Call ``take(now)`` for each incoming message: False means answer ``rate_limited``.
    ``strikes`` counts refusals in a row; the caller closes the connection with 1008
    once it reaches its own limit.
    """

    __slots__ = ("rate", "burst", "_credits", "_updated", "strikes")  # one per connection

    def __init__(self, rate: float, burst: float, now: float) -> None:
        self.rate = rate
        self.burst = burst
        self._credits = burst
        self._updated = now
        self.strikes = 0

    def take(self, now: float) -> bool:
        """Spend one credit if there is one; return whether the message may be served."""
        self._credits = min(self.burst, self._credits + (now - self._updated) * self.rate)
        self._updated = now
        if self._credits >= 1:
            self._credits -= 1
            self.strikes = 0
            return True
        self.strikes += 1
        return False
