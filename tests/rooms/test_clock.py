"""Turn clocks (sans-IO)."""

from __future__ import annotations

import pytest

from gameserver.protocol.errors import ErrorCode, RequestError
from gameserver.protocol.messages import ClockSettings
from gameserver.rooms.clock import Clocks, validate_clock


def test_bank_with_increment() -> None:
    clocks = Clocks(ClockSettings(initial_ms=10_000, increment_ms=2_000), 2)
    clocks.sync({0}, now=100.0)
    assert clocks.expiry() == (110.0, 0)
    clocks.charge(0, now=103.0)
    clocks.sync({1}, now=103.0)
    assert clocks.bank_ms == [9_000, 10_000]
    assert clocks.banks_now(104.5) == (9_000, 8_500)
    state = clocks.state(104.5)
    assert state.running == (1,) and state.move_ms is None


def test_per_move_limit_is_the_smaller_of_limit_and_bank() -> None:
    clocks = Clocks(ClockSettings(initial_ms=5_000, per_move_ms=3_000), 2)
    clocks.sync({0}, now=0.0)
    assert clocks.expiry() == (3.0, 0)
    clocks.charge(0, now=2.5)
    clocks.sync({1}, now=2.5)
    clocks.charge(1, now=2.5)
    clocks.sync({0}, now=2.5)
    assert clocks.expiry() == (2.5 + 2.5, 0)  # only 2.5 s of bank left
    assert clocks.state(3.5).move_ms == 2_000


def test_timeout_empties_the_bank_without_increment() -> None:
    clocks = Clocks(ClockSettings(initial_ms=1_000, increment_ms=500), 2)
    clocks.sync({0}, now=0.0)
    clocks.timed_out(0, now=1.0)
    assert clocks.bank_ms[0] == 0 and clocks.running == frozenset()


def test_untimed_clocks_never_expire_but_measure() -> None:
    clocks = Clocks(ClockSettings(), 3)
    clocks.sync({0, 1}, now=0.0)
    assert clocks.expiry() is None and clocks.banks_now(5.0) is None
    assert clocks.elapsed_ms(1, 2.0) == 2_000


def test_restore_banks_after_recovery() -> None:
    clocks = Clocks(ClockSettings(initial_ms=60_000), 2)
    clocks.restore([12_000, 50_000])
    clocks.sync({1}, now=7.0)
    assert clocks.expiry() == (57.0, 1)


@pytest.mark.parametrize(
    "settings",
    [
        ClockSettings(initial_ms=0),
        ClockSettings(per_move_ms=0),
        ClockSettings(initial_ms=10**12),
    ],
)
def test_out_of_range_settings_are_refused(settings: ClockSettings) -> None:
    with pytest.raises(RequestError) as info:
        validate_clock(settings)
    assert info.value.code is ErrorCode.INVALID_OPTIONS


def test_settings_without_limits_mean_untimed() -> None:
    assert validate_clock(ClockSettings(increment_ms=1000)) is None
    assert validate_clock(None) is None


def test_rewind_goes_back_to_the_last_mark() -> None:
    clocks = Clocks(ClockSettings(initial_ms=10_000, increment_ms=2_000), 2)
    clocks.sync({0}, now=100.0)
    clocks.mark()
    clocks.charge(0, now=104.0)  # a move whose record then fails
    clocks.sync({1}, now=104.0)
    assert clocks.bank_ms == [8_000, 10_000] and clocks.running == {1}
    clocks.rewind()
    assert clocks.bank_ms == [10_000, 10_000] and clocks.running == {0}
    assert clocks.expiry() == (110.0, 0)  # seat 0's turn, started at 100, as before
    clocks.stop_all(now=105.0)  # the pause charges the thinking time, no increment
    assert clocks.bank_ms == [5_000, 10_000] and clocks.running == frozenset()


def test_a_clock_charged_at_its_expiry_is_empty_despite_float_times() -> None:
    # 7.7 + 1.0 - 7.7 is 0.99999...: truncated to milliseconds it would leave 1 ms.
    clocks = Clocks(ClockSettings(initial_ms=1_000), 2)
    clocks.sync({0}, now=7.7)
    expiry = clocks.expiry()
    assert expiry is not None and expiry[1] == 0
    assert clocks.banks_now(expiry[0]) == (0, 1_000)
    clocks.timed_out(0, now=expiry[0])
    assert clocks.bank_ms == [0, 1_000]


def test_elapsed_time_is_whole_milliseconds_rounded() -> None:
    clocks = Clocks(ClockSettings(initial_ms=10_000, per_move_ms=5_000), 2)
    clocks.sync({0}, now=12.3)
    assert clocks.elapsed_ms(0, 12.3 + 0.7) == 700
    assert clocks.state(12.3 + 0.7).move_ms == 4_300
    clocks.charge(0, now=12.3 + 0.7)
    assert clocks.bank_ms == [9_300, 10_000]


def test_expires_at_is_the_deadline_of_one_seat() -> None:
    clocks = Clocks(ClockSettings(initial_ms=10_000, per_move_ms=4_000), 3)
    clocks.restore([10_000, 2_000, 10_000])
    clocks.sync({0, 1}, now=50.0)
    assert (clocks.expires_at(0), clocks.expires_at(1), clocks.expires_at(2)) == (54.0, 52.0, None)
    assert clocks.expiry() == (52.0, 1)
