"""A room's life around its matches: nobody left to play, freed seats, rematches that
rotate the seats, the release of finished rooms and the first-move deadline."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import trio

from gameserver.protocol.errors import ErrorCode, RequestError
from gameserver.protocol.messages import (
    BotSeat,
    ClockSettings,
    CreateRoom,
    JoinRoom,
    MatchOver,
    RoomStatus,
    RoomUpdate,
    SeatKind,
    State,
)
from gameserver.games.base import Termination
from gameserver.games.registry import get_game
from gameserver.replays import records
from gameserver.replays.loader import load_match
from gameserver.replays.recorder import FsyncPolicy, MatchRecorder
from gameserver.replays.simulate import resimulate
from gameserver.rooms.commands import LeaveRequest, MoveRequest, RematchRequest, ResignRequest
from gameserver.rooms.config import RoomConfig
from gameserver.rooms.lobby import Lobby
from gameserver.sessions.metrics import Metrics
from gameserver.rooms.recovery import recover_rooms
from gameserver.rooms.room import Room
from gameserver.sessions.service import GameService, ServiceConfig
from gameserver.sessions.tokens import TokenSigner

from .conftest import FakeClient, settle, until


def lobby_in(nursery: trio.Nursery, **settings: object) -> Lobby:
    config = RoomConfig(**{"bot_delay": 0.0, "bots_in_thread": False, **settings})  # type: ignore[arg-type]
    return Lobby(nursery, config, Metrics())


def create(lobby: Lobby, client: FakeClient, **fields: object) -> Room:
    request = CreateRoom(id=1, **{"game": "tictactoe", "players": 2, **fields})  # type: ignore[arg-type]
    return lobby.rooms[lobby.create_room(client.player, request).room.room_id]


async def pair(lobby: Lobby, **fields: object) -> tuple[Room, FakeClient, FakeClient]:
    """A running tictactoe match: alice at seat 0, bob at seat 1."""
    alice, bob = FakeClient("alice"), FakeClient("bob")
    room = create(lobby, alice, **fields)
    lobby.join_room(bob.player, JoinRoom(id=1, room_id=room.room_id))
    await settle()
    assert room.status is RoomStatus.PLAYING
    return room, alice, bob


async def finished_pair(lobby: Lobby) -> tuple[Room, FakeClient, FakeClient]:
    """A tictactoe match bob resigned: alice won, the room is over."""
    room, alice, bob = await pair(lobby)
    room.submit(ResignRequest(bob.player, 50))
    await settle()
    assert room.status is RoomStatus.OVER
    return room, alice, bob


def last_room(client: FakeClient) -> RoomUpdate:
    updates = client.of_type(RoomUpdate)
    assert updates, "no room push received"
    return updates[-1]


# -- a match nobody plays any more ends at once, with its end record ---------------------


def dice_against_bots(lobby: Lobby) -> tuple[Room, FakeClient]:
    alice = FakeClient("alice")
    room = create(
        lobby,
        alice,
        game="liarsdice",
        players=3,
        bots=(BotSeat(seat=1, strategy="best"), BotSeat(seat=2, strategy="random")),
    )
    return room, alice


def leave(lobby: Lobby, room: Room, client: FakeClient) -> None:
    room.submit(LeaveRequest(client.player, 90))


def drop(lobby: Lobby, room: Room, client: FakeClient) -> None:
    client.disconnect(lobby)


@pytest.mark.parametrize("go", [leave, drop], ids=["leave_room", "forfeit_after_grace"])
async def test_the_last_human_leaving_ends_the_match_in_the_log(
    tmp_path: Path, go: Callable[[Lobby, Room, FakeClient], None]
) -> None:
    async with trio.open_nursery() as nursery:
        lobby = lobby_in(nursery, replays_dir=tmp_path, grace_period=0.05)
        room, alice = dice_against_bots(lobby)
        await until(lambda: room.match is not None and room.status is RoomStatus.PLAYING)
        go(lobby, room, alice)
        await until(lambda: room.closed and room.room_id not in lobby.rooms)
        nursery.cancel_scope.cancel()
    loaded = load_match(tmp_path / f"{room.room_id}-1.gsr")
    assert loaded.complete and loaded.end is not None
    assert loaded.end.aborted and loaded.end.reason == "no players left"
    gave_up = [r for r in loaded.records if isinstance(r, records.Resigned)]
    assert [(r.seat, r.forfeit) for r in gave_up] == [(0, go is drop)]
    resimulate(loaded)  # the log, forfeit included, verifies
    # after a restart the bots do not "recover" the match and play it out
    async with trio.open_nursery() as nursery:
        config = ServiceConfig(rooms=RoomConfig(bot_delay=0, replays_dir=tmp_path))
        service = GameService(nursery, TokenSigner(b"s" * 32), config)
        assert await recover_rooms(service, tmp_path) == 0
        assert service.lobby.rooms == {}
        nursery.cancel_scope.cancel()


async def test_the_last_human_leaving_a_watched_match_ends_it_for_the_watchers(
    tmp_path: Path,
) -> None:
    async with trio.open_nursery() as nursery:
        lobby = lobby_in(nursery, replays_dir=tmp_path)
        room, alice = dice_against_bots(lobby)
        carol = FakeClient("carol")
        lobby.spectate(carol.player, room.room_id)
        await until(lambda: room.match is not None and room.status is RoomStatus.PLAYING)
        leave(lobby, room, alice)
        await until(lambda: bool(carol.of_type(MatchOver)))
        over = carol.of_type(MatchOver)[-1]
        assert over.outcome.winners == () and over.outcome.reason == "no players left"
        assert over.outcome.termination is Termination.ABORTED
        assert room.status is RoomStatus.OVER and not room.closed  # carol still watches
        assert load_match(tmp_path / f"{room.room_id}-1.gsr").complete
        nursery.cancel_scope.cancel()


async def test_a_bots_only_match_ends_in_the_log_when_its_last_watcher_leaves(
    tmp_path: Path,
) -> None:
    async with trio.open_nursery() as nursery:
        # the bots take their time, so the match is still running when alice goes
        lobby = lobby_in(nursery, replays_dir=tmp_path, bot_delay=30.0)
        alice = FakeClient("alice")
        room = create(
            lobby,
            alice,
            bots=(BotSeat(seat=0, strategy="random"), BotSeat(seat=1, strategy="best")),
        )
        await until(lambda: room.match is not None)
        leave(lobby, room, alice)
        await until(lambda: room.room_id not in lobby.rooms)
        nursery.cancel_scope.cancel()
    end = load_match(tmp_path / f"{room.room_id}-1.gsr").end
    assert end is not None and end.aborted and end.reason == "nobody watching"


# -- a finished match's seats are freed; newcomers join its rematch -----------------------


@pytest.mark.parametrize("how", ["leave_room", "disconnect"])
async def test_a_seat_left_after_the_match_is_open_and_a_newcomer_starts_the_rematch(
    autojump_clock: trio.abc.Clock, how: str
) -> None:
    async with trio.open_nursery() as nursery:
        lobby = lobby_in(nursery)
        room, alice, bob = await finished_pair(lobby)
        if how == "leave_room":
            room.submit(LeaveRequest(alice.player, 60))
        else:
            alice.disconnect(lobby)
        await settle()
        seat = last_room(bob).room.seats[0]
        assert seat.kind is SeatKind.OPEN and seat.name is None and seat.player_id is None
        assert alice.player.rooms == set()
        room.submit(RematchRequest(bob.player, 61))
        await settle()
        assert room.status is RoomStatus.OVER  # a seat is still empty
        carol = FakeClient("carol")
        joined = lobby.join_room(carol.player, JoinRoom(id=1, room_id=room.room_id))
        assert joined.seat == 0
        await settle()
        # carol's join was her vote: the rematch starts, bob now moves first
        assert room.status is RoomStatus.PLAYING and room.match_number == 2
        state = carol.last_state()
        assert state.match == 2 and state.seat == 1
        assert [(s.name, s.player_id) for s in state.seats] == [
            ("bob", bob.player.player_id),
            ("carol", carol.player.player_id),
        ]
        assert bob.last_state().seat == 0 and bob.last_state().to_act == (0,)
        nursery.cancel_scope.cancel()


async def test_a_newcomer_waits_for_the_votes_and_never_sees_the_old_match(
    autojump_clock: trio.abc.Clock,
) -> None:
    async with trio.open_nursery() as nursery:
        lobby = lobby_in(nursery)
        room, alice, bob = await finished_pair(lobby)
        room.submit(LeaveRequest(bob.player, 60))
        await settle()
        carol = FakeClient("carol")
        lobby.join_room(carol.player, JoinRoom(id=1, room_id=room.room_id))
        await settle()
        seats = last_room(alice).room.seats
        assert seats[1].name == "carol" and seats[1].wants_rematch
        assert room.status is RoomStatus.OVER  # alice has not voted
        assert carol.of_type(MatchOver) == [] and carol.of_type(State) == []
        # a second newcomer finds no seat
        with pytest.raises(RequestError) as info:
            lobby.join_room(FakeClient("dave").player, JoinRoom(id=1, room_id=room.room_id))
        assert info.value.code is ErrorCode.ROOM_FULL
        room.submit(RematchRequest(alice.player, 61))
        await settle()
        assert room.match_number == 2 and carol.last_state().seat == 0
        nursery.cancel_scope.cancel()


async def test_a_player_away_when_the_match_ends_keeps_the_seat_for_the_grace_period(
    autojump_clock: trio.abc.Clock,
) -> None:
    async with trio.open_nursery() as nursery:
        lobby = lobby_in(nursery, grace_period=30)
        room, alice, bob = await pair(lobby)
        alice.disconnect(lobby)
        room.submit(ResignRequest(bob.player, 60))
        await trio.sleep(10)
        assert last_room(bob).room.seats[0].name == "alice"
        alice.reconnect(lobby)
        await settle()
        outcome = alice.last_state().outcome  # she sees how it ended
        assert outcome is not None and outcome.winners == (0,)
        alice.disconnect(lobby)  # gone again after the match: the seat is freed at once
        await settle()
        assert last_room(bob).room.seats[0].kind is SeatKind.OPEN
        nursery.cancel_scope.cancel()


async def test_seats_left_during_the_match_open_when_it_ends(autojump_clock: trio.abc.Clock) -> None:
    async with trio.open_nursery() as nursery:
        lobby = lobby_in(nursery)
        alice, bob, carol = FakeClient("alice"), FakeClient("bob"), FakeClient("carol")
        room = create(lobby, alice, game="liarsdice", players=3)
        lobby.join_room(bob.player, JoinRoom(id=1, room_id=room.room_id))
        lobby.join_room(carol.player, JoinRoom(id=1, room_id=room.room_id))
        await settle()
        room.submit(LeaveRequest(carol.player, 60))
        await settle()
        seat = last_room(alice).room.seats[2]
        assert seat.kind is SeatKind.HUMAN and seat.name == "carol"  # the match runs on
        room.submit(ResignRequest(bob.player, 61))
        await settle()
        assert room.status is RoomStatus.OVER
        assert last_room(alice).room.seats[2].kind is SeatKind.OPEN
        nursery.cancel_scope.cancel()


# -- rematches rotate the seats; bots read well --------------------------------------------


async def test_a_rematch_swaps_the_seats_and_the_log_says_so(tmp_path: Path) -> None:
    async with trio.open_nursery() as nursery:
        lobby = lobby_in(nursery, replays_dir=tmp_path)
        alice, bob = FakeClient("alice"), FakeClient("bob")
        room = create(lobby, alice)
        lobby.join_room(bob.player, JoinRoom(id=1, room_id=room.room_id))
        await until(lambda: room.status is RoomStatus.PLAYING)
        room.submit(ResignRequest(bob.player, 2))
        await until(lambda: room.status is RoomStatus.OVER)
        room.submit(RematchRequest(alice.player, 3))
        room.submit(RematchRequest(bob.player, 4))
        await until(lambda: room.match_number == 2 and bool(alice.of_type(MatchOver)))
        await until(lambda: alice.last_state().match == 2)
        assert alice.last_state().seat == 1 and bob.last_state().seat == 0
        nursery.cancel_scope.cancel()
    first = load_match(tmp_path / f"{room.room_id}-1.gsr").header.seats
    second = load_match(tmp_path / f"{room.room_id}-2.gsr").header.seats
    assert [s.name for s in first] == ["alice", "bob"]
    assert [s.name for s in second] == ["bob", "alice"]


async def test_a_rematch_of_three_rotates_and_bots_have_readable_names(
    autojump_clock: trio.abc.Clock,
) -> None:
    async with trio.open_nursery() as nursery:
        lobby = lobby_in(nursery)
        room, alice = dice_against_bots(lobby)
        await settle()
        names = [s.name for s in alice.last_state().seats]
        assert names == ["alice", "Computer (best)", "Computer 2 (random)"]
        room.submit(ResignRequest(alice.player, 2))
        await until(lambda: room.status is RoomStatus.OVER)
        room.submit(RematchRequest(alice.player, 3))
        await until(lambda: room.match_number == 2)
        state = alice.last_state()
        assert state.seat == 1
        assert [s.name for s in state.seats] == ["Computer 2 (random)", "alice", "Computer (best)"]
        assert [s.kind for s in state.seats] == [SeatKind.BOT, SeatKind.HUMAN, SeatKind.BOT]
        nursery.cancel_scope.cancel()


# -- finished rooms are released ----------------------------------------------------------


async def test_a_finished_room_is_released_after_its_ttl(autojump_clock: trio.abc.Clock) -> None:
    async with trio.open_nursery() as nursery:
        lobby = lobby_in(nursery, finished_room_ttl=60)
        room, alice, bob = await finished_pair(lobby)
        await trio.sleep(59)
        assert not room.closed and room.room_id in lobby.rooms
        await trio.sleep(2)
        assert room.closed and room.room_id not in lobby.rooms
        for client in (alice, bob):
            assert last_room(client).room.status is RoomStatus.CLOSED
            assert client.player.rooms == set()
        nursery.cancel_scope.cancel()


async def test_a_rematch_vote_keeps_the_room_for_another_ttl(autojump_clock: trio.abc.Clock) -> None:
    async with trio.open_nursery() as nursery:
        lobby = lobby_in(nursery, finished_room_ttl=60)
        room, alice, bob = await finished_pair(lobby)
        await trio.sleep(50)
        room.submit(RematchRequest(alice.player, 70))
        await trio.sleep(59)  # 109 s after the end, 59 s after the vote
        assert not room.closed and last_room(bob).room.seats[0].wants_rematch
        await trio.sleep(2)
        assert room.closed and last_room(bob).room.status is RoomStatus.CLOSED
        nursery.cancel_scope.cancel()


async def test_a_running_match_is_not_released(autojump_clock: trio.abc.Clock) -> None:
    async with trio.open_nursery() as nursery:
        lobby = lobby_in(nursery, finished_room_ttl=1, first_move_timeout=None)
        room, alice, bob = await pair(lobby)
        await trio.sleep(600)
        assert room.status is RoomStatus.PLAYING and not room.closed
        nursery.cancel_scope.cancel()


@pytest.mark.parametrize(
    "settings",
    [{"finished_room_ttl": -1.0}, {"first_move_timeout": 0.0}, {"first_move_timeout": -5.0}],
)
def test_bad_room_settings_are_refused(settings: dict[str, float]) -> None:
    with pytest.raises(ValueError, match=next(iter(settings))):
        RoomConfig(**settings)  # type: ignore[arg-type]


# -- nobody holds an untimed match by never moving -----------------------------------------


async def test_no_first_move_at_all_aborts_the_match(autojump_clock: trio.abc.Clock) -> None:
    async with trio.open_nursery() as nursery:
        lobby = lobby_in(nursery, first_move_timeout=60)
        room, alice, bob = await pair(lobby)
        await trio.sleep(59)
        assert room.status is RoomStatus.PLAYING
        await trio.sleep(2)
        assert room.status is RoomStatus.OVER
        over = bob.of_type(MatchOver)[-1]
        assert over.outcome.winners == () and over.outcome.reason == "no first move"
        assert over.outcome.termination is Termination.ABORTED
        final = bob.last_state()  # the last state says so too, and nobody is to act
        assert final.outcome == over.outcome and final.to_act == () and final.legal_moves is None
        nursery.cancel_scope.cancel()


async def test_a_seat_that_never_makes_its_first_move_forfeits(
    autojump_clock: trio.abc.Clock,
) -> None:
    async with trio.open_nursery() as nursery:
        lobby = lobby_in(nursery, first_move_timeout=60)
        room, alice, bob = await pair(lobby)
        await trio.sleep(30)
        room.submit(MoveRequest(alice.player, 1, 0, {"cell": 4}))
        await trio.sleep(59)  # bob's deadline counts from when he had to act
        assert room.status is RoomStatus.PLAYING
        await trio.sleep(2)
        outcome = alice.last_state().outcome
        assert outcome is not None and outcome.winners == (0,) and outcome.reason == "forfeit"
        assert last_room(alice).room.seats[1].kind is SeatKind.OPEN  # bob is out
        assert bob.player.rooms == set()
        nursery.cancel_scope.cancel()


async def test_after_its_first_move_a_seat_may_think_as_long_as_it_likes(
    autojump_clock: trio.abc.Clock,
) -> None:
    async with trio.open_nursery() as nursery:
        lobby = lobby_in(nursery, first_move_timeout=60)
        room, alice, bob = await pair(lobby)
        room.submit(MoveRequest(alice.player, 1, 0, {"cell": 4}))
        await trio.sleep(10)
        room.submit(MoveRequest(bob.player, 2, 1, {"cell": 0}))
        await trio.sleep(600)
        assert room.status is RoomStatus.PLAYING and alice.last_state().to_act == (0,)
        nursery.cancel_scope.cancel()


async def test_timed_matches_have_no_first_move_deadline(autojump_clock: trio.abc.Clock) -> None:
    async with trio.open_nursery() as nursery:
        lobby = lobby_in(nursery, first_move_timeout=60)
        room, alice, bob = await pair(lobby, clock=ClockSettings(initial_ms=600_000))
        await trio.sleep(300)
        assert room.status is RoomStatus.PLAYING
        nursery.cancel_scope.cancel()


# -- forfeits say so ---------------------------------------------------------------------


async def test_a_forfeit_after_the_grace_period_has_its_own_reason(tmp_path: Path) -> None:
    async with trio.open_nursery() as nursery:
        lobby = lobby_in(nursery, replays_dir=tmp_path, grace_period=0.05)
        alice, bob = FakeClient("alice"), FakeClient("bob")
        room = create(lobby, alice)
        lobby.join_room(bob.player, JoinRoom(id=1, room_id=room.room_id))
        await until(lambda: room.status is RoomStatus.PLAYING)
        bob.disconnect(lobby)
        await until(lambda: bool(alice.of_type(MatchOver)))
        assert alice.of_type(MatchOver)[-1].outcome.reason == "forfeit"
        nursery.cancel_scope.cancel()
    loaded = load_match(tmp_path / f"{room.room_id}-1.gsr")
    assert loaded.end is not None and loaded.end.reason == "forfeit"
    assert resimulate(loaded).outcome.reason == "forfeit"  # type: ignore[union-attr]


async def test_a_resignation_still_says_resigned(autojump_clock: trio.abc.Clock) -> None:
    async with trio.open_nursery() as nursery:
        lobby = lobby_in(nursery)
        room, alice, bob = await finished_pair(lobby)
        assert alice.of_type(MatchOver)[-1].outcome.reason == "resigned"
        nursery.cancel_scope.cancel()


async def test_an_older_log_whose_humans_all_left_is_ended_at_recovery_not_played_out(
    tmp_path: Path,
) -> None:
    # What a server before the fix left behind: the human resigned and left, the bots
    # were to play on, and the log has no end record.
    game = get_game("liarsdice")
    options = game.validate_options({})
    header = records.Header(
        match_id="r1-1",
        room_id="r1",
        game="liarsdice",
        options=options,
        seed=7,
        seats=(
            records.Occupant(name="alice", player_id="p-alice"),
            records.Occupant(name="best bot", kind=records.OccupantKind.BOT, strategy="best"),
            records.Occupant(name="random bot", kind=records.OccupantKind.BOT, strategy="random"),
        ),
        server_version="0",
        started_at=1,
        private=False,
    )
    with MatchRecorder.create(tmp_path, header, fsync=FsyncPolicy.NEVER) as recorder:
        recorder.append(records.Resigned(at=2, seat=0, version=1))
        recorder.append(records.Left(at=2, seat=0))
    async with trio.open_nursery() as nursery:
        config = ServiceConfig(
            rooms=RoomConfig(bot_delay=0, bots_in_thread=False, replays_dir=tmp_path)
        )
        service = GameService(nursery, TokenSigner(b"s" * 32), config)
        assert await recover_rooms(service, tmp_path) == 1
        await until(lambda: "r1" not in service.lobby.rooms)
        nursery.cancel_scope.cancel()
    loaded = load_match(tmp_path / "r1-1.gsr")
    assert loaded.end is not None and loaded.end.aborted and loaded.end.version == 1
    assert not [r for r in loaded.records if isinstance(r, records.Moved)]  # no bot moved
