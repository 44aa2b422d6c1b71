"""Message credits."""

from __future__ import annotations

from gameserver.rooms.ratelimit import TokenBucket


def test_burst_then_refill_at_the_rate() -> None:
    bucket = TokenBucket(rate=10, burst=3, now=0.0)
    assert [bucket.take(0.0) for _ in range(4)] == [True, True, True, False]
    assert bucket.strikes == 1
    assert not bucket.take(0.05)  # half a credit so far
    assert bucket.strikes == 2
    assert bucket.take(0.1)
    assert bucket.strikes == 0
    assert [bucket.take(10.0) for _ in range(4)] == [True, True, True, False]  # capped at burst
