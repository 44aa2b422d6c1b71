"""Pairing rated quick matches by rating, with a window that widens while players wait.

Players asking for a rated quick match of the same game and seat count wait in one
queue. A group forms around the player who has waited longest: the others nearest to
its rating, all within its ``Window``: ``base`` rating points, ``growth`` more for every
second it has waited, at most ``cap``. So two players far apart are paired too once the
longer waiter has waited long enough.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Generic, TypeVar

import attrs

__all__ = ["Waiting", "Window", "pick_group"]

K = TypeVar("K")


@attrs.frozen(kw_only=True)
class Window:
    """How far a waiting player reaches, in rating points."""

    # About half a newcomer's deviation: close games at first...
    base: float = 150.0
    """Reach at once."""
    # ...and after a minute of waiting 600 points more: anybody reasonable.
    growth: float = 10.0
    """Added per second waited."""
    cap: float = 1000.0
    """Largest reach."""

    def reach(self, waited: float) -> float:
        """How far a player who has waited ``waited`` seconds reaches."""
        return min(self.cap, self.base + self.growth * max(0.0, waited))


@attrs.frozen
class Waiting(Generic[K]):
    """One player in a matchmaking queue."""

    key: K
    """Whatever the caller identifies the player by."""
    rating: float
    """Its rating in the queue's pool."""
    since: float
    """When it started waiting (any monotonic clock, in seconds)."""


def pick_group(
    queue: Sequence[Waiting[K]], seats: int, now: float, window: Window = Window()
) -> list[K] | None:
    """The keys of a group of ``seats`` players that fits, longest waiter first; None
    when no group fits yet."""
    by_wait = sorted(queue, key=lambda entry: entry.since)
    for anchor in by_wait:
        reach = window.reach(now - anchor.since)
        near = sorted(
            (e for e in queue if e is not anchor and abs(e.rating - anchor.rating) <= reach),
            key=lambda e: abs(e.rating - anchor.rating),
        )
        if len(near) >= seats - 1:
            return [anchor.key, *(e.key for e in near[: seats - 1])]
    return None
