"""The rules API every game implements, its errors and the match outcome.

A game is one stateless :class:`Game` instance; its states are immutable values. Every
result is a pure function of (options, seed, the sequence of moves, timeouts and
resignations): randomness comes only from the ``random.Random`` the room passes in.

Exception tree::

    GameError                      root of everything the rules layer raises
    ├── InvalidOptions             match options are unknown, mistyped or out of range
    ├── UnknownGame                (registry) no game of that name
    ├── UnknownStrategy            (strategy) no strategy of that name for that game
    └── MoveError                  a submitted move was rejected; ``.reason`` says why
        ├── MalformedMove          not shaped right for this game (type, field, range)
        └── IllegalMove            well-formed, but not allowed in this state
            └── NotYourTurn        the seat may not act now

``apply`` checks in this order, so the error a client sees is stable: shape
(``MalformedMove``), then the game being over (``IllegalMove``), then the turn
(``NotYourTurn``), then the rules (``IllegalMove``). Reasons are written for humans and
never mention hidden information (for example another seat's dice).
"""

from __future__ import annotations

import abc
import hashlib
import json
import random
from collections.abc import Callable, Mapping
from typing import Any

import attrs

# A state is whatever immutable value a game chooses; a move is plain msgpack-able data.
State = Any
Move = dict[str, Any]


class GameError(Exception):
    """Root of every error raised by the rules layer."""


class InvalidOptions(GameError):
    """The match options are not acceptable; the room must refuse to create the match."""


class MoveError(GameError):
    """A move was rejected. The state is unchanged; report ``reason`` to the mover."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        #: Human-readable explanation, safe to send to the mover (no hidden information).
        self.reason = reason


class MalformedMove(MoveError):
    """The move is not even shaped right for this game: wrong type, missing field, out of range."""


class IllegalMove(MoveError):
    """The move is well-formed but not allowed now (occupied cell, bid too low, game over)."""


class NotYourTurn(IllegalMove):
    """The seat is not among ``to_act(state)``."""


@attrs.frozen
class Outcome:
    """How a finished match ended."""

    winners: tuple[int, ...]
    """Winning seats (empty on a draw)."""
    draw: bool
    """True when nobody won."""
    scores: tuple[int, ...] | None = None
    """Per-seat scores when the game keeps any, else None."""
    reason: str = ""
    """Short human description, e.g. "four in a row", "board full", "resigned", "forfeit",
    "timeout"."""

    def to_data(self) -> dict[str, Any]:
        """Return the outcome as plain msgpack-able data for the wire and the match log."""
        return {
            "winners": list(self.winners),
            "draw": self.draw,
            "scores": None if self.scores is None else list(self.scores),
            "reason": self.reason,
        }


class Game(abc.ABC):
    """The rules of one game. Stateless: one instance serves every match.

    The room calls ``setup`` once, then repeatedly: ``to_act`` to learn who may move,
    ``apply`` (or ``on_timeout`` / ``resign`` / ``forfeit``) to get the next state,
    ``view`` for every participant, until ``outcome`` is not None.
    """

    name: str
    title: str
    min_players: int
    max_players: int

    @abc.abstractmethod
    def default_options(self) -> dict[str, Any]:
        """Return a fresh dict of the options a match uses when none are given."""

    @abc.abstractmethod
    def validate_options(self, options: Mapping[str, Any]) -> dict[str, Any]:
        """Return ``options`` merged over the defaults; raise InvalidOptions if any is bad."""

    @abc.abstractmethod
    def setup(self, players: int, rng: random.Random, options: Mapping[str, Any]) -> State:
        """Return the initial state. Raises InvalidOptions for a bad player count or options."""

    @abc.abstractmethod
    def to_act(self, state: State) -> frozenset[int]:
        """Return the seats that may act now; empty once the game is over."""

    @abc.abstractmethod
    def legal_moves(self, state: State, seat: int) -> list[Move]:
        """Return the moves ``seat`` may make now (empty if it may not act)."""

    @abc.abstractmethod
    def apply(self, state: State, seat: int, move: Any, rng: random.Random) -> State:
        """Return the state after ``seat`` plays ``move``; never mutates ``state``.

        Raises MalformedMove, IllegalMove or NotYourTurn (see the module docstring for
        the order of checks); on error the caller keeps the old state.
        """

    @abc.abstractmethod
    def outcome(self, state: State) -> Outcome | None:
        """Return how the match ended, or None while it is still running."""

    @abc.abstractmethod
    def view(self, state: State, seat: int | None) -> dict[str, Any]:
        """Return what ``seat`` may see (None: a spectator) as plain msgpack-able data."""

    @abc.abstractmethod
    def on_timeout(self, state: State, seat: int, rng: random.Random) -> State:
        """Return the state after ``seat``'s clock ran out, per this game's timeout rule.

        Raises IllegalMove if the game is over or NotYourTurn if ``seat`` may not act.
        """

    @abc.abstractmethod
    def resign(self, state: State, seat: int) -> State:
        """Return the state after ``seat`` resigns or abandons the match.

        Raises IllegalMove if the game is over or the seat has already left it.
        """

    def forfeit(self, state: State, seat: int) -> State:
        """Return the state after the room forfeits ``seat`` (its player stayed away past
        the grace period, or made no first move in time).

        The same as ``resign`` except for the words: an outcome it causes says
        ``"forfeit"`` rather than ``"resigned"``. This default simply resigns; games
        override it to give the forfeit its own reason. Raises as ``resign`` does.
        """
        return self.resign(state, seat)

    @abc.abstractmethod
    def snapshot(self, state: State) -> dict[str, Any]:
        """Return the FULL state (hidden parts included) as plain canonical data."""


def state_hash(game: Game, state: State) -> str:
    """Return the hex sha256 of the canonical JSON of ``game.snapshot(state)``.

    Replays compare these hashes to prove a re-simulation reached the identical state.
    """
    canonical = json.dumps(
        game.snapshot(state), sort_keys=True, separators=(",", ":"), ensure_ascii=True
    )
    return hashlib.sha256(canonical.encode("ascii")).hexdigest()


# -- helpers shared by the game modules ---------------------------------------------------

OptionCheck = Callable[[str, Any], Any]


def bool_option(name: str, value: Any) -> bool:
    """Accept only a real bool for option ``name``."""
    if not isinstance(value, bool):
        raise InvalidOptions(f"option {name!r} must be true or false")
    return value


def int_option(low: int, high: int) -> OptionCheck:
    """Return a check accepting an int (not a bool) in ``low..high`` inclusive."""

    def check(name: str, value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise InvalidOptions(f"option {name!r} must be an integer")
        if not low <= value <= high:
            raise InvalidOptions(f"option {name!r} must be between {low} and {high}")
        return value

    return check


def merge_options(
    defaults: Mapping[str, Any], checks: Mapping[str, OptionCheck], options: Mapping[str, Any]
) -> dict[str, Any]:
    """Return ``options`` over ``defaults``, each value passed through its check.

    Raises InvalidOptions for a non-mapping, an unknown key or a value its check refuses.
    """
    if not isinstance(options, Mapping):
        raise InvalidOptions("options must be a map of names to values")
    merged = dict(defaults)
    for key, value in options.items():
        if key not in checks:
            known = ", ".join(sorted(checks)) or "none"
            raise InvalidOptions(f"unknown option {key!r} (known: {known})")
        merged[key] = checks[key](key, value)
    return merged


def check_players(game: Game, players: int) -> None:
    """Raise InvalidOptions unless ``players`` is within the game's player range."""
    if isinstance(players, bool) or not isinstance(players, int):
        raise InvalidOptions("the player count must be an integer")
    if not game.min_players <= players <= game.max_players:
        if game.min_players == game.max_players:
            raise InvalidOptions(f"{game.title} needs exactly {game.min_players} players")
        raise InvalidOptions(
            f"{game.title} needs {game.min_players} to {game.max_players} players"
        )


def expect_fields(move: Any, fields: tuple[str, ...]) -> dict[str, Any]:
    """Return ``move`` if it is a dict with exactly one of ``fields``; else raise MalformedMove."""
    if not isinstance(move, dict):
        raise MalformedMove("a move must be a map")
    keys = [key for key in move if key in fields]
    unknown = [key for key in move if key not in fields]
    expected = " or ".join(repr(field) for field in fields)
    if unknown:
        raise MalformedMove(f"unexpected field {str(unknown[0])!r} (expected {expected})")
    if len(keys) != 1:
        raise MalformedMove(f"a move must have exactly one field: {expected}")
    return move


def is_int(value: Any) -> bool:
    """True for an int that is not a bool (msgpack and JSON both keep the distinction)."""
    return isinstance(value, int) and not isinstance(value, bool)
