"""Strategies: bots that play a seat from exactly what that seat sees.

A strategy gets the seat's ``view`` (which always says which seat it is, ``view["you"]``),
the seat's ``legal_moves`` and an rng for its own choices, and returns one of the legal
moves. The same interface serves selfplay, server-filled bot seats and SDK bots.
"""

from __future__ import annotations

import functools
import random
from collections.abc import Callable
from typing import Any, Protocol

from gameserver.games.base import GameError, Move
from gameserver.games.strategies import connect4, liarsdice, tictactoe
from gameserver.games.strategies.random_play import RandomStrategy


class UnknownStrategy(GameError):
    """No strategy of that name exists for that game."""


class Strategy(Protocol):
    """Chooses a move for one seat."""

    def choose(self, view: dict[str, Any], legal_moves: list[Move], rng: random.Random) -> Move:
        """Return one element of ``legal_moves`` (never empty) for the seat ``view`` shows."""
        ...


# game name -> strategy name -> factory. Factories make fresh instances so a strategy may
# keep per-match caches without sharing them between seats.
_STRATEGIES: dict[str, dict[str, Callable[[], Strategy]]] = {
    "tictactoe": {"random": RandomStrategy, "best": tictactoe.PerfectStrategy},
    "connect4": {"random": RandomStrategy, "best": connect4.AlphaBetaStrategy},
    "liarsdice": {
        "random": RandomStrategy,
        "best": liarsdice.ProbabilityStrategy,
        "simple": functools.partial(liarsdice.ProbabilityStrategy, infer_from_bids=False),
    },
}


def get_strategy(game_name: str, strategy_name: str) -> Strategy:
    """Return a new strategy instance; raise UnknownStrategy if the pair is unknown."""
    by_name = _STRATEGIES.get(game_name, {})
    factory = by_name.get(strategy_name)
    if factory is None:
        known = ", ".join(sorted(by_name)) or "none"
        raise UnknownStrategy(
            f"unknown strategy {strategy_name!r} for game {game_name!r} (known: {known})"
        )
    return factory()


def list_strategies(game_name: str) -> list[str]:
    """Return the strategy names available for ``game_name`` (empty for an unknown game)."""
    return sorted(_STRATEGIES.get(game_name, {}))
