"""The browser's delta apply (client_web/js/delta.js) against the server's
(gameserver/protocol/delta.py): on many generated (base, new) pairs, the ops of
``delta.diff`` applied in the page give exactly the document Python gives, and ops that
do not fit are refused on both sides. Everything crosses as msgpack, as on the wire.
And the page's documents (client_web/js/documents.js) follow the apply rule."""

from __future__ import annotations

import base64
import random
from collections.abc import Callable
from typing import Any

import msgpack
from playwright.sync_api import Page

from gameserver.protocol import delta
from tests.protocol.test_delta import strictly_equal

from .ui import RunningServer

# Keys whose code-point order differs from a case-insensitive or length-first order.
KEYS = ["a", "b", "B", "_", "Z", "a1", "aa", "ab", "b0", "cell", "you", "9"]
PAIRS = 1500

APPLY_IN_PAGE = """async (cases) => {
  const { applyOps, DeltaError } = await import("/js/delta.js");
  const { encode, decode } = await import("/vendor/msgpack/index.mjs");
  const bytes = (text) => Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
  const text = (data) => btoa(Array.from(data, (b) => String.fromCharCode(b)).join(""));
  return cases.map(([base, ops]) => {
    const document = decode(bytes(base));
    const before = JSON.stringify(document);
    try {
      const result = applyOps(document, decode(bytes(ops)));
      if (JSON.stringify(document) !== before) return { error: "the base document changed" };
      return { result: text(encode(result)) };
    } catch (err) {
      return { error: err instanceof DeltaError ? "DeltaError" : String(err) };
    }
  });
}"""


def scalar(rng: random.Random) -> Any:
    kind = rng.randrange(6)
    if kind == 0:
        return None
    if kind == 1:
        return rng.random() < 0.5
    if kind == 2:
        return rng.randrange(-(2**40), 2**40)
    if kind == 3:
        # Not integral: JavaScript has one number type, so 2.0 comes back as 2.
        return rng.randrange(-1000, 1000) + 0.5
    if kind == 4:
        return rng.choice(["", "x", "é", "ñandú", "🎲", "o"])
    return rng.randrange(7)


def plain(rng: random.Random, depth: int = 0) -> Any:
    roll = rng.random()
    if depth >= 4 or roll < 0.4:
        return scalar(rng)
    if roll < 0.7:
        return [plain(rng, depth + 1) for _ in range(rng.randrange(6))]
    return {key: plain(rng, depth + 1) for key in rng.sample(KEYS, rng.randrange(5))}


def changed(rng: random.Random, value: Any, depth: int = 0) -> Any:
    """``value`` with a few random edits, as one version of a view follows another."""
    roll = rng.random()
    if roll < 0.1 or depth > 5:
        return plain(rng, depth)
    if isinstance(value, list):
        items = [changed(rng, v, depth + 1) if rng.random() < 0.3 else v for v in value]
        edit = rng.randrange(5)
        if edit == 0:
            items += [plain(rng, depth + 1) for _ in range(rng.randrange(1, 4))]
        elif edit == 1 and items:
            items = items[rng.randrange(len(items)):]
        elif edit == 2 and items:
            items = items[: rng.randrange(len(items))]
        return items
    if isinstance(value, dict):
        if rng.random() < 0.15:
            key = rng.choice(KEYS)
            return {k: v for k, v in value.items() if k != key} | {key: plain(rng, depth + 1)}
        return {k: changed(rng, v, depth + 1) if rng.random() < 0.5 else v for k, v in value.items()}
    return scalar(rng) if roll < 0.6 else value


def document(rng: random.Random) -> dict[str, Any]:
    return {key: plain(rng) for key in delta.DOCUMENT_KEYS}


def bad_ops(rng: random.Random, base: dict[str, Any], ops: list[Any]) -> list[Any]:
    """``ops`` with one op broken in some way (most of them do not fit)."""
    op = list(rng.choice(ops)) if ops else [rng.randrange(6), 1]
    spoil = rng.randrange(8)
    if spoil == 0:
        op.insert(rng.randrange(len(op)), rng.randrange(50))
    elif spoil == 1:
        op[:-1] = [*op[:-1], rng.choice([-1, -2, -3, -4])]
    elif spoil == 2:
        op[-1] = rng.choice([-1, 99, "2", None, True, 1.5])
    elif spoil == 3:
        op = op[:1]
    elif spoil == 4:
        op[0] = rng.choice([-1, 6, "0", True])
    elif spoil == 5:
        op = rng.choice([{}, 5, "op", []])
    elif spoil == 6:
        op = [*op[:-1], rng.randrange(10), op[-1]]
    else:
        return rng.choice([{"0": 1}, 3])  # ops that are not an array
    return [*ops, op]


def cases(rng: random.Random) -> list[tuple[dict[str, Any], list[Any]]]:
    pairs = []
    for number in range(PAIRS):
        base = document(rng)
        if number % 5 == 4:
            new = document(rng)
        else:
            new = {key: changed(rng, value) for key, value in base.items()}
        ops = delta.diff(base, new)
        if number % 3 == 2:
            ops = bad_ops(rng, base, ops)
        pairs.append((base, ops))
    return pairs


def packed(value: Any) -> str:
    return base64.b64encode(msgpack.packb(value, use_bin_type=True)).decode()


def python_apply(base: dict[str, Any], ops: Any) -> dict[str, Any] | str:
    try:
        return delta.apply(base, ops)
    except delta.DeltaError:
        return "DeltaError"


def test_the_page_applies_ops_exactly_as_the_server_module(
    server: RunningServer, new_page: Callable[[], Page]
) -> None:
    page = new_page()
    page.goto(server.url + "/")
    pairs = cases(random.Random(20))
    answers = page.evaluate(APPLY_IN_PAGE, [[packed(base), packed(ops)] for base, ops in pairs])
    refused = 0
    for (base, ops), answer in zip(pairs, answers, strict=True):
        expected = python_apply(base, ops)
        if expected == "DeltaError":
            refused += 1
            assert answer == {"error": "DeltaError"}, (base, ops)
            continue
        assert "result" in answer, (base, ops, answer)
        got = msgpack.unpackb(base64.b64decode(answer["result"]), raw=False)
        assert strictly_equal(got, expected), (base, ops)
    # Both kinds were exercised in earnest.
    assert PAIRS // 5 < refused < PAIRS // 2


ROOM_DOCUMENTS_IN_PAGE = """async () => {
  const { RoomDocuments } = await import("/js/documents.js");
  const documents = new RoomDocuments();
  const state = {
    type: "state", room_id: "r", match: 2, version: 4, seat: 1, view: { bids: [[1, 2]] },
    to_act: [1], legal_moves: [{ call: true }], seats: [], clock: null, outcome: null,
  };
  documents.hold(state);
  const steps = [];
  // seat 1 bids; seat 0 is to act: seat 1's list is kept but not shown
  steps.push(documents.apply(["r", 4, 5, [1, {}], [[4, 0, 0], [5, 0, -1, [[2, 3]]]], 77]));
  steps.push(documents.apply(["r", 4, 5, [1, {}], [[4, 0, 0]], 77])); // the resent move's answer
  steps.push(documents.apply(["r", 6, 7, null, []])); // a version was missed
  steps.push(documents.apply(["r", 7, 8, null, []])); // ignored until a full state
  documents.hold({ ...state, version: 8 });
  steps.push(documents.apply(["r", 8, 8, null, [[1, -3, 0]]])); // its list emptied
  return steps;
}"""


def test_the_page_keeps_one_document_per_room_as_the_protocol_says(
    server: RunningServer, new_page: Callable[[], Page]
) -> None:
    page = new_page()
    page.goto(server.url + "/")
    applied, resent, missed, waiting, emptied = page.evaluate(ROOM_DOCUMENTS_IN_PAGE)
    assert applied["state"]["version"] == 5 and applied["state"]["to_act"] == [0]
    assert applied["state"]["view"] == {"bids": [[1, 2], [2, 3]]}
    assert applied["state"]["legal_moves"] is None
    assert resent == {}
    assert missed == {"sync": "r"}
    assert waiting == {}
    assert emptied["state"]["legal_moves"] == [] and emptied["state"]["match"] == 2
