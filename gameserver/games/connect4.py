"""Connect four: two players drop discs into a 7-wide, 6-high grid; four in a line wins.

Seat 0 moves first. Move: ``{"column": c}`` with ``c`` in 0..6; the disc falls to the
lowest empty cell of that column.

View (the same for everyone: connect four hides nothing)::

    {"board": [[None | 0 | 1] * 7] * 6,   # ROWS, board[0] is the TOP row, as drawn
     "you": seat | None, "turn": seat | None,
     "last": [row, col] | None,            # the disc dropped last
     "line": [[row, col], ...] | None}     # the winning run (four or more) once won

Win: four or more of one seat's discs in a row, column or either diagonal. Draw: the
board is full without one. Timeout rule: the seat whose clock ran out loses. Resigning
loses.
"""

from __future__ import annotations

import functools
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

WIDTH = 7
HEIGHT = 6
# The four line directions as (column step, height step): horizontal, vertical, two diagonals.
DIRECTIONS = ((1, 0), (0, 1), (1, 1), (1, -1))

# Columns are stored bottom-first: columns[c][h] is the disc at height h (0 = bottom).
Column = tuple[int, ...]


@attrs.frozen
class Connect4State:
    """One position of a connect-four match."""

    columns: tuple[Column, ...]
    """Seven columns, each the seats of its discs from the bottom up."""
    turn: int
    """The seat to move (meaningless once ``outcome`` is set)."""
    last: tuple[int, int] | None = None
    """(column, height) of the disc dropped last."""
    outcome: Outcome | None = None
    """Set when the match is over."""
    line: tuple[tuple[int, int], ...] | None = None
    """(column, height) cells of the winning run, when someone connected four."""


def disc(columns: tuple[Column, ...], col: int, height: int) -> int | None:
    """Return the seat at (col, height), or None if empty or off the board."""
    if 0 <= col < WIDTH and 0 <= height < len(columns[col]):
        return columns[col][height]
    return None


def run_through(
    columns: tuple[Column, ...], col: int, height: int
) -> tuple[tuple[int, int], ...] | None:
    """Return the longest run of 4+ through (col, height) of that disc's seat, or None."""
    seat = disc(columns, col, height)
    for dc, dh in DIRECTIONS:
        cells = [(col, height)]
        for sign in (1, -1):
            c, h = col + sign * dc, height + sign * dh
            while disc(columns, c, h) == seat:
                cells.append((c, h))
                c, h = c + sign * dc, h + sign * dh
        if len(cells) >= 4:
            return tuple(sorted(cells))
    return None


@functools.lru_cache(maxsize=256)
def to_rows(columns: tuple[Column, ...]) -> list[list[int | None]]:
    """Return the board as rows, top row first (the view's layout).

    Shared, never to be changed in place: the views of one position (every seat's and
    the spectators') get one board, and equal rows are one list in every board
    (``_ROWS``). A move changes one row, so a diff of successive views skips the others
    by identity, and the diffs of the seats' views can be made once.
    """
    # Pad each column to full height with None, then read the rows off top down.
    padded = [column + (None,) * (HEIGHT - len(column)) for column in columns]
    rows = _ROWS
    return [rows.get(row) or rows.setdefault(row, list(row)) for row in reversed(list(zip(*padded)))]


# Every row a view has shown, by its cells: at most 3 ** WIDTH of them (seat 0, seat 1
# or empty in each cell), so the cache is bounded.
_ROWS: dict[tuple[int | None, ...], list[int | None]] = {}


@functools.lru_cache(maxsize=None)  # at most WIDTH * HEIGHT cells
def to_row_col(cell: tuple[int, int]) -> list[int]:
    """Map an internal (column, height) cell to the view's [row, col] (shared: never
    change it in place)."""
    col, height = cell
    return [HEIGHT - 1 - height, col]


class Connect4(AlternatingTwoSeatGame[Connect4State]):
    """The rules of connect four."""

    name = "connect4"
    title = "Connect Four"
    min_players = 2
    max_players = 2

    def default_options(self) -> dict[str, Any]:
        """Connect four has no options."""
        return {}

    def validate_options(self, options: Mapping[str, Any]) -> dict[str, Any]:
        """Return ``{}``; any option given raises InvalidOptions."""
        return merge_options({}, {}, options)

    def setup(self, players: int, rng: random.Random, options: Mapping[str, Any]) -> Connect4State:
        """Return the empty board with seat 0 to move (the rng is not used)."""
        check_players(self, players)
        self.validate_options(options)
        return Connect4State(columns=((),) * WIDTH, turn=0)

    def legal_moves(self, state: Connect4State, seat: int) -> list[Move]:
        """Return ``{"column": c}`` for every column that is not full, if ``seat`` is to move."""
        if seat not in self.to_act(state):
            return []
        return [{"column": c} for c in range(WIDTH) if len(state.columns[c]) < HEIGHT]

    def apply(
        self, state: Connect4State, seat: int, move: Any, rng: random.Random
    ) -> Connect4State:
        """Return the state after ``seat`` drops a disc into ``move["column"]``."""
        expect_fields(move, ("column",))
        col = move["column"]
        if not is_int(col):
            raise MalformedMove("'column' must be an integer")
        if not 0 <= col < WIDTH:
            raise MalformedMove(f"'column' must be between 0 and {WIDTH - 1}")
        self._check_turn(state, seat)
        if len(state.columns[col]) >= HEIGHT:
            raise IllegalMove(f"column {col} is full")
        height = len(state.columns[col])
        columns = state.columns[:col] + (state.columns[col] + (seat,),) + state.columns[col + 1 :]
        line = run_through(columns, col, height)
        outcome: Outcome | None = None
        if line is not None:
            outcome = Outcome(
                (seat,), draw=False, reason="four in a row", termination=Termination.NORMAL
            )
        elif all(len(c) == HEIGHT for c in columns):
            outcome = Outcome((), draw=True, reason="board full", termination=Termination.NORMAL)
        return Connect4State(
            columns=columns, turn=1 - seat, last=(col, height), outcome=outcome, line=line
        )

    def outcome(self, state: Connect4State) -> Outcome | None:
        """Return the result once the game is over."""
        return state.outcome

    def with_outcome(self, state: Connect4State, outcome: Outcome) -> Connect4State:
        """Return ``state`` ended with ``outcome`` (a timeout, resignation or forfeit)."""
        return attrs.evolve(state, outcome=outcome)

    def view(self, state: Connect4State, seat: int | None) -> dict[str, Any]:
        """Return the whole position (see the module docstring for the layout)."""
        return {
            "board": to_rows(state.columns),
            "you": seat,
            "turn": None if state.outcome is not None else state.turn,
            "last": None if state.last is None else to_row_col(state.last),
            "line": None if state.line is None else [to_row_col(c) for c in state.line],
        }

    def snapshot(self, state: Connect4State) -> dict[str, Any]:
        """Return the full state as plain data (columns bottom-first)."""
        return {
            "columns": [list(c) for c in state.columns],
            "turn": state.turn,
            "last": None if state.last is None else list(state.last),
            "line": None if state.line is None else [list(c) for c in state.line],
            "outcome": None if state.outcome is None else state.outcome.hashed_data(),
        }



GAME = Connect4()
