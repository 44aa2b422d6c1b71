"""The strategy registry and the game-agnostic random player."""

from __future__ import annotations

import random

import pytest

from gameserver.games.registry import get_game, list_games
from gameserver.games.strategy import UnknownStrategy, get_strategy, list_strategies


def test_every_game_has_random_and_best() -> None:
    for name in list_games():
        assert {"random", "best"} <= set(list_strategies(name))


def test_unknown_strategy_and_game() -> None:
    with pytest.raises(UnknownStrategy, match="unknown strategy 'genius'"):
        get_strategy("tictactoe", "genius")
    with pytest.raises(UnknownStrategy):
        get_strategy("chess", "random")
    assert list_strategies("chess") == []


@pytest.mark.parametrize("name", list_games())
@pytest.mark.parametrize("strategy_name", ["random", "best"])
def test_strategies_return_a_legal_move_from_the_view_alone(
    name: str, strategy_name: str
) -> None:
    game = get_game(name)
    rng = random.Random(3)
    state = game.setup(game.min_players, rng, {})
    strategy = get_strategy(name, strategy_name)
    for _ in range(6):
        if game.outcome(state) is not None:
            break
        seat = min(game.to_act(state))
        legal = game.legal_moves(state, seat)
        move = strategy.choose(game.view(state, seat), legal, random.Random(7))
        assert move in legal
        state = game.apply(state, seat, move, rng)
