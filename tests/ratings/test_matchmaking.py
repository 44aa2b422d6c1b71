"""Rated quick-match grouping: nearest ratings within a window that widens with waiting."""

from __future__ import annotations

from gameserver.ratings.matchmaking import Waiting, Window, pick_group


def test_the_window_widens_with_waiting_up_to_a_cap() -> None:
    window = Window()
    assert window.reach(0.0) == window.base
    assert window.reach(10.0) > window.reach(5.0) > window.reach(0.0)
    assert window.reach(10_000.0) == window.cap


def test_the_longest_waiter_gets_the_nearest_rating_within_its_window() -> None:
    queue = [
        Waiting("old", 1500.0, 0.0),
        Waiting("far", 1900.0, 1.0),
        Waiting("near", 1560.0, 2.0),
        Waiting("nearer", 1530.0, 3.0),
    ]
    assert pick_group(queue, 2, now=3.0) == ["old", "nearer"]
    assert pick_group(queue, 4, now=3.0) is None  # "far" is out of reach yet
    assert pick_group(queue, 4, now=30.0) == ["old", "nearer", "near", "far"]


def test_players_far_apart_meet_once_the_window_has_widened() -> None:
    queue = [Waiting("a", 1700.0, 0.0), Waiting("b", 1300.0, 0.5)]
    assert pick_group(queue, 2, now=1.0) is None
    assert pick_group(queue, 2, now=25.0) == ["a", "b"]
    assert pick_group(queue, 2, now=1.0, window=Window(growth=1000.0)) == ["a", "b"]
