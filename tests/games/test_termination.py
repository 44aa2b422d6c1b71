"""Every way a match of each built-in game ends carries the right ``Termination``."""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

import attrs
import pytest

from gameserver.games.base import AnyGame, Outcome, Termination, state_hash
from gameserver.games.connect4 import GAME as CONNECT4
from gameserver.games.liarsdice import GAME as LIARSDICE
from gameserver.games.liarsdice import LiarsDiceState
from gameserver.games.registry import get_game
from gameserver.games.tictactoe import GAME as TICTACTOE

from .test_connect4 import DRAWN_GAME

RNG = random.Random(0)


def played(game: AnyGame, moves: list[dict[str, Any]], players: int = 2) -> Any:
    """The state after ``moves``, the seats taking turns from seat 0."""
    state = game.setup(players, random.Random(1), game.validate_options({}))
    for ply, move in enumerate(moves):
        state = game.apply(state, ply % players, move, RNG)
    return state


def ended(state: Any, game: AnyGame) -> Outcome:
    outcome = game.outcome(state)
    assert outcome is not None
    return outcome


# name -> (game, moves that win for seat 0, moves that fill the board without a line)
BOARD_GAMES = {
    "tictactoe": (
        TICTACTOE,
        [{"cell": c} for c in (0, 3, 1, 4, 2)],
        [{"cell": c} for c in (0, 1, 2, 4, 3, 5, 7, 6, 8)],
    ),
    "connect4": (
        CONNECT4,
        [{"column": c} for c in (0, 1, 0, 1, 0, 1, 0)],
        [{"column": c} for c in DRAWN_GAME],
    ),
}


@pytest.mark.parametrize("name", sorted(BOARD_GAMES))
def test_a_win_and_a_draw_on_the_board_end_normally(name: str) -> None:
    game, win, draw = BOARD_GAMES[name]
    won = ended(played(game, win), game)
    assert (won.winners, won.termination) == ((0,), Termination.NORMAL)
    drawn = ended(played(game, draw), game)
    assert (drawn.draw, drawn.winners, drawn.termination) == (True, (), Termination.NORMAL)


# How a two-seat game ends when the rules are not what ends it: seat 1 is the loser.
GIVE_UPS: dict[str, tuple[Callable[[AnyGame, Any], Any], str, Termination]] = {
    "timeout": (lambda game, s: game.on_timeout(s, 1, RNG), "timeout", Termination.TIMEOUT),
    "resign": (lambda game, s: game.resign(s, 1), "resigned", Termination.RESIGNATION),
    "forfeit": (lambda game, s: game.forfeit(s, 1), "forfeit", Termination.FORFEIT),
}


@pytest.mark.parametrize("how", sorted(GIVE_UPS))
@pytest.mark.parametrize("name", sorted(BOARD_GAMES))
def test_a_two_seat_game_lost_by_timeout_resignation_or_forfeit_says_so(
    name: str, how: str
) -> None:
    game = BOARD_GAMES[name][0]
    end, reason, termination = GIVE_UPS[how]
    outcome = ended(end(game, played(game, BOARD_GAMES[name][1][:1])), game)
    assert outcome == Outcome((0,), draw=False, reason=reason, termination=termination)


def two_players(
    dice: tuple[tuple[int, ...], ...], bids: tuple[tuple[int, int, int], ...]
) -> LiarsDiceState:
    """A liar's dice table of two players with one die each, seat 1 to act."""
    return LiarsDiceState(
        ones_wild=True, spot_on=True, counts=(1, 1), dice=dice, round=1, turn=1, bids=bids
    )


def test_liars_dice_won_by_a_call_ends_normally() -> None:
    state = two_players(((3,), (4,)), bids=((0, 2, 6),))
    outcome = ended(LIARSDICE.apply(state, 1, {"call": "liar"}, RNG), LIARSDICE)
    assert (outcome.winners, outcome.termination) == ((1,), Termination.NORMAL)


def test_liars_dice_timeout_plays_a_call_so_its_end_is_normal_not_a_timeout_loss() -> None:
    # Seat 1 times out and so calls liar on a bid that is false: the TIMED-OUT seat wins.
    state = two_players(((3,), (4,)), bids=((0, 2, 6),))
    outcome = ended(LIARSDICE.on_timeout(state, 1, RNG), LIARSDICE)
    assert outcome == Outcome(
        (1,), draw=False, reason="last player with dice", termination=Termination.NORMAL
    )


@pytest.mark.parametrize(
    ("how", "reason", "termination"),
    [("resign", "resigned", Termination.RESIGNATION), ("forfeit", "forfeit", Termination.FORFEIT)],
)
def test_liars_dice_last_one_left_wins_by_the_last_elimination(
    how: str, reason: str, termination: Termination
) -> None:
    state = played(LIARSDICE, [], players=3)
    state = LIARSDICE.resign(state, 0)  # the first elimination decides nothing
    assert LIARSDICE.outcome(state) is None
    outcome = ended(getattr(LIARSDICE, how)(state, 2), LIARSDICE)
    assert outcome == Outcome((1,), draw=False, reason=reason, termination=termination)


def test_the_wire_form_carries_the_termination_and_the_hashed_form_does_not() -> None:
    outcome = Outcome((1,), draw=False, reason="forfeit", termination=Termination.FORFEIT)
    assert outcome.to_data() == {**outcome.hashed_data(), "termination": "forfeit"}
    assert "termination" not in outcome.hashed_data()


@pytest.mark.parametrize("name", ["tictactoe", "connect4", "liarsdice"])
def test_state_hashes_do_not_depend_on_the_termination(name: str) -> None:
    # Hashes recorded before termination existed must still match (see Outcome.hashed_data).
    game = get_game(name)
    state = game.resign(game.setup(2, random.Random(1), game.validate_options({})), 1)
    outcome = ended(state, game)
    relabelled = Outcome(
        outcome.winners, outcome.draw, outcome.scores, outcome.reason, Termination.NORMAL
    )
    assert relabelled != outcome
    assert state_hash(game, state) == state_hash(game, attrs.evolve(state, outcome=relabelled))
