from __future__ import annotations

import trio

from gameserver.client.bot import StrategyBot, play_room
from gameserver.client.client import connect


async def test_smoke(server_url: str) -> None:
    with trio.fail_after(10):
        async with connect(server_url, name="ada") as client:
            assert client.player_id
            joined = await client.create_room("tictactoe", 2, bots={1: "random"})
            assert joined.seat == 0
            result = await play_room(client, StrategyBot("tictactoe", "best"), joined.room.room_id, 0)
            print(result)
            assert result.outcome is not None
