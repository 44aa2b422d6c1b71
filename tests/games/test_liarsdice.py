"""Rules of liar's dice: bidding order, calls, elimination, timeouts, resignations, views."""

from __future__ import annotations

import random
from typing import Any

import attrs
import pytest

from gameserver.games.base import (
    IllegalMove,
    InvalidOptions,
    MalformedMove,
    NotYourTurn,
    Outcome,
    Termination,
)
from gameserver.games.liarsdice import GAME, LiarsDiceState, matching

RNG = random.Random(0)


def table(
    dice: list[list[int]],
    *,
    turn: int = 0,
    bids: tuple[tuple[int, int, int], ...] = (),
    ones_wild: bool = True,
    spot_on: bool = True,
) -> LiarsDiceState:
    """A state with the given dice on the table."""
    return LiarsDiceState(
        ones_wild=ones_wild,
        spot_on=spot_on,
        counts=tuple(len(hand) for hand in dice),
        dice=tuple(tuple(sorted(hand)) for hand in dice),
        round=1,
        turn=turn,
        bids=bids,
        eliminated=tuple(s for s, hand in enumerate(dice) if not hand),
    )


def bid(state: LiarsDiceState, seat: int, quantity: int, face: int) -> LiarsDiceState:
    return GAME.apply(state, seat, {"bid": [quantity, face]}, RNG)


def call(state: LiarsDiceState, seat: int, kind: str = "liar") -> LiarsDiceState:
    return GAME.apply(state, seat, {"call": kind}, random.Random(1))


def test_setup_rolls_the_starting_dice_from_the_rng() -> None:
    state = GAME.setup(4, random.Random(9), {"dice": 3})
    assert state.counts == (3, 3, 3, 3)
    assert all(len(hand) == 3 and list(hand) == sorted(hand) for hand in state.dice)
    assert all(1 <= d <= 6 for hand in state.dice for d in hand)
    assert state.dice == GAME.setup(4, random.Random(9), {"dice": 3}).dice
    assert GAME.to_act(state) == frozenset({0}) and state.round == 1


def test_bids_must_rise() -> None:
    state = bid(table([[2, 3], [4, 5]]), 0, 2, 4)
    assert state.bid == (2, 4) and state.turn == 1
    for quantity, face in [(2, 4), (2, 3), (1, 6)]:
        with pytest.raises(IllegalMove, match="must beat 2 x 4") as info:
            bid(state, 1, quantity, face)
        assert not isinstance(info.value, NotYourTurn)
    assert bid(state, 1, 2, 5).bid == (2, 5)  # same quantity, higher face
    assert bid(state, 1, 3, 2).bid == (3, 2)  # higher quantity, any face


def test_bid_limits() -> None:
    with pytest.raises(IllegalMove, match="only 4 dice"):
        bid(table([[2, 3], [4, 5]]), 0, 5, 3)
    with pytest.raises(IllegalMove, match="1s are wild"):
        bid(table([[2, 3], [4, 5]]), 0, 1, 1)
    assert bid(table([[2, 3], [4, 5]], ones_wild=False), 0, 1, 1).bid == (1, 1)


def test_legal_moves_list_every_higher_bid_and_the_calls() -> None:
    start = table([[2, 3], [4, 5]])
    moves = GAME.legal_moves(start, 0)
    assert moves == [{"bid": [q, f]} for q in range(1, 5) for f in range(2, 7)]
    after = bid(start, 0, 3, 5)
    assert GAME.legal_moves(after, 1) == [
        {"bid": [3, 6]},
        *({"bid": [4, f]} for f in range(2, 7)),
        {"call": "liar"},
        {"call": "spot_on"},
    ]
    assert GAME.legal_moves(after, 0) == []
    no_spot = bid(table([[2, 3], [4, 5]], spot_on=False, ones_wild=False), 0, 4, 6)
    assert GAME.legal_moves(no_spot, 1) == [{"call": "liar"}]


@pytest.mark.parametrize(
    "move, reason",
    [
        (7, "must be a map"),
        ({}, "exactly one field"),
        ({"bid": [1, 2], "call": "liar"}, "exactly one field"),
        ({"raise": [1, 2]}, "unexpected field 'raise'"),
        ({"bid": 3}, "list [quantity, face]"),
        ({"bid": [1, 2, 3]}, "list [quantity, face]"),
        ({"bid": ["1", 2]}, "must be integers"),
        ({"bid": [1, True]}, "must be integers"),
        ({"bid": [0, 3]}, "at least 1"),
        ({"bid": [2, 7]}, "between 1 and 6"),
        ({"bid": [2, 0]}, "between 1 and 6"),
        ({"call": "bluff"}, "must be \"liar\" or \"spot_on\""),
        ({"call": None}, "must be \"liar\" or \"spot_on\""),
    ],
)
def test_malformed_moves(move: Any, reason: str) -> None:
    with pytest.raises(MalformedMove) as info:
        GAME.apply(table([[2, 3], [4, 5]]), 0, move, RNG)
    assert reason in info.value.reason


def test_out_of_turn_and_calls_without_a_bid() -> None:
    with pytest.raises(NotYourTurn):
        bid(table([[2, 3], [4, 5]]), 1, 1, 2)
    with pytest.raises(IllegalMove, match="no bid"):
        call(table([[2, 3], [4, 5]]), 0)
    with pytest.raises(IllegalMove, match="spot on calls are off"):
        call(bid(table([[2], [3]], spot_on=False), 0, 1, 2), 1, "spot_on")


def test_counting_wild_and_plain() -> None:
    dice = ((1, 1, 5), (5, 6), (1, 2))
    assert matching(dice, 5, ones_wild=True) == 5
    assert matching(dice, 5, ones_wild=False) == 2
    assert matching(dice, 1, ones_wild=False) == 3


def test_liar_on_a_true_bid_costs_the_caller_a_die() -> None:
    # three 5s counting wild 1s: 5, 1, 5 -> the bid holds.
    state = call(bid(table([[5, 1, 2], [5, 3, 4]]), 0, 3, 5), 1)
    assert state.counts == (3, 2)
    assert state.last_round is not None
    assert state.last_round.losers == (1,) and state.last_round.count == 3
    assert state.turn == 1 and state.round == 2 and state.bids == ()
    assert [len(hand) for hand in state.dice] == [3, 2]


def test_liar_on_a_false_bid_costs_the_bidder_a_die() -> None:
    state = call(bid(table([[5, 1, 2], [5, 3, 4]], ones_wild=False), 0, 3, 5), 1)
    assert state.counts == (2, 3)
    assert state.last_round is not None and state.last_round.count == 2
    assert state.turn == 0  # the loser opens the next round


def test_spot_on_exact_costs_everyone_else_a_die() -> None:
    start = table([[4, 4], [4, 6], [2, 3]])
    state = call(bid(bid(start, 0, 2, 6), 1, 3, 4), 2, "spot_on")
    assert state.counts == (1, 1, 2)
    assert state.last_round is not None and state.last_round.losers == (0, 1)
    assert state.turn == 2  # the caller opens


def test_spot_on_wrong_costs_the_caller() -> None:
    state = call(bid(table([[4, 4], [4, 6], [2, 3]]), 0, 2, 4), 1, "spot_on")
    assert state.counts == (2, 1, 2)
    assert state.turn == 1


def test_elimination_skips_the_seat_and_the_next_seat_opens() -> None:
    # seat 1 bids falsely and loses its last die; seat 2 opens the next round.
    start = table([[2, 2], [3], [4, 4]], turn=1)
    state = call(bid(start, 1, 5, 6), 2)
    assert state.counts == (2, 0, 2) and state.eliminated == (1,)
    assert state.turn == 2 and state.dice[1] == ()
    state = bid(state, 2, 1, 2)
    assert state.turn == 0
    state = bid(state, 0, 1, 3)
    assert state.turn == 2  # seat 1 is skipped
    with pytest.raises(NotYourTurn):
        bid(state, 1, 2, 2)


def test_last_player_with_dice_wins() -> None:
    state = call(bid(table([[3], [4]]), 0, 2, 6), 1)
    assert GAME.outcome(state) == Outcome(
        winners=(1,), draw=False, reason="last player with dice", termination=Termination.NORMAL
    )
    assert GAME.to_act(state) == frozenset()
    assert GAME.view(state, None)["last_round"]["dice"] == [[3], [4]]
    with pytest.raises(IllegalMove, match="over"):
        bid(state, 1, 1, 2)


@pytest.mark.parametrize(
    ("hands", "quantity", "kind", "winner"),
    [
        ([[3, 5, 6], [4]], 1, "liar", 0),  # one 3 is there: the caller loses its last die
        ([[4], [1, 3]], 2, "spot_on", 1),  # two 3s (1 wild), exactly: seat 0 loses its last
    ],
)
def test_the_winner_still_sees_its_own_dice_when_the_match_is_over(
    hands: list[list[int]], quantity: int, kind: str, winner: int
) -> None:
    """Issue 14.16: the final view said dice [] while counts said the winner had some."""
    state = call(bid(table(hands), 0, quantity, 3), 1, kind)
    outcome = GAME.outcome(state)
    assert outcome is not None and outcome.winners == (winner,)
    view = GAME.view(state, winner)
    assert view["dice"] == hands[winner] and view["counts"][winner] == len(hands[winner])
    loser = 1 - winner
    assert GAME.view(state, loser)["dice"] == [] and view["counts"][loser] == 0
    assert GAME.view(state, None)["dice"] is None
    assert state.dice == ((), ())  # the state (which replays hash) is as it always was


def test_timeout_calls_liar_or_opens_with_the_lowest_bid() -> None:
    opened = GAME.on_timeout(table([[2, 3], [4, 5]]), 0, RNG)
    assert opened.bids == ((0, 1, 2),)
    plain = GAME.on_timeout(table([[2, 3], [4, 5]], ones_wild=False), 0, RNG)
    assert plain.bids == ((0, 1, 1),)
    called = GAME.on_timeout(opened, 1, RNG)
    assert called.last_round is not None and called.last_round.call == "liar"
    assert called.last_round.caller == 1
    with pytest.raises(NotYourTurn):
        GAME.on_timeout(opened, 0, RNG)


def test_resign_eliminates_and_restarts_the_bidding() -> None:
    start = bid(table([[2, 3], [4, 5], [6, 6]]), 0, 2, 6)
    state = GAME.resign(start, 1)  # seat 1 was to act
    assert state.counts == (2, 0, 2) and state.dice[1] == ()
    assert state.bids == () and state.turn == 2 and state.eliminated == (1,)
    assert state.dice[0] == start.dice[0]  # no re-roll
    other = GAME.resign(start, 2)  # not its turn: seat 1 still acts
    assert other.turn == 1
    with pytest.raises(IllegalMove, match="not in the game"):
        GAME.resign(state, 1)
    final = GAME.resign(state, 0)
    assert GAME.outcome(final) == Outcome(
        winners=(2,), draw=False, reason="resigned", termination=Termination.RESIGNATION
    )
    with pytest.raises(IllegalMove, match="over"):
        GAME.resign(final, 2)


def test_options() -> None:
    assert GAME.validate_options({"dice": 3}) == {"dice": 3, "ones_wild": True, "spot_on": True}
    cases: list[tuple[dict[str, Any], str]] = [
        ({"dice": 0}, "between 1 and 10"),
        ({"dice": 11}, "between 1 and 10"),
        ({"ones_wild": "yes"}, "true or false"),
        ({"wild": True}, "unknown option 'wild'"),
    ]
    for bad, message in cases:
        with pytest.raises(InvalidOptions, match=message):
            GAME.setup(2, RNG, bad)
    with pytest.raises(InvalidOptions, match="2 to 6 players"):
        GAME.setup(7, RNG, {})


def test_views_show_own_dice_counts_and_the_reveal() -> None:
    state = bid(table([[2, 3], [4, 5, 6]]), 0, 2, 4)
    seat0 = GAME.view(state, 0)
    assert seat0 == {
        "you": 0,
        "players": 2,
        "dice": [2, 3],
        "counts": [2, 3],
        "total_dice": 5,
        "turn": 1,
        "round": 1,
        "bid": [2, 4],
        "bidder": 0,
        "bids": [[0, 2, 4]],
        "last_round": None,
        "eliminated": [],
        "ones_wild": True,
        "spot_on": True,
    }
    assert GAME.view(state, 1)["dice"] == [4, 5, 6]
    assert GAME.view(state, None)["dice"] is None
    after = call(state, 1)
    reveal = GAME.view(after, None)["last_round"]
    assert reveal == {
        "round": 1,
        "dice": [[2, 3], [4, 5, 6]],
        "bids": [[0, 2, 4]],
        "caller": 1,
        "call": "liar",
        "bidder": 0,
        "bid": [2, 4],
        "count": 1,
        "losers": [0],
    }
    assert GAME.view(after, None)["dice"] is None
    assert GAME.view(after, 0)["dice"] == list(after.dice[0])


def test_hidden_dice_never_appear_in_reasons() -> None:
    state = table([[6, 6, 6], [2, 2]], turn=1)
    for move in ({"bid": [9, 6]}, {"call": "liar"}, {"bid": [1, 1]}):
        with pytest.raises(IllegalMove) as info:
            GAME.apply(state, 1, move, RNG)
        assert "6, 6" not in info.value.reason and "[6" not in info.value.reason


def test_state_is_never_changed_by_a_rejected_move() -> None:
    state = table([[2, 3], [4, 5]])
    before = GAME.snapshot(state)
    for move in ({"bid": [9, 3]}, {"call": "liar"}, {"bid": "x"}):
        with pytest.raises(MalformedMove if move == {"bid": "x"} else IllegalMove):
            GAME.apply(state, 0, move, RNG)
    assert GAME.snapshot(state) == before
    assert attrs.evolve(state) == state
