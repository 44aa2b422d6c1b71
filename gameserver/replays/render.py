"""Text renderings of game views, for ``gameserver replay show`` and logs.

``render_view(game, view)`` draws what a seat (or a spectator) saw: tic-tac-toe and
connect four grids, liar's dice cups and bids. Games without a renderer, and views a
renderer does not recognise, fall back to a sorted ``key: value`` listing, so a new game
is always shown somehow.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

#: Marks for seats 0 and 1 on two-player boards.
MARKS = ("X", "O")
EMPTY = "."
#: Why: a cup holds a handful of dice; a larger count (a damaged or foreign view) is
#: written as a number instead of drawing billions of "?".
MAX_DRAWN_DICE = 30


def _mark(cell: Any) -> str:
    if cell is None:
        return EMPTY
    if isinstance(cell, int) and 0 <= cell < len(MARKS):
        return MARKS[cell]
    return "?"


def _seat(seat: Any, marks: bool = True) -> str:
    if marks and isinstance(seat, int) and 0 <= seat < len(MARKS):
        return f"seat {seat} ({MARKS[seat]})"
    return f"seat {seat}"


def _footer(view: Mapping[str, Any], marks: bool = True) -> list[str]:
    lines = []
    if view.get("turn") is not None:
        lines.append(f"to move: {_seat(view['turn'], marks)}")
    you = view.get("you")
    lines.append("viewing as: spectator" if you is None else f"viewing as: {_seat(you, marks)}")
    return lines


def render_tictactoe(view: Mapping[str, Any]) -> str:
    """Three rows of X / O / . with cell numbers alongside."""
    board = view["board"]
    if not isinstance(board, Sequence) or len(board) != 9:
        raise ValueError("not a tic-tac-toe board")
    line = set(view.get("line") or ())
    rows = []
    for r in range(3):
        cells = []
        for c in range(3):
            index = 3 * r + c
            mark = _mark(board[index])
            cells.append(f"[{mark}]" if index in line else f" {mark} ")
        numbers = " ".join(str(3 * r + c) for c in range(3))
        rows.append("".join(cells) + "    " + numbers)
    return "\n".join(rows + _footer(view))


def render_connect4(view: Mapping[str, Any]) -> str:
    """The grid top row first, column numbers underneath; the last disc in lower case."""
    board = view["board"]
    if not isinstance(board, Sequence) or not board or not isinstance(board[0], Sequence):
        raise ValueError("not a connect-four board")
    last = view.get("last")
    last_cell = tuple(last) if isinstance(last, Sequence) else None
    line = {tuple(cell) for cell in view.get("line") or ()}
    rows = []
    for r, row in enumerate(board):
        cells = []
        for c, cell in enumerate(row):
            mark = _mark(cell)
            if (r, c) == last_cell:
                mark = mark.lower()
            cells.append(f"[{mark}]" if (r, c) in line else f" {mark} ")
        rows.append("|" + "".join(cells) + "|")
    width = len(board[0])
    rows.append(" " + "".join(f" {c} " for c in range(width)))
    return "\n".join(rows + _footer(view))


def _hand(dice: Sequence[Any]) -> str:
    return " ".join(str(d) for d in dice)


def _bid(bid: Sequence[Any]) -> str:
    quantity, face = bid
    return f"{quantity} x {face}s"


def render_liarsdice(view: Mapping[str, Any]) -> str:
    """One line per seat (own dice shown, others' as ?), the bids, the last revealed round."""
    counts = view["counts"]
    you = view.get("you")
    eliminated = set(view.get("eliminated") or ())
    rules = ["1s wild" if view.get("ones_wild") else "1s not wild"]
    if view.get("spot_on"):
        rules.append("spot-on allowed")
    lines = [f"round {view['round']}, {view['total_dice']} dice in play ({', '.join(rules)})"]
    for seat, count in enumerate(counts):
        if seat in eliminated or count == 0:
            shown = "out"
        elif seat == you and view.get("dice"):
            shown = _hand(view["dice"])
        elif count > MAX_DRAWN_DICE:
            shown = f"{count} hidden dice"
        else:
            shown = " ".join("?" * count)
        lines.append(f"seat {seat}: {shown}")
    bids = view.get("bids") or []
    if bids:
        lines.append("bids: " + ", ".join(f"seat {b[0]} bid {_bid(b[1:])}" for b in bids))
    else:
        lines.append("bids: none yet")
    last = view.get("last_round")
    if last is not None:
        call = "spot on" if last["call"] == "spot_on" else last["call"]
        losers = ", ".join(f"seat {s}" for s in last["losers"]) or "nobody"
        lines.append(
            f"round {last['round']} ended: seat {last['caller']} called {call} on "
            f"{_bid(last['bid'])} by seat {last['bidder']}; there were {last['count']}; "
            f"lost a die: {losers}"
        )
        lines.append(
            "  revealed: "
            + " | ".join(f"seat {s}: {_hand(hand) or '-'}" for s, hand in enumerate(last["dice"]))
        )
    return "\n".join(lines + _footer(view, marks=False))


def _compact(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(", ", ": "), default=repr)


def render_generic(view: Mapping[str, Any]) -> str:
    """Every key of the view, sorted, one per line."""
    return "\n".join(f"{key}: {_compact(value)}" for key, value in sorted(view.items()))


RENDERERS: dict[str, Callable[[Mapping[str, Any]], str]] = {
    "tictactoe": render_tictactoe,
    "connect4": render_connect4,
    "liarsdice": render_liarsdice,
}


def render_view(game: str, view: Mapping[str, Any]) -> str:
    """Draw ``view`` of ``game`` as text; never raises for an unexpected view shape."""
    renderer = RENDERERS.get(game, render_generic)
    try:
        return renderer(view)
    except (KeyError, TypeError, ValueError, IndexError, AttributeError):
        return render_generic(view)
