"""Message credits, sliding windows and address penalties."""

from __future__ import annotations

from gameserver.sessions.ratelimit import AddressPenalties, EventWindow, KeyedWindows, TokenBucket


def test_burst_then_refill_at_the_rate() -> None:
    bucket = TokenBucket(rate=10, burst=3, now=0.0)
    assert [bucket.take(0.0) for _ in range(4)] == [True, True, True, False]
    assert not bucket.take(0.05)  # half a credit so far
    assert bucket.take(0.1)
    assert [bucket.take(10.0) for _ in range(4)] == [True, True, True, False]  # capped at burst


def test_a_window_fills_on_the_limit_th_event_within_the_period_whatever_comes_between() -> None:
    window = EventWindow(limit=3, period=10.0)
    assert not window.add(0.0)
    assert not window.add(5.0)
    assert window.add(10.0)  # the third within 10 s
    assert window.retry_after(10.0) == 0.0 + 10.0 - 10.0
    window = EventWindow(limit=3, period=10.0)
    assert not window.add(0.0) and not window.add(5.0)
    assert not window.add(10.5)  # the first has left the window
    assert window.add(11.0)
    assert window.retry_after(12.0) == 3.0  # until 5.0 + 10 s
    assert not window.full(15.5)
    off = EventWindow(limit=0, period=10.0)
    assert not any(off.add(0.0) for _ in range(100))
    assert AddressPenalties(base=0.0).punish("a", 0.0) == 0.0


def test_keyed_windows_count_per_key_and_forget_quiet_keys() -> None:
    windows = KeyedWindows(limit=2, period=60.0)
    assert not windows.add("a", 0.0)
    assert windows.add("a", 1.0)
    assert windows.retry_after("a", 30.0) == 30.0
    assert windows.retry_after("b", 30.0) == 0.0
    for index in range(2000):
        windows.add(f"k{index}", 100.0 + index)
    assert len(windows) < 2000  # swept along the way
    assert windows.retry_after("a", 61.0) == 0.0


def test_penalties_double_on_repeat_up_to_the_cap_and_are_forgotten() -> None:
    penalties = AddressPenalties(base=5.0, cap=20.0)
    assert penalties.retry_after("1.2.3.4", 0.0) == 0.0
    assert penalties.punish("1.2.3.4", 0.0) == 5.0
    assert penalties.retry_after("1.2.3.4", 0.5) == 5.0  # whole seconds, rounded up
    assert penalties.retry_after("5.6.7.8", 0.5) == 0.0
    assert penalties.retry_after("1.2.3.4", 5.0) == 0.0
    assert penalties.punish("1.2.3.4", 6.0) == 10.0
    assert penalties.punish("1.2.3.4", 17.0) == 20.0
    assert penalties.punish("1.2.3.4", 38.0) == 20.0  # capped
    # quiet for longer than the cap after the penalty ended: a first offence again
    assert penalties.punish("1.2.3.4", 38.0 + 20.0 + 20.0 + 1) == 5.0
