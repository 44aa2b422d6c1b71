"""The worked delta examples of docs/protocol.md section 19 are real: each hex dump is
the msgpack of the JSON beside it, a delta the codec decodes."""

from __future__ import annotations

import json
import re
from pathlib import Path

import msgpack

from gameserver.protocol.codec import decode_delta, is_delta

DOC = (Path(__file__).resolve().parents[2] / "docs" / "protocol.md").read_text()
SECTION = DOC[DOC.index("## 19. Deltas (protocol version 2)") :]


def examples() -> list[tuple[bytes, object]]:
    """Each indented hex dump with the indented JSON block that follows it."""
    blocks = re.findall(r"((?:\n    [0-9a-f]{2}(?: [0-9a-f]{2})*)+)\n\n((?:    .*\n)+)", SECTION)
    return [
        (bytes.fromhex(" ".join(dump.split())), json.loads(" ".join(text.split())))
        for dump, text in blocks
    ]


def test_every_hex_dump_is_the_json_shown_beside_it() -> None:
    found = examples()
    assert len(found) == 3
    for data, shown in found:
        assert is_delta(data)
        assert msgpack.unpackb(data) == shown
        decoded = decode_delta(data)
        assert [decoded.room_id, decoded.base, decoded.version, decoded.cause, decoded.ops] == shown[:5]
