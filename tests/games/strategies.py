"""Hypothesis strategies for the rules layer: whole matches played by random legal actions."""

from __future__ import annotations

import random
from typing import Any

import attrs
from hypothesis import strategies as st

from gameserver.games.base import Game
from gameserver.games.registry import get_game

# A match never needs more actions than this (liar's dice with 6 x 5 dice is the longest).
MAX_ACTIONS = 5000


@attrs.frozen
class Action:
    """One step of a scripted match."""

    kind: str
    """"move", "timeout" or "resign"."""
    seat: int
    move: Any = None


@attrs.frozen
class Script:
    """Everything needed to re-run a match: a pure function of these fields."""

    game: str
    players: int
    options: dict[str, Any]
    seed: int
    actions: tuple[Action, ...]


def run(script: Script) -> list[Any]:
    """Re-play ``script`` from scratch and return every state, the initial one first."""
    game = get_game(script.game)
    rng = random.Random(script.seed)
    state = game.setup(script.players, rng, script.options)
    states = [state]
    for action in script.actions:
        state = step(game, state, action, rng)
        states.append(state)
    return states


def step(game: Game, state: Any, action: Action, rng: random.Random) -> Any:
    """Apply one scripted action."""
    if action.kind == "move":
        return game.apply(state, action.seat, action.move, rng)
    if action.kind == "timeout":
        return game.on_timeout(state, action.seat, rng)
    return game.resign(state, action.seat)


def options_for(game_name: str) -> st.SearchStrategy[dict[str, Any]]:
    """Valid option sets for ``game_name`` (partial: the rest come from the defaults)."""
    if game_name == "liarsdice":
        return st.fixed_dictionaries(
            {},
            optional={
                "dice": st.integers(1, 5),
                "ones_wild": st.booleans(),
                "spot_on": st.booleans(),
            },
        )
    return st.just({})


@st.composite
def scripts(
    draw: st.DrawFn,
    game_name: str,
    *,
    timeouts: bool = True,
    resigns: bool = True,
    players: int | None = None,
) -> Script:
    """Draw a whole match of random legal actions, played until the game is over.

    Mostly moves; occasionally a timeout or a resignation when ``timeouts``/``resigns``.
    """
    game = get_game(game_name)
    if players is None:
        players = draw(st.integers(game.min_players, game.max_players), label="players")
    options = draw(options_for(game_name), label="options")
    seed = draw(st.integers(0, 2**32 - 1), label="seed")
    rng = random.Random(seed)
    state = game.setup(players, rng, options)
    actions: list[Action] = []
    kinds = ["move"] * 18 + (["timeout"] if timeouts else []) + (["resign"] if resigns else [])
    while game.outcome(state) is None:
        assert len(actions) < MAX_ACTIONS, "a match did not end"
        seat = draw(st.sampled_from(sorted(game.to_act(state))))
        kind = draw(st.sampled_from(kinds))
        if kind == "move":
            action = Action("move", seat, draw(st.sampled_from(game.legal_moves(state, seat))))
        else:
            action = Action(kind, seat)
        actions.append(action)
        state = step(game, state, action, rng)
    return Script(game_name, players, options, seed, tuple(actions))


def junk() -> st.SearchStrategy[Any]:
    """Arbitrary msgpack-like values, for moves that must be rejected cleanly."""
    scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8)
    return st.recursive(
        scalars,
        lambda inner: st.lists(inner, max_size=3)
        | st.dictionaries(st.text(max_size=8), inner, max_size=3),
        max_leaves=8,
    )


# The move fields each game understands, for moves that are shaped nearly right.
MOVE_FIELDS = {"tictactoe": ("cell",), "connect4": ("column",), "liarsdice": ("bid", "call")}


def near_moves(game_name: str) -> st.SearchStrategy[Any]:
    """Moves with the game's real field names and plausible, often wrong, values."""
    values = (
        st.integers(-2, 12)
        | st.lists(st.integers(-1, 40), min_size=1, max_size=3)
        | st.sampled_from(["liar", "spot_on", "Liar", ""])
        | st.booleans()
        | st.none()
    )
    return st.dictionaries(
        st.sampled_from(MOVE_FIELDS[game_name]), values, min_size=1, max_size=2
    )
