"""Format versions: a newer reader passes older files through the upgraders."""

from __future__ import annotations

from typing import Any

import pytest

from gameserver.replays import codec, framing
from gameserver.replays.errors import UnsupportedVersion
from gameserver.replays.loader import load_match, parse_match
from gameserver.replays.records import FORMAT_VERSION, Left, Moved
from gameserver.replays.simulate import resimulate

from .conftest import SAMPLES


def test_this_code_writes_version_2_where_moves_name_their_request() -> None:
    assert FORMAT_VERSION == 2
    moved = Moved(at=1, seat=0, version=1, move={"cell": 4}, request_id=17)
    assert codec.record_to_data(moved)["request_id"] == 17


def test_a_version_1_move_map_reads_as_a_move_no_request_caused() -> None:
    v1 = {"t": "move", "at": 1, "seat": 0, "version": 1, "move": {"cell": 4}}
    assert codec.record_from_data(dict(v1), 1) == Moved(at=1, seat=0, version=1, move={"cell": 4})


def test_a_version_1_log_continued_by_this_version_keeps_the_new_request_ids() -> None:
    # Recovery across an upgrade appends version-2 records after a version-1 header.
    v2_record = {"t": "move", "at": 1, "seat": 0, "version": 1, "move": 0, "request_id": 9}
    assert codec.record_from_data(v2_record, 1) == Moved(
        at=1, seat=0, version=1, move=0, request_id=9
    )


def test_a_version_3_reader_upgrades_every_map_of_a_version_1_sample(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: list[str] = []

    def v2_to_v3(data: dict[str, Any]) -> dict[str, Any]:
        # Pretend version 3 renamed leave reasons: the upgrader rewrites old maps.
        seen.append(data["t"])
        if data["t"] == "leave" and data.get("reason") == "abandoned":
            return {**data, "reason": "gone for good"}
        return data

    monkeypatch.setattr(codec, "FORMAT_VERSION", 3)
    monkeypatch.setattr(codec, "_UPGRADES", {**codec._UPGRADES, 2: v2_to_v3})
    loaded = load_match(SAMPLES / "v1-tictactoe-takeover-resign.gsr")
    assert loaded.header.format_version == 1
    # Every map went through version 2 on its way to 3.
    assert seen[0] == "header" and len(seen) == 1 + len(loaded.records)
    left = [r for r in loaded.records if isinstance(r, Left)]
    assert [r.reason for r in left] == ["gone for good"]
    assert resimulate(loaded).outcome is not None


@pytest.mark.parametrize("version", [FORMAT_VERSION + 1, 99])
def test_files_from_a_newer_version_are_refused_with_a_clear_error(version: int) -> None:
    data = (SAMPLES / "v1-tictactoe-timeout.gsr").read_bytes()
    header = codec.header_to_data(parse_match(data).header) | {"v": version}
    newer = framing.MAGIC + framing.frame(codec.pack(header))
    with pytest.raises(
        UnsupportedVersion,
        match=f"format version {version} is newer than this server reads \\({FORMAT_VERSION}\\)",
    ):
        parse_match(newer)
