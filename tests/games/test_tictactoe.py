"""Rules of tic-tac-toe: every winning line, the draw, and each kind of rejected move."""

from __future__ import annotations

import itertools
import random
from typing import Any

import pytest

from gameserver.games.base import (
    IllegalMove,
    InvalidOptions,
    MalformedMove,
    NotYourTurn,
    Outcome,
    Termination,
)
from gameserver.games.tictactoe import GAME, LINES, TicTacToeState

RNG = random.Random(0)


def play(cells: list[int]) -> TicTacToeState:
    """Play ``cells`` alternately from seat 0."""
    state = GAME.setup(2, RNG, {})
    for i, cell in enumerate(cells):
        state = GAME.apply(state, i % 2, {"cell": cell}, RNG)
    return state


def filler_for(line: tuple[int, int, int], count: int) -> list[int]:
    """``count`` cells off ``line`` that contain no line of their own."""
    others = [c for c in range(9) if c not in line]
    for cells in itertools.combinations(others, count):
        if not any(set(other) <= set(cells) for other in LINES):
            return list(cells)
    raise AssertionError("no filler")


@pytest.mark.parametrize("line", LINES)
@pytest.mark.parametrize("winner", [0, 1])
def test_every_line_wins(line: tuple[int, int, int], winner: int) -> None:
    filler = filler_for(line, 2 + winner)
    cells = [cell for pair in zip(filler, line) for cell in pair]
    if winner == 0:
        cells = [cell for pair in zip(line, filler) for cell in pair] + [line[2]]
    state = play(cells)
    assert GAME.outcome(state) == Outcome(
        winners=(winner,), draw=False, reason="three in a row", termination=Termination.NORMAL
    )
    assert GAME.to_act(state) == frozenset()
    assert GAME.view(state, 0)["line"] == list(line)
    assert GAME.view(state, None)["turn"] is None


def test_full_board_without_a_line_is_a_draw() -> None:
    state = play([0, 1, 2, 4, 3, 5, 7, 6, 8])
    assert GAME.outcome(state) == Outcome(
        winners=(), draw=True, reason="board full", termination=Termination.NORMAL
    )
    assert GAME.view(state, 1)["line"] is None


def test_win_on_the_last_cell_is_a_win_not_a_draw() -> None:
    state = play([0, 1, 2, 4, 3, 5, 7, 8, 6])
    outcome = GAME.outcome(state)
    assert outcome is not None and outcome.winners == (0,)


def test_view_shows_board_you_and_turn() -> None:
    state = play([4])
    assert GAME.view(state, 0) == {
        "board": [None, None, None, None, 0, None, None, None, None],
        "you": 0,
        "turn": 1,
        "line": None,
    }
    assert GAME.view(state, None)["you"] is None


@pytest.mark.parametrize(
    "move, reason",
    [
        (None, "a move must be a map"),
        ([4], "a move must be a map"),
        ({}, "exactly one field"),
        ({"column": 3}, "unexpected field 'column'"),
        ({"cell": 4, "x": 1}, "unexpected field 'x'"),
        ({"cell": "4"}, "must be an integer"),
        ({"cell": True}, "must be an integer"),
        ({"cell": 4.0}, "must be an integer"),
        ({"cell": 9}, "between 0 and 8"),
        ({"cell": -1}, "between 0 and 8"),
    ],
)
def test_malformed_moves(move: Any, reason: str) -> None:
    with pytest.raises(MalformedMove) as info:
        GAME.apply(play([]), 0, move, RNG)
    assert reason in info.value.reason


def test_occupied_cell_is_illegal() -> None:
    with pytest.raises(IllegalMove, match="already taken") as info:
        GAME.apply(play([4]), 1, {"cell": 4}, RNG)
    assert not isinstance(info.value, NotYourTurn)


def test_moving_out_of_turn() -> None:
    with pytest.raises(NotYourTurn):
        GAME.apply(play([4]), 0, {"cell": 0}, RNG)
    with pytest.raises(NotYourTurn):
        GAME.apply(play([]), 5, {"cell": 0}, RNG)


def test_moving_after_the_end_is_illegal() -> None:
    state = play([0, 3, 1, 4, 2])
    with pytest.raises(IllegalMove, match="over"):
        GAME.apply(state, 1, {"cell": 8}, RNG)
    assert GAME.legal_moves(state, 1) == []


def test_timeout_loses() -> None:
    state = GAME.on_timeout(play([4]), 1, RNG)
    assert GAME.outcome(state) == Outcome(
        winners=(0,), draw=False, reason="timeout", termination=Termination.TIMEOUT
    )
    with pytest.raises(NotYourTurn):
        GAME.on_timeout(play([4]), 0, RNG)
    with pytest.raises(IllegalMove):
        GAME.on_timeout(state, 0, RNG)


def test_resign_loses_even_out_of_turn() -> None:
    state = GAME.resign(play([4]), 0)
    assert GAME.outcome(state) == Outcome(
        winners=(1,), draw=False, reason="resigned", termination=Termination.RESIGNATION
    )
    with pytest.raises(IllegalMove):
        GAME.resign(state, 1)
    with pytest.raises(IllegalMove):
        GAME.resign(play([]), 2)


def test_options_and_player_count() -> None:
    assert GAME.validate_options({}) == {}
    with pytest.raises(InvalidOptions, match="unknown option 'size'"):
        GAME.validate_options({"size": 4})
    with pytest.raises(InvalidOptions, match="exactly 2 players"):
        GAME.setup(3, RNG, {})


def test_legal_moves_are_the_empty_cells_for_the_mover_only() -> None:
    state = play([4, 0])
    assert GAME.legal_moves(state, 0) == [{"cell": c} for c in (1, 2, 3, 5, 6, 7, 8)]
    assert GAME.legal_moves(state, 1) == []
