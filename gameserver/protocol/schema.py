"""Wire conversion of the protocol's attrs records, compiled from their annotations.

``record_to_wire`` turns a record into plain msgpack data (``message_to_wire`` a message,
with its ``type``); ``record_from_wire`` checks a decoded map against a record class and
builds it, raising ``invalid_field`` with the path of the offending field
(``create_room.bots[0].seat``). Both compile one function per class on first use, so the
per-message cost is a few dict and list builds.

The mapping (see ``docs/protocol.md``): field names are the keys; tuples are arrays;
enums are their values; nested records are maps; ``Any`` fields (moves, views) and
``Mapping[str, Any]`` fields (options) pass through; ``X | None`` may be nil. Integers
are checked to be below 2**53 (non-negative in requests: ``signed=False``).
"""

from __future__ import annotations

import enum
import types
import typing
from collections.abc import Callable, Mapping
from typing import Any

import attrs

from gameserver.protocol.errors import ErrorCode, RequestError

__all__ = [
    "MAX_SAFE_INTEGER", "field_error", "kind_of", "message_to_wire", "record_from_wire",
    "record_to_wire",
]

# Largest integer a JavaScript client can hold exactly (Number.MAX_SAFE_INTEGER).
MAX_SAFE_INTEGER = 2**53 - 1


def record_to_wire(record: Any) -> dict[str, Any]:
    """The wire map of an attrs protocol record (without ``type``)."""
    encoder = _RECORD_ENCODERS.get(type(record))
    if encoder is None:
        encoder = _record_encoder(type(record))
    return encoder(record)


def message_to_wire(message: Any) -> dict[str, Any]:
    """The wire map of a protocol message: ``type`` (its ``TYPE``) first, then its fields."""
    encoder = _MESSAGE_ENCODERS.get(type(message))
    if encoder is None:
        encoder = _MESSAGE_ENCODERS[type(message)] = _compile_encoder(type(message), message.TYPE)
    return encoder(message)


# Encoders are compiled once per class from its annotations into one Python function
# that builds the whole map in one expression (as attrs compiles ``__init__``): encoding
# a message is then one call plus a few list builds, not a call per field. For example
# ``ClockState`` compiles to
#
#     def encode(r):
#         return {"banks_ms": (None if (v0 := r.banks_ms) is None else list(v0)),
#                 "move_ms": r.move_ms, "running": list(r.running)}
_Encoder = Callable[[Any], dict[str, Any]]
_RECORD_ENCODERS: dict[type, _Encoder] = {}
_MESSAGE_ENCODERS: dict[type, _Encoder] = {}
_HINTS: dict[type, dict[str, Any]] = {}


def _identity(value: Any) -> Any:
    return value


def _record_encoder(cls: type) -> _Encoder:
    encoder = _RECORD_ENCODERS.get(cls)
    if encoder is None:
        encoder = _RECORD_ENCODERS[cls] = _compile_encoder(cls, None)
    return encoder


def _compile_encoder(cls: type, type_tag: str | None) -> _Encoder:
    """Compile the encoder of ``cls``; its map starts with ``"type": type_tag`` if given."""
    hints = _hints(cls)
    names = _Names()
    items = [] if type_tag is None else [f"'type': {type_tag!r}"]
    for field in attrs.fields(cls):
        items.append(f"{field.name!r}: {_expression(hints[field.name], f'r.{field.name}', names)}")
    source = f"def encode(r):\n    return {{{', '.join(items)}}}\n"
    namespace = dict(names.helpers)
    exec(compile(source, f"<wire encoder of {cls.__qualname__}>", "exec"), namespace)
    encoder: _Encoder = namespace["encode"]
    return encoder


class _Names:
    """Fresh local names and the helper functions a compiled encoder refers to."""

    def __init__(self) -> None:
        self.helpers: dict[str, Any] = {
            "_record": record_to_wire, "_value": _value_to_wire, "list": list
        }
        self.count = 0

    def local(self) -> str:
        self.count += 1
        return f"v{self.count}"


def _expression(hint: Any, source: str, names: _Names) -> str:
    """Python source turning the value of ``source`` (an expression read once, annotated
    ``hint``) into plain msgpack data."""
    if hint is Any or hint in (int, str, bool, float):
        return source
    origin = typing.get_origin(hint)
    if origin is types.UnionType or origin is typing.Union:
        options = [arg for arg in typing.get_args(hint) if arg is not type(None)]
        if len(options) != 1:
            return f"_value({source})"  # a genuine union (Reply.result): decide by value
        value = names.local()
        inner = _expression(options[0], value, names)
        if inner == value:
            return source
        return f"(None if ({value} := {source}) is None else {inner})"
    if origin is tuple:
        item = names.local()
        inner = _expression(typing.get_args(hint)[0], item, names)
        if inner == item:
            return f"list({source})"
        return f"[{inner} for {item} in {source}]"
    if origin is Mapping or origin is dict:
        return f"_value({source})"
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return f"{source}.value"
    if isinstance(hint, type) and attrs.has(hint):
        return f"_record({source})"  # by the value's own class: it may be a subclass
    raise AssertionError(f"no wire encoding for {hint!r}")  # pragma: no cover


def _value_to_wire(value: Any) -> Any:
    """Plain data for a value whose type only the value itself tells."""
    encoder = _RECORD_ENCODERS.get(type(value))
    if encoder is not None:
        return encoder(value)
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (str, int, float, type(None))):
        return value
    if attrs.has(type(value)):
        return record_to_wire(value)
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


def record_from_wire(raw: Mapping[str, Any], cls: type[Any], path: str, *, signed: bool) -> Any:
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
    return _BadField(f"{requirement}, got {kind_of(value)}")


def field_error(path: str, requirement: str, value: Any) -> RequestError:
    """An ``invalid_field`` error: "field '<path>' <requirement>, got <kind of value>"."""
    return _bad(requirement, value).error(path)


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
    if hint is float:
        return _decode_float
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


def _decode_float(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _bad("must be a number", value)
    return float(value)


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


def kind_of(value: Any) -> str:
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
