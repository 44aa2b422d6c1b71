"""Rated quick-match pairing: nearest rating within a window that widens with waiting."""

from __future__ import annotations

from gameserver.ratings.matchmaking import BASE_WINDOW, MAX_WINDOW, nearest_fit, window


def test_the_window_widens_with_waiting_up_to_a_cap() -> None:
    assert window(0.0) == BASE_WINDOW
    assert window(10.0) > window(5.0) > window(0.0)
    assert window(10_000.0) == MAX_WINDOW


def test_the_nearest_room_within_its_window_is_chosen() -> None:
    rooms = [("far", 1900.0, 0.0), ("near", 1560.0, 0.0), ("nearer", 1530.0, 0.0)]
    assert nearest_fit(1500.0, rooms) == "nearer"
    assert nearest_fit(1500.0, [("far", 1900.0, 0.0)]) is None
    # the same room fits once its opener has waited long enough
    assert nearest_fit(1500.0, [("far", 1900.0, 30.0)]) == "far"
