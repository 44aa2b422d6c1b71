"""Glicko-2 rating updates as pure functions (Glickman, "Example of the Glicko-2 system").

A rating is (rating, deviation, volatility) on the Glicko scale (1500 / 350 / 0.06 for a
newcomer). ``update`` takes one player's rating and the games of one *rating period*
against opponents' ratings as they stood at the start of that period, and returns the new
rating. The server rates every match as its own period: the caller passes each
participant's pre-match rating of the others, so the order in which the participants are
updated does not matter.

The steps follow the paper's numbering; step 5 uses the Illinois variant of regula falsi
the paper gives, with its convergence tolerance ``TAU_EPSILON``.

Multi-player matches (liar's dice with three or more seats) are split into pairwise
results by finishing order (``pairwise_scores``): a seat beats every seat that finished
below it and draws with those that finished level, and all those pairs go into one
period.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import attrs

__all__ = [
    "DEFAULT_RATING",
    "Game",
    "Rating",
    "pairwise_scores",
    "update",
]

# Glicko-2's internal scale is the Glicko scale divided by this (paper, step 2).
SCALE = 173.7178
# The system constant tau bounds how fast volatility moves; the paper suggests 0.3-1.2.
TAU = 0.5
# Convergence tolerance of the volatility iteration (paper, step 5).
TAU_EPSILON = 0.000001
# A deviation never grows past a newcomer's: an absent player is "unknown", no worse.
MAX_DEVIATION = 350.0


@attrs.frozen
class Rating:
    """One player's Glicko-2 rating on the Glicko scale."""

    rating: float = 1500.0
    """The rating (mean)."""
    deviation: float = MAX_DEVIATION
    """Rating deviation (RD): the uncertainty; 350 for a newcomer."""
    volatility: float = 0.06
    """Expected fluctuation of the rating (sigma)."""


DEFAULT_RATING = Rating()
"""What every player starts from."""


@attrs.frozen
class Game:
    """One game of a rating period, seen from the player being rated."""

    opponent: Rating
    """The opponent's rating at the start of the period."""
    score: float
    """1 for a win, 0.5 for a draw, 0 for a loss."""


def _g(phi: float) -> float:
    return 1.0 / math.sqrt(1.0 + 3.0 * phi * phi / (math.pi * math.pi))


def _expected(mu: float, mu_j: float, phi_j: float) -> float:
    return 1.0 / (1.0 + math.exp(-_g(phi_j) * (mu - mu_j)))


def _new_volatility(phi: float, sigma: float, delta: float, v: float, tau: float) -> float:
    """Step 5: solve f(x) = 0 for x = ln(sigma'^2) by the Illinois algorithm."""
    a = math.log(sigma * sigma)

    def f(x: float) -> float:
        ex = math.exp(x)
        top = ex * (delta * delta - phi * phi - v - ex)
        bottom = 2.0 * (phi * phi + v + ex) ** 2
        return top / bottom - (x - a) / (tau * tau)

    big_a = a
    if delta * delta > phi * phi + v:
        big_b = math.log(delta * delta - phi * phi - v)
    else:
        k = 1
        while f(a - k * tau) < 0:
            k += 1
        big_b = a - k * tau
    f_a, f_b = f(big_a), f(big_b)
    while abs(big_b - big_a) > TAU_EPSILON:
        big_c = big_a + (big_a - big_b) * f_a / (f_b - f_a)
        f_c = f(big_c)
        if f_c * f_b <= 0:
            big_a, f_a = big_b, f_b
        else:
            f_a /= 2.0
        big_b, f_b = big_c, f_c
    return math.exp(big_a / 2.0)


def update(player: Rating, games: Sequence[Game], *, tau: float = TAU) -> Rating:
    """The player's rating after one rating period holding ``games``.

    With no games only the deviation grows (paper, step 6 for an idle player).
    """
    mu = (player.rating - 1500.0) / SCALE
    phi = player.deviation / SCALE
    sigma = player.volatility
    if not games:
        grown = math.sqrt(phi * phi + sigma * sigma) * SCALE
        return Rating(player.rating, min(grown, MAX_DEVIATION), sigma)
    v_inverse = 0.0
    improvement = 0.0
    for game in games:
        mu_j = (game.opponent.rating - 1500.0) / SCALE
        phi_j = game.opponent.deviation / SCALE
        g = _g(phi_j)
        e = _expected(mu, mu_j, phi_j)
        v_inverse += g * g * e * (1.0 - e)
        improvement += g * (game.score - e)
    v = 1.0 / v_inverse
    delta = v * improvement
    new_sigma = _new_volatility(phi, sigma, delta, v, tau)
    phi_star = math.sqrt(phi * phi + new_sigma * new_sigma)
    new_phi = 1.0 / math.sqrt(1.0 / (phi_star * phi_star) + 1.0 / v)
    new_mu = mu + new_phi * new_phi * improvement
    return Rating(
        rating=new_mu * SCALE + 1500.0,
        deviation=min(new_phi * SCALE, MAX_DEVIATION),
        volatility=new_sigma,
    )


def pairwise_scores(places: Sequence[int]) -> list[list[tuple[int, float]]]:
    """Split a match into pairwise results by finishing order.

    ``places[i]`` is seat i's finishing place (0 = first; equal places tie). Returns, per
    seat, ``(other_seat, score)`` for every other seat: 1 against a seat placed below, 0.5
    against a tie, 0 against a seat placed above. Two seats give the usual single game.
    """
    result: list[list[tuple[int, float]]] = []
    for seat, place in enumerate(places):
        row = []
        for other, other_place in enumerate(places):
            if other == seat:
                continue
            score = 1.0 if place < other_place else 0.5 if place == other_place else 0.0
            row.append((other, score))
        result.append(row)
    return result
