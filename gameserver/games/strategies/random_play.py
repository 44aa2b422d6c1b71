"""The uniformly random player: works for every game."""

from __future__ import annotations

import random
from typing import Any

from gameserver.games.base import Move


class RandomStrategy:
    """Picks a legal move uniformly at random."""

    def choose(self, view: dict[str, Any], legal_moves: list[Move], rng: random.Random) -> Move:
        """Return a uniformly random element of ``legal_moves``."""
        return rng.choice(legal_moves)
