"""Records survive the codec unchanged; malformed maps give specific errors."""

from __future__ import annotations

from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gameserver.replays.codec import (
    TAGS,
    encode_checked,
    encode_header,
    encode_record,
    header_from_data,
    header_to_data,
    pack,
    proven_loadable,
    record_from_data,
    record_to_data,
    unpack,
)
from gameserver.replays.errors import (
    CorruptRecord,
    CorruptReplay,
    InvalidRecord,
    UnsupportedVersion,
)
from gameserver.replays.records import (
    FORMAT_VERSION,
    Ended,
    Header,
    Joined,
    Moved,
    Occupant,
    Record,
    StateHash,
)

from .strategies import EDGE_VALUES, headers, records, wild_hot_records

SETTINGS = settings(max_examples=150, deadline=None)


@SETTINGS
@given(records)
def test_every_record_round_trips_through_msgpack(record: Record) -> None:
    assert record_from_data(unpack(encode_record(record))) == record


@SETTINGS
@given(headers)
def test_header_round_trips_through_msgpack(header: Header) -> None:
    assert header_from_data(unpack(encode_header(header))) == header


def test_every_record_type_has_a_tag_and_the_strategy_covers_them_all() -> None:
    seen: set[type] = set()

    @settings(max_examples=200, deadline=None)
    @given(records)
    def collect(record: Record) -> None:
        seen.add(type(record))

    collect()
    assert seen == set(TAGS)


def test_wire_map_uses_type_tag_and_field_names() -> None:
    moved = Moved(at=5, seat=1, version=3, move={"cell": 4}, clocks=(10, 20), request_id=8)
    assert record_to_data(moved) == {
        "t": "move",
        "at": 5,
        "seat": 1,
        "version": 3,
        "move": {"cell": 4},
        "time_used_ms": 0,
        "clocks": [10, 20],
        "request_id": 8,
    }


def test_optional_fields_fall_back_to_defaults_and_extra_keys_are_ignored() -> None:
    record = record_from_data({"t": "move", "at": 1, "seat": 0, "version": 1, "move": 7, "x": 1})
    assert record == Moved(at=1, seat=0, version=1, move=7)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([1, 2], "must be a map"),
        ({"t": "nope", "at": 1}, "unknown record type 'nope'"),
        ({"at": 1}, "unknown record type None"),
        ({"t": "header"}, "second header"),
        ({"t": "move", "at": 1, "seat": 0, "version": 1}, "lacks 'move'"),
        ({"t": "move", "at": True, "seat": 0, "version": 1, "move": 1}, "at must be an integer"),
        (
            {"t": "move", "at": 1, "seat": 0, "version": 1, "move": 1, "request_id": -7},
            "move.request_id must not be negative",
        ),
        (
            {"t": "move", "at": 1, "seat": 0, "version": 1, "move": 1, "request_id": "7"},
            "move.request_id must be an integer",
        ),
        ({"t": "resign", "at": 1, "seat": -1, "version": 1}, "must not be negative"),
        ({"t": "resign", "at": 1, "seat": 99, "version": 1}, "out of range"),
        ({"t": "hash", "at": 1, "version": 1, "hash": "abc"}, "64 lower-case hex"),
        ({"t": "end", "at": 1, "version": 1, "draw": 1}, "must be a boolean"),
        ({"t": "timeout", "at": 1, "seat": 0, "version": 1, "clocks": 5}, "must be an array"),
        ({"t": "join", "at": 1, "seat": 0, "occupant": {"name": "x", "kind": "alien"}}, "kind"),
        ({"t": "leave", "at": 1, "seat": 0, "reason": b"x"}, "must be a string"),
    ],
)
def test_malformed_records_raise_corrupt_record(data: Any, message: str) -> None:
    with pytest.raises(CorruptRecord, match=message):
        record_from_data(data)


def _header_data() -> dict[str, Any]:
    header = Header(
        match_id="m",
        room_id="r",
        game="tictactoe",
        seed=1,
        seats=(Occupant(name="a"), Occupant(name="b")),
        server_version="0",
        started_at=0,
    )
    return header_to_data(header)


@pytest.mark.parametrize(
    ("change", "error", "message"),
    [
        ({"format": "other"}, CorruptReplay, "not a gameserver-replay header"),
        ({"t": "move"}, CorruptReplay, "not a gameserver-replay header"),
        ({"v": "1"}, CorruptReplay, "no valid format version"),
        ({"v": 0}, CorruptReplay, "no valid format version"),
        ({"v": FORMAT_VERSION + 1}, UnsupportedVersion, "newer than this server"),
        ({"seats": []}, CorruptReplay, "1 to 64 seats"),
        ({"seed": -1}, CorruptReplay, "seed must not be negative"),
        ({"match_id": ""}, CorruptReplay, "match_id must not be empty"),
        ({"options": {1: 2}}, CorruptReplay, "string keys"),
        ({"clock": {"initial_ms": "x"}}, CorruptReplay, "initial_ms must be an integer"),
    ],
)
def test_bad_headers_raise_corrupt_replay(
    change: dict[str, Any], error: type[Exception], message: str
) -> None:
    data = _header_data() | change
    with pytest.raises(error, match=message):
        header_from_data(data)


def test_header_missing_a_field_is_corrupt() -> None:
    data = _header_data()
    del data["seed"]
    with pytest.raises(CorruptReplay, match="lacks 'seed'"):
        header_from_data(data)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=64))
def test_arbitrary_payload_bytes_never_crash_the_decoder(payload: bytes) -> None:
    try:
        record_from_data(unpack(payload))
    except CorruptRecord:
        pass


def test_unpack_rejects_trailing_bytes_and_packing_is_deterministic() -> None:
    payload = pack({"t": "hash"})
    with pytest.raises(CorruptRecord, match="not valid msgpack"):
        unpack(payload + b"\x00")
    record = StateHash(at=1, version=2, hash="0" * 64)
    assert encode_record(record) == encode_record(record)


def _full_proof(record: Record) -> bool:
    """The slow proof: pack, decode as the loader does, compare as plain data."""
    data = record_to_data(record)
    try:
        again = record_to_data(record_from_data(unpack(pack(data))))
    except (CorruptRecord, TypeError, ValueError, OverflowError):
        return False
    return again == data


def _refuses_exactly_what_does_not_load_back(record: Record) -> None:
    # encode_checked skips decoding when proven_loadable says yes: whatever a buggy
    # caller put in a field, it must still refuse exactly the records that would not
    # load back equal, before anything is written.
    if _full_proof(record):
        assert encode_checked(record) == encode_record(record)
    else:
        with pytest.raises(InvalidRecord):
            encode_checked(record)


@pytest.mark.slow
@settings(max_examples=400, deadline=None)
@given(wild_hot_records())
def test_the_cheap_proof_never_accepts_a_record_the_full_proof_refuses(record: Record) -> None:
    _refuses_exactly_what_does_not_load_back(record)


_GOOD_MOVE = Moved(at=1, seat=1, version=2, move=3, time_used_ms=4, clocks=(5, 6), request_id=7)
_GOOD_HASH = StateHash(at=1, version=2, hash="0" * 64)


@pytest.mark.parametrize("record", [_GOOD_MOVE, _GOOD_HASH], ids=["move", "hash"])
@pytest.mark.parametrize("value", EDGE_VALUES, ids=repr)
def test_every_field_at_its_edges_is_refused_exactly_when_it_would_not_load_back(
    record: Record, value: Any
) -> None:
    for field in attrs.fields(type(record)):
        if field.name == "clocks":
            _refuses_exactly_what_does_not_load_back(attrs.evolve(record, clocks=(0, value)))
        else:
            _refuses_exactly_what_does_not_load_back(attrs.evolve(record, **{field.name: value}))


@SETTINGS
@given(records)
def test_the_records_of_a_move_take_the_cheap_proof(record: Record) -> None:
    # The room's own Moved and StateHash records (typed ints, plain moves) skip decoding.
    if isinstance(record, (Moved, StateHash)):
        assert proven_loadable(record, record_to_data(record))
    if isinstance(record, (Joined, Ended)):  # seat maps, end records: rare, decoded again
        assert not proven_loadable(record, record_to_data(record))


@pytest.mark.parametrize(
    "move",
    [float("nan"), [float("nan")], {1: "a"}, {"k": (1, 2)}, True, 1.5, b"x"],
)
def test_moves_msgpack_would_change_are_left_to_the_full_proof(move: Any) -> None:
    record = Moved(at=1, seat=0, version=1, move=move)
    loads_back = _full_proof(record)
    if not loads_back:
        assert not proven_loadable(record, record_to_data(record))
        with pytest.raises(InvalidRecord):
            encode_checked(record)
