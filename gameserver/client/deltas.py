"""Protocol version 2 on the SDK side: the document held per room, updated by deltas.

Once a room's full ``State`` has arrived, the server sends later versions of it as
*deltas*: top-level msgpack arrays ``[room_id, base, version, cause, ops]`` (plus the
request ``id`` when the delta also answers this client's ``move``), while every other
message stays a map. :func:`is_delta` tells them apart by the first byte,
:func:`decode_delta` reads one, and :class:`Documents` keeps one document per room
(``gameserver.protocol.delta``), applies each delta to it and turns the result into the
same ``State`` a version 1 connection would have received.

The apply rule (docs/protocol.md, "Deltas"): a delta applies only to a document of
version ``base``. Anything else, or ops that do not fit, drops the room's document: the
caller then sends ``sync`` for the rooms :meth:`Documents.take_resyncs` names, and the
room's deltas are ignored until its next full state. A delta entirely in the past
(``version`` not above the version held) is old news, e.g. a retried move's stored
reply: it changes nothing and asks for nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs
import msgpack

from gameserver.protocol import delta
from gameserver.protocol.errors import ErrorCode, RequestError
from gameserver.protocol.limits import DecodeLimits
from gameserver.protocol.messages import State
from gameserver.protocol.schema import MAX_SAFE_INTEGER, record_from_wire

__all__ = ["Delta", "Documents", "decode_delta", "is_delta"]

# First bytes of a msgpack array: fixarray (0x90-0x9f), array 16 (0xdc), array 32 (0xdd).
_ARRAY_FIRST_BYTES = frozenset(range(0x90, 0xA0)) | {0xDC, 0xDD}


@attrs.frozen(kw_only=True)
class Delta:
    """One ``delta`` push, decoded."""

    room_id: str
    """The room."""
    base: int
    """The version of the document the ops apply to."""
    version: int
    """The version after them (equal to ``base`` when nothing versioned changed)."""
    cause: Any
    """``[seat, move]``, ``[seat, "timeout" | "resign" | "forfeit"]``, or None."""
    ops: list[Any]
    """The ops (``gameserver.protocol.delta``)."""
    request_id: int | None = None
    """The id of this client's ``move`` the delta also answers; None for a push."""


def is_delta(data: bytes) -> bool:
    """True when ``data`` is a top-level msgpack array, i.e. a delta (v2 only)."""
    return len(data) > 0 and data[0] in _ARRAY_FIRST_BYTES


def decode_delta(data: bytes, limits: DecodeLimits) -> Delta:
    """Decode one delta within ``limits``; raise :class:`RequestError` when malformed
    (the SDK treats that as a broken server, as for any other message)."""
    if len(data) > limits.max_message_bytes:
        raise RequestError(ErrorCode.TOO_LARGE, f"a delta of {len(data)} bytes is over the limit")
    try:
        value = msgpack.unpackb(
            data, raw=False, strict_map_key=True, use_list=True, max_ext_len=0,
            max_str_len=limits.max_str_len, max_bin_len=limits.max_bin_len,
            max_array_len=limits.max_array_len, max_map_len=limits.max_map_len,
        )  # fmt: skip
    except Exception:
        raise RequestError(ErrorCode.BAD_MESSAGE, "a delta is not one valid msgpack array") from None
    _check_nesting(value, limits.max_depth)
    if not isinstance(value, list) or len(value) not in (5, 6):
        raise RequestError(ErrorCode.BAD_MESSAGE, "a delta is an array of 5 or 6 elements")
    room_id, base, version, cause, ops, *rest = value
    request_id = rest[0] if rest else None
    if not isinstance(room_id, str):
        raise RequestError(ErrorCode.INVALID_FIELD, "a delta's room_id must be a string")
    for name, number in (("base", base), ("version", version), ("id", request_id)):
        if number is None and name == "id":
            continue
        if not _is_count(number):
            raise RequestError(ErrorCode.INVALID_FIELD, f"a delta's {name} must be a non-negative integer")
    if not isinstance(ops, list):
        raise RequestError(ErrorCode.INVALID_FIELD, "a delta's ops must be an array")
    return Delta(
        room_id=room_id, base=base, version=version, cause=cause, ops=ops, request_id=request_id
    )


def _is_count(value: Any) -> bool:
    return type(value) is int and 0 <= value <= MAX_SAFE_INTEGER


def _check_nesting(root: Any, max_depth: int) -> None:
    """Depth within the limit and string map keys (msgpack itself let bytes keys by)."""
    stack: list[tuple[Any, int]] = [(root, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > max_depth:
            raise RequestError(ErrorCode.TOO_DEEP, f"nesting exceeds the limit of {max_depth}")
        if type(value) is dict:
            if not all(type(key) is str for key in value):
                raise RequestError(ErrorCode.INVALID_FIELD, "map keys must be strings")
            children: Any = value.values()
        else:
            children = value
        stack.extend((child, depth + 1) for child in children if type(child) in (dict, list))


@attrs.define
class _Held:
    """A room's document and what the full state said beside it."""

    match: int
    seat: int | None
    version: int
    document: dict[str, Any]


class Documents:
    """The documents of one connection, one per room (sans-IO: no trio, no socket).

    Call :meth:`hold` with every full ``State`` (and its wire map), :meth:`apply` with
    every delta, then send ``sync`` for each room :meth:`take_resyncs` returns. Call
    :meth:`clear` when the connection ends: the next one starts from full states.
    """

    def __init__(self) -> None:
        self._held: dict[str, _Held] = {}
        # Rooms whose document was dropped: their deltas wait for a full state.
        self._dropped: set[str] = set()
        self._resyncs: list[str] = []

    def hold(self, state: State, wire: Mapping[str, Any]) -> None:
        """Start the room's document from a full state (``wire``: its decoded map)."""
        document = delta.document_of(
            view=wire.get("view"), to_act=wire.get("to_act") or [],
            legal=wire.get("legal_moves") or [], seats=wire.get("seats") or [],
            clock=wire.get("clock"), outcome=wire.get("outcome"),
        )  # fmt: skip
        self._held[state.room_id] = _Held(state.match, state.seat, state.version, document)
        self._dropped.discard(state.room_id)

    def apply(self, change: Delta) -> State | None:
        """The room's new ``State`` after ``change``, or None when it applies to nothing
        held (then :meth:`take_resyncs` may name the room)."""
        held = self._held.get(change.room_id)
        if held is None:
            self._drop(change.room_id)
            return None
        if change.base != held.version:
            if change.version <= held.version and change.base < held.version:
                return None  # old news, e.g. a retried move's stored reply
            self._drop(change.room_id)
            return None
        try:
            document = delta.apply(held.document, change.ops)
            state = _state_of(change.room_id, held, change.version, document)
        except (delta.DeltaError, RequestError):
            self._drop(change.room_id)
            return None
        held.version, held.document = change.version, document
        return state

    def take_resyncs(self) -> list[str]:
        """The rooms to send ``sync`` for now (each named once per dropped document)."""
        rooms, self._resyncs = self._resyncs, []
        return rooms

    def forget(self, room_id: str) -> None:
        """Stop holding ``room_id``'s document (the client no longer follows the room)."""
        self._held.pop(room_id, None)
        self._dropped.discard(room_id)

    def clear(self) -> None:
        """Drop every document: the connection they belonged to has ended."""
        self._held.clear()
        self._dropped.clear()
        self._resyncs.clear()

    def _drop(self, room_id: str) -> None:
        self._held.pop(room_id, None)
        if room_id not in self._dropped:
            self._dropped.add(room_id)
            self._resyncs.append(room_id)


def _state_of(room_id: str, held: _Held, version: int, document: Mapping[str, Any]) -> State:
    """The ``State`` a full state of this document would have decoded to."""
    wire = {
        "room_id": room_id,
        "match": held.match,
        "version": version,
        "seat": held.seat,
        "view": document["view"],
        "to_act": document["to_act"],
        "legal_moves": delta.legal_moves_of(document, held.seat),
        "seats": document["seats"],
        "clock": document["clock"],
        "outcome": document["outcome"],
    }
    state: State = record_from_wire(wire, State, "state", signed=True)
    return state
