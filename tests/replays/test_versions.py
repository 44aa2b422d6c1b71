"""Format versions: a newer reader passes older files through the upgraders."""

from __future__ import annotations

from typing import Any

import pytest

from gameserver.replays import codec, framing
from gameserver.replays.errors import UnsupportedVersion
from gameserver.replays.loader import load_match, parse_match
from gameserver.replays.records import Left
from gameserver.replays.simulate import resimulate

from .conftest import SAMPLES


def test_a_version_2_reader_upgrades_every_map_of_a_version_1_sample(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: list[str] = []

    def v1_to_v2(data: dict[str, Any]) -> dict[str, Any]:
        # Pretend version 2 renamed leave reasons: the upgrader rewrites old maps.
        seen.append(data["t"])
        if data["t"] == "leave" and data.get("reason") == "abandoned":
            return {**data, "reason": "gone for good"}
        return data

    monkeypatch.setattr(codec, "FORMAT_VERSION", 2)
    monkeypatch.setattr(codec, "_UPGRADES", {1: v1_to_v2})
    loaded = load_match(SAMPLES / "v1-tictactoe-takeover-resign.gsr")
    assert loaded.header.format_version == 1
    assert seen[0] == "header" and len(seen) == 1 + len(loaded.records)
    left = [r for r in loaded.records if isinstance(r, Left)]
    assert [r.reason for r in left] == ["gone for good"]
    assert resimulate(loaded).outcome is not None


def test_files_from_a_newer_version_are_refused_with_a_clear_error() -> None:
    data = (SAMPLES / "v1-tictactoe-timeout.gsr").read_bytes()
    header = codec.header_to_data(parse_match(data).header) | {"v": 99}
    newer = framing.MAGIC + framing.frame(codec.pack(header))
    with pytest.raises(UnsupportedVersion, match="format version 99 is newer"):
        parse_match(newer)
