"""A bug inside a game's rules ends only that room: its players get an error, the log
has the traceback, and every other room (and the server) goes on."""

from __future__ import annotations

import logging
import random
from collections.abc import Iterator
from typing import Any

import pytest
import trio

from gameserver.games.connect4 import Connect4
from gameserver.games.registry import register_game, unregister_game
from gameserver.protocol.messages import CreateRoom, Error, JoinResult, JoinRoom, ListRooms, Move, RoomsResult

from .conftest import RunningServer, metric, open_client, pair_in_room


class BrokenConnect4(Connect4):
    """Connect four whose rules crash when anyone plays the last column."""

    name = "broken4"
    title = "Broken Four"

    def apply(self, state: Any, seat: int, move: Any, rng: random.Random) -> Any:
        if isinstance(move, dict) and move.get("column") == 6:
            raise ZeroDivisionError("a bug in the rules")
        return super().apply(state, seat, move, rng)


@pytest.fixture
def broken_game() -> Iterator[str]:
    register_game(BrokenConnect4())
    yield BrokenConnect4.name
    unregister_game(BrokenConnect4.name)


async def test_a_crash_in_the_rules_ends_only_that_room(
    server: RunningServer, broken_game: str, caplog: pytest.LogCaptureFixture
) -> None:
    async with trio.open_nursery() as nursery:
        healthy = await pair_in_room(server, nursery)
        alice = await open_client(server, nursery, "alice")
        bob = await open_client(server, nursery, "bob")
        watcher = await open_client(server, nursery, "watcher")
        created = await alice.call(CreateRoom, JoinResult, game=broken_game, players=2)
        room_id = created.room.room_id
        await bob.call(JoinRoom, JoinResult, room_id=room_id)
        await healthy.play(2)
        request = await alice.send(Move, room_id=room_id, version=0, move={"column": 6})
        answer = await alice.answer(request)
        assert isinstance(answer, Error) and answer.code == "internal_error"
        assert "closed" in answer.message
        # every other participant learns that the room is gone
        notice = await bob.wait_for(Error, lambda e: e.id is None)
        assert notice.code == "internal_error" and room_id in notice.message
        # the room is gone; requests to it say so
        assert await bob.fail(Move, room_id=room_id, version=0, move={"column": 1}) == "room_not_found"
        listed = await watcher.call(ListRooms, RoomsResult)
        assert room_id not in [room.room_id for room in listed.rooms]
        # the rest of the server never noticed
        assert await healthy.play(2) == 4
        assert await metric(server.port, "gameserver_rooms") == 1
        again = await alice.call(CreateRoom, JoinResult, game="connect4", players=2)
        assert again.seat == 0
        nursery.cancel_scope.cancel()
    failures = [r for r in caplog.records if r.levelno >= logging.ERROR and room_id in r.getMessage()]
    assert failures and failures[0].exc_info is not None
    assert "ZeroDivisionError" in caplog.text
