"""The generic delta format (gameserver/protocol/delta.py): diff and apply are inverses
on any plain data, over msgpack, and bad ops are refused with DeltaError."""

from __future__ import annotations

from typing import Any

import msgpack
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gameserver.protocol.delta import (
    APPEND,
    DOCUMENT_KEYS,
    DROP_FRONT,
    KEEP_FRONT,
    DeltaError,
    Memo,
    apply,
    diff,
    document_of,
    legal_moves_of,
)

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**40), 2**40), st.floats(allow_nan=False),
    st.text(max_size=4),
)
plain = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=6),
        st.dictionaries(st.text("abcdef", min_size=1, max_size=3), inner, max_size=5),
    ),
    max_leaves=30,
)
documents = st.fixed_dictionaries({key: plain for key in DOCUMENT_KEYS})


def strictly_equal(a: Any, b: Any) -> bool:
    """Equal with types: msgpack keeps 1, 1.0 and True apart, so must deltas."""
    if isinstance(a, (list, tuple)) or isinstance(b, (list, tuple)):
        return (
            isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)) and len(a) == len(b)
            and all(strictly_equal(x, y) for x, y in zip(a, b))
        )
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(strictly_equal(a[k], b[k]) for k in a)
    return bool(a == b)


def over_the_wire(value: Any) -> Any:
    return msgpack.unpackb(msgpack.packb(value), raw=False, strict_map_key=False)


@settings(max_examples=400)
@given(documents, documents)
def test_applying_the_diff_gives_the_new_document_and_leaves_the_old_alone(
    base: dict[str, Any], new: dict[str, Any]
) -> None:
    before = over_the_wire(base)
    ops = over_the_wire(diff(base, new))
    result = apply(base, ops)
    assert strictly_equal(result, new)
    assert strictly_equal(base, before)


@settings(max_examples=200)
@given(documents, documents, st.lists(st.text("abcdef", min_size=1, max_size=3), max_size=3))
def test_documents_sharing_view_parts_get_the_same_ops_with_one_memo(
    base: dict[str, Any], new: dict[str, Any], own: list[str]
) -> None:
    # Two seats whose views share every part but their own keys (as a push's seats do):
    # the second diff takes the shared parts' ops from the memo, and no op changes.
    def seat(document: dict[str, Any], number: int) -> dict[str, Any]:
        view = document["view"]
        if isinstance(view, dict):
            view = {**view, **{key: [number, key] for key in own}}
        return {**document, "view": view}

    memo: Memo = {}
    for number in (0, 1):
        held, fresh = seat(base, number), seat(new, number)
        assert diff(held, fresh, memo) == diff(held, fresh)
    if isinstance(base["view"], dict) and isinstance(new["view"], dict):
        shared = [
            key for key in base["view"].keys() & new["view"].keys()
            if key not in own and isinstance(base["view"][key], (list, dict))
            and base["view"][key] is not new["view"][key]
            and base["view"].keys() == new["view"].keys()
        ]
        assert len(memo) >= len(shared)


@settings(max_examples=200)
@given(documents)
def test_an_unchanged_document_gives_no_ops(document: dict[str, Any]) -> None:
    assert diff(document, over_the_wire(document)) == []


@given(st.lists(st.integers(0, 9), max_size=8), st.lists(st.integers(0, 9), max_size=8))
def test_array_changes_at_either_end_are_sent_as_counts_or_items(
    head: list[int], tail: list[int]
) -> None:
    base = document_of(view={"bids": head + tail}, to_act=[], legal=None, seats=[], clock=None,
                       outcome=None)
    grown = dict(base, view={"bids": head + tail + [7]})
    cut = dict(base, view={"bids": tail})
    assert diff(base, grown) == [[5, 0, APPEND, [7]]]
    if head:
        # Cutting from the front is one count, whatever the kept part holds.
        assert diff(base, cut) in (
            [[5, 0, DROP_FRONT, len(head)]], [[5, 0, KEEP_FRONT, len(tail)]], [[5, 0, tail]]
        )
    assert strictly_equal(apply(base, diff(base, cut)), cut)


def test_a_connect_four_move_is_a_few_small_ops() -> None:
    board = [[None] * 7 for _ in range(6)]
    before = document_of(view={"board": board, "you": 0, "turn": 0, "last": None, "line": None},
                         to_act=[0], legal=[{"column": c} for c in range(7)], seats=["a", "b"],
                         clock=None, outcome=None)
    after_board = [row[:] for row in board]
    after_board[5][3] = 0
    after = document_of(view={"board": after_board, "you": 0, "turn": 1, "last": [5, 3],
                              "line": None},
                        to_act=[1], legal=None, seats=["a", "b"], clock=None, outcome=None,
                        held_legal=before["legal"])
    ops = diff(before, after)
    # view is key 5; board, last, turn are its keys 0, 1, 3 (sorted: board last line turn you)
    assert ops == [[4, 0, 1], [5, 0, 5, 3, 0], [5, 1, [5, 3]], [5, 3, 1]]
    assert len(msgpack.packb(ops)) < 25
    assert legal_moves_of(apply(before, ops), 0) is None
    # Seat 0 keeps its list while it waits, so its next turn needs no legal moves sent.
    assert apply(before, ops)["legal"] == before["legal"]


def test_the_clock_is_replaced_whole() -> None:
    clock = {"banks_ms": [1000, 900], "move_ms": None, "running": [0]}
    base = document_of(view=None, to_act=[0], legal=None, seats=[], clock=clock, outcome=None)
    new = dict(base, clock=dict(clock, banks_ms=[800, 900]))
    assert diff(base, new) == [[0, new["clock"]]]


def test_values_of_another_type_are_sent() -> None:
    base = document_of(view={"x": 1}, to_act=[], legal=None, seats=[], clock=None, outcome=None)
    for other in (True, 1.0, "1", [1]):
        new = dict(base, view={"x": other})
        assert diff(base, new) == [[5, 0, other]]


@pytest.mark.parametrize(
    "ops",
    [
        "nope",
        [[9, 1]],  # no such document key
        [[5, 7, 1]],  # no such key in the view
        [[5]],  # no value
        [[5, 0, 0, 1]],  # a path through a number
        [[4, APPEND, 3]],  # append needs an array of items
        [[4, DROP_FRONT, 9]],  # more than there are
        [[4, -7, 1]],  # no such array op
        [[-1, 1]],  # a negative step where a key is due
        [[5, True, 1]],  # a boolean is not a step
    ],
)
def test_ops_that_do_not_fit_raise_delta_error(ops: Any) -> None:
    base = document_of(view={"x": 1}, to_act=[0], legal=None, seats=[], clock=None, outcome=None)
    with pytest.raises(DeltaError):
        apply(base, ops)
