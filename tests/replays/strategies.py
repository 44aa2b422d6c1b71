"""Hypothesis strategies for match-log records."""

from __future__ import annotations

from typing import Any

import attrs
from hypothesis import strategies as st

from gameserver.games.base import Termination
from gameserver.protocol.messages import ClockSettings
from gameserver.replays.records import (
    Disconnected,
    Ended,
    Header,
    Joined,
    Left,
    Moved,
    Occupant,
    OccupantKind,
    Reconnected,
    Record,
    Resigned,
    StateHash,
    TimedOut,
)

at = st.integers(min_value=-(2**63), max_value=2**63 - 1)
seat_index = st.integers(min_value=0, max_value=63)
version = st.integers(min_value=0, max_value=2**32)
millis = st.integers(min_value=0, max_value=2**40)
text = st.text(max_size=20)
clocks = st.none() | st.lists(millis, max_size=8).map(tuple)

# Plain msgpack-able data as a move can be: str-keyed maps, lists, scalars.
plain_data: st.SearchStrategy[Any] = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**64 - 1) | text,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(text, inner, max_size=4),
    max_leaves=10,
)

seats = st.builds(
    Occupant,
    name=text,
    kind=st.sampled_from(OccupantKind),
    strategy=st.none() | text,
    player_id=st.none() | text,
)

clock_settings = st.builds(
    ClockSettings,
    initial_ms=st.none() | millis,
    increment_ms=millis,
    per_move_ms=st.none() | millis,
)

headers = st.builds(
    Header,
    match_id=text.filter(bool),
    room_id=text,
    game=st.sampled_from(["tictactoe", "connect4", "liarsdice"]),
    options=st.dictionaries(text, plain_data, max_size=3),
    seed=st.integers(min_value=0, max_value=2**64 - 1),
    seats=st.lists(seats, min_size=1, max_size=6).map(tuple),
    clock=clock_settings,
    server_version=text,
    started_at=at,
    private=st.none() | st.booleans(),
)

records: st.SearchStrategy[Record] = st.one_of(
    st.builds(Joined, at=at, seat=seat_index, occupant=seats),
    st.builds(Left, at=at, seat=seat_index, reason=text),
    st.builds(Disconnected, at=at, seat=seat_index),
    st.builds(Reconnected, at=at, seat=seat_index),
    st.builds(
        Moved,
        at=at,
        seat=seat_index,
        version=version,
        move=plain_data,
        time_used_ms=millis,
        clocks=clocks,
        # Protocol request ids are below 2**53.
        request_id=st.none() | st.integers(min_value=0, max_value=2**53 - 1),
    ),
    st.builds(TimedOut, at=at, seat=seat_index, version=version, clocks=clocks),
    st.builds(Resigned, at=at, seat=seat_index, version=version, clocks=clocks),
    st.builds(
        StateHash,
        at=at,
        version=version,
        hash=st.text(alphabet="0123456789abcdef", min_size=64, max_size=64),
    ),
    st.builds(
        Ended,
        at=at,
        version=version,
        winners=st.lists(seat_index, max_size=4).map(tuple),
        draw=st.booleans(),
        scores=st.none() | st.lists(st.integers(-1000, 1000), max_size=4).map(tuple),
        reason=text,
        aborted=st.booleans(),
        termination=st.none() | st.sampled_from(Termination),
    ),
)


class _Int(int):
    """An int subclass: msgpack packs it, but it does not come back as itself."""


# Anything a buggy caller might put in a field: wrong types, numbers at and beyond the
# limits, NaN, subclasses, tuples and sets, maps with non-string keys, deep nesting.
EDGE_VALUES: list[Any] = [
    *(-(2**63) - 1, -(2**63), -1, 0, 63, 64, 2**63, 2**64 - 1, 2**64, True, False, _Int(1)),
    *(0.0, 1.5, float("nan"), float("inf"), None, "", "a" * 64, "A" * 64, "a" * 63, b"a"),
    *((1, 2), [1, [2]], {"a": 1}, {1: "a"}, {"a": float("nan")}, frozenset({1})),
]
wild_scalars: st.SearchStrategy[Any] = (
    st.sampled_from(EDGE_VALUES)
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=True)
    | st.text(max_size=4)
    | st.text(alphabet="0123456789abcdefABC", min_size=63, max_size=65)
    | st.binary(max_size=4)
    | st.integers(0, 9).map(_Int)
    | st.none()
)
wild_values: st.SearchStrategy[Any] = st.recursive(
    wild_scalars,
    lambda inner: st.lists(inner, max_size=3)
    | st.lists(inner, max_size=3).map(tuple)
    | st.frozensets(st.integers(0, 3), max_size=2)
    | st.dictionaries(st.text(max_size=3) | st.integers(0, 3), inner, max_size=3),
    max_leaves=8,
)


def _deep(depth: int) -> Any:
    value: Any = 0
    for _ in range(depth):
        value = [value]
    return value


@st.composite
def wild_hot_records(draw: st.DrawFn) -> Record:
    """A ``Moved`` or ``StateHash`` as the room builds them, with one field (or none)
    replaced by anything a buggy caller might put there."""
    record = draw(records.filter(lambda record: isinstance(record, (Moved, StateHash))))
    names = [field.name for field in attrs.fields(type(record))]
    name = draw(st.sampled_from([None, *names]))
    if name is None:
        return record
    if name == "clocks":  # its converter makes a tuple of whatever iterable it is given
        value = draw(st.none() | st.lists(wild_values, max_size=3).map(tuple))
    else:
        value = draw(wild_values | st.integers(0, 40).map(_deep))
    return attrs.evolve(record, **{name: value})
