"""One match of one game (sans-IO): state, version, rng and rule calls with wire errors.

The room drives a ``Match`` and does everything else (recording, broadcasting, clocks).
Every call into the rules raises only the rules' own errors or ``RulesFailed`` (a bug in
the game), so the room can tell a refused move from a broken game.
Each successful transition bumps ``version`` by one. Failed moves leave the state, the
version and the rng exactly as they were, so a replay re-simulates identically. The last
transition can be taken back with ``undo`` (its record could not be made durable).

The rng's state is saved only when a transition draws from it (``_UndoableRandom``):
copying it costs more than the rest of a move, and most moves of most games draw nothing.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from typing import Any, ParamSpec, TypeVar

import attrs

from gameserver.games.base import (
    AnyGame,
    GameError,
    IllegalMove,
    MalformedMove,
    MoveError,
    NotYourTurn,
    Outcome,
)
from gameserver.protocol.errors import ErrorCode, RequestError
from gameserver.rooms.errors import RulesFailed


_P = ParamSpec("_P")
_T = TypeVar("_T")
_RngState = tuple[Any, ...]


class _UndoableRandom(random.Random):
    """The match's ``random.Random``, which saves its state before the first number drawn
    while ``watch`` is on; ``unwatch`` returns that state (None: nothing was drawn).

    Every draw of ``random.Random`` goes through ``random`` or ``getrandbits`` (its own
    methods call these two), so both are watched; overriding both keeps the base class's
    way of drawing integers, hence the same numbers for the same seed.
    """

    def __init__(self, seed: Any = None) -> None:
        self._watching = False
        self._before: _RngState | None = None
        super().__init__(seed)

    def watch(self) -> None:
        """Save the state before the next draw (from now until ``unwatch``)."""
        self._watching = True
        self._before = None

    def unwatch(self) -> _RngState | None:
        """Stop watching; the state before the first draw since ``watch``, if any."""
        self._watching = False
        before, self._before = self._before, None
        return before

    def random(self) -> float:
        if self._watching:
            self._save()
        return super().random()

    def getrandbits(self, k: int, /) -> int:
        if self._watching:
            self._save()
        return super().getrandbits(k)

    def _save(self) -> None:
        self._watching = False
        self._before = self.getstate()


@attrs.frozen
class _Before:
    """What ``Match.undo`` puts back: the state before the last transition and the rng's
    state then (None when the transition drew no random numbers)."""

    state: Any
    rng: _RngState | None


def _ask(
    game: AnyGame, call: str, rule: Callable[_P, _T], *args: _P.args, **kwargs: _P.kwargs
) -> _T:
    """Return ``rule(*args, **kwargs)``; let the rules' own errors through and turn any
    other exception (a bug in the game) into RulesFailed.

    A plain call, not a context manager: a move asks the rules about ten times, and a
    generator-based ``with`` costs over a microsecond each time.
    """
    try:
        return rule(*args, **kwargs)
    except GameError:
        raise
    except Exception as exc:
        raise RulesFailed(game.name, call) from exc


class Match:
    """The running state of one match; every mutation goes through a method here."""

    def __init__(
        self,
        game: AnyGame,
        players: int,
        options: Mapping[str, Any],
        seed: int,
        *,
        version: int = 0,
    ) -> None:
        self.game = game
        self.players = players
        self.options = dict(options)
        self.seed = seed
        self.rng = _UndoableRandom(seed)
        self.state: Any = _ask(game, "setup", game.setup, players, self.rng, self.options)
        #: Bumped on every applied move, timeout or resignation.
        self.version = version
        #: Number of transitions applied in this match (the match log index).
        self.ply = 0
        self._undo: _Before | None = None

    @classmethod
    def resume(
        cls,
        game: AnyGame,
        players: int,
        options: Mapping[str, Any],
        seed: int,
        *,
        state: Any,
        version: int,
        rng: random.Random,
    ) -> Match:
        """Rebuild a match from its log (crash recovery): same state, version and rng."""
        match = cls.__new__(cls)
        match.game = game
        match.players = players
        match.options = dict(options)
        match.seed = seed
        match.rng = _UndoableRandom()
        match.rng.setstate(rng.getstate())
        match.state = state
        match.version = version
        match.ply = version
        match._undo = None
        return match

    @property
    def outcome(self) -> Outcome | None:
        """How the match ended, or None while it runs."""
        return _ask(self.game, "outcome", self.game.outcome, self.state)

    @property
    def over(self) -> bool:
        """True once the match has an outcome."""
        return self.outcome is not None

    def to_act(self) -> frozenset[int]:
        """Seats that may act now."""
        return _ask(self.game, "to_act", self.game.to_act, self.state)

    def view(self, seat: int | None) -> dict[str, Any]:
        """What ``seat`` (None: spectators) may see now."""
        return _ask(self.game, "view", self.game.view, self.state, seat)

    def legal_moves(self, seat: int) -> list[Any]:
        """The moves ``seat`` may make now."""
        return _ask(self.game, "legal_moves", self.game.legal_moves, self.state, seat)

    def _commit(self, state: Any, rng_before: _RngState | None) -> None:
        # Keeping the old state (an immutable value) and the rng state the caller had
        # to save anyway makes ``undo`` free on the hot path.
        self._undo = _Before(self.state, rng_before)
        self.state = state
        self.version += 1
        self.ply += 1

    def undo(self) -> None:
        """Take back the last transition: state, version, ply and rng as before it.

        Call it when the transition's record could not be made durable, before anyone
        was told. Only one step back; raises ``RuntimeError`` with nothing to undo.
        """
        before, self._undo = self._undo, None
        if before is None:
            raise RuntimeError("no transition to undo")
        self.state = before.state
        self.version -= 1
        self.ply -= 1
        if before.rng is not None:
            self.rng.setstate(before.rng)

    def apply(self, seat: int, move: Any) -> None:
        """Apply ``seat``'s ``move``; raise ``RequestError`` with the matching code on refusal."""
        if self.over:
            raise RequestError(ErrorCode.MATCH_OVER, "the match is over")
        rng = self._watched_rng()
        try:
            state = _ask(self.game, "apply", self.game.apply, self.state, seat, move, rng)
        except MoveError as exc:
            self._rewind(rng)
            raise RequestError(_move_error_code(exc), exc.reason) from None
        except BaseException:
            rng.unwatch()
            raise
        self._commit(state, rng.unwatch())

    def timeout(self, seat: int) -> None:
        """Apply the game's timeout rule for ``seat``."""
        rng = self._watched_rng()
        try:
            state = _ask(self.game, "on_timeout", self.game.on_timeout, self.state, seat, rng)
        except MoveError:
            self._rewind(rng)
            raise
        except BaseException:
            rng.unwatch()
            raise
        self._commit(state, rng.unwatch())

    def _watched_rng(self) -> _UndoableRandom:
        rng = self.rng
        rng.watch()
        return rng

    @staticmethod
    def _rewind(rng: _UndoableRandom) -> None:
        """A refused transition: put back what it drew."""
        before = rng.unwatch()
        if before is not None:
            rng.setstate(before)

    def resign(self, seat: int, *, forfeit: bool = False) -> None:
        """``seat`` resigns (``forfeit``: the room forfeits it, ``Game.forfeit``); raise
        ``RequestError`` if it cannot."""
        if self.over:
            raise RequestError(ErrorCode.MATCH_OVER, "the match is over")
        rule = self.game.forfeit if forfeit else self.game.resign
        try:
            state = _ask(self.game, rule.__name__, rule, self.state, seat)
        except MoveError as exc:
            raise RequestError(_move_error_code(exc), exc.reason) from None
        self._commit(state, None)  # resigning draws no random numbers


def _move_error_code(exc: MoveError) -> ErrorCode:
    if isinstance(exc, NotYourTurn):
        return ErrorCode.NOT_YOUR_TURN
    if isinstance(exc, MalformedMove):
        return ErrorCode.MALFORMED_MOVE
    if isinstance(exc, IllegalMove):
        return ErrorCode.ILLEGAL_MOVE
    return ErrorCode.ILLEGAL_MOVE
