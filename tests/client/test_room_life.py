"""The SDK and the life of a session and a room: logout, revoked tokens, closed rooms,
rematches that rotate the seats. Against a real server on 127.0.0.1."""

from __future__ import annotations

from pathlib import Path

import attrs
import pytest
import trio

from gameserver.app import run_server
from gameserver.client import (
    Backoff,
    ConnectionLost,
    Disconnected,
    GameClient,
    RequestFailed,
    StrategyBot,
    connect,
    play_room,
    quick_match_seat,
)
from gameserver.client.bot import MatchResult

from .conftest import server_config

FAST = Backoff(initial=0.01, maximum=0.05, jitter=0.0)


async def test_logout_revokes_the_token_and_the_client_does_not_reconnect(server_url: str) -> None:
    with trio.fail_after(30):
        async with connect(server_url, name="ada", backoff=FAST) as client:
            token = client.token
            await client.logout()
            assert client.token is None
            while not isinstance(event := await client.next_event(), Disconnected):
                pass
            assert event.final and event.code == 1000 and event.reason == "logged out"
            assert client.reconnects == 0
            with pytest.raises(ConnectionLost):
                await client.list_rooms()
        with pytest.raises(RequestFailed) as refused:
            async with connect(server_url, name="ada", token=token):
                pass
        assert refused.value.code == "bad_token"


async def test_revoke_others_keeps_only_the_new_token(server_url: str) -> None:
    with trio.fail_after(30):
        async with connect(server_url, name="ada") as first:
            old = first.token
        async with connect(server_url, name="ada", token=old, revoke_others=True) as second:
            assert second.resumed
            new = second.token
        with pytest.raises(RequestFailed) as refused:
            async with connect(server_url, name="ada", token=old):
                pass
        assert refused.value.code == "bad_token"
        async with connect(server_url, name="ada", token=new) as third:
            assert third.resumed and third.player_id == second.player_id


async def test_a_closed_room_is_forgotten_and_play_room_returns(
    nursery: trio.Nursery, tmp_path: Path
) -> None:
    port = await nursery.start(run_server, server_config(tmp_path, finished_room_ttl=0.5))
    with trio.fail_after(30):
        async with connect(f"ws://127.0.0.1:{port}/ws", name="ada") as client:
            joined = await client.create_room("tictactoe", bots={1: "random"})
            room_id = joined.room.room_id
            assert joined.seat is not None
            bot = StrategyBot("tictactoe", "random", seed=4)
            first = await play_room(client, bot, room_id, joined.seat, leave=False)
            assert first.completed and not first.closed
            # Nobody asks for a rematch: the server releases the room, and the call
            # waiting for the next match returns.
            second = await play_room(client, bot, room_id, joined.seat)
            assert second.closed and second.outcome is None and second.errors == ()
            assert room_id not in client.rooms and room_id not in client.states
            assert all(ref.room_id != room_id for ref in client.seats)


async def test_a_rematch_is_played_from_the_rotated_seat(server_url: str) -> None:
    with trio.fail_after(60):
        async with connect(server_url, name="ada") as ada, connect(server_url, name="bob") as bob:
            created = await ada.create_room("tictactoe")
            room_id = created.room.room_id
            joined = await bob.join_room(room_id)
            assert created.seat == 0 and joined.seat == 1
            seats = {ada: created.seat, bob: joined.seat}
            results: dict[GameClient, list[MatchResult]] = {ada: [], bob: []}

            async def player(client: GameClient, seed: int) -> None:
                bot = StrategyBot("tictactoe", "random", seed=seed)
                # Both matches are played with the seat the join gave.
                results[client].append(await play_room(client, bot, room_id, seats[client], leave=False))
                await client.rematch(room_id)
                results[client].append(await play_room(client, bot, room_id, seats[client]))

            async with trio.open_nursery() as both:
                both.start_soon(player, ada, 1)
                both.start_soon(player, bob, 2)

    for client, (first, second) in results.items():
        assert first.completed and second.completed, (first, second)
        assert (first.match, second.match) == (1, 2)
        assert first.seat == seats[client] and second.seat == 1 - seats[client]
        assert second.moves >= 2 and second.outcome is not None
        assert second.won == (second.seat in second.outcome.winners)
        # Every move of the rematch came from the player's new seat: the board shows them.
        final = client.states[room_id]
        assert final.match == 2 and final.seat == second.seat
        assert final.view["board"].count(second.seat) == second.moves


async def test_quick_match_seat_waits_for_a_room_under_the_address_limit(
    nursery: trio.Nursery, tmp_path: Path
) -> None:
    config = server_config(tmp_path)
    config = attrs.evolve(config, service=attrs.evolve(config.service, max_rooms_per_address=1))
    port = await nursery.start(run_server, config)
    url = f"ws://127.0.0.1:{port}/ws"
    with trio.fail_after(30):
        async with connect(url, name="ada") as ada, connect(url, name="bob") as bob:
            waiting = await ada.create_room("tictactoe")  # the address's only room
            with pytest.raises(RequestFailed) as refused:
                await bob.quick_match("connect4")
            assert refused.value.code == "too_many_rooms"
            async with trio.open_nursery() as both:

                async def leave_soon() -> None:
                    await trio.sleep(0.5)
                    await ada.leave_room(waiting.room.room_id)

                both.start_soon(leave_soon)
                room_id, seat = await quick_match_seat(bob, "connect4")
            assert seat == 0 and bob.rooms[room_id].game == "connect4"
