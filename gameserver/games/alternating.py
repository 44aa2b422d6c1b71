"""The shared rules of two-seat games whose seats take turns: who acts, timeouts,
resignation, forfeit and the turn check.

A game built on :class:`AlternatingTwoSeatGame` keeps its state as an immutable attrs
instance with a ``turn`` field (the seat to move: 0 or 1) and an ``outcome`` field
(None while the match runs): see :class:`TwoSeatState`. It still writes ``setup``,
``legal_moves``, ``apply``, ``outcome``, ``view``, ``snapshot`` and ``with_outcome``
itself, and calls :meth:`_check_turn` in ``apply`` after checking the move's shape.
"""

from __future__ import annotations

import abc
import random
from typing import Protocol, TypeVar

from gameserver.games.base import Game, IllegalMove, NotYourTurn, Outcome, Termination

__all__ = ["AlternatingTwoSeatGame", "TwoSeatState"]


class TwoSeatState(Protocol):
    """What :class:`AlternatingTwoSeatGame` reads of a state (an attrs frozen class)."""

    @property
    def turn(self) -> int:
        """The seat to move, 0 or 1."""
        ...

    @property
    def outcome(self) -> Outcome | None:
        """None while the match runs."""
        ...


T = TypeVar("T", bound=TwoSeatState)


class AlternatingTwoSeatGame(Game[T]):
    """A :class:`Game` for two seats that move in turn (see the module doc)."""

    def to_act(self, state: T) -> frozenset[int]:
        """Return the seat to move, or nothing once the game is over."""
        return frozenset() if state.outcome is not None else frozenset({state.turn})

    def on_timeout(self, state: T, seat: int, rng: random.Random) -> T:
        """The seat whose clock ran out loses."""
        self._check_turn(state, seat)
        return self._lose(state, seat, "timeout", Termination.TIMEOUT)

    def resign(self, state: T, seat: int) -> T:
        """The resigning seat loses (it may resign on either seat's turn)."""
        return self._give_up(state, seat, "resigned", Termination.RESIGNATION)

    def forfeit(self, state: T, seat: int) -> T:
        """The forfeited seat loses, as in ``resign``; the outcome says "forfeit"."""
        return self._give_up(state, seat, "forfeit", Termination.FORFEIT)

    def _give_up(self, state: T, seat: int, reason: str, termination: Termination) -> T:
        """``seat`` loses now; raise IllegalMove once the game is over."""
        if state.outcome is not None:
            raise IllegalMove("the game is over")
        if seat not in (0, 1):
            raise IllegalMove(f"there is no seat {seat}")
        return self._lose(state, seat, reason, termination)

    def _lose(self, state: T, seat: int, reason: str, termination: Termination) -> T:
        """Return ``state`` ended with ``seat`` losing (the other seat wins)."""
        outcome = Outcome(winners=(1 - seat,), draw=False, reason=reason, termination=termination)
        return self.with_outcome(state, outcome)

    @abc.abstractmethod
    def with_outcome(self, state: T, outcome: Outcome) -> T:
        """Return ``state`` with its match over as ``outcome`` says, all else unchanged.

        A game's state is its own class, so the game writes this one line
        (``attrs.evolve(state, outcome=outcome)``) where its state type is known.
        """

    def _check_turn(self, state: T, seat: int) -> None:
        """Raise IllegalMove once the game is over, NotYourTurn when ``seat`` is not to move."""
        if state.outcome is not None:
            raise IllegalMove("the game is over")
        if seat != state.turn:
            raise NotYourTurn("it is not your turn")
