"""State deltas of protocol version 2: a generic diff of plain data, and its inverse.

A participant that holds a full ``state`` of a room keeps it as a *document*: one map
with the keys ``clock``, ``legal``, ``outcome``, ``seats``, ``to_act`` and ``view``
(:func:`document_of`). Every later version reaches it as a list of *ops* that turn the
document it holds into the new one (:func:`diff` on the server, :func:`apply` on the
client). Nothing here knows a game: views are plain msgpack data, so every game gets
deltas without writing an encoder (docs/protocol.md, "Deltas").

An op is an array: a *path* of non-negative integers, then one value.

* A step into an array is the element's index.
* A step into a map is the index of the key among the map's keys sorted by code point
  (``sorted(keys)`` in Python; every key a view uses is ASCII). Ops never change a
  map's key set in place: a map whose keys change is replaced whole.
* ``[p1, ..., pk, value]`` with ``k >= 1``: replace the element at the path by ``value``.
* ``[p1, ..., pk, -1, items]``: append ``items`` to the array at the path.
* ``[p1, ..., pk, -2, n]``: remove the first ``n`` elements of the array at the path.
* ``[p1, ..., pk, -3, n]``: keep only the first ``n`` elements of the array at the path.

Ops apply in order, each to the result of the previous. Values compare strictly: ``1``,
``1.0`` and ``true`` are different values, so a changed type is always sent.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import msgpack

__all__ = [
    "APPEND",
    "ATOMIC_KEYS",
    "DOCUMENT_KEYS",
    "DROP_FRONT",
    "DeltaError",
    "KEEP_FRONT",
    "Memo",
    "Op",
    "apply",
    "diff",
    "document_of",
    "legal_moves_of",
]

#: Step that appends the op's items to the array at the path.
APPEND = -1
#: Step that removes the op's count of elements from the front of the array at the path.
DROP_FRONT = -2
#: Step that keeps only the op's count of elements at the front of the array at the path.
KEEP_FRONT = -3

#: The keys of a document, in the sorted order that paths number them (0-5).
DOCUMENT_KEYS: tuple[str, ...] = ("clock", "legal", "outcome", "seats", "to_act", "view")
#: Document keys whose value is replaced whole when anything in it changed: a clock's
#: values are only true together, at the moment they were read.
ATOMIC_KEYS: frozenset[str] = frozenset({"clock"})

#: One op, as sent on the wire (see the module docstring).
Op = list[Any]

#: The diffs already made of pairs of parts, by the parts' identities (each kept with
#: its pair, so that the identities stay theirs): documents whose views share parts by
#: reference (a game's view may return the same objects to every seat) diff each
#: shared pair once. Good only while no part in it is changed in place.
Memo = dict[tuple[int, int], tuple[Any, Any, list[Op]]]


class DeltaError(ValueError):
    """Ops that do not fit the document they were applied to: ask for a full state."""


def document_of(
    *, view: Any, to_act: Sequence[int], legal: Sequence[Any] | None, seats: Sequence[Any],
    clock: Any, outcome: Any, held_legal: Sequence[Any] = (),
) -> dict[str, Any]:
    """The document of one participant's state, in plain data (as msgpack decodes it).

    ``legal`` is the participant's legal moves when it may act (None otherwise);
    ``held_legal`` is the ``legal`` of the document it held before: a seat keeps its last
    list while it may not act, so the list is sent again only when it really changed.
    """
    return {
        "clock": clock,
        "legal": list(held_legal) if legal is None else list(legal),
        "outcome": outcome,
        "seats": list(seats),
        "to_act": list(to_act),
        "view": view,
    }


def legal_moves_of(document: Mapping[str, Any], seat: int | None) -> list[Any] | None:
    """The ``legal_moves`` a full ``state`` shows for ``seat``: the document's list while
    the seat may act, else None (always None for a spectator)."""
    if seat is None or seat not in document["to_act"]:
        return None
    return list(document["legal"])


def diff(
    base: Mapping[str, Any], new: Mapping[str, Any], memo: Memo | None = None
) -> list[Op]:
    """The ops that turn document ``base`` into document ``new`` (empty when equal).

    Both must have exactly :data:`DOCUMENT_KEYS`; the values of ``ATOMIC_KEYS`` are
    replaced whole. ``memo``: one dict for the diffs of documents that may share parts,
    e.g. every member's of one push (filled in here); the ops are the same without it.
    """
    ops: list[Op] = []
    for index, key in enumerate(DOCUMENT_KEYS):
        old_value, new_value = base[key], new[key]
        if old_value is new_value:  # a part both documents share (seats, often clock)
            continue
        if key in ATOMIC_KEYS:
            if not _same(old_value, new_value):
                ops.append([index, _plain(new_value)])
        elif memo is None or key == "legal":  # a seat's own list: nothing to share
            _diff_value(old_value, new_value, [index], ops)
        elif key == "view":
            _diff_view(old_value, new_value, [index], ops, memo)
        else:
            _diff_remembered(old_value, new_value, [index], ops, memo)
    return ops


def _diff_view(old: Any, new: Any, path: list[int], ops: list[Op], memo: Memo) -> None:
    """``_diff_value`` of two views, each value of a map view looked up in ``memo`` by
    identity (whole views differ by seat; their values are what seats may share)."""
    if type(old) is not dict or type(new) is not dict or old.keys() != new.keys():
        _diff_value(old, new, path, ops)
        return
    if not set(map(type, old)) <= {str}:
        _diff_value(old, new, path, ops)
        return
    _diff_map(old, new, path, ops, functools.partial(_diff_remembered, memo=memo))


def _diff_remembered(old: Any, new: Any, path: list[int], ops: list[Op], memo: Memo) -> None:
    """``_diff_value`` of a pair of parts, made once per pair of objects (``memo``)."""
    pair = (id(old), id(new))
    known = memo.get(pair)
    if known is None:
        relative: list[Op] = []
        _diff_value(old, new, [], relative)
        known = memo[pair] = (old, new, relative)
    ops.extend([*path, *op] for op in known[2])


def _diff_value(old: Any, new: Any, path: list[int], ops: list[Op]) -> None:
    if old is new:
        return
    kind = type(old)
    if kind is type(new) and kind in _SCALARS:
        if old != new:
            ops.append([*path, new])
        return
    # An unchanged part, found without walking it; parts unequal in value are not
    # strictly equal either, so only equal ones need the strict check.
    if old == new and _same(old, new):
        return
    if _is_map(old) and _is_map(new):
        if old.keys() == new.keys() and set(map(type, old)) <= {str}:
            _diff_map(old, new, path, ops)
            return
    elif _is_array(old) and _is_array(new):
        _diff_array(old, new, path, ops)
        return
    ops.append([*path, _plain(new)])


def _diff_map(
    old: Mapping[str, Any], new: Mapping[str, Any], path: list[int], ops: list[Op],
    child: Callable[[Any, Any, list[int], list[Op]], None] = _diff_value,
) -> None:
    """Maps with the same keys: each changed value by its key's sorted index (scalars
    inline, the common case of a view; other values through ``child``)."""
    for index, key in enumerate(sorted(old)):
        a, b = old[key], new[key]
        if a is b:
            continue
        kind = type(a)
        if kind is type(b) and kind in _SCALARS:
            if a != b:
                ops.append([*path, index, b])
            continue
        child(a, b, [*path, index], ops)


def _diff_array(old: Sequence[Any], new: Sequence[Any], path: list[int], ops: list[Op]) -> None:
    n_old, n_new = len(old), len(new)
    if n_old == n_new:
        changed = _changed_indices(old, new)
        # Many changed elements cost more as paths than as one array.
        if len(changed) * 2 > n_new and n_new > 1:
            ops.append([*path, _plain(new)])
            return
        for i in changed:
            _diff_value(old[i], new[i], [*path, i], ops)
        return
    if n_new > n_old and _same_run(old, new, 0, 0, n_old):
        ops.append([*path, APPEND, _plain(new[n_old:])])
    elif n_new < n_old and _same_run(old, new, 0, 0, n_new):
        ops.append([*path, KEEP_FRONT, n_new])
    elif n_new < n_old and _same_run(old, new, n_old - n_new, 0, n_new):
        ops.append([*path, DROP_FRONT, n_old - n_new])
    else:
        ops.append([*path, _plain(new)])


def _changed_indices(old: Sequence[Any], new: Sequence[Any]) -> list[int]:
    """The indices of two arrays of one length whose elements differ strictly (not
    ``_same``), in order.

    Elements unequal in value differ strictly too, and value comparison runs at C
    speed; only the value-equal rest needs the strict check, done for all of them at
    once by one msgpack comparison (element by element only when that fails).
    """
    changed: list[int] = []
    equal: list[int] = []
    for i, (a, b) in enumerate(zip(old, new)):
        if a is b:
            continue
        kind = type(a)
        if kind is type(b) and kind in _SCALARS:
            if a != b:
                changed.append(i)
        elif a != b:
            changed.append(i)
        else:
            equal.append(i)
    if equal and not _same([old[i] for i in equal], [new[i] for i in equal]):
        changed += [i for i in equal if not _same(old[i], new[i])]
        changed.sort()
    return changed


def _same_run(old: Sequence[Any], new: Sequence[Any], at_old: int, at_new: int, n: int) -> bool:
    return _same(old[at_old : at_old + n], new[at_new : at_new + n])


_ARRAYS = (list, tuple)
# Types compared by value at once (the common leaves of a view).
_SCALARS = frozenset({str, int, bool, float, type(None), bytes})


def _is_array(value: Any) -> bool:
    kind = type(value)
    if kind is list or kind is tuple:
        return True
    # Plain maps and scalars are no arrays; only other types need the generic check.
    return kind is not dict and kind not in _SCALARS and isinstance(value, _ARRAYS)


def _is_map(value: Any) -> bool:
    kind = type(value)
    if kind is dict:
        return True
    return kind is not list and kind not in _SCALARS and isinstance(value, Mapping)


def _same(a: Any, b: Any) -> bool:
    """Strict equality of plain data: the same types (lists and tuples alike) and values.

    Containers compare by value first, then by their msgpack encodings, which tell
    ``1``, ``1.0`` and ``true`` apart (both at C speed). Two equal maps whose keys were
    made in another order count as different: the diff then sends more, never wrong.
    """
    if a is b:
        return True
    kind = type(a)
    if kind is type(b) and kind in _SCALARS:
        return bool(a == b)
    if _is_array(a):
        if not _is_array(b) or len(a) != len(b):
            return False
    elif kind is not type(b):
        return False
    if a != b:
        return False
    try:
        return bool(msgpack.packb(a) == msgpack.packb(b))
    except (TypeError, ValueError, OverflowError):
        return _same_walk(a, b)


def _same_walk(a: Any, b: Any) -> bool:
    """``_same`` for data msgpack cannot encode, element by element."""
    if _is_array(a):
        return _is_array(b) and len(a) == len(b) and all(map(_same, a, b))
    if _is_map(a) and _is_map(b):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    return type(a) is type(b) and bool(a == b)


def _plain(value: Any) -> Any:
    """``value`` as the decoder on the other side will see it (tuples become lists)."""
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    return value


def apply(document: Mapping[str, Any], ops: Sequence[Any]) -> dict[str, Any]:
    """Return the document ``ops`` turn ``document`` into; ``document`` is not changed.

    Only the containers along each op's path are copied, so earlier results may be kept.
    Raises :class:`DeltaError` when an op does not fit: the caller must drop what it
    holds and ask for a full state.
    """
    result = dict(document)
    if not isinstance(ops, (list, tuple)):
        raise DeltaError("ops must be an array")
    for op in ops:
        _apply_op(result, op)
    return result


def _apply_op(root: dict[str, Any], op: Any) -> None:
    if not isinstance(op, (list, tuple)) or len(op) < 2:
        raise DeltaError(f"an op is an array of a path and a value, not {op!r}")
    *path, value = op
    kind = 0
    if len(path) >= 2 and isinstance(path[-1], int) and path[-1] < 0:
        kind = path.pop()
    parent: Any = root
    for depth, step in enumerate(path):
        last = depth == len(path) - 1
        if last and kind == 0:
            _set_child(parent, step, value)
            return
        parent = _copy_child(parent, step)
    _change_array(parent, kind, value)


def _key_at(container: Any, step: Any) -> Any:
    if not isinstance(step, int) or isinstance(step, bool) or step < 0:
        raise DeltaError(f"a path step must be a non-negative integer, not {step!r}")
    if isinstance(container, dict):
        keys = sorted(container)
        if step >= len(keys):
            raise DeltaError(f"no key number {step} in a map of {len(keys)}")
        return keys[step]
    if isinstance(container, list):
        if step >= len(container):
            raise DeltaError(f"no element {step} in an array of {len(container)}")
        return step
    raise DeltaError("a path goes through a value that is neither a map nor an array")


def _set_child(container: Any, step: Any, value: Any) -> None:
    container[_key_at(container, step)] = value


def _copy_child(container: Any, step: Any) -> Any:
    """Replace the child at ``step`` by a shallow copy (so the caller's document stays
    as it was) and return the copy."""
    key = _key_at(container, step)
    child = container[key]
    if isinstance(child, Mapping):
        child = dict(child)
    elif _is_array(child):
        child = list(child)
    else:
        raise DeltaError("a path goes through a value that is neither a map nor an array")
    container[key] = child
    return child


def _change_array(array: Any, kind: int, value: Any) -> None:
    if not isinstance(array, list):
        raise DeltaError("an array op names a value that is not an array")
    if kind == APPEND:
        if not isinstance(value, (list, tuple)):
            raise DeltaError("an append op carries an array of items")
        array.extend(value)
        return
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= len(array):
        raise DeltaError(f"an array op's count must be 0-{len(array)}, not {value!r}")
    if kind == DROP_FRONT:
        del array[:value]
    elif kind == KEEP_FRONT:
        del array[value:]
    else:
        raise DeltaError(f"unknown array op {kind}")
