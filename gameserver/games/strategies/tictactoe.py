"""Perfect tic-tac-toe: full minimax over the (tiny) game tree, memoised."""

from __future__ import annotations

import functools
import random
from typing import Any

from gameserver.games.base import Move
from gameserver.games.tictactoe import Cell, winning_line


@functools.lru_cache(maxsize=None)
def value(board: tuple[Cell, ...], me: int) -> int:
    """Return the minimax value of ``board`` for ``me``, who is to move.

    Positive: ``me`` wins (larger = sooner); negative: ``me`` loses; 0: draw.
    """
    empty = [i for i, c in enumerate(board) if c is None]
    best = -100
    for cell in empty:
        child = board[:cell] + (me,) + board[cell + 1 :]
        if winning_line(child) is not None:
            score = len(empty)  # winning now, with more cells left, scores higher
        elif len(empty) == 1:
            score = 0
        else:
            score = -value(child, 1 - me)
        best = max(best, score)
    return best if empty else 0


def best_cells(board: tuple[Cell, ...], me: int) -> list[int]:
    """Return every empty cell that is optimal for ``me`` to take on ``board``."""
    scored: list[tuple[int, int]] = []
    for cell, held in enumerate(board):
        if held is not None:
            continue
        child = board[:cell] + (me,) + board[cell + 1 :]
        if winning_line(child) is not None:
            score = 100
        elif all(c is not None for c in child):
            score = 0
        else:
            score = -value(child, 1 - me)
        scored.append((score, cell))
    top = max(score for score, _ in scored)
    return [cell for score, cell in scored if score == top]


class PerfectStrategy:
    """Never loses; wins as fast as possible; picks randomly among equally good moves."""

    def choose(self, view: dict[str, Any], legal_moves: list[Move], rng: random.Random) -> Move:
        """Return an optimal move for ``view["you"]``."""
        cells = best_cells(tuple(view["board"]), view["you"])
        return {"cell": rng.choice(cells)}
