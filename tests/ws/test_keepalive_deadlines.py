"""``KeepaliveDeadlines``: the sans-IO keepalive clock, driven with explicit times."""

from __future__ import annotations

import math

import pytest

from gameserver.ws.keepalive_deadlines import Due, KeepaliveDeadlines


def started(at: float = 100.0, *, shared: bool = False) -> KeepaliveDeadlines:
    """Ping every 5 s, pong within 2 s; started at ``at``."""
    deadlines = KeepaliveDeadlines(5.0, 2.0, shared=shared)
    deadlines.start(at)
    return deadlines


def test_nothing_is_due_before_the_first_read_starts_the_clock() -> None:
    deadlines = KeepaliveDeadlines(5.0, 2.0, shared=False)
    assert deadlines.check(1e9) is Due.NOTHING
    assert deadlines.read_deadline == math.inf


def test_the_first_ping_is_due_one_interval_after_start() -> None:
    deadlines = started(100.0)
    assert deadlines.read_deadline == 105.0
    assert deadlines.check(104.9) is Due.NOTHING
    assert deadlines.check(105.0) is Due.PING


def test_starting_again_keeps_the_first_deadline() -> None:
    deadlines = started(100.0)
    deadlines.start(103.0)
    assert deadlines.read_deadline == 105.0


def test_a_sent_ping_waits_for_its_pong_until_the_timeout() -> None:
    deadlines = started(100.0)
    deadlines.ping_sent(105.0)
    assert deadlines.read_deadline == 107.0
    assert deadlines.check(106.9) is Due.NOTHING
    assert deadlines.check(107.0) is Due.PONG_OVERDUE


def test_a_pong_schedules_the_next_ping_one_interval_later() -> None:
    deadlines = started(100.0)
    deadlines.ping_sent(105.0)
    deadlines.pong_received(106.0)
    assert deadlines.pong_due is None
    assert deadlines.read_deadline == 111.0
    assert deadlines.check(110.0) is Due.NOTHING
    assert deadlines.check(111.0) is Due.PING


def test_a_pong_without_a_keepalive_ping_out_moves_nothing() -> None:
    deadlines = started(100.0)
    deadlines.pong_received(103.0)  # the answer to the application's own ping
    assert deadlines.read_deadline == 105.0


def test_stop_leaves_nothing_due() -> None:
    deadlines = started(100.0)
    deadlines.ping_sent(105.0)
    deadlines.stop()
    assert deadlines.read_deadline == math.inf
    assert deadlines.check(1e9) is Due.NOTHING


def test_without_an_interval_nothing_is_ever_due() -> None:
    deadlines = KeepaliveDeadlines(None, 2.0, shared=False)
    deadlines.start(100.0)
    assert deadlines.read_deadline == math.inf
    assert deadlines.check(1e9) is Due.NOTHING


@pytest.mark.parametrize("pinged", [False, True])
def test_with_a_shared_timer_reads_are_never_timed_but_check_still_works(
    pinged: bool,
) -> None:
    deadlines = started(100.0, shared=True)
    if pinged:
        deadlines.ping_sent(105.0)
    assert deadlines.read_deadline == math.inf
    assert deadlines.check(200.0) is (Due.PONG_OVERDUE if pinged else Due.PING)
