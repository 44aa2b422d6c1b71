"""Record <-> wire conversion: field paths in errors, signedness, enums, nesting."""

from __future__ import annotations

import enum
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gameserver.protocol import messages as m
from gameserver.protocol.errors import ErrorCode, RequestError
from gameserver.protocol.schema import (
    MAX_SAFE_INTEGER,
    message_to_wire,
    record_from_wire,
    record_to_wire,
)

from .strategies import records

ROOM = {
    "room_id": "r",
    "game": "g",
    "players": 2,
    "seats": [{"seat": 0, "kind": "human"}, {"seat": 1, "kind": "robot"}],
    "status": "waiting",
}


def reject(raw: dict[str, object], cls: type, *, signed: bool = True) -> str:
    with pytest.raises(RequestError) as info:
        record_from_wire(raw, cls, "x", signed=signed)
    assert info.value.code is ErrorCode.INVALID_FIELD
    return info.value.message


def test_error_names_the_full_path_through_arrays_and_records() -> None:
    message = reject({"room": ROOM}, m.RoomUpdate)
    assert message == "field 'x.room.seats[1].kind' must be one of 'human', 'bot', 'open', got a string"


def test_missing_nested_field() -> None:
    assert reject({"room": {**ROOM, "seats": [{"kind": "open"}]}}, m.RoomUpdate) == (
        "field 'x.room.seats[0].seat' is missing"
    )


def test_signedness_of_integers() -> None:
    raw = {"banks_ms": [-5], "move_ms": None, "running": []}
    assert record_from_wire(raw, m.ClockState, "x", signed=True).banks_ms == (-5,)
    assert "non-negative" in reject(raw, m.ClockState, signed=False)
    assert "below 2**53" in reject({**raw, "banks_ms": [MAX_SAFE_INTEGER + 1]}, m.ClockState)


def test_records_become_plain_maps_and_back() -> None:
    room = record_from_wire({"room": {**ROOM, "seats": [{"seat": 0, "kind": "bot"}]}}, m.RoomUpdate, "x", signed=True)
    assert room.room.seats[0].kind is m.SeatKind.BOT
    wire = record_to_wire(room)
    assert wire["room"]["seats"] == [
        {"seat": 0, "kind": "bot", "name": None, "player_id": None, "connected": False, "wants_rematch": False, "account": None}
    ]
    assert wire["room"]["status"] == "waiting"
    assert record_from_wire(wire, m.RoomUpdate, "x", signed=True) == room


def test_free_form_fields_pass_through_untouched() -> None:
    move = {"bid": [3, 5], "nested": {"deep": [None, True, 1.5, b"\x00"]}}
    decoded = record_from_wire({"id": 1, "room_id": "r", "version": 0, "move": move}, m.Move, "move", signed=False)
    assert decoded.move is move
    assert record_to_wire(decoded)["move"] is move


MESSAGE_CLASSES = sorted(
    [*m.SERVER_MESSAGE_TYPES.values(), *m.CLIENT_MESSAGE_TYPES.values()], key=lambda c: c.TYPE
)


def walk(value: Any) -> Any:
    """The wire form by the mapping's rules, value by value (the compiled encoders' spec)."""
    if attrs.has(type(value)):
        return {field.name: walk(getattr(value, field.name)) for field in attrs.fields(type(value))}
    if isinstance(value, tuple):
        return [walk(item) for item in value]
    if isinstance(value, enum.Enum):
        return value.value
    return value


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(MESSAGE_CLASSES).flatmap(lambda cls: records(cls, signed=True)))
def test_a_message_map_is_its_type_then_its_fields_in_order(message: Any) -> None:
    wire = message_to_wire(message)
    assert list(wire) == ["type", *(field.name for field in attrs.fields(type(message)))]
    assert wire == {"type": message.TYPE, **walk(message)}
    assert {key: value for key, value in wire.items() if key != "type"} == record_to_wire(message)
