"""Every malformed input becomes a RequestError with its specific code, never a crash."""

from __future__ import annotations

from typing import Any

import msgpack
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gameserver.protocol import messages as m
from gameserver.protocol.codec import (
    decode_client_message,
    decode_result,
    decode_server_message,
    encode_client_message,
)
from gameserver.protocol.errors import ErrorCode, RequestError
from gameserver.protocol.limits import DecodeLimits

from .strategies import any_msgpack, plain_data

LIMITS = DecodeLimits(
    max_message_bytes=10_000, max_depth=4, max_str_len=12, max_bin_len=12, max_array_len=5, max_map_len=8
)


def pack(value: Any) -> bytes:
    packed: bytes = msgpack.packb(value, use_bin_type=True)
    return packed


def reject(data: bytes, limits: DecodeLimits = LIMITS) -> RequestError:
    with pytest.raises(RequestError) as info:
        decode_client_message(data, limits)
    return info.value


MOVE = {"type": "move", "id": 7, "room_id": "r", "version": 2, "move": {"column": 3}}


@pytest.mark.parametrize(
    ("data", "code", "fragment"),
    [
        (b"", ErrorCode.BAD_MESSAGE, "msgpack"),
        (b"\xc1", ErrorCode.BAD_MESSAGE, "msgpack"),
        (b"\x82\xa4type", ErrorCode.BAD_MESSAGE, "msgpack"),
        (pack({"type": "chat"}) + b"\x00", ErrorCode.BAD_MESSAGE, "trailing"),
        (pack([1, 2]), ErrorCode.BAD_MESSAGE, "must be a msgpack map, not an array"),
        (pack("hello"), ErrorCode.BAD_MESSAGE, "not a string"),
        (b"\x81\xa4type\xa2\xff\xfe", ErrorCode.BAD_MESSAGE, "UTF-8"),
        (pack({"type": "x", "id": msgpack.ExtType(5, b"a")}), ErrorCode.BAD_MESSAGE, "extension"),
        (pack({"id": 1}), ErrorCode.INVALID_FIELD, "'type' is missing"),
        (pack({"id": 1, "type": 5}), ErrorCode.INVALID_FIELD, "'type' must be a string"),
        (pack({"id": 1, "type": "nope"}), ErrorCode.UNKNOWN_TYPE, "'nope'"),
        (pack({"type": "hello", "name": "a"}), ErrorCode.INVALID_FIELD, "'id'"),
        (pack({"type": "hello", "id": -1, "name": "a"}), ErrorCode.INVALID_FIELD, "'id'"),
        (pack({"type": "hello", "id": True, "name": "a"}), ErrorCode.INVALID_FIELD, "'id'"),
        (pack({"type": "hello", "id": 2**53, "name": "a"}), ErrorCode.INVALID_FIELD, "'id'"),
        (pack({"type": "hello", "id": 1}), ErrorCode.INVALID_FIELD, "'hello.name' is missing"),
        (pack({"type": "hello", "id": 1, "name": 3}), ErrorCode.INVALID_FIELD, "'hello.name' must be a string, got an integer"),
        (pack({"type": "hello", "id": 1, "name": None}), ErrorCode.INVALID_FIELD, "must be a string, got null"),
        (pack({**MOVE, "version": "2"}), ErrorCode.INVALID_FIELD, "'move.version'"),
        (pack({**MOVE, "version": -3}), ErrorCode.INVALID_FIELD, "non-negative"),
        (pack({**MOVE, "version": 1.5}), ErrorCode.INVALID_FIELD, "got a float"),
        (pack({k: v for k, v in MOVE.items() if k != "move"}), ErrorCode.INVALID_FIELD, "'move.move' is missing"),
        (pack({"type": "watch_lobby", "id": 1, "on": 1}), ErrorCode.INVALID_FIELD, "must be a boolean"),
        (pack({"type": "create_room", "id": 1, "game": "g", "players": 2, "options": []}), ErrorCode.INVALID_FIELD, "'create_room.options' must be a map"),
        (pack({"type": "create_room", "id": 1, "game": "g", "players": 2, "bots": {}}), ErrorCode.INVALID_FIELD, "must be an array"),
        (pack({"type": "create_room", "id": 1, "game": "g", "players": 2, "bots": [{"strategy": "x"}]}), ErrorCode.INVALID_FIELD, "'create_room.bots[0].seat' is missing"),
        (pack({"type": "create_room", "id": 1, "game": "g", "players": 2, "clock": 5}), ErrorCode.INVALID_FIELD, "'create_room.clock' must be a map"),
        (pack({"type": "hello", "id": 1, "name": "a", 5: 1}), ErrorCode.INVALID_FIELD, "keys must be strings"),
        (pack({"type": "hello", "id": 1, "name": "a", b"k": 1}), ErrorCode.INVALID_FIELD, "keys must be strings"),
        (pack({**MOVE, "move": {b"column": 3}}), ErrorCode.INVALID_FIELD, "keys must be strings"),
        (pack({**MOVE, "move": [[[["x"]]]]}), ErrorCode.TOO_DEEP, "limit of 4"),
        (pack({**MOVE, "move": "x" * 13}), ErrorCode.TOO_LARGE, "str is longer than the limit of 12"),
        (pack({**MOVE, "move": b"x" * 13}), ErrorCode.TOO_LARGE, "bin is longer"),
        (pack({**MOVE, "move": list(range(6))}), ErrorCode.TOO_LARGE, "array is longer"),
        (pack({**MOVE, "a": 1, "b": 2, "c": 3, "d": 4}), ErrorCode.TOO_LARGE, "map is longer"),
        (b"\x91" * 5000, ErrorCode.TOO_DEEP, "limit"),
        (b"\xdd\xff\xff\xff\xff", ErrorCode.TOO_LARGE, "array"),
    ],
)
def test_malformed_input_gets_its_code(data: bytes, code: ErrorCode, fragment: str) -> None:
    error = reject(data)
    assert error.code is code
    assert fragment in error.message


def test_text_frames_are_refused_with_bad_message() -> None:
    error = reject("hello")  # type: ignore[arg-type]
    assert error.code is ErrorCode.BAD_MESSAGE
    assert "binary" in error.message


@pytest.mark.parametrize(
    "raw",
    [
        {**MOVE, "version": "x"},
        {**MOVE, "type": "nope"},
        {**MOVE, "move": [[[[1]]]]},
    ],
)
def test_error_echoes_the_request_id_when_readable(raw: dict[Any, Any]) -> None:
    error = reject(pack(raw))
    assert error.request_id == 7


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ({**MOVE, "move": "x" * 13}, ErrorCode.TOO_LARGE),  # a string over the limit
        ({**MOVE, "move": list(range(6))}, ErrorCode.TOO_LARGE),  # an array over the limit
        ({**MOVE, "move": "x" * 10_001}, ErrorCode.TOO_LARGE),  # the whole message
        ({"junk": "x" * 13, **MOVE}, ErrorCode.TOO_LARGE),  # the id after the long string
        ({**MOVE, 5: 1}, ErrorCode.INVALID_FIELD),  # a non-string map key
        ({5: 1, **MOVE}, ErrorCode.INVALID_FIELD),  # ... before the id
        ({**MOVE, "move": {"a": {1: 2}}}, ErrorCode.INVALID_FIELD),  # ... deep inside
        ({**MOVE, "move": [[[[[[[[[[[[1]]]]]]]]]]]]}, ErrorCode.TOO_DEEP),
        ({**MOVE, "move": "\udcff"}, ErrorCode.BAD_MESSAGE),  # not UTF-8
    ],
)
def test_errors_from_parsing_still_echo_a_readable_id(
    raw: dict[Any, Any], code: ErrorCode
) -> None:
    data = msgpack.packb(raw, use_bin_type=True, unicode_errors="surrogateescape")
    error = reject(data)
    assert (error.code, error.request_id) == (code, 7)


def test_error_has_no_request_id_when_unreadable() -> None:
    assert reject(pack({**MOVE, "id": "7", "version": "x"})).request_id is None
    assert reject(b"\xc1").request_id is None
    assert reject(pack([7])).request_id is None
    assert reject(pack({**MOVE, "id": -7, "move": "x" * 13})).request_id is None
    assert reject(pack({**MOVE, "id": "x" * 13})).request_id is None


def test_limits_are_inclusive() -> None:
    at_limit = {"type": "move", "id": 1, "room_id": "r", "version": 0, "move": [["x" * 12, b"y" * 12, 1, 2, 3]]}
    assert decode_client_message(pack(at_limit), LIMITS).move == [["x" * 12, b"y" * 12, 1, 2, 3]]
    data = pack(at_limit)
    exact = DecodeLimits(max_message_bytes=len(data), max_depth=3)
    assert isinstance(decode_client_message(data, exact), m.Move)
    too_large = reject(data, DecodeLimits(max_message_bytes=len(data) - 1))
    assert too_large.code is ErrorCode.TOO_LARGE
    assert too_large.message == f"message is {len(data)} bytes; the limit is {len(data) - 1}"
    assert reject(data, DecodeLimits(max_depth=2)).code is ErrorCode.TOO_DEEP


def test_default_limits_accept_ordinary_requests() -> None:
    message = m.CreateRoom(
        id=1, game="liarsdice", players=6, options={"dice": 5}, bots=tuple(m.BotSeat(seat=s) for s in range(1, 6))
    )
    assert decode_client_message(encode_client_message(message)) == message


def test_server_messages_are_validated_too() -> None:
    with pytest.raises(RequestError) as info:
        decode_server_message(pack({"type": "state", "room_id": "r"}))
    assert info.value.code is ErrorCode.INVALID_FIELD
    with pytest.raises(RequestError) as info:
        decode_server_message(pack({"type": "hello", "id": 1, "name": "x"}))
    assert info.value.code is ErrorCode.UNKNOWN_TYPE


def test_decode_result_checks_the_shape() -> None:
    assert decode_result(m.MoveResult, {"version": 3}) == m.MoveResult(version=3)
    with pytest.raises(RequestError) as info:
        decode_result(m.MoveResult, {"version": "3"})
    assert info.value.code is ErrorCode.INVALID_FIELD
    assert "result.version" in info.value.message
    with pytest.raises(RequestError):
        decode_result(m.HelloResult, [])  # type: ignore[arg-type]


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300))
def test_arbitrary_bytes_only_raise_request_error(data: bytes) -> None:
    for decode in (decode_client_message, decode_server_message):
        try:
            decode(data)
        except RequestError as error:
            assert isinstance(error.code, ErrorCode)
            assert error.message


@settings(max_examples=300, deadline=None)
@given(any_msgpack)
def test_arbitrary_msgpack_values_only_raise_request_error(value: Any) -> None:
    data = pack(value)
    for decode in (decode_client_message, decode_server_message):
        try:
            decode(data)
        except RequestError as error:
            assert error.message


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(sorted(m.CLIENT_MESSAGE_TYPES)),
    st.dictionaries(
        st.sampled_from(["id", "name", "token", "game", "players", "options", "private", "bots", "clock",
                         "seat", "room_id", "invite_code", "version", "move", "text", "on"]),
        plain_data,
        max_size=6,
    ),
)
def test_requests_with_arbitrary_field_values_only_raise_request_error(
    message_type: str, fields: dict[str, Any]
) -> None:
    data = pack({"type": message_type, **fields})
    try:
        message = decode_client_message(data)
    except RequestError as error:
        assert error.code in {ErrorCode.INVALID_FIELD, ErrorCode.TOO_DEEP, ErrorCode.TOO_LARGE}
    else:
        assert message.TYPE == message_type
        assert 0 <= message.id < 2**53


def test_peek_request_id_reads_only_the_id() -> None:
    from gameserver.protocol.codec import peek_request_id

    assert peek_request_id(pack({"type": "nope", "id": 9, "junk": [1]})) == 9
    assert peek_request_id(pack({"id": "9"})) is None
    assert peek_request_id(b"\xc1") is None
    assert peek_request_id(pack([1, 2])) is None


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=100))
def test_peek_request_id_never_raises(data: bytes) -> None:
    from gameserver.protocol.codec import peek_request_id

    result = peek_request_id(data)
    assert result is None or 0 <= result < 2**53
