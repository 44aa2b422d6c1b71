"""The probability-based liar's dice player."""

from __future__ import annotations

import random
from typing import Any

import pytest

from gameserver.games.liarsdice import GAME, LiarsDiceState
from gameserver.games.registry import get_game
from gameserver.games.selfplay import run_selfplay
from gameserver.games.strategies.liarsdice import ProbabilityStrategy, at_least, exactly


def choose(state: LiarsDiceState, seed: int = 0) -> dict[str, Any]:
    seat = state.turn
    return ProbabilityStrategy().choose(
        GAME.view(state, seat), GAME.legal_moves(state, seat), random.Random(seed)
    )


def table(
    dice: list[list[int]], bids: tuple[tuple[int, int, int], ...], turn: int
) -> LiarsDiceState:
    return LiarsDiceState(
        ones_wild=True,
        spot_on=True,
        counts=tuple(len(h) for h in dice),
        dice=tuple(tuple(sorted(h)) for h in dice),
        round=1,
        turn=turn,
        bids=bids,
    )


def test_binomial_helpers() -> None:
    assert sum(exactly(k, 10, 1 / 3) for k in range(11)) == pytest.approx(1.0)
    assert at_least(0, 4, 0.5) == 1.0 and at_least(5, 4, 0.5) == 0.0
    assert at_least(1, 2, 0.5) == pytest.approx(0.75)


def test_calls_liar_on_an_impossible_looking_bid() -> None:
    # 10 dice in play, I hold no 6 and no 1: nine 6s is wildly unlikely.
    state = table([[2, 3, 4, 5, 5], [6, 6, 6, 6, 6]], ((1, 9, 6),), turn=0)
    assert choose(state) == {"call": "liar"}


def test_raises_on_what_it_holds_when_the_bid_is_likely() -> None:
    # I hold four 5s (two of them wild 1s): "two 5s" is certain, so I raise to a bid
    # my own dice already guarantee rather than calling.
    state = table([[1, 1, 5, 5, 3], [2, 2, 2, 2, 2]], ((1, 2, 5),), turn=0)
    for seed in range(5):
        move = choose(state, seed)
        assert "bid" in move
        quantity, face = move["bid"]
        assert quantity <= sum(1 for d in (1, 1, 5, 5, 3) if d in (1, face))


def test_opens_with_a_bid() -> None:
    move = choose(table([[4, 4, 4, 2, 3], [6, 6, 6, 6, 6]], (), turn=0))
    assert "bid" in move


def test_best_beats_random_heads_up() -> None:
    report = run_selfplay(
        get_game("liarsdice"), games=60, seed=3, players=2, strategy_names=["best", "random"]
    )
    assert report.by_strategy["best"]["wins"] >= 54


def test_reading_opponents_bids_beats_ignoring_them() -> None:
    report = run_selfplay(
        get_game("liarsdice"), games=100, seed=4, players=2, strategy_names=["best", "simple"]
    )
    assert report.by_strategy["best"]["wins"] >= 65


def test_opponents_bids_count_as_evidence() -> None:
    # Seat 1 bid "three 6s"; I hold one 6. Alone, three 6s among 10 dice is a coin flip;
    # crediting seat 1 with a 6 makes it likely, so "best" raises while "simple" calls.
    state = table([[6, 2, 3, 4, 5], [6, 6, 2, 2, 2]], ((1, 3, 6),), turn=0)
    view, legal = GAME.view(state, 0), GAME.legal_moves(state, 0)
    best = ProbabilityStrategy().choose(view, legal, random.Random(0))
    simple = ProbabilityStrategy(infer_from_bids=False).choose(view, legal, random.Random(0))
    assert simple == {"call": "liar"}
    assert "bid" in best
