"""No seat ever sees another seat's current dice; spectators see none until the reveal."""

from __future__ import annotations

import random

import attrs
from hypothesis import given, settings
from hypothesis import strategies as st

from gameserver.games.liarsdice import GAME, LiarsDiceState

from .strategies import run, scripts


def scrambled(state: LiarsDiceState, keep: int | None) -> LiarsDiceState:
    """``state`` with every hand except ``keep``'s replaced by other faces."""
    dice = tuple(
        hand if seat == keep else tuple(sorted(d % 6 + 1 for d in hand))
        for seat, hand in enumerate(state.dice)
    )
    return attrs.evolve(state, dice=dice)


@settings(max_examples=30, deadline=None)
@given(data=st.data())
def test_views_do_not_depend_on_dice_the_viewer_may_not_see(data: st.DataObject) -> None:
    script = data.draw(scripts("liarsdice"))
    for state in run(script):
        spectator = GAME.view(state, None)
        assert spectator == GAME.view(scrambled(state, None), None)
        assert spectator["dice"] is None
        for seat in range(script.players):
            view = GAME.view(state, seat)
            assert view == GAME.view(scrambled(state, seat), seat)
            assert len(view["dice"]) == view["counts"][seat]  # also after the final call
            if state.outcome is not None and state.counts[seat] and not state.dice[seat]:
                # the winner of a final call holds the hand just revealed
                assert state.last_round is not None
                assert view["dice"] == list(state.last_round.dice[seat])
            else:
                assert view["dice"] == list(state.dice[seat])
        # The only dice anyone sees besides their own are the previous round's reveal.
        if state.last_round is not None:
            assert spectator["last_round"]["dice"] == [list(h) for h in state.last_round.dice]


@settings(max_examples=30, deadline=None)
@given(data=st.data())
def test_each_reveal_shows_the_dice_of_the_round_that_was_called(data: st.DataObject) -> None:
    script = data.draw(scripts("liarsdice", resigns=False))
    states = run(script)
    for before, after in zip(states, states[1:]):
        if after.last_round is not before.last_round and after.last_round is not None:
            assert after.last_round.dice == before.dice
            assert after.last_round.round == before.round
            if after.outcome is None:
                assert after.round == before.round + 1
                assert [len(h) for h in after.dice] == list(after.counts)


def test_spectator_view_before_the_first_reveal_is_only_public_numbers() -> None:
    state = GAME.setup(3, random.Random(4), {"dice": 5})
    assert GAME.view(state, None) == {
        "you": None,
        "players": 3,
        "dice": None,
        "counts": [5, 5, 5],
        "total_dice": 15,
        "turn": 0,
        "round": 1,
        "bid": None,
        "bidder": None,
        "bids": [],
        "last_round": None,
        "eliminated": [],
        "ones_wild": True,
        "spot_on": True,
    }


@settings(max_examples=20, deadline=None)
@given(data=st.data())
def test_the_views_of_one_state_share_their_public_parts(data: st.DataObject) -> None:
    # A room asks every seat's view of a state in a row and diffs shared parts once;
    # the shared parts still show exactly the state, as plain lists.
    script = data.draw(scripts("liarsdice"))
    for state in run(script):
        views = [GAME.view(state, seat) for seat in [*range(script.players), None]]
        for key in ("counts", "bids", "eliminated"):
            assert all(view[key] is views[0][key] for view in views)
        assert views[0]["counts"] == list(state.counts)
        assert views[0]["bids"] == [list(record) for record in state.bids]
        assert views[0]["eliminated"] == list(state.eliminated)
        if state.last_round is not None:
            assert all(view["last_round"] is views[0]["last_round"] for view in views)
