"""Tic-tac-toe: two players, a 3x3 board, three in a row wins.

Cells are numbered 0..8 row by row from the top left. Seat 0 moves first.
Move: ``{"cell": c}`` with ``c`` in 0..8.
View: ``{"board": [None | 0 | 1] * 9, "you": seat | None, "turn": seat | None,
"line": [c, c, c] | None}`` where ``line`` is the winning three once somebody has won.
Timeout rule: the seat whose clock ran out loses. Resigning loses.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from typing import Any

import attrs

from gameserver.games.alternating import AlternatingTwoSeatGame
from gameserver.games.base import (
    IllegalMove,
    MalformedMove,
    Move,
    Outcome,
    Termination,
    check_players,
    expect_fields,
    is_int,
    merge_options,
)

Cell = int | None

# Every line of three cells that wins.
LINES: tuple[tuple[int, int, int], ...] = (
    (0, 1, 2), (3, 4, 5), (6, 7, 8),  # rows
    (0, 3, 6), (1, 4, 7), (2, 5, 8),  # columns
    (0, 4, 8), (2, 4, 6),  # diagonals
)  # fmt: skip


@attrs.frozen
class TicTacToeState:
    """One position of a tic-tac-toe match."""

    board: tuple[Cell, ...]
    """Nine cells, row by row: None (empty) or the seat that holds it."""
    turn: int
    """The seat to move (meaningless once ``outcome`` is set)."""
    outcome: Outcome | None = None
    """Set when the match is over."""
    line: tuple[int, int, int] | None = None
    """The winning three cells, when someone made three in a row."""


def winning_line(board: tuple[Cell, ...]) -> tuple[int, int, int] | None:
    """Return the first complete line on ``board``, or None."""
    for line in LINES:
        a, b, c = line
        if board[a] is not None and board[a] == board[b] == board[c]:
            return line
    return None


class TicTacToe(AlternatingTwoSeatGame[TicTacToeState]):
    """The rules of tic-tac-toe."""

    name = "tictactoe"
    title = "Tic-tac-toe"
    min_players = 2
    max_players = 2

    def default_options(self) -> dict[str, Any]:
        """Tic-tac-toe has no options."""
        return {}

    def validate_options(self, options: Mapping[str, Any]) -> dict[str, Any]:
        """Return ``{}``; any option given raises InvalidOptions."""
        return merge_options({}, {}, options)

    def setup(
        self, players: int, rng: random.Random, options: Mapping[str, Any]
    ) -> TicTacToeState:
        """Return the empty board with seat 0 to move (the rng is not used)."""
        check_players(self, players)
        self.validate_options(options)
        return TicTacToeState(board=(None,) * 9, turn=0)

    def legal_moves(self, state: TicTacToeState, seat: int) -> list[Move]:
        """Return one ``{"cell": c}`` per empty cell when ``seat`` is to move."""
        if seat not in self.to_act(state):
            return []
        return [{"cell": i} for i, cell in enumerate(state.board) if cell is None]

    def apply(
        self, state: TicTacToeState, seat: int, move: Any, rng: random.Random
    ) -> TicTacToeState:
        """Return the state after ``seat`` marks ``move["cell"]``."""
        expect_fields(move, ("cell",))
        cell = move["cell"]
        if not is_int(cell):
            raise MalformedMove("'cell' must be an integer")
        if not 0 <= cell <= 8:
            raise MalformedMove("'cell' must be between 0 and 8")
        self._check_turn(state, seat)
        if state.board[cell] is not None:
            raise IllegalMove(f"cell {cell} is already taken")
        board = state.board[:cell] + (seat,) + state.board[cell + 1 :]
        line = winning_line(board)
        outcome: Outcome | None = None
        if line is not None:
            outcome = Outcome(
                (seat,), draw=False, reason="three in a row", termination=Termination.NORMAL
            )
        elif all(c is not None for c in board):
            outcome = Outcome((), draw=True, reason="board full", termination=Termination.NORMAL)
        return TicTacToeState(board=board, turn=1 - seat, outcome=outcome, line=line)

    def outcome(self, state: TicTacToeState) -> Outcome | None:
        """Return the result once the game is over."""
        return state.outcome

    def with_outcome(self, state: TicTacToeState, outcome: Outcome) -> TicTacToeState:
        """Return ``state`` ended with ``outcome`` (a timeout, resignation or forfeit)."""
        return attrs.evolve(state, outcome=outcome)

    def view(self, state: TicTacToeState, seat: int | None) -> dict[str, Any]:
        """Return the whole position: tic-tac-toe hides nothing."""
        return {
            "board": list(state.board),
            "you": seat,
            "turn": None if state.outcome is not None else state.turn,
            "line": None if state.line is None else list(state.line),
        }

    def snapshot(self, state: TicTacToeState) -> dict[str, Any]:
        """Return the full state as plain data."""
        return {
            "board": list(state.board),
            "turn": state.turn,
            "line": None if state.line is None else list(state.line),
            "outcome": None if state.outcome is None else state.outcome.hashed_data(),
        }



GAME = TicTacToe()
