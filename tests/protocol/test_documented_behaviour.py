"""Behaviour docs/protocol.md states precisely, checked on a real server (or, for pure
game rules, on the game itself)."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import trio

from e2e.conftest import RunningServer, WireClient, make_config, open_client, start_server
from gameserver.games.connect4 import GAME as CONNECT4
from gameserver.games.liarsdice import GAME as LIARSDICE
from gameserver.protocol import messages as m
from gameserver.ws.exceptions import ConnectionClosed


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[RunningServer]:
    async with trio.open_nursery() as nursery:
        yield await start_server(nursery, make_config(tmp_path))
        nursery.cancel_scope.cancel()


async def test_resuming_a_seat_in_a_waiting_room_sends_the_room_but_no_state(
    server: RunningServer,
) -> None:
    async with trio.open_nursery() as nursery:
        ann = await open_client(server, nursery, "ann")
        created = await ann.call(m.CreateRoom, m.JoinResult, game="connect4", players=2)
        room_id = created.room.room_id
        await ann.ws.close()
        again = await open_client(server, nursery)
        assert again.buffer == []
        resumed = await again.hello("ann", ann.token)
        assert [(s.room_id, s.seat) for s in resumed.seats] == [(room_id, 0)]
        room = await again.wait_for(m.RoomUpdate)
        assert room.room.status is m.RoomStatus.WAITING
        # a chat goes through the room's queue after the resume: by its reply, any
        # state the resume caused would have been sent
        await again.call(m.Chat, m.EmptyResult, room_id=room_id, text="anyone?")
        assert not [message for message in again.buffer if isinstance(message, m.State)]
        # the first state comes when the match starts
        ben = await open_client(server, nursery, "ben")
        await ben.call(m.JoinRoom, m.JoinResult, room_id=room_id)
        state = await again.state(room_id)
        assert (state.match, state.version, state.seat) == (1, 0, 0)
        nursery.cancel_scope.cancel()


async def _connect4_pair(server: RunningServer, nursery: trio.Nursery) -> tuple[WireClient, WireClient, str]:
    ann = await open_client(server, nursery, "ann")
    ben = await open_client(server, nursery, "ben")
    created = await ann.call(m.CreateRoom, m.JoinResult, game="connect4", players=2)
    await ben.call(m.JoinRoom, m.JoinResult, room_id=created.room.room_id)
    return ann, ben, created.room.room_id


async def test_connect_four_turn_is_null_after_the_end_on_the_wire(server: RunningServer) -> None:
    async with trio.open_nursery() as nursery:
        ann, ben, room_id = await _connect4_pair(server, nursery)
        for version, column in enumerate([0, 1, 0, 1, 0, 1, 0]):  # four in column 0
            mover = ann if version % 2 == 0 else ben
            await mover.call(m.Move, m.MoveResult, room_id=room_id, version=version, move={"column": column})
        final = await ben.state(room_id, lambda s: s.outcome is not None)
        assert final.view["turn"] is None and final.to_act == ()
        assert final.view["last"] == [2, 0]
        # and after a resignation
        ann2, ben2, other = await _connect4_pair(server, nursery)
        await ann2.call(m.Move, m.MoveResult, room_id=other, version=0, move={"column": 3})
        await ann2.call(m.Resign, m.EmptyResult, room_id=other)
        final = await ben2.state(other, lambda s: s.outcome is not None)
        assert final.view["turn"] is None and final.outcome is not None
        nursery.cancel_scope.cancel()


def test_connect_four_turn_is_null_however_the_match_ended() -> None:
    rng = random.Random(1)
    start = CONNECT4.setup(2, rng, {})
    assert CONNECT4.view(start, 0)["turn"] == 0
    assert CONNECT4.view(CONNECT4.resign(start, 0), None)["turn"] is None
    assert CONNECT4.view(CONNECT4.on_timeout(start, 0, rng), 1)["turn"] is None


def test_liars_dice_legal_moves_are_bids_in_increasing_order_then_the_calls() -> None:
    rng = random.Random(7)
    state = LIARSDICE.setup(2, rng, {"dice": 2})
    first = LIARSDICE.legal_moves(state, 0)
    bids = [tuple(move["bid"]) for move in first]
    assert bids == sorted(bids) and bids[0] == (1, 2) and bids[-1] == (4, 6)
    assert all("call" not in move for move in first)  # no bid yet: no calls
    state = LIARSDICE.apply(state, 0, {"bid": [2, 4]}, rng)
    answer = LIARSDICE.legal_moves(state, 1)
    assert answer[:3] == [{"bid": [2, 5]}, {"bid": [2, 6]}, {"bid": [3, 2]}]
    assert answer[-2:] == [{"call": "liar"}, {"call": "spot_on"}]
    bids = [tuple(move["bid"]) for move in answer[:-2]]
    assert bids == sorted(bids)


async def test_a_float_or_null_inside_a_move_is_malformed_move(server: RunningServer) -> None:
    async with trio.open_nursery() as nursery:
        ann, _, room_id = await _connect4_pair(server, nursery)
        for bad in ({"column": 3.0}, {"column": None}, {"column": 3.5}, None, 3.0):
            assert await ann.fail(m.Move, room_id=room_id, version=0, move=bad) == "malformed_move", bad
        players = [await open_client(server, nursery, name) for name in ("a", "b")]
        dice = await players[0].call(m.CreateRoom, m.JoinResult, game="liarsdice", players=2)
        await players[1].call(m.JoinRoom, m.JoinResult, room_id=dice.room.room_id)
        for bad in ({"bid": [1.0, 3]}, {"bid": [1, None]}, {"bid": None}, {"call": None}):
            code = await players[0].fail(m.Move, room_id=dice.room.room_id, version=0, move=bad)
            assert code == "malformed_move", bad
        nursery.cancel_scope.cancel()


async def test_name_and_chat_lengths_count_code_points(server: RunningServer) -> None:
    async with trio.open_nursery() as nursery:
        face = "\N{GRINNING FACE}"  # one code point, two UTF-16 units, four UTF-8 bytes
        ann = await open_client(server, nursery)
        assert (await ann.hello(face * 32)).name == face * 32
        assert await (await open_client(server, nursery)).fail(m.Hello, name=face * 33) == "invalid_name"
        # counted after NFC: 32 "e" + combining acute (64 code points) are 32 "é"
        composed = await (await open_client(server, nursery)).hello("e\u0301" * 32)
        assert composed.name == "\u00e9" * 32
        room = await ann.call(m.CreateRoom, m.JoinResult, game="connect4", players=2)
        await ann.call(m.Chat, m.EmptyResult, room_id=room.room.room_id, text=face * 500)
        assert await ann.fail(m.Chat, room_id=room.room.room_id, text=face * 501) == "chat_too_long"
        nursery.cancel_scope.cancel()


async def test_an_empty_waiting_room_closes_and_leaves_the_lobby(server: RunningServer) -> None:
    async with trio.open_nursery() as nursery:
        watcher = await open_client(server, nursery, "watcher")
        await watcher.call(m.WatchLobby, m.RoomsResult)
        ann = await open_client(server, nursery, "ann")
        created = await ann.call(
            m.CreateRoom, m.JoinResult, game="liarsdice", players=3, bots=(m.BotSeat(seat=2),)
        )
        room_id = created.room.room_id
        await watcher.wait_for(m.LobbyUpdate, lambda u: any(r.room_id == room_id for r in u.rooms))
        await ann.call(m.LeaveRoom, m.EmptyResult, room_id=room_id)  # the bot seat stays
        await watcher.wait_for(m.LobbyUpdate, lambda u: room_id in u.removed)
        assert await watcher.fail(m.Spectate, room_id=room_id) == "room_not_found"
        assert await ann.fail(m.JoinRoom, room_id=room_id) == "room_not_found"
        nursery.cancel_scope.cancel()


async def test_after_logout_the_connection_closes_normally(server: RunningServer) -> None:
    async with trio.open_nursery() as nursery:
        ann = await open_client(server, nursery, "ann")
        assert await ann.call(m.Logout, m.EmptyResult) == m.EmptyResult()
        with pytest.raises(ConnectionClosed) as closed, trio.fail_after(5):
            while True:
                await ann._read_one()
        assert (closed.value.code, closed.value.reason) == (1000, "logged out")
        nursery.cancel_scope.cancel()


async def test_errors_echo_the_id_over_the_wire_when_it_can_be_read(server: RunningServer) -> None:
    import msgpack

    async with trio.open_nursery() as nursery:
        ann = await open_client(server, nursery, "ann")
        cases = {
            41: {"id": 41, "type": "chat", "room_id": "r", "text": "x" * 9000},  # too_large
            42: {"type": "chat", "id": 42, 7: "non-string key"},  # invalid_field
            43: {"id": 43, "type": "move", "room_id": "r", "version": 0, "move": [[[[[[[[[[1]]]]]]]]]]},
            44: {"id": 44, "type": "list_rooms", "pad": "y" * 70_000},  # whole message too large
        }
        expected = {41: "too_large", 42: "invalid_field", 43: "too_deep", 44: "too_large"}
        for request_id, raw in cases.items():
            await ann.send_raw(msgpack.packb(raw))
            answer = await ann.answer(request_id)
            assert isinstance(answer, m.Error) and answer.code == expected[request_id], answer
        await ann.send_raw(msgpack.packb({"type": "chat", "id": "43"}))
        assert isinstance(await ann.answer(None), m.Error)
        nursery.cancel_scope.cancel()
