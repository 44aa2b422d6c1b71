"""Match: a transition can be taken back exactly (its record could not be made durable)."""

from __future__ import annotations

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
