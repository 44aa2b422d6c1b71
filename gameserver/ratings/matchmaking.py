"""Pairing rated quick matches by rating, with a window that widens while a player waits.

A rated quick match joins the waiting rated room (same game and seat count) whose
opener's rating is nearest to the newcomer's, provided the gap is within the opener's
window: ``BASE_WINDOW`` points at once, ``WIDEN_PER_SECOND`` more for every second the
room has waited, at most ``MAX_WINDOW``. When no room fits, the newcomer opens one and
waits in it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TypeVar

__all__ = ["BASE_WINDOW", "MAX_WINDOW", "WIDEN_PER_SECOND", "nearest_fit", "window"]

# About two thirds of a newcomer's deviation: close games at first...
BASE_WINDOW = 150.0
# ...and after a minute of waiting, 750 points: anybody reasonable.
WIDEN_PER_SECOND = 10.0
MAX_WINDOW = 1000.0

K = TypeVar("K")


def window(waited: float) -> float:
    """How far (in rating points) a room that has waited ``waited`` seconds reaches."""
    return min(MAX_WINDOW, BASE_WINDOW + WIDEN_PER_SECOND * max(0.0, waited))


def nearest_fit(rating: float, rooms: Iterable[tuple[K, float, float]]) -> K | None:
    """The room (``(key, opener_rating, waited_seconds)``) nearest to ``rating`` whose
    window reaches it; None when none does."""
    best: tuple[float, K] | None = None
    for key, opener, waited in rooms:
        gap = abs(rating - opener)
        if gap <= window(waited) and (best is None or gap < best[0]):
            best = (gap, key)
    return None if best is None else best[1]
