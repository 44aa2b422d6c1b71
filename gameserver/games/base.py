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

Typing: ``Game`` is generic over its state type ``S``, so a game module declares its
state class once (``class TicTacToe(Game[TicTacToeState])``) and every rule is checked
against it. Code that holds "some game" without knowing which (rooms, replays) uses
:data:`AnyGame`.
"""

from __future__ import annotations

import abc
import enum
import hashlib
import json
import random
from collections.abc import Callable, Mapping
from typing import Any, Generic, TypeAlias, TypeVar

import attrs

#: A game's state: whatever immutable value the game chooses (an attrs frozen class in
#: the built-in games), the same type for every rule of that game.
S = TypeVar("S")
#: A move is plain msgpack-able data; ``apply`` checks its shape (``MalformedMove``).
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


class Termination(str, enum.Enum):
    """How a match came to its end, for programs (``Outcome.reason`` is for people).

    The value is the short lowercase string the wire and the match log carry.
    """

    NORMAL = "normal"
    """The game's rules decided it on the board: a win or a draw by play. A move the
    room made for a seat (liar's dice plays a timed-out seat's turn for it) that ends
    the match ends it normally too."""
    RESIGNATION = "resignation"
    """The loser resigned, or left the running match (``Game.resign``)."""
    TIMEOUT = "timeout"
    """The loser's clock ran out and the game's timeout rule is a loss (``Game.on_timeout``)."""
    FORFEIT = "forfeit"
    """The room forfeited the loser: away past its grace period, or no first move in time
    (``Game.forfeit``)."""
    ABORTED = "aborted"
    """The room stopped the match without a result (nobody left to play, nobody watching a
    match of bots, no first move, a server error). Never from a game: the room builds it."""


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
    termination: Termination = Termination.NORMAL
    """How it ended, for programs; the default suits an end the rules decided by play."""

    def to_data(self) -> dict[str, Any]:
        """Return the outcome as plain msgpack-able data: the keys of the wire's Outcome
        record and of the match log's end record."""
        data = self.hashed_data()
        data["termination"] = self.termination.value
        return data

    def hashed_data(self) -> dict[str, Any]:
        """Return ``to_data`` without ``termination``: the outcome as a game's ``snapshot``
        shows it, and so as state hashes cover it.

        Hashes recorded before ``termination`` existed cover exactly these keys, so old
        logs keep verifying; a log's ``termination`` is checked against the game's
        outcome by the replay check instead (``replays/simulate.py``).
        """
        return {
            "winners": list(self.winners),
            "draw": self.draw,
            "scores": None if self.scores is None else list(self.scores),
            "reason": self.reason,
        }


class Game(abc.ABC, Generic[S]):
    """The rules of one game. Stateless: one instance serves every match.

    The room calls ``setup`` once, then repeatedly: ``to_act`` to learn who may move,
    ``apply`` (or ``on_timeout`` / ``resign`` / ``forfeit``) to get the next state,
    ``view`` for every participant, until ``outcome`` is not None.

    ``S`` is the game's state type: an immutable value that ``setup`` returns and every
    other rule takes. Rules never mutate a state; they return a new one.
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
    def setup(self, players: int, rng: random.Random, options: Mapping[str, Any]) -> S:
        """Return the initial state. Raises InvalidOptions for a bad player count or options."""

    @abc.abstractmethod
    def to_act(self, state: S) -> frozenset[int]:
        """Return the seats that may act now; empty once the game is over."""

    @abc.abstractmethod
    def legal_moves(self, state: S, seat: int) -> list[Move]:
        """Return the moves ``seat`` may make now (empty if it may not act)."""

    @abc.abstractmethod
    def apply(self, state: S, seat: int, move: Any, rng: random.Random) -> S:
        """Return the state after ``seat`` plays ``move``; never mutates ``state``.

        Raises MalformedMove, IllegalMove or NotYourTurn (see the module docstring for
        the order of checks); on error the caller keeps the old state.
        """

    @abc.abstractmethod
    def outcome(self, state: S) -> Outcome | None:
        """Return how the match ended, or None while it is still running.

        Its ``termination`` says what ended it: ``NORMAL`` for an end the rules reached
        by play, ``TIMEOUT`` / ``RESIGNATION`` / ``FORFEIT`` for an end that
        ``on_timeout`` / ``resign`` / ``forfeit`` decided (never ``ABORTED``).
        """

    @abc.abstractmethod
    def view(self, state: S, seat: int | None) -> dict[str, Any]:
        """Return what ``seat`` may see (None: a spectator) as plain msgpack-able data."""

    @abc.abstractmethod
    def on_timeout(self, state: S, seat: int, rng: random.Random) -> S:
        """Return the state after ``seat``'s clock ran out, per this game's timeout rule.

        Raises IllegalMove if the game is over or NotYourTurn if ``seat`` may not act.
        """

    @abc.abstractmethod
    def resign(self, state: S, seat: int) -> S:
        """Return the state after ``seat`` resigns or abandons the match.

        Raises IllegalMove if the game is over or the seat has already left it.
        """

    def forfeit(self, state: S, seat: int) -> S:
        """Return the state after the room forfeits ``seat`` (its player stayed away past
        the grace period, or made no first move in time).

        The same as ``resign`` except that an outcome it causes says ``"forfeit"`` with
        ``Termination.FORFEIT`` rather than ``"resigned"`` with ``RESIGNATION``. This
        default simply resigns (so its outcome reads as a resignation); games override
        it to report the forfeit. Raises as ``resign`` does.
        """
        return self.resign(state, seat)

    @abc.abstractmethod
    def snapshot(self, state: S) -> dict[str, Any]:
        """Return the FULL state (hidden parts included) as plain canonical data."""


#: Any game, its state type unknown: for code that holds whichever game a match plays
#: (rooms, replays) and passes that game's states back to it untouched.
AnyGame: TypeAlias = "Game[Any]"


def state_hash(game: Game[S], state: S) -> str:
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


def check_players(game: AnyGame, players: int) -> None:
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
