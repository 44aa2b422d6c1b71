"""Hypothesis strategies for protocol messages and for arbitrary msgpack data."""

from __future__ import annotations

import enum
import types
import typing
from collections.abc import Mapping
from typing import Any

import attrs
import msgpack
from hypothesis import strategies as st

MAX_SAFE_INTEGER = 2**53 - 1

# Free-form data as games use it: str keys, ints, strs, bools, None, lists, maps.
plain_scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**64 - 1)
    | st.text(max_size=10)
    | st.floats(allow_nan=False)
    | st.binary(max_size=10)
)
plain_data = st.recursive(
    plain_scalars,
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=6), children, max_size=4),
    max_leaves=12,
)
plain_maps = st.dictionaries(st.text(max_size=6), plain_data, max_size=4)

# Anything msgpack can carry, including what the protocol refuses.
any_key = st.none() | st.booleans() | st.integers(-5, 5) | st.text(max_size=5) | st.binary(max_size=5)
any_msgpack = st.recursive(
    plain_scalars | st.builds(msgpack.ExtType, st.integers(0, 127), st.binary(max_size=5)),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(any_key, children, max_size=4),
    max_leaves=20,
)


def for_hint(hint: Any, *, signed: bool) -> st.SearchStrategy[Any]:
    """A strategy for values of a protocol field annotated with ``hint``."""
    if hint is Any:
        return plain_data
    origin = typing.get_origin(hint)
    if origin is types.UnionType or origin is typing.Union:
        args = [arg for arg in typing.get_args(hint) if arg is not type(None)]
        choices = [for_hint(arg, signed=signed) for arg in args]
        if type(None) in typing.get_args(hint):
            choices.append(st.none())
        return st.one_of(*choices)
    if hint is bool:
        return st.booleans()
    if hint is int:
        low = -MAX_SAFE_INTEGER if signed else 0
        return st.integers(low, MAX_SAFE_INTEGER)
    if hint is str:
        return st.text(max_size=12)
    if hint is float:
        return st.floats(allow_nan=False, allow_infinity=False)
    if origin is tuple:
        return st.lists(for_hint(typing.get_args(hint)[0], signed=signed), max_size=3).map(tuple)
    if origin is Mapping or origin is dict:
        return plain_maps
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return st.sampled_from(list(hint))
    if isinstance(hint, type) and attrs.has(hint):
        return records(hint, signed=signed)
    raise AssertionError(hint)


def records(cls: type[Any], *, signed: bool) -> st.SearchStrategy[Any]:
    """A strategy building ``cls`` (an attrs protocol class) with valid field values."""
    hints = typing.get_type_hints(cls)
    fields = {
        field.name: for_hint(hints[field.name], signed=signed) for field in attrs.fields(cls)
    }
    return st.builds(cls, **fields)
