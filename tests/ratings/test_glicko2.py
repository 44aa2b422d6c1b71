"""Glicko-2 against the worked example of Glickman's paper, and the pairwise split."""

from __future__ import annotations

import pytest

from gameserver.glicko2 import Game, Rating, pairwise_scores, update


def test_the_worked_example_of_the_paper() -> None:
    player = Rating(1500.0, 200.0, 0.06)
    games = [
        Game(Rating(1400.0, 30.0), 1.0),
        Game(Rating(1550.0, 100.0), 0.0),
        Game(Rating(1700.0, 300.0), 0.0),
    ]
    new = update(player, games)
    assert new.rating == pytest.approx(1464.06, abs=0.01)
    assert new.deviation == pytest.approx(151.52, abs=0.01)
    assert new.volatility == pytest.approx(0.05999, abs=0.00001)


def test_an_idle_period_only_widens_the_deviation() -> None:
    new = update(Rating(1600.0, 100.0, 0.06), [])
    assert new.rating == 1600.0
    assert new.deviation == pytest.approx((100.0**2 + (0.06 * 173.7178) ** 2) ** 0.5)
    assert update(Rating(1600.0, 349.9, 0.06), []).deviation == 350.0


def test_a_win_raises_a_loss_lowers_and_a_draw_between_equals_keeps() -> None:
    start = Rating()
    assert update(start, [Game(Rating(), 1.0)]).rating > 1500.0
    assert update(start, [Game(Rating(), 0.0)]).rating < 1500.0
    assert update(start, [Game(Rating(), 0.5)]).rating == pytest.approx(1500.0)


def test_pairwise_scores_follow_the_finishing_order() -> None:
    # seat 0 first, seats 1 and 2 tied second, seat 3 last
    rows = pairwise_scores([0, 1, 1, 2])
    assert rows[0] == [(1, 1.0), (2, 1.0), (3, 1.0)]
    assert rows[1] == [(0, 0.0), (2, 0.5), (3, 1.0)]
    assert rows[3] == [(0, 0.0), (1, 0.0), (2, 0.0)]
    assert pairwise_scores([1, 0]) == [[(1, 0.0)], [(0, 1.0)]]
