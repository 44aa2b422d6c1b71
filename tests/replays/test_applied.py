"""``applied_requests``: the move requests a log says were applied, by player and id."""

from __future__ import annotations

from pathlib import Path

import attrs

from gameserver.replays.applied import applied_requests
from gameserver.replays.loader import load_match
from gameserver.replays.records import Header, Joined, Moved, Occupant, OccupantKind, Record
from gameserver.rooms.recording_match import RecordingMatch, bot_header

from .conftest import SAMPLES

HEADER = Header(
    match_id="m",
    room_id="r",
    game="tictactoe",
    seed=1,
    seats=(Occupant(name="ann", player_id="p-ann"), Occupant(name="bob", player_id="p-bob")),
    server_version="0",
    started_at=0,
)


def moved(seat: int, version: int, request_id: int | None) -> Moved:
    return Moved(at=version, seat=seat, version=version, move=0, request_id=request_id)


def test_each_request_maps_its_seats_player_and_id_to_the_version_after_it() -> None:
    log = [moved(0, 1, 10), moved(1, 2, 10), moved(0, 3, 11)]
    assert applied_requests(HEADER, log, window=256) == {
        ("p-ann", 10): 1,
        ("p-bob", 10): 2,
        ("p-ann", 11): 3,
    }


def test_moves_no_request_made_and_seats_without_a_player_are_left_out() -> None:
    header = attrs.evolve(
        HEADER, seats=(Occupant(name="ann", player_id="p-ann"), Occupant(name="old", player_id=None))
    )
    log = [moved(0, 1, None), moved(1, 2, 5), moved(0, 3, 6), moved(7, 4, 8)]
    assert applied_requests(header, log, window=256) == {("p-ann", 6): 3}


def test_only_the_last_window_requests_are_kept_oldest_first() -> None:
    log = [moved(index % 2, index, 100 + index) for index in range(1, 11)]
    applied = applied_requests(HEADER, log, window=3)
    assert list(applied.items()) == [
        (("p-ann", 108), 8),
        (("p-bob", 109), 9),
        (("p-ann", 110), 10),
    ]
    assert applied_requests(HEADER, log, window=0) == {}


def test_a_reused_id_counts_once_with_its_latest_move_and_as_the_newest() -> None:
    log = [moved(0, 1, 7), moved(1, 2, 1), moved(0, 3, 7)]
    applied = applied_requests(HEADER, log, window=2)
    assert list(applied.items()) == [(("p-bob", 1), 2), (("p-ann", 7), 3)]


def test_a_bot_taking_a_seat_over_leaves_it_its_player_and_a_new_player_replaces_it() -> None:
    log: list[Record] = [
        moved(1, 1, 20),
        Joined(at=2, seat=1, occupant=Occupant(name="sub", kind=OccupantKind.BOT, strategy="best")),
        moved(1, 2, None),  # the stand-in's move
        moved(1, 3, 21),  # bob came back and moved himself
        Joined(at=4, seat=0, occupant=Occupant(name="cy", player_id="p-cy")),
        moved(0, 4, 30),
    ]
    assert applied_requests(HEADER, log, window=256) == {
        ("p-bob", 20): 1,
        ("p-bob", 21): 3,
        ("p-cy", 30): 4,
    }


def test_a_log_on_disk_rebuilds_the_requests_and_an_old_log_names_none(tmp_path: Path) -> None:
    header = bot_header("tictactoe", ["random", "random"], seed=3, match_id="ids")
    header = attrs.evolve(header, seats=HEADER.seats)
    match = RecordingMatch(tmp_path, header)
    match.move(0, {"cell": 4}, request_id=1_700_000_000_001)
    match.move(1, {"cell": 0}, request_id=1_700_000_000_500)
    match.recorder.close()
    loaded = load_match(match.recorder.path)
    assert applied_requests(loaded.header, loaded.records, window=256) == {
        ("p-ann", 1_700_000_000_001): 1,
        ("p-bob", 1_700_000_000_500): 2,
    }
    old = load_match(SAMPLES / "v1-tictactoe-takeover-resign.gsr")
    assert {seat.player_id for seat in old.header.seats} == {"p-ann", "p-bob"}
    assert applied_requests(old.header, old.records, window=256) == {}
