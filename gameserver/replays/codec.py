"""Maps records to and from msgpack, separately from the record classes.

Every record is one msgpack map with a type tag ``"t"``; the other keys are the record's
field names. Nested values (seats, clock settings) are maps too; tuples become arrays.
Decoding is strict about types (a bool is not an int, a seat index is not negative) and
lenient about extra keys, so a later minor addition can be read by this code.

Versions: the header carries ``"format"`` (always ``FORMAT_NAME``) and ``"v"``. A file
of version ``v`` < ``FORMAT_VERSION`` is read by passing each of its maps through
``_UPGRADES[v]``, ``_UPGRADES[v + 1]``, ... before decoding, so the classes only ever
describe the current version.

Version 2 added ``request_id`` to ``move`` maps (optional; absent means None).
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable, Mapping
from typing import Any

import msgpack

from gameserver.games.base import Termination
from gameserver.protocol.messages import ClockSettings

from .errors import CorruptRecord, CorruptReplay, InvalidRecord, UnsupportedVersion
from .records import (
    FORMAT_NAME,
    FORMAT_VERSION,
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

#: Type tags on the wire.
TAGS: dict[type, str] = {
    Joined: "join",
    Left: "leave",
    Disconnected: "disconnect",
    Reconnected: "reconnect",
    Moved: "move",
    TimedOut: "timeout",
    Resigned: "resign",
    StateHash: "hash",
    Ended: "end",
}
_CLASSES: dict[str, type] = {tag: cls for cls, tag in TAGS.items()}
HEADER_TAG = "header"



def _v1_to_v2(data: dict[str, Any]) -> dict[str, Any]:
    """Version 2 only added the optional ``request_id`` of a ``move``: a version-1 map
    lacks it, which decodes as None (no request is known to have caused the move).

    The map passes unchanged, so the records a version-2 server appends to a version-1
    log it recovered (the header keeps ``v`` 1) keep their request ids.
    """
    return data


#: Map upgraders: ``_UPGRADES[v]`` turns a version-``v`` map into a version-``v + 1`` map.
_UPGRADES: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {1: _v1_to_v2}

# Payloads are at most framing.MAX_PAYLOAD bytes, which bounds what unpacking allocates.
_MAX_SEATS = 64


# -- field checkers: each returns the decoded value or raises CorruptRecord ------------


def _int(value: Any, name: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise CorruptRecord(f"{name} must be an integer, got {type(value).__name__}")
    return value


def _nonneg(value: Any, name: str) -> int:
    number = _int(value, name)
    if number < 0:
        raise CorruptRecord(f"{name} must not be negative, got {number}")
    return number


def _opt_nonneg(value: Any, name: str) -> int | None:
    return None if value is None else _nonneg(value, name)


def _str(value: Any, name: str) -> str:
    if not isinstance(value, str):
        raise CorruptRecord(f"{name} must be a string, got {type(value).__name__}")
    return value


def _opt_str(value: Any, name: str) -> str | None:
    return None if value is None else _str(value, name)


def _opt_bool(value: Any, name: str) -> bool | None:
    return None if value is None else _bool(value, name)


def _bool(value: Any, name: str) -> bool:
    if not isinstance(value, bool):
        raise CorruptRecord(f"{name} must be a boolean, got {type(value).__name__}")
    return value


def _data(value: Any, name: str) -> Any:
    return value


def _ints(value: Any, name: str) -> tuple[int, ...]:
    if not isinstance(value, list):
        raise CorruptRecord(f"{name} must be an array, got {type(value).__name__}")
    return tuple(_int(item, name) for item in value)


def _opt_ints(value: Any, name: str) -> tuple[int, ...] | None:
    return None if value is None else _ints(value, name)


def _seats_ints(value: Any, name: str) -> tuple[int, ...]:
    return tuple(_seat_index(item, name) for item in _ints(value, name))


def _seat_index(value: Any, name: str) -> int:
    index = _nonneg(value, name)
    if index >= _MAX_SEATS:
        raise CorruptRecord(f"{name} {index} is out of range")
    return index


def _opt_termination(value: Any, name: str) -> Termination | None:
    if value is None:
        return None
    try:
        return Termination(_str(value, name))
    except ValueError:
        allowed = ", ".join(repr(member.value) for member in Termination)
        raise CorruptRecord(f"{name} must be one of {allowed}, got {value!r}") from None


def _hash(value: Any, name: str) -> str:
    text = _str(value, name)
    if len(text) != 64 or any(ch not in "0123456789abcdef" for ch in text):
        raise CorruptRecord(f"{name} must be 64 lower-case hex digits")
    return text


def _map(value: Any, name: str) -> dict[str, Any]:
    if not isinstance(value, dict) or not all(isinstance(key, str) for key in value):
        raise CorruptRecord(f"{name} must be a map with string keys")
    return value


def _seat(value: Any, name: str) -> Occupant:
    data = _map(value, name)
    try:
        kind = OccupantKind(data.get("kind", "human"))
    except ValueError:
        raise CorruptRecord(f"{name}.kind must be 'human' or 'bot'") from None
    return Occupant(
        name=_str(data.get("name"), f"{name}.name"),
        kind=kind,
        strategy=_opt_str(data.get("strategy"), f"{name}.strategy"),
        player_id=_opt_str(data.get("player_id"), f"{name}.player_id"),
        account_id=_opt_str(data.get("account_id"), f"{name}.account_id"),
        account_kind=_opt_str(data.get("account_kind"), f"{name}.account_kind"),
    )


def _seats(value: Any, name: str) -> tuple[Occupant, ...]:
    if not isinstance(value, list) or not 1 <= len(value) <= _MAX_SEATS:
        raise CorruptRecord(f"{name} must be an array of 1 to {_MAX_SEATS} seats")
    return tuple(_seat(item, f"{name}[{i}]") for i, item in enumerate(value))


def _clock(value: Any, name: str) -> ClockSettings:
    data = _map(value, name)
    return ClockSettings(
        initial_ms=_opt_nonneg(data.get("initial_ms"), f"{name}.initial_ms"),
        increment_ms=_nonneg(data.get("increment_ms", 0), f"{name}.increment_ms"),
        per_move_ms=_opt_nonneg(data.get("per_move_ms"), f"{name}.per_move_ms"),
    )


_Checker = Callable[[Any, str], Any]

#: Per record class: (field, checker, required). Optional fields fall back to the class default.
_SCHEMAS: dict[type, tuple[tuple[str, _Checker, bool], ...]] = {
    Joined: (("at", _int, True), ("seat", _seat_index, True), ("occupant", _seat, True)),
    Left: (("at", _int, True), ("seat", _seat_index, True), ("reason", _str, False)),
    Disconnected: (("at", _int, True), ("seat", _seat_index, True)),
    Reconnected: (("at", _int, True), ("seat", _seat_index, True)),
    Moved: (
        ("at", _int, True),
        ("seat", _seat_index, True),
        ("version", _nonneg, True),
        ("move", _data, True),
        ("time_used_ms", _nonneg, False),
        ("clocks", _opt_ints, False),
        ("request_id", _opt_nonneg, False),
    ),
    TimedOut: (
        ("at", _int, True),
        ("seat", _seat_index, True),
        ("version", _nonneg, True),
        ("clocks", _opt_ints, False),
    ),
    Resigned: (
        ("at", _int, True),
        ("seat", _seat_index, True),
        ("version", _nonneg, True),
        ("clocks", _opt_ints, False),
        ("forfeit", _bool, False),
    ),
    StateHash: (("at", _int, True), ("version", _nonneg, True), ("hash", _hash, True)),
    Ended: (
        ("at", _int, True),
        ("version", _nonneg, True),
        ("winners", _seats_ints, False),
        ("draw", _bool, False),
        ("scores", _opt_ints, False),
        ("reason", _str, False),
        ("aborted", _bool, False),
        ("termination", _opt_termination, False),
    ),
}

_HEADER_SCHEMA: tuple[tuple[str, _Checker, bool], ...] = (
    ("match_id", _str, True),
    ("room_id", _str, True),
    ("game", _str, True),
    ("options", _map, True),
    ("seed", _nonneg, True),
    ("seats", _seats, True),
    ("clock", _clock, True),
    ("server_version", _str, True),
    ("started_at", _int, True),
    ("private", _opt_bool, False),
    ("rated", _bool, False),
)


# -- plain data (the msgpack map, also used for JSON export) ---------------------------

_SCALARS = frozenset({int, str, float, bool, bytes, type(None)})


def _plain(value: Any) -> Any:
    if type(value) in _SCALARS:  # most values: checked first, exactly and cheaply
        return value
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, Occupant):
        seat = {
            "name": value.name,
            "kind": value.kind.value,
            "strategy": value.strategy,
            "player_id": value.player_id,
        }
        if value.account_id is not None:  # only registered occupants have these keys
            seat["account_id"] = value.account_id
            seat["account_kind"] = value.account_kind
        return seat
    if isinstance(value, ClockSettings):
        return {
            "initial_ms": value.initial_ms,
            "increment_ms": value.increment_ms,
            "per_move_ms": value.per_move_ms,
        }
    if isinstance(value, tuple):
        return [_plain(item) for item in value]
    if isinstance(value, Mapping):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


def header_to_data(header: Header) -> dict[str, Any]:
    """The header as a plain map: ``{"t": "header", "format": ..., "v": ..., fields...}``."""
    data: dict[str, Any] = {"t": HEADER_TAG, "format": FORMAT_NAME, "v": FORMAT_VERSION}
    for name, _checker, _required in _HEADER_SCHEMA:
        data[name] = _plain(getattr(header, name))
    return data


def record_to_data(record: Record) -> dict[str, Any]:
    """A record as a plain map with its type tag under ``"t"``."""
    cls = type(record)
    data: dict[str, Any] = {"t": TAGS[cls]}
    for name, _checker, _required in _SCHEMAS[cls]:
        data[name] = _plain(getattr(record, name))
    return data


def _fields(
    data: Mapping[str, Any], schema: tuple[tuple[str, _Checker, bool], ...], what: str
) -> dict[str, Any]:
    kwargs: dict[str, Any] = {}
    for name, checker, required in schema:
        if name not in data:
            if required:
                raise CorruptRecord(f"{what} record lacks {name!r}")
            continue
        kwargs[name] = checker(data[name], f"{what}.{name}")
    return kwargs


def header_from_data(data: Any) -> Header:
    """Decode a header map; raise ``CorruptReplay`` (``UnsupportedVersion``) if it is not one."""
    if not isinstance(data, dict):
        raise CorruptReplay("the first record is not a map")
    if data.get("t") != HEADER_TAG or data.get("format") != FORMAT_NAME:
        raise CorruptReplay(f"the first record is not a {FORMAT_NAME} header")
    version = data.get("v")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise CorruptReplay(f"the header has no valid format version: {version!r}")
    if version > FORMAT_VERSION:
        raise UnsupportedVersion(
            f"format version {version} is newer than this server reads ({FORMAT_VERSION})"
        )
    data = upgrade(data, version)
    try:
        kwargs = _fields(data, _HEADER_SCHEMA, "header")
        if not kwargs["match_id"]:
            raise CorruptRecord("header.match_id must not be empty")
    except CorruptRecord as exc:
        raise CorruptReplay(f"malformed header: {exc}") from None
    return Header(format_version=version, **kwargs)


def upgrade(data: dict[str, Any], version: int) -> dict[str, Any]:
    """Bring a map written by format ``version`` to the current format."""
    while version < FORMAT_VERSION:
        data = _UPGRADES[version](data)
        version += 1
    return data


def record_from_data(data: Any, version: int = FORMAT_VERSION) -> Record:
    """Decode one record map written by format ``version``; raise ``CorruptRecord`` if invalid."""
    if not isinstance(data, dict):
        raise CorruptRecord(f"a record must be a map, got {type(data).__name__}")
    data = upgrade(data, version)
    tag = data.get("t")
    if tag == HEADER_TAG:
        raise CorruptRecord("a second header in the middle of the log")
    cls = _CLASSES.get(tag) if isinstance(tag, str) else None
    if cls is None:
        raise CorruptRecord(f"unknown record type {tag!r}")
    record: Record = cls(**_fields(data, _SCHEMAS[cls], str(tag)))
    return record


def pack(data: Mapping[str, Any]) -> bytes:
    """msgpack bytes of a plain map (``use_bin_type``; deterministic for equal input)."""
    packed: bytes = msgpack.packb(data, use_bin_type=True)
    return packed


def unpack(payload: bytes) -> Any:
    """Decode one msgpack value; raise ``CorruptRecord`` if the bytes are not exactly one."""
    try:
        return msgpack.unpackb(payload, raw=False, strict_map_key=True)
    except Exception as exc:  # msgpack raises several unrelated types for bad input
        raise CorruptRecord(f"not valid msgpack: {exc}") from None


def encode_header(header: Header) -> bytes:
    """The msgpack payload of a header record."""
    return pack(header_to_data(header))


def encode_record(record: Record) -> bytes:
    """The msgpack payload of one record."""
    return pack(record_to_data(record))


# -- proving that a record loads back, cheaply ------------------------------------------
#
# The full proof (``_reload``) decodes the payload again and compares. For the records a
# room appends on every move that costs several times the encoding, so for plain data
# that msgpack gives back exactly (the cases below) the loader's checks are run on the
# map before packing instead: a value of an exact built-in type that its predicate
# accepts is one the loader's checker accepts and returns unchanged (a tuple as a list,
# which ``_plain`` already made it), and msgpack unpacks it to an equal value of the same
# type. Whatever is not proven so (a subclass, a float, deep nesting, a seat map, a
# header) takes the full proof, which also words the error.

# Deeper data is proven by decoding it: msgpack itself packs far deeper than this.
_PROVEN_DEPTH = 16


def _exact_plain(value: Any, depth: int = 0) -> bool:
    """True if msgpack (``use_bin_type``, ``raw=False``) unpacks ``value`` to an equal
    value of the same types. False only means "not proven here"."""
    kind = type(value)
    if kind is int or kind is str or kind is bool or kind is bytes or value is None:
        return True  # an int msgpack cannot hold, or a str with a lone surrogate, fails to pack
    if depth >= _PROVEN_DEPTH:
        return False
    if kind is list:
        return all(_exact_plain(item, depth + 1) for item in value)
    if kind is dict:  # keys as the loader requires them (``strict_map_key``: str)
        return all(type(key) is str and _exact_plain(item, depth + 1) for key, item in value.items())
    return False  # floats (NaN never equals itself), subclasses, anything else


def _is_int(value: Any) -> bool:
    return type(value) is int


def _is_nonneg(value: Any) -> bool:
    return type(value) is int and value >= 0


def _is_seat_index(value: Any) -> bool:
    return type(value) is int and 0 <= value < _MAX_SEATS


def _is_opt_nonneg(value: Any) -> bool:
    return value is None or (type(value) is int and value >= 0)


def _is_opt_ints(value: Any) -> bool:
    return value is None or (type(value) is list and all(type(item) is int for item in value))


def _is_hash(value: Any) -> bool:
    return type(value) is str and _HEX64.fullmatch(value) is not None


_HEX64 = re.compile(r"[0-9a-f]{64}")

#: For each checker of the hot records: a predicate on the plain value that implies the
#: checker accepts it and returns it unchanged. A schema with a checker missing here
#: always takes the full proof.
_PROVEN: dict[_Checker, Callable[[Any], bool]] = {
    _int: _is_int,
    _nonneg: _is_nonneg,
    _seat_index: _is_seat_index,
    _opt_nonneg: _is_opt_nonneg,
    _opt_ints: _is_opt_ints,
    _hash: _is_hash,
    _data: _exact_plain,
}

#: Per record class: (field, predicate) for every field, for the classes whose checkers
#: all have a predicate (``Moved`` and ``StateHash``, the records of every move, and the
#: seat events); the others (seat maps, ``Ended``) are rare and decoded again.
_PROOFS: dict[type, tuple[tuple[str, Callable[[Any], bool]], ...]] = {
    cls: tuple((name, _PROVEN[checker]) for name, checker, _required in schema)
    for cls, schema in _SCHEMAS.items()
    if all(checker in _PROVEN for _name, checker, _required in schema)
}


def proven_loadable(record: Record, data: Mapping[str, Any]) -> bool:
    """True if ``data`` (``record_to_data(record)``), once msgpack packed it, is proven
    to load back as it is without decoding it; False: the full proof must decide."""
    proof = _PROOFS.get(type(record))
    if proof is None:
        return False
    for name, holds in proof:  # a plain loop: this runs for every record of every move
        if not holds(data[name]):
            return False
    return True


def _reload(item: Header | Record, payload: bytes) -> dict[str, Any]:
    """The plain map of ``payload`` decoded as the loader decodes it."""
    if isinstance(item, Header):
        return header_to_data(header_from_data(unpack(payload)))
    return record_to_data(record_from_data(unpack(payload)))


def encode_checked(item: Header | Record) -> bytes:
    """The payload of ``item``, after proving it decodes back to the same data.

    Raises ``InvalidRecord`` (nothing is lost: the caller has not written anything yet).
    """
    try:
        if isinstance(item, Header):
            data = header_to_data(item)
            payload = pack(data)
        else:
            data = record_to_data(item)
            payload = pack(data)
            if proven_loadable(item, data):
                return payload
        again = _reload(item, payload)
    except (CorruptRecord, CorruptReplay) as exc:
        raise InvalidRecord(f"{type(item).__name__} would not load back: {exc}") from None
    except (TypeError, ValueError, OverflowError) as exc:  # msgpack cannot pack a value
        raise InvalidRecord(f"{type(item).__name__} cannot be encoded: {exc}") from None
    # Compared as plain data: a tuple written comes back as a list, which is the same data.
    if again != data:
        raise InvalidRecord(f"{type(item).__name__} does not load back equal: {again!r}")
    return payload
