"""Turn clocks (sans-IO): chess-style time banks with Fischer increment and per-move limits.

The room owns one ``Clocks`` per match and drives it with trio times in seconds
(``trio.current_time()``, so tests run on ``autojump_clock``):

* ``sync(to_act, now)`` after every state change: starts the clocks of seats that must
  act now and stops the others;
* ``charge(seat, now, increment=True)`` when ``seat`` has acted (before ``sync``);
* ``expiry()`` gives the earliest ``(time, seat)`` at which a running clock runs out;
  the room sleeps until then and calls ``timed_out(seat, now)`` followed by
  ``game.on_timeout``.

A seat's time for the current turn is the smaller of its bank and the per-move limit.
Elapsed times are rounded to whole milliseconds (``_ms``), not truncated: trio times are
floats, and a clock charged exactly at its expiry must come out at 0, not at 1 ms.

``mark()`` remembers the clocks as they are (the room marks them once a transition is
durable) and ``rewind()`` goes back there (a transition whose record could not be made
durable never happened, on the clocks either).
"""

from __future__ import annotations

from collections.abc import Iterable

from gameserver.protocol.errors import ErrorCode, RequestError
from gameserver.protocol.messages import ClockSettings, ClockState

# One day: longer banks are almost certainly a unit mistake (seconds vs milliseconds).
MAX_CLOCK_MS = 24 * 3600 * 1000


def _ms(seconds: float) -> int:
    """A duration in trio seconds as whole milliseconds (8.7 - 7.7 is 0.99999...: 1000)."""
    return round(seconds * 1000)


def validate_clock(settings: ClockSettings | None) -> ClockSettings | None:
    """Return ``settings`` if its values are in range (None when it sets no limit at all).

    Raises ``RequestError(ErrorCode.INVALID_OPTIONS)`` naming the offending field.
    """
    if settings is None:
        return None
    for name, value, minimum in (
        ("initial_ms", settings.initial_ms, 1),
        ("increment_ms", settings.increment_ms, 0),
        ("per_move_ms", settings.per_move_ms, 1),
    ):
        if value is not None and not minimum <= value <= MAX_CLOCK_MS:
            raise RequestError(
                ErrorCode.INVALID_OPTIONS,
                f"clock.{name} must be between {minimum} and {MAX_CLOCK_MS} milliseconds",
            )
    if settings.initial_ms is None and settings.per_move_ms is None:
        return None
    return settings


class Clocks:
    """The clocks of one match. Times are trio seconds; banks are integer milliseconds."""

    def __init__(self, settings: ClockSettings, seats: int) -> None:
        self.settings = settings
        #: Bank per seat in ms (None without banks), as of the last charge.
        self.bank_ms: list[int | None] = [settings.initial_ms] * seats
        # seat -> trio time its current turn started
        self._started: dict[int, float] = {}
        self._marked: tuple[list[int | None], dict[int, float]] = ([settings.initial_ms] * seats, {})

    @property
    def running(self) -> frozenset[int]:
        """Seats whose clocks run now."""
        return frozenset(self._started)

    def _limit_ms(self, seat: int) -> int | None:
        bank = self.bank_ms[seat]
        per_move = self.settings.per_move_ms
        if bank is None:
            return per_move
        if per_move is None:
            return bank
        return min(bank, per_move)

    def elapsed_ms(self, seat: int, now: float) -> int:
        """How long ``seat``'s current turn has run (0 if its clock is stopped)."""
        started = self._started.get(seat)
        return 0 if started is None else _ms(now - started)

    def charge(self, seat: int, now: float, *, increment: bool = True) -> None:
        """Stop ``seat``'s clock: take the elapsed time from its bank, add the increment."""
        started = self._started.pop(seat, None)
        bank = self.bank_ms[seat]
        if started is None or bank is None:
            return
        bank = max(0, bank - _ms(now - started))
        if increment and bank > 0:
            bank += self.settings.increment_ms
        self.bank_ms[seat] = bank

    def sync(self, to_act: Iterable[int], now: float) -> None:
        """Run exactly the clocks of ``to_act``; seats still running keep their start."""
        wanted = set(to_act)
        for seat in list(self._started):
            if seat not in wanted:
                self.charge(seat, now, increment=False)
        for seat in wanted:
            self._started.setdefault(seat, now)

    def stop_all(self, now: float) -> None:
        """Stop every clock (match over or paused), charging elapsed time."""
        for seat in list(self._started):
            self.charge(seat, now, increment=False)

    def expires_at(self, seat: int) -> float | None:
        """The trio time at which ``seat``'s clock runs out; None if it is not running or
        has no limit. At that time call ``timed_out(seat, now)``."""
        started = self._started.get(seat)
        limit = self._limit_ms(seat)
        if started is None or limit is None:
            return None
        return started + limit / 1000

    def expiry(self) -> tuple[float, int] | None:
        """Return the earliest ``(trio_time, seat)`` at which a running clock expires."""
        best: tuple[float, int] | None = None
        for seat in self._started:
            at = self.expires_at(seat)
            if at is not None and (best is None or at < best[0]):
                best = (at, seat)
        return best

    def timed_out(self, seat: int, now: float) -> None:
        """Record that ``seat``'s time ran out; then apply ``game.on_timeout`` and ``sync``."""
        self.charge(seat, now, increment=False)

    def banks_now(self, now: float) -> tuple[int, ...] | None:
        """Every seat's bank in ms as of ``now`` (running clocks charged); None without banks."""
        if self.settings.initial_ms is None:
            return None
        banks = []
        for seat, bank in enumerate(self.bank_ms):
            started = self._started.get(seat)
            value = bank or 0
            if started is not None:
                value = max(0, value - _ms(now - started))
            banks.append(value)
        return tuple(banks)

    def state(self, now: float) -> ClockState:
        """The clocks for a ``state`` message."""
        move_ms: int | None = None
        per_move = self.settings.per_move_ms
        if per_move is not None:
            move_ms = per_move
            if self._started:
                earliest = min(self._started.values())
                move_ms = max(0, per_move - _ms(now - earliest))
        return ClockState(
            banks_ms=self.banks_now(now), move_ms=move_ms, running=tuple(sorted(self._started))
        )

    def restore(self, bank_ms: list[int | None]) -> None:
        """Set the banks (crash recovery); no clock runs until the next ``sync``."""
        self.bank_ms = list(bank_ms)
        self._started.clear()

    def mark(self) -> None:
        """Remember the banks and running clocks as they are now, for ``rewind``."""
        self._marked = (list(self.bank_ms), dict(self._started))

    def rewind(self) -> None:
        """Put the banks and running clocks back as they were at the last ``mark``."""
        banks, started = self._marked
        self.bank_ms = list(banks)
        self._started = dict(started)
