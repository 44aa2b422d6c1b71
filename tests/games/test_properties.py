"""Properties every game must have, checked on random legal matches of every game."""

from __future__ import annotations

import copy
import random
from typing import Any

import msgpack
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gameserver.games.base import MoveError, Outcome, state_hash
from gameserver.games.registry import get_game, list_games

from .strategies import Script, junk, near_moves, run, scripts

SETTINGS = settings(max_examples=30, deadline=None)


def assert_plain(value: Any, where: str = "view") -> None:
    """Fail unless ``value`` is plain msgpack-able data with str keys."""
    if value is None or isinstance(value, (bool, int, str)):
        return
    if isinstance(value, list):
        for i, item in enumerate(value):
            assert_plain(item, f"{where}[{i}]")
        return
    assert isinstance(value, dict), f"{where} is a {type(value).__name__}"
    for key, item in value.items():
        assert isinstance(key, str), f"{where} has a non-str key {key!r}"
        assert_plain(item, f"{where}.{key}")


@pytest.mark.parametrize("name", list_games())
@SETTINGS
@given(data=st.data())
def test_random_legal_play_ends_with_a_valid_outcome(name: str, data: st.DataObject) -> None:
    script = data.draw(scripts(name))
    game = get_game(name)
    final = run(script)[-1]
    outcome = game.outcome(final)
    assert isinstance(outcome, Outcome)
    assert game.to_act(final) == frozenset()
    assert all(0 <= seat < script.players for seat in outcome.winners)
    assert len(set(outcome.winners)) == len(outcome.winners)
    assert outcome.draw == (outcome.winners == ())
    assert outcome.reason
    assert_plain(outcome.to_data(), "outcome")
    for seat in range(script.players):
        assert game.legal_moves(final, seat) == []


@pytest.mark.parametrize("name", list_games())
@SETTINGS
@given(data=st.data())
def test_apply_never_mutates_its_input(name: str, data: st.DataObject) -> None:
    script = data.draw(scripts(name, timeouts=False, resigns=False))
    game = get_game(name)
    rng = random.Random(script.seed)
    state = game.setup(script.players, rng, script.options)
    for action in script.actions:
        before = copy.deepcopy(game.snapshot(state))
        move_before = copy.deepcopy(action.move)
        new_state = game.apply(state, action.seat, action.move, rng)
        assert game.snapshot(state) == before
        assert action.move == move_before
        assert new_state is not state
        state = new_state


@pytest.mark.parametrize("name", list_games())
@SETTINGS
@given(data=st.data())
def test_same_seed_and_moves_give_the_same_states(name: str, data: st.DataObject) -> None:
    script = data.draw(scripts(name))
    first = [state_hash(get_game(name), s) for s in run(script)]
    second = [state_hash(get_game(name), s) for s in run(script)]
    assert first == second
    assert len(set(first)) == len(first), "every action changes the state"


@pytest.mark.parametrize("name", list_games())
@SETTINGS
@given(data=st.data())
def test_views_and_snapshots_are_plain_data(name: str, data: st.DataObject) -> None:
    script = data.draw(scripts(name))
    game = get_game(name)
    for state in run(script):
        assert_plain(game.snapshot(state), "snapshot")
        assert_plain(game.view(state, None), "spectator view")
        for seat in range(script.players):
            view = game.view(state, seat)
            assert_plain(view)
            assert view["you"] == seat
            assert msgpack.unpackb(msgpack.packb(view)) == view


@pytest.mark.parametrize("name", list_games())
@SETTINGS
@given(data=st.data())
def test_any_move_is_rejected_cleanly_unless_it_is_legal(name: str, data: st.DataObject) -> None:
    move = data.draw(junk() | near_moves(name), label="move")
    script: Script = data.draw(scripts(name, timeouts=False, resigns=False))
    game = get_game(name)
    states = run(script)
    index = data.draw(st.integers(0, len(states) - 1))
    state = states[index]
    seat = data.draw(st.integers(0, script.players - 1))
    before = state_hash(game, state)
    try:
        game.apply(state, seat, move, random.Random(0))
    except MoveError as error:
        assert error.reason
    else:
        assert move in game.legal_moves(state, seat)
    assert state_hash(game, state) == before


@pytest.mark.parametrize("name", list_games())
def test_legal_moves_are_all_accepted_at_the_start(name: str) -> None:
    game = get_game(name)
    for players in range(game.min_players, game.max_players + 1):
        state = game.setup(players, random.Random(5), {})
        for seat in game.to_act(state):
            for move in game.legal_moves(state, seat):
                game.apply(state, seat, move, random.Random(5))
