"""The msgpack codec: protocol messages to bytes and back, with validation.

The wire form of a message is one msgpack map: ``{"type": TYPE, <field>: <value>, ...}``
with the attrs field names as keys. Decoding is strict and never raises anything but
:class:`~gameserver.protocol.errors.RequestError`:

1. size of the whole message (``too_large``);
2. msgpack parsing with ``raw=False`` and ``strict_map_key`` and msgpack's own length
   caps set from the limits (``bad_message``, ``too_large``, ``too_deep``);
3. a walk over the whole value: nesting depth (``too_deep``), str-only map keys and
   plain data only, no extension types (``invalid_field``);
4. ``type`` lookup (``unknown_type``) and per-field conversion driven by the attrs
   classes' type annotations (``invalid_field``, naming the field path).

Unknown extra keys are ignored, so a newer client can talk to an older server. Every
integer in a request must be a non-negative integer below 2**53 (safe in JavaScript).

Server side: ``decode_client_message`` and ``encode``. SDK side: ``encode_client_message``,
``decode_server_message`` and ``decode_result``.
"""

from __future__ import annotations

import enum
import types
import typing
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import attrs
import msgpack

from gameserver.protocol.errors import ErrorCode, RequestError
from gameserver.protocol.limits import CLIENT_MESSAGE_LIMITS, SERVER_MESSAGE_LIMITS, DecodeLimits
from gameserver.protocol.messages import (
    CLIENT_MESSAGE_TYPES,
    SERVER_MESSAGE_TYPES,
    ClientMessage,
    Result,
    ServerMessage,
)

__all__ = [
    "decode_client_message",
    "decode_result",
    "decode_server_message",
    "encode",
    "encode_client_message",
    "to_wire",
]

_R = TypeVar("_R", bound=Result)

# Largest integer a JavaScript client can hold exactly (Number.MAX_SAFE_INTEGER).
MAX_SAFE_INTEGER = 2**53 - 1

_PLAIN_SCALARS = (str, int, float, bool, bytes, type(None))


# ---------------------------------------------------------------------------------------
# Encoding
# ---------------------------------------------------------------------------------------


def encode(message: ServerMessage) -> bytes:
    """Encode a server message into the payload of one binary WebSocket message.

    Encode once and send the same bytes to every recipient of an identical message.
    Raises ``TypeError`` if a free-form field (a view, an option) holds data msgpack
    cannot represent, which is a bug in the caller.
    """
    return _pack(message)


def encode_client_message(message: ClientMessage) -> bytes:
    """Encode a request (SDK side) into the payload of one binary WebSocket message."""
    return _pack(message)


def to_wire(message: ServerMessage | ClientMessage) -> dict[str, Any]:
    """Return the wire map of ``message`` (what ``encode`` packs), e.g. for logging."""
    wire: dict[str, Any] = {"type": message.TYPE}
    wire.update(_record_to_wire(message))
    return wire


def _pack(message: ServerMessage | ClientMessage) -> bytes:
    packed: bytes = msgpack.packb(to_wire(message), use_bin_type=True)
    return packed


def _record_to_wire(record: Any) -> dict[str, Any]:
    return _record_encoder(type(record))(record)


# Encoders are compiled once per class from its annotations, so encoding a message is a
# few dict and list builds rather than a walk that inspects every value's type.
_Encoder = Callable[[Any], Any]
_RECORD_ENCODERS: dict[type, Callable[[Any], dict[str, Any]]] = {}
_HINTS: dict[type, dict[str, Any]] = {}


def _identity(value: Any) -> Any:
    return value


def _record_encoder(cls: type) -> Callable[[Any], dict[str, Any]]:
    encoder = _RECORD_ENCODERS.get(cls)
    if encoder is None:
        hints = _hints(cls)
        fields = tuple(
            (field.name, _encoder_for(hints[field.name])) for field in attrs.fields(cls)
        )

        def encoder(record: Any) -> dict[str, Any]:
            return {name: convert(getattr(record, name)) for name, convert in fields}

        _RECORD_ENCODERS[cls] = encoder
    return encoder


def _encoder_for(hint: Any) -> _Encoder:
    """A function turning a value annotated ``hint`` into plain msgpack data."""
    if hint is Any or hint in (int, str, bool, float):
        return _identity
    origin = typing.get_origin(hint)
    if origin is types.UnionType or origin is typing.Union:
        options = [arg for arg in typing.get_args(hint) if arg is not type(None)]
        if len(options) == 1:
            inner = _encoder_for(options[0])
            if inner is _identity:
                return _identity
            return lambda value: None if value is None else inner(value)
        return _value_to_wire  # a genuine union (Reply.result): decide by value
    if origin is tuple:
        item = _encoder_for(typing.get_args(hint)[0])
        if item is _identity:
            return list
        return lambda value: [item(entry) for entry in value]
    if origin is Mapping or origin is dict:
        return _value_to_wire
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return lambda value: value.value
    if isinstance(hint, type) and attrs.has(hint):
        return lambda value: _record_encoder(type(value))(value)
    raise AssertionError(f"no wire encoding for {hint!r}")  # pragma: no cover


def _value_to_wire(value: Any) -> Any:
    """Plain data for a value whose type only the value itself tells."""
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (str, int, float, type(None))):
        return value
    if attrs.has(type(value)):
        return _record_to_wire(value)
    if isinstance(value, (tuple, list)):
        return [_value_to_wire(item) for item in value]
    if isinstance(value, Mapping):
        return {key: _value_to_wire(item) for key, item in value.items()}
    return value


def _hints(cls: type) -> dict[str, Any]:
    hints = _HINTS.get(cls)
    if hints is None:
        hints = _HINTS[cls] = typing.get_type_hints(cls)
    return hints


# ---------------------------------------------------------------------------------------
# Decoding
# ---------------------------------------------------------------------------------------


def decode_client_message(
    data: bytes, limits: DecodeLimits = CLIENT_MESSAGE_LIMITS
) -> ClientMessage:
    """Decode and validate one request received by the server.

    Raises :class:`RequestError` with the matching code for any malformed input; its
    ``request_id`` is set whenever the ``id`` could be read, so the caller can answer
    with an ``error`` echoing it and keep the connection open.
    """
    raw = _unpack_map(data, limits)
    request_id = _read_request_id(raw)
    try:
        _check_plain(raw, limits)
        cls = _lookup_type(raw, CLIENT_MESSAGE_TYPES)
        if request_id is None:
            raise _bad("must be a non-negative integer below 2**53", raw.get("id")).error("id")
        message: ClientMessage = _convert_record(raw, cls, cls.TYPE, signed=False)
        return message
    except RequestError as error:
        raise error.with_request_id(request_id) from None


def decode_server_message(
    data: bytes, limits: DecodeLimits = SERVER_MESSAGE_LIMITS
) -> ServerMessage:
    """Decode and validate one message received from the server (SDK side).

    ``Reply.result`` comes back as a plain map; pass it to :func:`decode_result` with
    the result class of the request it answers. Raises :class:`RequestError` on
    malformed input (the SDK treats that as a broken server).
    """
    raw = _unpack_map(data, limits)
    _check_plain(raw, limits)
    cls = _lookup_type(raw, SERVER_MESSAGE_TYPES)
    message: ServerMessage = _convert_record(raw, cls, cls.TYPE, signed=True)
    return message


def decode_result(cls: type[_R], result: Result | Mapping[str, Any]) -> _R:
    """Turn the ``result`` of a decoded ``Reply`` into the record ``cls``.

    Raises :class:`RequestError` (``invalid_field``) when the map does not fit ``cls``.
    """
    if isinstance(result, cls):
        return result
    if not isinstance(result, Mapping):
        raise _bad(f"must be a map for {cls.__name__}", result).error("result")
    record: _R = _convert_record(dict(result), cls, "result", signed=True)
    return record


def _unpack_map(data: bytes, limits: DecodeLimits) -> dict[str, Any]:
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise RequestError(ErrorCode.BAD_MESSAGE, "messages must be binary msgpack, not text")
    if len(data) > limits.max_message_bytes:
        raise RequestError(
            ErrorCode.TOO_LARGE,
            f"message is {len(data)} bytes; the limit is {limits.max_message_bytes}",
        )
    try:
        value = msgpack.unpackb(
            data,
            raw=False,
            strict_map_key=True,
            use_list=True,
            max_str_len=limits.max_str_len,
            max_bin_len=limits.max_bin_len,
            max_array_len=limits.max_array_len,
            max_map_len=limits.max_map_len,
            max_ext_len=0,
        )
    except msgpack.StackError:
        raise RequestError(
            ErrorCode.TOO_DEEP, f"nesting exceeds the limit of {limits.max_depth}"
        ) from None
    except msgpack.ExtraData:
        raise RequestError(
            ErrorCode.BAD_MESSAGE, "trailing bytes after the msgpack value"
        ) from None
    except UnicodeDecodeError:
        raise RequestError(ErrorCode.BAD_MESSAGE, "a string is not valid UTF-8") from None
    except ValueError as error:
        text = str(error)
        if "exceeds max_ext_len" in text:
            raise RequestError(
                ErrorCode.BAD_MESSAGE, "msgpack extension types are not allowed"
            ) from None
        if "exceeds max_" in text:
            raise RequestError(ErrorCode.TOO_LARGE, _length_message(text, limits)) from None
        if "strict_map_key" in text:
            raise RequestError(
                ErrorCode.INVALID_FIELD, "map keys must be strings"
            ) from None
        raise RequestError(ErrorCode.BAD_MESSAGE, "not a valid msgpack value") from None
    except Exception:
        raise RequestError(ErrorCode.BAD_MESSAGE, "not a valid msgpack value") from None
    if not isinstance(value, dict):
        raise RequestError(
            ErrorCode.BAD_MESSAGE, f"a message must be a msgpack map, not {_kind(value)}"
        )
    return value


def _length_message(text: str, limits: DecodeLimits) -> str:
    for kind, limit in (
        ("str", limits.max_str_len),
        ("bin", limits.max_bin_len),
        ("array", limits.max_array_len),
        ("map", limits.max_map_len),
    ):
        if f"max_{kind}_len" in text:
            return f"a {kind} is longer than the limit of {limit}"
    return "a value is longer than the limit"


def _read_request_id(raw: Mapping[str, Any]) -> int | None:
    request_id = raw.get("id")
    if isinstance(request_id, int) and not isinstance(request_id, bool):
        if 0 <= request_id <= MAX_SAFE_INTEGER:
            return request_id
    return None


def _check_plain(root: dict[str, Any], limits: DecodeLimits) -> None:
    """Walk the whole value (iteratively): depth, key types and plain-data leaves."""
    stack: list[tuple[Any, int]] = [(root, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > limits.max_depth:
            raise RequestError(
                ErrorCode.TOO_DEEP, f"nesting exceeds the limit of {limits.max_depth}"
            )
        if isinstance(value, dict):
            children = []
            for key, item in value.items():
                if not isinstance(key, str):
                    raise RequestError(ErrorCode.INVALID_FIELD, "map keys must be strings")
                children.append(item)
        else:
            children = value
        for item in children:
            if isinstance(item, (dict, list)):
                stack.append((item, depth + 1))
            elif not isinstance(item, _PLAIN_SCALARS):
                raise RequestError(
                    ErrorCode.INVALID_FIELD,
                    f"only plain msgpack data is allowed, not {_kind(item)}",
                )


def _lookup_type(raw: Mapping[str, Any], table: Mapping[str, type[Any]]) -> Any:
    message_type = raw.get("type")
    if message_type is None:
        raise RequestError(ErrorCode.INVALID_FIELD, "field 'type' is missing")
    if not isinstance(message_type, str):
        raise _bad("must be a string", message_type).error("type")
    try:
        return table[message_type]
    except KeyError:
        shown = message_type if len(message_type) <= 40 else message_type[:40] + "..."
        raise RequestError(
            ErrorCode.UNKNOWN_TYPE, f"unknown message type {shown!r}"
        ) from None


def _convert_record(raw: Mapping[str, Any], cls: type[Any], path: str, *, signed: bool) -> Any:
    """Build ``cls`` from its wire map; raise ``invalid_field`` naming the field path."""
    try:
        return _record_decoder(cls, signed)(raw)
    except _BadField as bad:
        raise bad.error(path) from None


class _BadField(Exception):
    """A field failed validation; the path is filled in while unwinding (error path only)."""

    def __init__(self, requirement: str) -> None:
        super().__init__(requirement)
        self.requirement = requirement
        self.segments: list[str] = []

    def error(self, root: str) -> RequestError:
        path = root
        for segment in reversed(self.segments):
            path += segment if segment.startswith("[") else f".{segment}"
        return RequestError(ErrorCode.INVALID_FIELD, f"field {path!r} {self.requirement}")


def _bad(requirement: str, value: Any) -> _BadField:
    return _BadField(f"{requirement}, got {_kind(value)}")


# Decoders are compiled once per (class or annotation, signedness) like the encoders.
_Decoder = Callable[[Any], Any]
_RECORD_DECODERS: dict[tuple[type, bool], _Decoder] = {}


def _record_decoder(cls: type, signed: bool) -> _Decoder:
    decoder = _RECORD_DECODERS.get((cls, signed))
    if decoder is None:
        hints = _hints(cls)
        fields = tuple(
            (field.name, _decoder_for(hints[field.name], signed), field.default is attrs.NOTHING)
            for field in attrs.fields(cls)
        )

        def decoder(raw: Any) -> Any:
            if not isinstance(raw, dict):
                raise _bad("must be a map", raw)
            kwargs: dict[str, Any] = {}
            for name, convert, required in fields:
                if name in raw:
                    try:
                        kwargs[name] = convert(raw[name])
                    except _BadField as bad:
                        bad.segments.append(name)
                        raise
                elif required:
                    missing = _BadField("is missing")
                    missing.segments.append(name)
                    raise missing
            return cls(**kwargs)

        _RECORD_DECODERS[(cls, signed)] = decoder
    return decoder


def _decoder_for(hint: Any, signed: bool) -> _Decoder:
    """A function validating and converting a wire value annotated ``hint``."""
    if hint is Any:
        return _identity
    origin = typing.get_origin(hint)
    if origin is types.UnionType or origin is typing.Union:
        return _union_decoder(typing.get_args(hint), signed)
    if hint is bool:
        return _decode_bool
    if hint is int:
        return _decode_signed_int if signed else _decode_unsigned_int
    if hint is str:
        return _decode_str
    if origin is tuple:
        return _tuple_decoder(_decoder_for(typing.get_args(hint)[0], signed))
    if origin is Mapping or origin is dict:
        return _decode_map
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return _enum_decoder(hint)
    if isinstance(hint, type) and attrs.has(hint):
        return lambda value: _record_decoder(hint, signed)(value)
    raise AssertionError(f"no wire conversion for {hint!r}")  # pragma: no cover


def _decode_bool(value: Any) -> bool:
    if not isinstance(value, bool):
        raise _bad("must be a boolean", value)
    return value


def _decode_unsigned_int(value: Any) -> int:
    if not _is_int(value) or not 0 <= value <= MAX_SAFE_INTEGER:
        raise _bad("must be a non-negative integer below 2**53", value)
    return int(value)


def _decode_signed_int(value: Any) -> int:
    if not _is_int(value) or not -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER:
        raise _bad("must be an integer below 2**53", value)
    return int(value)


def _decode_str(value: Any) -> str:
    if not isinstance(value, str):
        raise _bad("must be a string", value)
    return value


def _decode_map(value: Any) -> Any:
    if not isinstance(value, dict):
        raise _bad("must be a map", value)
    return value


def _tuple_decoder(item: _Decoder) -> _Decoder:
    def decode(value: Any) -> tuple[Any, ...]:
        if not isinstance(value, list):
            raise _bad("must be an array", value)
        if item is _identity:
            return tuple(value)
        converted = []
        for index, entry in enumerate(value):
            try:
                converted.append(item(entry))
            except _BadField as bad:
                bad.segments.append(f"[{index}]")
                raise
        return tuple(converted)

    return decode


def _enum_decoder(kind: type[enum.Enum]) -> _Decoder:
    allowed = ", ".join(repr(member.value) for member in kind)

    def decode(value: Any) -> Any:
        try:
            return kind(value)
        except (ValueError, TypeError):
            raise _bad(f"must be one of {allowed}", value) from None

    return decode


def _union_decoder(options: tuple[Any, ...], signed: bool) -> _Decoder:
    nullable = type(None) in options
    rest = [option for option in options if option is not type(None)]
    # ``Result | Mapping[str, Any]`` arrives as a plain map; decode_result types it.
    mapping = [option for option in rest if typing.get_origin(option) is Mapping]
    inner = _decoder_for(mapping[0] if mapping else rest[0], signed)

    def decode(value: Any) -> Any:
        if value is None:
            if nullable:
                return None
            raise _bad("must not be null", value)
        return inner(value)

    return decode


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a float"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, (bytes, bytearray)):
        return "binary"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "a map"
    return type(value).__name__
