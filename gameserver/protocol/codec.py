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

Protocol version 2 adds the ``delta`` push, the one message that is a top-level msgpack
*array* (``encode_delta`` / ``decode_delta``; ``is_delta`` tells it from a map by its
first byte).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

import msgpack

from gameserver.protocol.errors import ErrorCode, RequestError
from gameserver.protocol.limits import CLIENT_MESSAGE_LIMITS, SERVER_MESSAGE_LIMITS, DecodeLimits
from gameserver.protocol.messages import (
    CLIENT_MESSAGE_TYPES,
    SERVER_MESSAGE_TYPES,
    ClientMessage,
    Delta,
    Result,
    ServerMessage,
)
from gameserver.protocol.schema import (
    MAX_SAFE_INTEGER,
    field_error,
    kind_of,
    record_from_wire,
    record_to_wire,
)

__all__ = [
    "decode_client_message",
    "decode_delta",
    "decode_result",
    "decode_server_message",
    "encode",
    "encode_client_message",
    "encode_delta",
    "is_delta",
    "peek_request_id",
    "to_wire",
]

_R = TypeVar("_R", bound=Result)

_PLAIN_SCALARS = frozenset({str, int, float, bool, bytes, type(None)})


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
    wire.update(record_to_wire(message))
    return wire


def encode_delta(delta: Delta) -> bytes:
    """Encode a delta push (protocol version 2) as its top-level array.

    The sixth element, ``id``, is present only when the delta answers a move.
    """
    items: list[Any] = [delta.room_id, delta.base, delta.version, delta.cause, delta.ops]
    if delta.id is not None:
        items.append(delta.id)
    packed: bytes = msgpack.packb(items, use_bin_type=True)
    return packed


def is_delta(data: bytes) -> bool:
    """True when a server message is a delta: a msgpack array, where every other
    message is a map (tells them apart without decoding)."""
    if not data:
        return False
    first = data[0]
    return 0x90 <= first <= 0x9F or first in (0xDC, 0xDD)


def _pack(message: ServerMessage | ClientMessage) -> bytes:
    packed: bytes = msgpack.packb(to_wire(message), use_bin_type=True)
    return packed


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
    try:
        raw = _unpack_map(data, limits)
    except RequestError as error:
        # Too large, a non-string key, bad UTF-8...: the id may still be readable.
        raise error.with_request_id(_scan_request_id(data)) from None
    request_id = _read_request_id(raw)
    try:
        _check_plain(raw, limits)
        cls = _lookup_type(raw, CLIENT_MESSAGE_TYPES)
        if request_id is None:
            raise field_error("id", "must be a non-negative integer below 2**53", raw.get("id"))
        message: ClientMessage = record_from_wire(raw, cls, cls.TYPE, signed=False)
        return message
    except RequestError as error:
        raise error.with_request_id(request_id) from None


def peek_request_id(data: bytes, limits: DecodeLimits = CLIENT_MESSAGE_LIMITS) -> int | None:
    """Return the ``id`` of a request without validating the rest, or None if unreadable.

    For a server refusing a message before decoding it fully (e.g. ``rate_limited``),
    so that its error can still echo the id. Never raises.
    """
    try:
        raw = _unpack_map(data, limits)
    except RequestError:
        return _scan_request_id(data)
    return _read_request_id(raw)


# An id sits among the first keys of any sane request; the scan stops after these.
_SCAN_KEYS = 1024


def _scan_request_id(data: bytes) -> int | None:
    """Find the top-level ``id`` of a message that failed to parse as a whole.

    Walks the top-level map pair by pair, skipping values without building them, so a
    too long string or a non-string key elsewhere does not hide the id. The message is
    already bounded by the WebSocket message limit. Returns None when the id cannot be
    read or is not a valid request id (the last ``id`` key wins, as in a full parse).
    Never raises.
    """
    if not isinstance(data, (bytes, bytearray, memoryview)):
        return None
    try:
        unpacker = msgpack.Unpacker(
            raw=False, strict_map_key=False, max_buffer_size=max(1, len(data))
        )
        unpacker.feed(data)
        pairs = unpacker.read_map_header()
    except Exception:
        return None
    found: int | None = None
    for _ in range(min(pairs, _SCAN_KEYS)):
        try:
            key = unpacker.unpack()
            if key == "id":
                value = unpacker.unpack()
                found = _read_request_id({"id": value})
            else:
                unpacker.skip()
        except Exception:
            break  # the rest is unreadable: keep what was found before it
    return found


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
    message: ServerMessage = record_from_wire(raw, cls, cls.TYPE, signed=True)
    return message


def decode_delta(data: bytes, limits: DecodeLimits = SERVER_MESSAGE_LIMITS) -> Delta:
    """Decode and validate one delta received from the server (SDK side).

    Checks the array's shape (5 or 6 elements), the types of ``room_id``, ``base``,
    ``version`` (not below ``base``), ``cause`` and ``id``, and that ``ops`` is an array
    of arrays; whether the ops fit a document is for ``delta.apply`` to tell. Raises
    :class:`RequestError` on malformed input (the SDK treats that as a broken server).
    """
    raw = _unpack(data, limits)
    if not isinstance(raw, list) or len(raw) not in (5, 6):
        raise RequestError(
            ErrorCode.BAD_MESSAGE, "a delta is an array of 5 or 6 elements"
        )
    _check_plain({"delta": raw}, limits)
    room_id, base, version, cause, ops = raw[:5]
    request_id = raw[5] if len(raw) == 6 else None
    if not isinstance(room_id, str):
        raise field_error("delta[0] (room_id)", "must be a string", room_id)
    for index, number in ((1, base), (2, version)):
        if not _is_count(number):
            raise field_error(f"delta[{index}]", "must be a non-negative integer", number)
    if version < base:
        raise field_error("delta[2] (version)", "must not be below the base", version)
    if cause is not None and not (
        isinstance(cause, list) and len(cause) == 2 and _is_count(cause[0])
    ):
        raise field_error("delta[3] (cause)", "must be nil or [seat, what]", cause)
    if not isinstance(ops, list) or not all(isinstance(op, list) for op in ops):
        raise field_error("delta[4] (ops)", "must be an array of arrays", ops)
    if len(raw) == 6 and not _is_count(request_id):
        raise field_error("delta[5] (id)", "must be a non-negative integer", request_id)
    return Delta(
        room_id=room_id, base=base, version=version, cause=cause, ops=ops, id=request_id
    )


def _is_count(value: Any) -> bool:
    return (
        isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_SAFE_INTEGER
    )


def decode_result(cls: type[_R], result: Result | Mapping[str, Any]) -> _R:
    """Turn the ``result`` of a decoded ``Reply`` into the record ``cls``.

    Raises :class:`RequestError` (``invalid_field``) when the map does not fit ``cls``.
    """
    if isinstance(result, cls):
        return result
    if not isinstance(result, Mapping):
        raise field_error("result", f"must be a map for {cls.__name__}", result)
    record: _R = record_from_wire(dict(result), cls, "result", signed=True)
    return record


def _unpack_map(data: bytes, limits: DecodeLimits) -> dict[str, Any]:
    value = _unpack(data, limits)
    if not isinstance(value, dict):
        raise RequestError(
            ErrorCode.BAD_MESSAGE, f"a message must be a msgpack map, not {kind_of(value)}"
        )
    return value


def _unpack(data: bytes, limits: DecodeLimits) -> Any:
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
    """Walk the whole value (iteratively): depth, key types and plain-data leaves.

    msgpack yields exact built-in types, so ``type(x) in ...`` is enough (and faster
    than ``isinstance``); anything else (ExtType, Timestamp) is refused.
    """
    max_depth = limits.max_depth
    stack: list[tuple[Any, int]] = [(root, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > max_depth:
            raise RequestError(ErrorCode.TOO_DEEP, f"nesting exceeds the limit of {max_depth}")
        if type(value) is dict:
            for key in value:
                if type(key) is not str:
                    raise RequestError(ErrorCode.INVALID_FIELD, "map keys must be strings")
            children: Any = value.values()
        else:
            children = value
        for item in children:
            kind = type(item)
            if kind is dict or kind is list:
                stack.append((item, depth + 1))
            elif kind not in _PLAIN_SCALARS:
                raise RequestError(
                    ErrorCode.INVALID_FIELD,
                    f"only plain msgpack data is allowed, not {kind_of(item)}",
                )


def _lookup_type(raw: Mapping[str, Any], table: Mapping[str, type[Any]]) -> Any:
    message_type = raw.get("type")
    if message_type is None:
        raise RequestError(ErrorCode.INVALID_FIELD, "field 'type' is missing")
    if not isinstance(message_type, str):
        raise field_error("type", "must be a string", message_type)
    try:
        return table[message_type]
    except KeyError:
        shown = message_type if len(message_type) <= 40 else message_type[:40] + "..."
        raise RequestError(
            ErrorCode.UNKNOWN_TYPE, f"unknown message type {shown!r}"
        ) from None
