"""A real server and real clients around the end of a match: the last human leaving a
match against computers, seats freed after a match, finished rooms released."""

from __future__ import annotations

from pathlib import Path

import pytest
import trio

from gameserver.games.base import Termination
from gameserver.protocol.messages import (
    BotSeat,
    CreateRoom,
    EmptyResult,
    JoinResult,
    JoinRoom,
    LeaveRoom,
    ListRooms,
    MatchOver,
    Rematch,
    Resign,
    RoomsResult,
    RoomStatus,
    RoomUpdate,
    SeatKind,
)
from gameserver.replays.loader import load_match
from gameserver.replays.simulate import resimulate

from .conftest import make_config, open_client, seated_pair, start_server


async def wait_until_complete(path: Path) -> None:
    """Poll the log until it has its end record (a hang guard, not a timing assert)."""
    with trio.fail_after(10):
        while not (path.exists() and load_match(path).complete):
            await trio.sleep(0.01)


@pytest.mark.parametrize("how", ["leave_room", "tcp_drop"])
async def test_the_last_human_leaving_a_match_against_computers_ends_it_for_good(
    tmp_path: Path, how: str
) -> None:
    config = make_config(tmp_path, grace_period=0.2, bot_delay=0.05)
    async with trio.open_nursery() as nursery:
        server = await start_server(nursery, config)
        async with trio.open_nursery() as clients:
            alice = await open_client(server, clients, "alice")
            token = alice.token
            bots = (BotSeat(seat=1, strategy="best"), BotSeat(seat=2, strategy="random"))
            joined = await alice.call(
                CreateRoom, JoinResult, game="liarsdice", players=3, bots=bots
            )
            rid = joined.room.room_id
            await alice.state(rid)
            if how == "leave_room":
                await alice.call(LeaveRoom, EmptyResult, room_id=rid)
            else:
                await alice.ws.close()
            path = tmp_path / "replays" / f"{rid}-1.gsr"
            await wait_until_complete(path)
            clients.cancel_scope.cancel()
        server.cancel_scope.cancel()
    loaded = load_match(path)
    assert loaded.end is not None and loaded.end.aborted
    assert loaded.end.reason == "no players left"
    assert loaded.end.termination is Termination.ABORTED
    resimulate(loaded)
    size = path.stat().st_size

    # a restart on the same replays recovers nothing: the bots do not play it out
    async with trio.open_nursery() as nursery:
        server = await start_server(nursery, config)
        async with trio.open_nursery() as clients:
            again = await open_client(server, clients)
            hello = await again.hello("alice", token)
            assert hello.seats == ()
            listed = await again.call(ListRooms, RoomsResult)
            assert listed.rooms == ()
            clients.cancel_scope.cancel()
        server.cancel_scope.cancel()
    assert path.stat().st_size == size


async def test_a_seat_freed_by_a_tcp_drop_after_the_match_goes_to_a_newcomer(
    tmp_path: Path,
) -> None:
    async with trio.open_nursery() as nursery:
        server = await start_server(nursery, make_config(tmp_path))
        async with trio.open_nursery() as clients:
            alice, bob, rid = await seated_pair(server, clients)
            await bob.call(Resign, EmptyResult, room_id=rid)
            await alice.wait_for(MatchOver)
            await alice.ws.close()
            update = await bob.wait_for(RoomUpdate, lambda u: u.room.seats[0].kind is SeatKind.OPEN)
            assert update.room.seats[0].name is None and update.room.seats[0].player_id is None
            await bob.call(Rematch, EmptyResult, room_id=rid)
            carol = await open_client(server, clients, "carol")
            joined = await carol.call(JoinRoom, JoinResult, room_id=rid)
            assert joined.seat == 0
            # the newcomer's join is her vote: the rematch starts, and bob moves first
            fresh = await carol.state(rid, lambda s: s.match == 2)
            assert fresh.seat == 1 and fresh.to_act == (0,)
            assert [s.name for s in fresh.seats] == ["bob", "carol"]
            clients.cancel_scope.cancel()
        server.cancel_scope.cancel()


async def test_a_finished_room_is_released_and_its_members_are_told(tmp_path: Path) -> None:
    async with trio.open_nursery() as nursery:
        server = await start_server(nursery, make_config(tmp_path, finished_room_ttl=0.3))
        async with trio.open_nursery() as clients:
            alice, bob, rid = await seated_pair(server, clients)
            await alice.call(Resign, EmptyResult, room_id=rid)
            for client in (alice, bob):
                await client.wait_for(MatchOver)
                closed = await client.wait_for(
                    RoomUpdate, lambda u: u.room.status is RoomStatus.CLOSED
                )
                assert closed.room.room_id == rid
            assert await alice.fail(Rematch, room_id=rid) == "room_not_found"
            # the players hold no seat any more: a resume lists none
            token = bob.token
            await bob.ws.close()
            again = await open_client(server, clients)
            assert (await again.hello("bob", token)).seats == ()
            clients.cancel_scope.cancel()
        server.cancel_scope.cancel()


def open_rooms(metrics: bytes) -> int:
    line = next(l for l in metrics.decode().splitlines() if l.startswith("gameserver_rooms "))
    return int(float(line.split()[1]))


async def test_rooms_of_finished_matches_do_not_pile_up(tmp_path: Path) -> None:
    from .test_http import http_get

    async with trio.open_nursery() as nursery:
        server = await start_server(nursery, make_config(tmp_path, finished_room_ttl=0.2))
        async with trio.open_nursery() as clients:
            alice = await open_client(server, clients, "alice")
            bob = await open_client(server, clients, "bob")
            for _ in range(30):  # both stay connected, as a bot fleet does
                rid = (await alice.call(CreateRoom, JoinResult, game="tictactoe", players=2)).room.room_id
                await bob.call(JoinRoom, JoinResult, room_id=rid)
                await alice.call(Resign, EmptyResult, room_id=rid)
            with trio.fail_after(10):
                while open_rooms((await http_get(server.port, "/metrics"))[2]) != 0:
                    await trio.sleep(0.05)
            clients.cancel_scope.cancel()
        server.cancel_scope.cancel()
