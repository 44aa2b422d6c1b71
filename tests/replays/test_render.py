"""Text boards: each game drawn from real views; odd views fall back, never raise."""

from __future__ import annotations

import random
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from gameserver.games.registry import get_game
from gameserver.replays.render import render_generic, render_view

from .strategies import plain_data


def test_tictactoe_grid_marks_the_winning_line() -> None:
    view = {"board": [0, 0, 0, 1, 1, None, None, None, None], "you": 1, "turn": None,
            "line": [0, 1, 2]}
    assert render_view("tictactoe", view).splitlines() == [
        "[X][X][X]    0 1 2",
        " O  O  .     3 4 5",
        " .  .  .     6 7 8",
        "viewing as: seat 1 (O)",
    ]


def test_connect4_grid_shows_the_last_disc_and_column_numbers() -> None:
    game = get_game("connect4")
    rng = random.Random(0)
    state = game.setup(2, rng, {})
    for seat, column in [(0, 3), (1, 3), (0, 4)]:
        state = game.apply(state, seat, {"column": column}, rng)
    lines = render_view("connect4", game.view(state, None)).splitlines()
    assert lines[4:] == [
        "| .  .  .  O  .  .  . |",
        "| .  .  .  X  x  .  . |",
        "  0  1  2  3  4  5  6 ",
        "to move: seat 1 (O)",
        "viewing as: spectator",
    ]
    assert lines[0] == "| .  .  .  .  .  .  . |"


def test_liars_dice_shows_only_the_viewers_own_dice() -> None:
    game = get_game("liarsdice")
    rng = random.Random(3)
    state = game.setup(3, rng, {})
    own = game.view(state, 2)["dice"]
    as_seat = render_view("liarsdice", game.view(state, 2))
    as_spectator = render_view("liarsdice", game.view(state, None))
    assert f"seat 2: {' '.join(map(str, own))}" in as_seat
    assert "seat 0: ? ? ? ? ?" in as_seat
    assert "seat 2: ? ? ? ? ?" in as_spectator
    assert "bids: none yet" in as_spectator


def test_unknown_games_and_unexpected_views_fall_back_to_a_listing() -> None:
    view = {"b": [1, 2], "a": {"x": None}}
    assert render_view("chess", view) == 'a: {"x": null}\nb: [1, 2]'
    assert render_view("tictactoe", {"board": "nope"}) == render_generic({"board": "nope"})


def test_an_absurd_dice_count_is_written_as_a_number() -> None:
    # Found by the fuzz test below: drawing this many "?" ran out of memory.
    view = {"round": None, "total_dice": None, "counts": [6113302445, 2]}
    text = render_view("liarsdice", view)
    assert "seat 0: 6113302445 hidden dice" in text and "seat 1: ? ?" in text


@settings(max_examples=100, deadline=None)
@given(
    game=st.sampled_from(["tictactoe", "connect4", "liarsdice", "other"]),
    view=st.dictionaries(
        st.sampled_from(["board", "counts", "dice", "you", "turn", "line", "last", "bids",
                         "last_round", "round", "total_dice", "eliminated", "x"]),
        plain_data,
    ),
)
def test_rendering_any_view_never_raises(game: str, view: dict[str, Any]) -> None:
    assert isinstance(render_view(game, view), str)
