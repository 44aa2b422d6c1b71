"""Match: a transition can be taken back exactly (its record could not be made durable)."""

from __future__ import annotations

import random

import pytest

from gameserver.games.registry import get_game
from gameserver.rooms.match import Match


@pytest.mark.parametrize("transition", ["apply", "timeout", "resign"])
def test_undo_restores_state_version_ply_and_rng(transition: str) -> None:
    match = Match(get_game("liarsdice"), 2, {}, seed=5)
    match.apply(0, {"bid": [1, 2]})
    state, version, ply, rng = match.state, match.version, match.ply, match.rng.getstate()
    if transition == "apply":
        match.apply(1, {"call": "liar"})  # ends the round: dice are rolled again
    elif transition == "timeout":
        match.timeout(1)
    else:
        match.resign(1)
    assert match.version == version + 1
    match.undo()
    assert (match.state, match.version, match.ply) == (state, version, ply)
    assert match.rng.getstate() == rng
    with pytest.raises(RuntimeError):
        match.undo()  # one step only
    # Going forward again draws exactly the same numbers as the first time.
    match.apply(1, {"call": "liar"})
    again = Match(get_game("liarsdice"), 2, {}, seed=5)
    again.apply(0, {"bid": [1, 2]})
    again.apply(1, {"call": "liar"})
    assert match.state == again.state


def test_the_match_rng_draws_what_random_random_draws() -> None:
    # Replays re-simulate with a plain random.Random: the match's must give the same numbers.
    match = Match(get_game("connect4"), 2, {}, seed=11)  # its setup draws nothing
    plain = random.Random(11)
    plain.shuffle(plain_list := list(range(50)))
    match.rng.shuffle(match_list := list(range(50)))
    assert match_list == plain_list
    assert [match.rng.randrange(1000) for _ in range(20)] == [plain.randrange(1000) for _ in range(20)]
    assert (match.rng.random(), match.rng.gauss(0, 1), match.rng.randbytes(5)) == (
        plain.random(), plain.gauss(0, 1), plain.randbytes(5)
    )


def test_a_transition_that_draws_nothing_saves_no_rng_state() -> None:
    match = Match(get_game("connect4"), 2, {}, seed=3)
    match.apply(0, {"column": 3})
    assert match._undo is not None and match._undo.rng is None  # nothing to copy or put back
    match.undo()
    assert match.version == 0


def test_a_refused_move_puts_back_what_it_drew() -> None:
    match = Match(get_game("liarsdice"), 2, {}, seed=5)
    before = match.rng.getstate()
    with pytest.raises(Exception):
        match.apply(0, {"bid": [0, 0]})  # malformed: refused by the rules
    assert match.rng.getstate() == before and match.version == 0
