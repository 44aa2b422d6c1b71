"""Full matches of every game through a real server, over real sockets."""

from __future__ import annotations

import random
from pathlib import Path

import attrs
import pytest
import trio

from gameserver.games.registry import get_game
from gameserver.protocol.errors import ErrorCode
from gameserver.protocol.messages import (
    BotSeat,
    CreateRoom,
    JoinResult,
    JoinRoom,
    MatchOver,
    Move,
    MoveResult,
    RoomStatus,
    State,
)

from gameserver.ws import writer

from .conftest import RunningServer, WireClient, make_config, open_client, seated_pair, start_server

OPTIONS = {"tictactoe": {}, "connect4": {}, "liarsdice": {"dice": 2}}
PLAYERS = {"tictactoe": 2, "connect4": 2, "liarsdice": 3}


async def play_out(room_id: str, clients: dict[int, WireClient], rng: random.Random) -> State:
    """Every client plays a random legal move when its seat is to act, until the end."""
    states = {seat: await client.state(room_id) for seat, client in clients.items()}
    while True:
        newest = max(states.values(), key=lambda s: s.version)
        if newest.outcome is not None:
            return newest
        for seat, client in clients.items():
            state = states[seat]
            if state.version == newest.version and seat in state.to_act and state.legal_moves:
                move = rng.choice(list(state.legal_moves))
                result = await client.call(
                    Move, MoveResult, room_id=room_id, version=state.version, move=move
                )
                assert result.version == state.version + 1
                break
        for seat, client in clients.items():
            if states[seat].version <= newest.version:
                states[seat] = await client.state(
                    room_id, lambda s, v=newest.version: s.version > v
                )


@pytest.mark.parametrize("game", ["tictactoe", "connect4", "liarsdice"])
async def test_full_match_of_every_game(server: RunningServer, game: str) -> None:
    async with trio.open_nursery() as nursery:
        players = PLAYERS[game]
        clients = [await open_client(server, nursery, f"p{i}") for i in range(players)]
        created = await clients[0].call(
            CreateRoom, JoinResult, game=game, players=players, options=OPTIONS[game]
        )
        room_id = created.room.room_id
        for client in clients[1:]:
            await client.call(JoinRoom, JoinResult, room_id=room_id)
        final = await play_out(room_id, dict(enumerate(clients)), random.Random(game))
        assert final.to_act == ()
        for client in clients:
            over = await client.wait_for(MatchOver, lambda m: m.room_id == room_id)
            assert over.outcome == final.outcome
            assert over.replay_id is not None
        nursery.cancel_scope.cancel()


async def test_bad_moves_get_codes_and_the_match_continues(server: RunningServer) -> None:
    async with trio.open_nursery() as nursery:
        alice = await open_client(server, nursery, "alice")
        bob = await open_client(server, nursery, "bob")
        room = (await alice.call(CreateRoom, JoinResult, game="connect4", players=2)).room
        await bob.call(JoinRoom, JoinResult, room_id=room.room_id)
        state = await alice.state(room.room_id)
        rid = room.room_id
        assert await bob.fail(Move, room_id=rid, version=0, move={"column": 3}) == "not_your_turn"
        assert await alice.fail(Move, room_id=rid, version=0, move={"column": 99}) == "malformed_move"
        assert await alice.fail(Move, room_id=rid, version=0, move=[1, 2]) == "malformed_move"
        assert await alice.fail(Move, room_id=rid, version=5, move={"column": 3}) == "stale_version"
        assert await alice.fail(Move, room_id="nope", version=0, move={"column": 3}) == "room_not_found"
        # fill column 0, then try it once more
        version = state.version
        for turn in range(6):
            mover = alice if turn % 2 == 0 else bob
            version = (await mover.call(
                Move, MoveResult, room_id=rid, version=version, move={"column": 0}
            )).version
        assert await alice.fail(Move, room_id=rid, version=version, move={"column": 0}) == "illegal_move"
        assert (await alice.call(
            Move, MoveResult, room_id=rid, version=version, move={"column": 1}
        )).version == version + 1
        latest = await bob.state(rid, lambda s: s.version == version + 1)
        assert latest.to_act == (1,)
        nursery.cancel_scope.cancel()


async def test_malformed_messages_get_codes_and_the_connection_goes_on(server: RunningServer) -> None:
    async with trio.open_nursery() as nursery:
        client = await open_client(server, nursery)
        await client.send_raw(b"\xc1 not msgpack")
        assert (await client.answer(None)).code == ErrorCode.BAD_MESSAGE.value  # type: ignore[union-attr]
        await client.send_raw("a text message")
        assert (await client.answer(None)).code == ErrorCode.BAD_MESSAGE.value  # type: ignore[union-attr]
        import msgpack

        await client.send_raw(msgpack.packb({"type": "fly", "id": 4}))
        assert (await client.answer(4)).code == ErrorCode.UNKNOWN_TYPE.value  # type: ignore[union-attr]
        await client.send_raw(msgpack.packb({"type": "list_rooms", "id": 5}))
        assert (await client.answer(5)).code == ErrorCode.NOT_AUTHENTICATED.value  # type: ignore[union-attr]
        await client.send_raw(msgpack.packb({"type": "hello", "id": 6, "name": "\x07"}))
        assert (await client.answer(6)).code == ErrorCode.INVALID_NAME.value  # type: ignore[union-attr]
        await client.send_raw(msgpack.packb({"type": "hello", "id": 7, "name": "x", "token": "a.b"}))
        assert (await client.answer(7)).code == ErrorCode.BAD_TOKEN.value  # type: ignore[union-attr]
        hello = await client.hello("  carol  ")
        assert hello.name == "carol" and not hello.resumed
        await client.send_raw(msgpack.packb({"type": "hello", "id": 8, "name": "x"}))
        assert (await client.answer(8)).code == ErrorCode.ALREADY_AUTHENTICATED.value  # type: ignore[union-attr]
        bad = await client.fail(CreateRoom, game="chess", players=2)
        assert bad == "unknown_game"
        bad = await client.fail(CreateRoom, game="tictactoe", players=5)
        assert bad == "invalid_options"
        bad = await client.fail(
            CreateRoom, game="tictactoe", players=2, bots=(BotSeat(seat=1, strategy="psychic"),)
        )
        assert bad == "unknown_strategy"
        nursery.cancel_scope.cancel()


async def test_bot_seat_over_the_wire(server: RunningServer) -> None:
    async with trio.open_nursery() as nursery:
        alice = await open_client(server, nursery, "alice")
        created = await alice.call(
            CreateRoom, JoinResult, game="tictactoe", players=2,
            bots=(BotSeat(seat=0, strategy="best"),),
        )
        assert created.seat == 1 and created.room.status is RoomStatus.WAITING
        final = await play_out(created.room.room_id, {1: alice}, random.Random(1))
        assert final.outcome is not None and 1 not in final.outcome.winners
        assert get_game("tictactoe").name == "tictactoe"
        nursery.cancel_scope.cancel()


async def test_a_moves_reply_and_the_movers_state_leave_in_one_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Without a match log the room runs the move in the mover's connection task, and what
    # that request sends the mover (the reply, then its new state) is written at once.
    server_writes: list[bytes] = []
    real_write = writer.write_nowait

    def counting_write(fd: int, data: bytes) -> int:
        if data[:1] == b"\x82" and not data[1] & 0x80:  # an unmasked binary frame: the server's
            server_writes.append(data)
        return real_write(fd, data)

    monkeypatch.setattr(writer, "write_nowait", counting_write)
    async with trio.open_nursery() as nursery:
        server = await start_server(nursery, attrs.evolve(make_config(tmp_path), replays_dir=None))
        alice, bob, room_id = await seated_pair(server, nursery)
        await bob.state(room_id)
        server_writes.clear()
        result = await alice.call(Move, MoveResult, room_id=room_id, version=0, move={"cell": 4})
        assert result.version == 1
        assert (await alice.state(room_id)).version == 1
        assert (await bob.state(room_id)).version == 1
        assert len(server_writes) == 2  # one to each player
        to_alice = [data for data in server_writes if b"reply" in data]
        assert len(to_alice) == 1 and b"state" in to_alice[0]
        nursery.cancel_scope.cancel()
