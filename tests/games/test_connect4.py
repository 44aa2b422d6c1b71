"""Rules of connect four: gravity, wins in every direction, the draw, rejected moves."""

from __future__ import annotations

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
from gameserver.games.connect4 import GAME, Connect4State

RNG = random.Random(0)
# A whole game that fills the board without four in a row anywhere.
DRAWN_GAME = [
    1, 4, 6, 6, 6, 0, 2, 0, 3, 6, 3, 3, 5, 3, 6, 1, 0, 3, 0, 4, 3,
    5, 0, 6, 5, 2, 2, 5, 1, 2, 2, 0, 2, 5, 4, 5, 4, 4, 4, 1, 1, 1,
]  # fmt: skip


def play(columns: list[int]) -> Connect4State:
    """Drop discs into ``columns`` alternately from seat 0."""
    state = GAME.setup(2, RNG, {})
    for i, col in enumerate(columns):
        assert GAME.outcome(state) is None
        state = GAME.apply(state, i % 2, {"column": col}, RNG)
    return state


def test_discs_fall_to_the_bottom_and_rows_are_top_first() -> None:
    state = play([3, 3, 0])
    view = GAME.view(state, 1)
    assert view["board"][5] == [0, None, None, 0, None, None, None]
    assert view["board"][4] == [None, None, None, 1, None, None, None]
    assert all(cell is None for row in view["board"][:4] for cell in row)
    assert view["you"] == 1 and view["turn"] == 1
    assert view["last"] == [5, 0]
    assert view["line"] is None


# Each case: the moves (seat 0 first) and the winning line in view [row, col] cells.
WINS: dict[str, tuple[list[int], int, list[list[int]]]] = {
    "horizontal": ([0, 0, 1, 1, 2, 2, 3], 0, [[5, 0], [5, 1], [5, 2], [5, 3]]),
    "horizontal right end": ([6, 6, 5, 5, 4, 4, 3], 0, [[5, 3], [5, 4], [5, 5], [5, 6]]),
    "vertical": ([6, 0, 6, 0, 6, 0, 5, 0], 1, [[2, 0], [3, 0], [4, 0], [5, 0]]),
    # rising to the right (/): seat 0 at (5,0) (4,1) (3,2) (2,3)
    "diagonal up-right": (
        [0, 1, 1, 2, 2, 3, 2, 3, 3, 6, 3],
        0,
        [[5, 0], [4, 1], [3, 2], [2, 3]],
    ),
    # falling to the right (\): seat 0 at (2,3) (3,4) (4,5) (5,6)
    "diagonal down-right": (
        [6, 5, 5, 4, 4, 3, 4, 3, 3, 0, 3],
        0,
        [[2, 3], [3, 4], [4, 5], [5, 6]],
    ),
    "five joined by the middle disc": (
        [0, 0, 1, 1, 3, 3, 4, 4, 2],
        0,
        [[5, 0], [5, 1], [5, 2], [5, 3], [5, 4]],
    ),
}


@pytest.mark.parametrize("case", sorted(WINS))
def test_wins_in_every_direction(case: str) -> None:
    moves, winner, line = WINS[case]
    state = play(moves)
    assert GAME.outcome(state) == Outcome(
        winners=(winner,), draw=False, reason="four in a row", termination=Termination.NORMAL
    )
    view = GAME.view(state, None)
    assert sorted(view["line"]) == sorted(line)
    assert view["turn"] is None
    assert GAME.to_act(state) == frozenset()


def test_full_board_without_four_is_a_draw() -> None:
    state = play(DRAWN_GAME)
    assert GAME.outcome(state) == Outcome(
        winners=(), draw=True, reason="board full", termination=Termination.NORMAL
    )
    assert all(cell is not None for row in GAME.view(state, 0)["board"] for cell in row)


@pytest.mark.parametrize(
    "move, reason",
    [
        ("3", "must be a map"),
        ({}, "exactly one field"),
        ({"cell": 3}, "unexpected field 'cell'"),
        ({"column": None}, "must be an integer"),
        ({"column": False}, "must be an integer"),
        ({"column": 7}, "between 0 and 6"),
        ({"column": -1}, "between 0 and 6"),
    ],
)
def test_malformed_moves(move: Any, reason: str) -> None:
    with pytest.raises(MalformedMove) as info:
        GAME.apply(play([]), 0, move, RNG)
    assert reason in info.value.reason


def test_full_column_is_illegal() -> None:
    state = play([2] * 6)
    assert {"column": 2} not in GAME.legal_moves(state, 0)
    with pytest.raises(IllegalMove, match="column 2 is full") as info:
        GAME.apply(state, 0, {"column": 2}, RNG)
    assert not isinstance(info.value, NotYourTurn)


def test_out_of_turn_and_after_the_end() -> None:
    with pytest.raises(NotYourTurn):
        GAME.apply(play([]), 1, {"column": 0}, RNG)
    won = play(WINS["horizontal"][0])
    with pytest.raises(IllegalMove, match="over"):
        GAME.apply(won, 1, {"column": 6}, RNG)


def test_timeout_and_resign_lose() -> None:
    state = play([3])
    assert GAME.outcome(GAME.on_timeout(state, 1, RNG)) == Outcome(
        (0,), False, reason="timeout", termination=Termination.TIMEOUT
    )
    with pytest.raises(NotYourTurn):
        GAME.on_timeout(state, 0, RNG)
    assert GAME.outcome(GAME.resign(state, 0)) == Outcome(
        (1,), False, reason="resigned", termination=Termination.RESIGNATION
    )
    with pytest.raises(IllegalMove):
        GAME.resign(GAME.resign(state, 0), 1)


def test_options_and_players() -> None:
    with pytest.raises(InvalidOptions, match="unknown option"):
        GAME.setup(2, RNG, {"width": 8})
    with pytest.raises(InvalidOptions, match="exactly 2"):
        GAME.setup(1, RNG, {})


def test_successive_views_share_the_rows_a_move_left_unchanged() -> None:
    # Room pushes diff successive views; rows shared by identity are skipped unwalked.
    before = GAME.view(play([3, 3, 0]), 0)["board"]
    after = GAME.view(play([3, 3, 0, 3]), 1)["board"]
    changed = 5 - 2  # the third disc in column 3 lands in the third row from the bottom
    for row in range(6):
        assert (after[row] is before[row]) == (row != changed)
    assert after[changed] == [None, None, None, 1, None, None, None]
    assert before[changed] == [None] * 7
    assert all(type(line) is list for line in after)


def test_views_show_every_cell_of_a_whole_game() -> None:
    state = GAME.setup(2, RNG, {})
    for i, col in enumerate(DRAWN_GAME):
        state = GAME.apply(state, i % 2, {"column": col}, RNG)
        expected = [
            [column[height] if height < len(column) else None for column in state.columns]
            for height in reversed(range(6))
        ]
        assert GAME.view(state, None)["board"] == expected
