"""The lobby: listing, live updates, quick match and room creation checks."""

from __future__ import annotations

import pytest

from gameserver.protocol.errors import ErrorCode, RequestError
from gameserver.protocol.messages import (
    BotSeat,
    ClockSettings,
    CreateRoom,
    JoinRoom,
    LobbyUpdate,
    QuickMatch,
    RoomStatus,
)

from .conftest import FakeClient, LobbyHarness, settle


async def test_watchers_get_incremental_updates(harness: LobbyHarness) -> None:
    lobby = harness.lobby
    watcher, other_game = FakeClient("w"), FakeClient("o")
    assert lobby.watch(watcher.player, "tictactoe", True) == ()
    lobby.watch(other_game.player, "connect4", True)
    alice, bob = FakeClient("alice"), FakeClient("bob")
    created = lobby.create_room(alice.player, CreateRoom(id=1, game="tictactoe", players=2))
    rid = created.room.room_id
    await settle()
    updates = watcher.of_type(LobbyUpdate)
    assert updates and updates[-1].rooms[0].room_id == rid
    assert other_game.of_type(LobbyUpdate) == []
    lobby.join_room(bob.player, JoinRoom(id=2, room_id=rid))
    await settle()
    assert watcher.of_type(LobbyUpdate)[-1].rooms[0].status is RoomStatus.PLAYING
    # a private room is never announced
    lobby.create_room(alice.player, CreateRoom(id=3, game="tictactoe", players=2, private=True))
    await settle()
    assert all(not r.private for u in watcher.of_type(LobbyUpdate) for r in u.rooms)
    assert [r.room_id for r in lobby.list_rooms("tictactoe")] == [rid]
    lobby.watch(watcher.player, None, False)
    assert lobby.watch(watcher.player, None, False) == ()


async def test_quick_match_fills_the_oldest_fitting_room(harness: LobbyHarness) -> None:
    lobby = harness.lobby
    a, b, c = FakeClient("a"), FakeClient("b"), FakeClient("c")
    custom = lobby.create_room(
        a.player, CreateRoom(id=1, game="connect4", players=2, clock=ClockSettings(initial_ms=1000))
    )
    first = lobby.quick_match(b.player, QuickMatch(id=1, game="connect4", players=2))
    assert first.room.room_id != custom.room.room_id  # the timed room is not "default"
    second = lobby.quick_match(c.player, QuickMatch(id=1, game="connect4", players=2))
    assert second.room.room_id == first.room.room_id and second.seat == 1
    with pytest.raises(RequestError) as info:
        lobby.quick_match(c.player, QuickMatch(id=1, game="nim", players=2))
    assert info.value.code is ErrorCode.UNKNOWN_GAME


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"game": "tictactoe", "players": 3}, ErrorCode.INVALID_OPTIONS),
        ({"game": "tictactoe", "players": 2, "options": {"size": 4}}, ErrorCode.INVALID_OPTIONS),
        ({"game": "tictactoe", "players": 2, "bots": (BotSeat(seat=2),)}, ErrorCode.INVALID_OPTIONS),
        (
            {"game": "tictactoe", "players": 2, "bots": (BotSeat(seat=1), BotSeat(seat=1))},
            ErrorCode.INVALID_OPTIONS,
        ),
        ({"game": "tictactoe", "players": 2, "seat": 1, "bots": (BotSeat(seat=1),)}, ErrorCode.INVALID_OPTIONS),
        ({"game": "tictactoe", "players": 2, "seat": 5}, ErrorCode.INVALID_FIELD),
        ({"game": "tictactoe", "players": 2, "clock": ClockSettings(per_move_ms=0)}, ErrorCode.INVALID_OPTIONS),
        ({"game": "go", "players": 2}, ErrorCode.UNKNOWN_GAME),
    ],
)
async def test_create_room_checks(harness: LobbyHarness, fields: dict[str, object], code: ErrorCode) -> None:
    with pytest.raises(RequestError) as info:
        harness.lobby.create_room(FakeClient("a").player, CreateRoom(id=1, **fields))  # type: ignore[arg-type]
    assert info.value.code is code
    assert harness.lobby.rooms == {}


async def test_join_checks(harness: LobbyHarness) -> None:
    lobby = harness.lobby
    a, b, c = FakeClient("a"), FakeClient("b"), FakeClient("c")
    rid = lobby.create_room(a.player, CreateRoom(id=1, game="tictactoe", players=2)).room.room_id
    with pytest.raises(RequestError) as info:
        lobby.join_room(a.player, JoinRoom(id=2, room_id=rid))
    assert info.value.code is ErrorCode.ALREADY_IN_ROOM
    with pytest.raises(RequestError) as info:
        lobby.join_room(b.player, JoinRoom(id=2, room_id=rid, seat=0))
    assert info.value.code is ErrorCode.ROOM_FULL
    lobby.join_room(b.player, JoinRoom(id=2, room_id=rid))
    with pytest.raises(RequestError) as info:
        lobby.join_room(c.player, JoinRoom(id=2, room_id=rid))
    assert info.value.code is ErrorCode.ROOM_FULL
    lobby.accepting = False
    with pytest.raises(RequestError) as info:
        lobby.create_room(c.player, CreateRoom(id=1, game="tictactoe", players=2))
    assert info.value.code is ErrorCode.SHUTTING_DOWN
