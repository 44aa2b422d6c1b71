"""``Game.forfeit``: the resign rule with its own reason, and logs of both verify."""

from __future__ import annotations

import random

import pytest

from gameserver.games.base import IllegalMove
from gameserver.games.registry import get_game
from gameserver.replays.codec import record_from_data, record_to_data
from gameserver.replays.records import Resigned


@pytest.mark.parametrize("name", ["tictactoe", "connect4"])
def test_a_two_seat_forfeit_is_a_loss_that_says_forfeit(name: str) -> None:
    game = get_game(name)
    state = game.setup(2, random.Random(1), game.validate_options({}))
    forfeited = game.outcome(game.forfeit(state, 1))
    resigned = game.outcome(game.resign(state, 1))
    assert forfeited is not None and resigned is not None
    assert (forfeited.winners, forfeited.reason) == ((0,), "forfeit")
    assert (resigned.winners, resigned.reason) == ((0,), "resigned")
    with pytest.raises(IllegalMove):
        game.forfeit(game.forfeit(state, 1), 0)


def test_a_liars_dice_forfeit_eliminates_and_the_last_one_left_wins_by_forfeit() -> None:
    game = get_game("liarsdice")
    state = game.setup(3, random.Random(1), game.validate_options({}))
    state = game.forfeit(state, 0)
    assert game.outcome(state) is None and 0 not in game.to_act(state)
    outcome = game.outcome(game.forfeit(state, 2))
    assert outcome is not None and outcome.winners == (1,) and outcome.reason == "forfeit"
    # the reason names the last elimination: a resignation then says "resigned"
    resigned = game.outcome(game.resign(state, 2))
    assert resigned is not None and resigned.reason == "resigned"


def test_a_resign_record_of_an_older_log_is_a_resignation() -> None:
    record = Resigned(at=1, seat=0, version=3, forfeit=True)
    assert record_from_data(record_to_data(record)) == record
    old = record_to_data(Resigned(at=1, seat=0, version=3))
    del old["forfeit"]  # logs written before forfeits had their own record field
    decoded = record_from_data(old)
    assert isinstance(decoded, Resigned) and decoded.forfeit is False
