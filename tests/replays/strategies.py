"""Hypothesis strategies for match-log records."""

from __future__ import annotations

from typing import Any

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
