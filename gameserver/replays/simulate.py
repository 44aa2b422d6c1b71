"""Deterministic re-simulation of a match log through its game.

The match is set up exactly as the room did: ``random.Random(header.seed)``, then
``game.setup(len(seats), rng, options)``, then every ``Moved`` / ``TimedOut`` /
``Resigned`` record in order through ``apply`` / ``on_timeout`` / ``resign`` (``forfeit``
for a ``Resigned`` record marked ``forfeit``) with that same rng. Every ``StateHash``
must equal ``state_hash`` of the state at its version, and the ``Ended`` record must
agree with ``game.outcome``: winners, draw and, when the record has one, termination
(logs written before ``termination`` existed have none; an aborted match's is
``ABORTED``). Any disagreement raises ``ReplayMismatch`` naming the record.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Mapping
from typing import Any

import attrs

from gameserver.games.base import AnyGame, Outcome, Termination, state_hash
from gameserver.games.registry import get_game

from .errors import ReplayMismatch
from .loader import LoadedMatch
from .records import (
    CLOCK_EVENTS,
    Disconnected,
    Ended,
    Header,
    Joined,
    Left,
    Moved,
    Occupant,
    Reconnected,
    Record,
    Resigned,
    StateHash,
    TimedOut,
)


@attrs.frozen
class Position:
    """The match after one record (or after setup, when ``record`` is None)."""

    #: Index of ``record`` in ``LoadedMatch.records``; -1 for the position after setup.
    index: int
    record: Record | None
    #: State version (0 after setup, +1 per move, timeout or resignation).
    version: int
    state: Any
    #: ``game.view`` for every seat and for spectators (key None); empty if not requested.
    views: Mapping[int | None, dict[str, Any]]


@attrs.define
class Simulation:
    """The end result of re-simulating a whole log."""

    header: Header
    game: AnyGame
    #: The validated options the match ran with.
    options: dict[str, Any]
    #: The final state.
    state: Any
    #: Its version.
    version: int
    #: The match rng, positioned exactly after the last recorded event.
    rng: random.Random
    #: ``game.outcome(state)``.
    outcome: Outcome | None
    #: Current occupant of every seat (the header's seats, updated by ``Joined``).
    seats: tuple[Occupant, ...]
    #: How many ``StateHash`` records were checked.
    hashes_checked: int = 0
    #: The clock banks of the last record that carried any (None if never).
    clocks: tuple[int, ...] | None = None
    #: Wall time of the last record (ms since the epoch); the header's start if none.
    last_at: int = 0
    #: Seats whose player is disconnected at the end of the log.
    disconnected: frozenset[int] = frozenset()
    #: Seats whose player left for good.
    left: frozenset[int] = frozenset()


def _setup(loaded: LoadedMatch) -> Simulation:
    header = loaded.header
    try:
        game = get_game(header.game)
        options = game.validate_options(header.options)
        rng = random.Random(header.seed)
        state = game.setup(len(header.seats), rng, options)
    except Exception as exc:  # any failure here means the log cannot be replayed
        raise ReplayMismatch(-1, f"cannot set the match up: {exc}") from None
    return Simulation(
        header=header,
        game=game,
        options=options,
        state=state,
        version=0,
        rng=rng,
        outcome=game.outcome(state),
        seats=header.seats,
        last_at=header.started_at,
    )


def _check_seat(sim: Simulation, index: int, seat: int) -> None:
    if not 0 <= seat < len(sim.seats):
        raise ReplayMismatch(index, f"seat {seat} does not exist ({len(sim.seats)} seats)")


def _step(sim: Simulation, index: int, record: Record, ended: bool) -> None:
    """Advance ``sim`` by one record, checking it against the game."""
    if ended:
        raise ReplayMismatch(index, "record after the end record")
    if isinstance(record, (Moved, TimedOut, Resigned)):
        _check_seat(sim, index, record.seat)
        if record.version != sim.version + 1:
            raise ReplayMismatch(
                index, f"version {record.version} does not follow {sim.version}"
            )
        if sim.outcome is not None:
            raise ReplayMismatch(index, "a state change after the game was over")
        game = sim.game
        try:
            if isinstance(record, Moved):
                state = game.apply(sim.state, record.seat, record.move, sim.rng)
            elif isinstance(record, TimedOut):
                state = game.on_timeout(sim.state, record.seat, sim.rng)
            elif record.forfeit:
                state = game.forfeit(sim.state, record.seat)
            else:
                state = game.resign(sim.state, record.seat)
        except Exception as exc:  # the game refused (or failed on) a recorded event
            kind = type(record).__name__
            raise ReplayMismatch(index, f"{kind} by seat {record.seat} fails: {exc}") from None
        sim.state = state
        sim.version = record.version
        sim.outcome = game.outcome(state)
    elif isinstance(record, StateHash):
        if record.version != sim.version:
            raise ReplayMismatch(
                index, f"hash for version {record.version} at version {sim.version}"
            )
        actual = state_hash(sim.game, sim.state)
        if actual != record.hash:
            raise ReplayMismatch(
                index, f"state hash at version {sim.version} is {actual}, log says {record.hash}"
            )
        sim.hashes_checked += 1
    elif isinstance(record, Ended):
        _check_end(sim, index, record)
    elif isinstance(record, Joined):
        _check_seat(sim, index, record.seat)
        seats = list(sim.seats)
        seats[record.seat] = record.occupant
        sim.seats = tuple(seats)
        sim.left -= {record.seat}
        sim.disconnected -= {record.seat}
    elif isinstance(record, Left):
        _check_seat(sim, index, record.seat)
        sim.left |= {record.seat}
        sim.disconnected -= {record.seat}
    elif isinstance(record, Disconnected):
        _check_seat(sim, index, record.seat)
        sim.disconnected |= {record.seat}
    elif isinstance(record, Reconnected):
        _check_seat(sim, index, record.seat)
        sim.disconnected -= {record.seat}
    if isinstance(record, CLOCK_EVENTS) and record.clocks is not None:
        if len(record.clocks) != len(sim.seats):
            raise ReplayMismatch(
                index, f"{len(record.clocks)} clocks for {len(sim.seats)} seats"
            )
        sim.clocks = record.clocks
    sim.last_at = record.at


def _check_end(sim: Simulation, index: int, record: Ended) -> None:
    if record.version != sim.version:
        raise ReplayMismatch(index, f"end at version {record.version}, state is {sim.version}")
    outcome = sim.outcome
    if record.aborted:
        if outcome is not None:
            raise ReplayMismatch(index, "the match is marked aborted but the game was over")
        _check_termination(index, record, Termination.ABORTED)
        return
    if outcome is None:
        raise ReplayMismatch(index, "the end record has an outcome but the game is not over")
    if (tuple(outcome.winners), outcome.draw) != (record.winners, record.draw):
        raise ReplayMismatch(
            index,
            f"the log says winners {list(record.winners)} draw {record.draw}, the game says "
            f"winners {list(outcome.winners)} draw {outcome.draw}",
        )
    _check_termination(index, record, outcome.termination)


def _check_termination(index: int, record: Ended, expected: Termination) -> None:
    """The record's termination must be ``expected``; a log older than the field has none."""
    if record.termination is not None and record.termination is not expected:
        raise ReplayMismatch(
            index,
            f"the log says the match ended by {record.termination.value}, "
            f"the game says {expected.value}",
        )


def _views(game: AnyGame, state: Any, seats: int) -> dict[int | None, dict[str, Any]]:
    views: dict[int | None, dict[str, Any]] = {
        seat: game.view(state, seat) for seat in range(seats)
    }
    views[None] = game.view(state, None)
    return views


def iter_positions(loaded: LoadedMatch, *, views: bool = True) -> Iterator[Position]:
    """Yield the position after setup, then after every record, checking as it goes.

    With ``views`` each position carries what every seat and a spectator would have seen.
    Raises ``ReplayMismatch`` at the first record the game disagrees with (positions
    before it have already been yielded).
    """
    sim = _setup(loaded)
    players = len(sim.seats)

    def position(index: int, record: Record | None) -> Position:
        seen = _views(sim.game, sim.state, players) if views else {}
        return Position(index, record, sim.version, sim.state, seen)

    yield position(-1, None)
    ended = False
    for index, record in enumerate(loaded.records):
        _step(sim, index, record, ended)
        ended = isinstance(record, Ended)
        yield position(index, record)


def resimulate(loaded: LoadedMatch) -> Simulation:
    """Re-simulate the whole log and check every hash; return the final state and rng.

    Raises ``ReplayMismatch`` (with the record index) at the first disagreement.
    """
    sim = _setup(loaded)
    ended = False
    for index, record in enumerate(loaded.records):
        _step(sim, index, record, ended)
        ended = isinstance(record, Ended)
    return sim
