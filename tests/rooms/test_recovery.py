"""Recovering unfinished matches from their logs into live rooms."""

from __future__ import annotations

from pathlib import Path

import trio

from gameserver.games.base import Termination
from gameserver.protocol.messages import CreateRoom, JoinRoom, MoveResult, RoomStatus, State
from gameserver.replays.loader import load_match
from gameserver.replays.simulate import resimulate
from gameserver.rooms.commands import Attached, MoveRequest, ResignRequest
from gameserver.rooms.config import RoomConfig
from gameserver.rooms.recovery import recover_rooms
from gameserver.sessions.service import GameService, ServiceConfig
from gameserver.sessions.tokens import TokenSigner

from .conftest import FakeClient, until


def service_in(
    nursery: trio.Nursery, replays: Path, grace: float = 30.0, finished_ttl: float = 60.0
) -> GameService:
    rooms = RoomConfig(
        bot_delay=0, grace_period=grace, replays_dir=replays, finished_room_ttl=finished_ttl
    )
    return GameService(nursery, TokenSigner(b"s" * 32), ServiceConfig(rooms=rooms))


async def play_two_moves(replays: Path, *, private: bool = False) -> tuple[str, str, str]:
    """Start a tictactoe match, play two moves, then stop the 'server' abruptly."""
    async with trio.open_nursery() as nursery:
        service = service_in(nursery, replays)
        alice, bob = FakeClient("alice"), FakeClient("bob")
        created = service.lobby.create_room(
            alice.player, CreateRoom(id=1, game="tictactoe", players=2, private=private)
        )
        room_id = created.room.room_id
        if private:
            join = JoinRoom(id=1, invite_code=created.invite_code)
        else:
            join = JoinRoom(id=1, room_id=room_id)
        service.lobby.join_room(bob.player, join)
        room = service.lobby.rooms[room_id]
        await until(lambda: room.match is not None and bool(alice.of_type(State)))
        room.submit(MoveRequest(alice.player, 2, 0, {"cell": 4}))
        await until(lambda: room.match is not None and room.match.version == 1)
        room.submit(MoveRequest(bob.player, 3, 1, {"cell": 0}))
        await until(lambda: bool([s for s in alice.of_type(State) if s.version == 2]))
        nursery.cancel_scope.cancel()
    return room_id, alice.player.player_id, bob.player.player_id


async def test_a_recovered_room_continues_where_the_log_stops(tmp_path: Path) -> None:
    room_id, alice_id, _bob_id = await play_two_moves(tmp_path)
    async with trio.open_nursery() as nursery:
        service = service_in(nursery, tmp_path)
        assert await recover_rooms(service, tmp_path) == 1
        room = service.lobby.rooms[room_id]
        assert room.status is RoomStatus.PLAYING and not room.private
        assert room.match is not None and room.match.version == 2
        alice = service.players.get(alice_id)
        assert alice is not None and alice.rooms == {room_id}
        # a public room is listed again, so spectators find it
        assert [r.room_id for r in service.lobby.list_rooms()] == [room_id]
        nursery.cancel_scope.cancel()


async def test_a_recovered_private_room_stays_unlisted(tmp_path: Path) -> None:
    room_id, _alice_id, _bob_id = await play_two_moves(tmp_path, private=True)
    async with trio.open_nursery() as nursery:
        service = service_in(nursery, tmp_path)
        assert await recover_rooms(service, tmp_path) == 1
        room = service.lobby.rooms[room_id]
        assert room.private and room.match is not None and room.match.version == 2
        assert service.lobby.list_rooms() == ()
        nursery.cancel_scope.cancel()


async def test_nobody_comes_back_the_grace_period_forfeits(tmp_path: Path) -> None:
    room_id, _alice_id, _bob_id = await play_two_moves(tmp_path)
    async with trio.open_nursery() as nursery:
        service = service_in(nursery, tmp_path, grace=0.05)
        await recover_rooms(service, tmp_path)
        assert len(service.players) == 2  # kept for their grace period
        await until(lambda: room_id not in service.lobby.rooms)
        assert len(service.players) == 0  # offline and seatless: forgotten
        nursery.cancel_scope.cancel()
    loaded = load_match(tmp_path / f"{room_id}-1.gsr")
    assert loaded.complete and loaded.end is not None and loaded.end.reason == "forfeit"
    assert loaded.end.termination is Termination.FORFEIT
    resimulate(loaded)  # the continued log still verifies


async def resign_after_two_moves(replays: Path) -> tuple[str, str, str]:
    """Like ``play_two_moves``, then bob resigns (request 4) and the 'server' stops at once."""
    room_id, alice_id, bob_id = await play_two_moves(replays)
    async with trio.open_nursery() as nursery:
        service = service_in(nursery, replays)
        await recover_rooms(service, replays)
        room = service.lobby.rooms[room_id]
        bob = service.players.get(bob_id)
        assert bob is not None
        room.submit(ResignRequest(bob, 4))
        await until(lambda: room.status is RoomStatus.OVER)
        nursery.cancel_scope.cancel()
    return room_id, alice_id, bob_id


async def test_a_match_that_ended_just_before_the_restart_comes_back_finished(
    tmp_path: Path,
) -> None:
    room_id, alice_id, bob_id = await resign_after_two_moves(tmp_path)
    async with trio.open_nursery() as nursery:
        service = service_in(nursery, tmp_path)
        assert await recover_rooms(service, tmp_path) == 0  # nothing left to play
        room = service.lobby.rooms[room_id]
        assert room.status is RoomStatus.OVER and room.match is not None
        assert service.lobby.list_rooms() == ()  # finished rooms are not listed
        alice = resumed(service, alice_id)
        assert alice.player.rooms == {room_id}
        assert [seat.index for seat in room.seats if seat.member is alice.player] == [0]
        await until(lambda: bool(alice.of_type(State)))
        shown = alice.last_state().outcome
        assert shown is not None and shown.winners == (0,) and shown.reason == "resigned"
        assert service.players.get(bob_id) is not None  # bob may come back to see it too
        nursery.cancel_scope.cancel()
    loaded = load_match(tmp_path / f"{room_id}-1.gsr")
    assert loaded.complete and loaded.end is not None and loaded.end.reason == "resigned"


async def test_a_move_resent_to_a_room_brought_back_finished_gets_its_first_answer(
    tmp_path: Path,
) -> None:
    room_id, alice_id, _bob_id = await resign_after_two_moves(tmp_path)
    async with trio.open_nursery() as nursery:
        service = service_in(nursery, tmp_path)
        await recover_rooms(service, tmp_path)
        alice = resumed(service, alice_id)
        # alice's first move (request 2, version 0 -> 1), resent after two restarts
        service.lobby.rooms[room_id].submit(MoveRequest(alice.player, 2, 0, {"cell": 4}))
        await until(lambda: _answered(alice, 2))
        assert alice.result(2, MoveResult) == MoveResult(version=1)
        nursery.cancel_scope.cancel()


def resumed(service: GameService, player_id: str) -> FakeClient:
    """The recovered player ``player_id`` on a new connection (its rooms get ``Attached``)."""
    player = service.players.get(player_id)
    assert player is not None
    client = FakeClient(player.name)
    client.player = player
    client.reconnect(service.lobby)
    return client


def _answered(client: FakeClient, request_id: int) -> bool:
    try:
        client.reply(request_id)
    except AssertionError:
        return False
    return True


async def test_a_match_that_ended_longer_ago_than_the_finished_room_ttl_stays_ended(
    tmp_path: Path,
) -> None:
    room_id, _alice_id, _bob_id = await resign_after_two_moves(tmp_path)
    async with trio.open_nursery() as nursery:
        # With no time to keep finished rooms, the room would be gone by now anyway.
        service = service_in(nursery, tmp_path, finished_ttl=0.0)
        assert await recover_rooms(service, tmp_path) == 0
        assert room_id not in service.lobby.rooms
        assert len(service.players) == 0
        nursery.cancel_scope.cancel()


async def test_a_finished_room_brought_back_is_released_after_the_finished_room_ttl(
    tmp_path: Path,
) -> None:
    room_id, _alice_id, _bob_id = await resign_after_two_moves(tmp_path)
    async with trio.open_nursery() as nursery:
        service = service_in(nursery, tmp_path, finished_ttl=0.5)
        await recover_rooms(service, tmp_path)
        assert room_id in service.lobby.rooms
        await until(lambda: room_id not in service.lobby.rooms)
        assert len(service.players) == 0  # offline and seatless: forgotten
        nursery.cancel_scope.cancel()


async def test_an_aborted_match_comes_back_finished_with_its_aborted_outcome(
    tmp_path: Path,
) -> None:
    async with trio.open_nursery() as nursery:
        rooms = RoomConfig(bot_delay=0, replays_dir=tmp_path, first_move_timeout=0.05)
        service = GameService(nursery, TokenSigner(b"s" * 32), ServiceConfig(rooms=rooms))
        alice, bob = FakeClient("alice"), FakeClient("bob")
        created = service.lobby.create_room(
            alice.player, CreateRoom(id=1, game="tictactoe", players=2)
        )
        room_id = created.room.room_id
        service.lobby.join_room(bob.player, JoinRoom(id=1, room_id=room_id))
        room = service.lobby.rooms[room_id]
        await until(lambda: room.status is RoomStatus.OVER)  # nobody moved: aborted
        nursery.cancel_scope.cancel()
    async with trio.open_nursery() as nursery:
        service = service_in(nursery, tmp_path)
        await recover_rooms(service, tmp_path)
        alice = resumed(service, alice.player.player_id)
        await until(lambda: bool(alice.of_type(State)))
        shown = alice.last_state().outcome
        assert shown is not None and shown.termination is Termination.ABORTED
        assert shown.winners == () and not shown.draw
        nursery.cancel_scope.cancel()
