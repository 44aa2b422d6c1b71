"""The connect-four searcher: finds wins and blocks, beats random play, stays fast."""

from __future__ import annotations

import random
import time

from gameserver.games.base import Move
from gameserver.games.connect4 import GAME, Connect4State
from gameserver.games.registry import get_game
from gameserver.games.selfplay import run_selfplay
from gameserver.games.strategies.connect4 import (
    DEFAULT_DEPTH,
    AlphaBetaStrategy,
    winning_cells,
    bitboards,
)

RNG = random.Random(0)


def play(columns: list[int]) -> Connect4State:
    state = GAME.setup(2, RNG, {})
    for i, col in enumerate(columns):
        state = GAME.apply(state, i % 2, {"column": col}, RNG)
    return state


def choose(state: Connect4State, depth: int = DEFAULT_DEPTH) -> Move:
    seat = state.turn
    return AlphaBetaStrategy(depth).choose(
        GAME.view(state, seat), GAME.legal_moves(state, seat), random.Random(1)
    )


def test_winning_cells_finds_every_kind_of_threat() -> None:
    # seat 0 holds the bottom of columns 0,1,2: the threat is column 3's bottom cell.
    mine, mask = bitboards(GAME.view(play([0, 0, 1, 1, 2, 5]), 0)["board"], 0)
    assert winning_cells(mine, mask) == 1 << (3 * 7)


def test_takes_a_win_and_blocks_a_loss() -> None:
    assert choose(play([0, 0, 1, 1, 2, 2])) == {"column": 3}  # win now
    assert choose(play([0, 6, 1, 6, 2])) == {"column": 3}  # block three in the row
    assert choose(play([3, 3, 2, 3, 6, 3]), depth=1) == {"column": 3}  # block the column


def test_best_beats_random_in_at_least_90_percent() -> None:
    # Depth 3 keeps this test quick; the shipped depth is measured by selfplay.
    report = run_selfplay(
        get_game("connect4"),
        games=200,
        seed=11,
        players=2,
        strategy_names=["best", "random"],
        strategies=[AlphaBetaStrategy(3), None],
    )
    assert report.games == 200
    assert report.by_strategy["best"]["wins"] >= 180


def test_default_depth_is_fast() -> None:
    # CPU time, not wall time: other processes on a busy machine must not fail this.
    rng = random.Random(4)
    state = GAME.setup(2, rng, {})
    strategy = AlphaBetaStrategy()
    elapsed: list[float] = []
    while GAME.outcome(state) is None:
        start = time.process_time()
        view, legal = GAME.view(state, state.turn), GAME.legal_moves(state, state.turn)
        move = strategy.choose(view, legal, rng)
        elapsed.append(time.process_time() - start)
        state = GAME.apply(state, state.turn, move, rng)
    assert sum(elapsed) / len(elapsed) < 0.05
