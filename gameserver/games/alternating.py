"""The shared rules of two-seat games whose seats take turns: who acts, timeouts,
resignation, forfeit and the turn check.

A game built on :class:`AlternatingTwoSeatGame` keeps its state as an immutable attrs
instance with a ``turn`` field (the seat to move: 0 or 1) and an ``outcome`` field
(None while the match runs); it still writes ``setup``, ``legal_moves``, ``apply``,
``outcome``, ``view`` and ``snapshot`` itself, and calls :meth:`_check_turn` in
``apply`` after checking the move's shape.
"""

from __future__ import annotations

import random

import attrs

from gameserver.games.base import Game, IllegalMove, NotYourTurn, Outcome, State

__all__ = ["AlternatingTwoSeatGame"]


class AlternatingTwoSeatGame(Game):
    """A :class:`Game` for two seats that move in turn (see the module doc)."""

    def to_act(self, state: State) -> frozenset[int]:
        """Return the seat to move, or nothing once the game is over."""
        return frozenset() if state.outcome is not None else frozenset({state.turn})

    def on_timeout(self, state: State, seat: int, rng: random.Random) -> State:
        """The seat whose clock ran out loses."""
        self._check_turn(state, seat)
        return attrs.evolve(
            state, outcome=Outcome(winners=(1 - seat,), draw=False, reason="timeout")
        )

    def resign(self, state: State, seat: int) -> State:
        """The resigning seat loses (it may resign on either seat's turn)."""
        return self._give_up(state, seat, "resigned")

    def forfeit(self, state: State, seat: int) -> State:
        """The forfeited seat loses, as in ``resign``; the reason says "forfeit"."""
        return self._give_up(state, seat, "forfeit")

    def _give_up(self, state: State, seat: int, reason: str) -> State:
        """``seat`` loses now, for ``reason``; raise IllegalMove once the game is over."""
        if state.outcome is not None:
            raise IllegalMove("the game is over")
        if seat not in (0, 1):
            raise IllegalMove(f"there is no seat {seat}")
        return attrs.evolve(state, outcome=Outcome(winners=(1 - seat,), draw=False, reason=reason))

    def _check_turn(self, state: State, seat: int) -> None:
        """Raise IllegalMove once the game is over, NotYourTurn when ``seat`` is not to move."""
        if state.outcome is not None:
            raise IllegalMove("the game is over")
        if seat != state.turn:
            raise NotYourTurn("it is not your turn")
