"""Connect four by depth-limited negamax alpha-beta search on bitboards.

Bitboard layout: column ``c`` owns bits ``7c .. 7c+5`` (bottom to top); bit ``7c+6`` is an
always-empty sentinel so shifts never carry a line from one column into the next.
``mask`` holds every disc, ``mine`` the discs of the side to move.

Evaluation at the search horizon: open threats (empty cells that would complete four)
weigh most, then discs in the centre columns, which take part in the most lines.
"""

from __future__ import annotations

import random
from typing import Any

from gameserver.games.base import Move
from gameserver.games.connect4 import HEIGHT, WIDTH

# Plies searched by the shipped "best" player: wins ~100 % against random play at a
# few milliseconds per move in CPython (see docs/writing-a-game.md for the figures).
DEFAULT_DEPTH = 6

H1 = HEIGHT + 1
BOTTOM = [1 << (c * H1) for c in range(WIDTH)]
TOP = [1 << (c * H1 + HEIGHT - 1) for c in range(WIDTH)]
COLUMN = [((1 << HEIGHT) - 1) << (c * H1) for c in range(WIDTH)]
BOARD = sum(COLUMN)
# Centre first: the centre takes part in the most lines, so good moves are searched early
# and alpha-beta cuts more.
ORDER = (3, 2, 4, 1, 5, 0, 6)
CENTRE_WEIGHTS = ((COLUMN[3], 3), (COLUMN[2] | COLUMN[4], 2), (COLUMN[1] | COLUMN[5], 1))
THREAT_WEIGHT = 8
WIN = 10_000


def winning_cells(discs: int, mask: int) -> int:
    """Return the empty cells where ``discs`` would complete four (playable now or later)."""
    r = (discs << 1) & (discs << 2) & (discs << 3)  # vertical: three below
    for s in (H1, H1 - 1, H1 + 1):  # horizontal, and the two diagonals
        pair = (discs << s) & (discs << 2 * s)
        r |= pair & (discs << 3 * s)
        r |= pair & (discs >> s)
        pair = (discs >> s) & (discs >> 2 * s)
        r |= pair & (discs << s)
        r |= pair & (discs >> 3 * s)
    return r & (BOARD ^ mask)


def evaluate(mine: int, theirs: int, mask: int) -> int:
    """Return a heuristic score of the position for the side to move."""
    score = THREAT_WEIGHT * (
        winning_cells(mine, mask).bit_count() - winning_cells(theirs, mask).bit_count()
    )
    for cells, weight in CENTRE_WEIGHTS:
        score += weight * ((mine & cells).bit_count() - (theirs & cells).bit_count())
    return score


def negamax(mine: int, mask: int, depth: int, alpha: int, beta: int) -> int:
    """Return the score for the side to move (``mine``), searching ``depth`` more plies."""
    moves = [c for c in ORDER if not mask & TOP[c]]
    if not moves:
        return 0
    theirs = mask ^ mine
    wins = winning_cells(mine, mask)
    for c in moves:
        if wins & (mask + BOTTOM[c]) & COLUMN[c]:
            return WIN + depth  # sooner wins score higher
    if depth == 0:
        return evaluate(mine, theirs, mask)
    best = -WIN - 100
    for c in moves:
        child_mask = mask | (mask + BOTTOM[c])
        score = -negamax(theirs, child_mask, depth - 1, -beta, -alpha)
        if score > best:
            best = score
            if score > alpha:
                alpha = score
                if alpha >= beta:
                    break
    return best


def bitboards(board: list[list[int | None]], me: int) -> tuple[int, int]:
    """Return (mine, mask) from a view's rows (top row first)."""
    mine = mask = 0
    for row_index, row in enumerate(board):
        height = HEIGHT - 1 - row_index
        for col, seat in enumerate(row):
            if seat is None:
                continue
            bit = 1 << (col * H1 + height)
            mask |= bit
            if seat == me:
                mine |= bit
    return mine, mask


def score_moves(board: list[list[int | None]], me: int, depth: int) -> dict[int, int]:
    """Return column -> score for every playable column, exact for the best ones.

    Each later root move is searched with a window that still reveals a tie with the best
    so far, so every column scoring the maximum is known exactly.
    """
    mine, mask = bitboards(board, me)
    theirs = mask ^ mine
    scores: dict[int, int] = {}
    best = -WIN - 200
    for c in ORDER:
        if mask & TOP[c]:
            continue
        child_mask = mask | (mask + BOTTOM[c])
        if winning_cells(mine, mask) & (mask + BOTTOM[c]) & COLUMN[c]:
            score = WIN + depth + 1
        else:
            score = -negamax(theirs, child_mask, depth - 1, -WIN - 200, -(best - 1))
        scores[c] = score
        best = max(best, score)
    return scores


class AlphaBetaStrategy:
    """Searches ``depth`` plies ahead; picks randomly among equally scored best columns."""

    def __init__(self, depth: int = DEFAULT_DEPTH) -> None:
        self.depth = depth

    def choose(self, view: dict[str, Any], legal_moves: list[Move], rng: random.Random) -> Move:
        """Return the best-scoring legal column for ``view["you"]``."""
        scores = score_moves(view["board"], view["you"], self.depth)
        legal = [m for m in legal_moves if m["column"] in scores]
        top = max(scores[m["column"]] for m in legal)
        return rng.choice([m for m in legal if scores[m["column"]] == top])
