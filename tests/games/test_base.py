"""The shared rules API pieces: errors, Outcome, state hashes, option checking."""

from __future__ import annotations

import random
from typing import Any

import pytest

from gameserver.games.base import (
    GameError,
    IllegalMove,
    InvalidOptions,
    MalformedMove,
    MoveError,
    NotYourTurn,
    Outcome,
    Termination,
    bool_option,
    int_option,
    merge_options,
    state_hash,
)
from gameserver.games.registry import GAMES, UnknownGame, get_game, list_games
from gameserver.games.tictactoe import GAME as TICTACTOE


def test_exception_tree() -> None:
    assert issubclass(NotYourTurn, IllegalMove)
    assert issubclass(IllegalMove, MoveError) and issubclass(MalformedMove, MoveError)
    assert issubclass(MoveError, GameError) and issubclass(InvalidOptions, GameError)
    assert issubclass(UnknownGame, GameError)
    error = IllegalMove("bid too low")
    assert error.reason == "bid too low" and str(error) == "bid too low"


def test_outcome_to_data() -> None:
    outcome = Outcome(winners=(1,), draw=False, scores=(0, 3), reason="four in a row")
    assert outcome.to_data() == {
        "winners": [1],
        "draw": False,
        "scores": [0, 3],
        "reason": "four in a row",
        "termination": "normal",
    }
    resigned = Outcome((0,), False, reason="resigned", termination=Termination.RESIGNATION)
    assert resigned.to_data()["termination"] == "resignation"
    assert Outcome((), True, reason="board full").to_data()["scores"] is None


def test_state_hash_is_sha256_hex_and_tracks_the_state() -> None:
    rng = random.Random(1)
    start = TICTACTOE.setup(2, rng, {})
    moved = TICTACTOE.apply(start, 0, {"cell": 4}, rng)
    assert len(state_hash(TICTACTOE, start)) == 64
    assert state_hash(TICTACTOE, start) == state_hash(TICTACTOE, TICTACTOE.setup(2, rng, {}))
    assert state_hash(TICTACTOE, start) != state_hash(TICTACTOE, moved)


def test_merge_options() -> None:
    checks = {"n": int_option(1, 3), "flag": bool_option}
    assert merge_options({"n": 2, "flag": True}, checks, {"n": 3}) == {"n": 3, "flag": True}
    cases: list[tuple[dict[str, Any], str]] = [
        ({"n": 0}, "between 1 and 3"),
        ({"n": True}, "must be an integer"),
        ({"n": "2"}, "must be an integer"),
        ({"flag": 1}, "true or false"),
        ({"other": 1}, "unknown option 'other'"),
    ]
    for bad, message in cases:
        with pytest.raises(InvalidOptions, match=message):
            merge_options({"n": 2, "flag": True}, checks, bad)
    with pytest.raises(InvalidOptions, match="map"):
        merge_options({}, checks, [1, 2])  # type: ignore[arg-type]


def test_registry() -> None:
    assert set(list_games()) >= {"tictactoe"}
    assert list_games() == sorted(GAMES)
    for name in list_games():
        game = get_game(name)
        assert game.name == name and game.title
        assert 1 <= game.min_players <= game.max_players
        assert game.validate_options({}) == game.default_options()
    with pytest.raises(UnknownGame, match="unknown game 'chess'"):
        get_game("chess")
