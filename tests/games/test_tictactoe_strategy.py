"""Perfect tic-tac-toe never loses, whatever the opponent does."""

from __future__ import annotations

import random

import pytest

from gameserver.games.strategies.tictactoe import best_cells
from gameserver.games.strategy import get_strategy
from gameserver.games.tictactoe import GAME, TicTacToeState

RNG = random.Random(0)


def outcomes_against_everything(state: TicTacToeState, best_seat: int) -> dict[str, int]:
    """Count results over every opponent reply and every optimal choice of ours."""
    tally = {"win": 0, "draw": 0, "loss": 0}
    outcome = GAME.outcome(state)
    if outcome is not None:
        key = "draw" if outcome.draw else "win" if outcome.winners == (best_seat,) else "loss"
        tally[key] += 1
        return tally
    if state.turn == best_seat:
        cells = best_cells(state.board, best_seat)
    else:
        cells = [move["cell"] for move in GAME.legal_moves(state, state.turn)]
    for cell in cells:
        child = GAME.apply(state, state.turn, {"cell": cell}, RNG)
        for key, count in outcomes_against_everything(child, best_seat).items():
            tally[key] += count
    return tally


@pytest.mark.parametrize("best_seat", [0, 1])
def test_best_never_loses(best_seat: int) -> None:
    tally = outcomes_against_everything(GAME.setup(2, RNG, {}), best_seat)
    assert tally["loss"] == 0
    assert tally["win"] > 0 and tally["draw"] > 0


def test_best_against_itself_draws_and_takes_a_win_when_offered() -> None:
    best = get_strategy("tictactoe", "best")
    state = GAME.setup(2, RNG, {})
    while GAME.outcome(state) is None:
        seat = state.turn
        move = best.choose(GAME.view(state, seat), GAME.legal_moves(state, seat), RNG)
        state = GAME.apply(state, seat, move, RNG)
    outcome = GAME.outcome(state)
    assert outcome is not None and outcome.draw
    # X on 0 and 1, O on 3 and 4: X to move must complete the top row, not block.
    board = (0, 0, None, 1, 1, None, None, None, None)
    assert best_cells(board, 0) == [2]
    assert best_cells(board, 1) == [5]
