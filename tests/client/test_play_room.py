"""play_room against a real server: stale events decide nothing, finished rooms are left."""

from __future__ import annotations

import trio

from gameserver.client import Backoff, StrategyBot, connect, play_room

from .conftest import Proxy

FAST = Backoff(initial=0.01, maximum=0.05, jitter=0.0)


async def metric(port: int, name: str) -> float:
    """One of the server's ``/metrics`` values."""
    stream = await trio.open_tcp_stream("127.0.0.1", port)
    async with stream:
        await stream.send_all(b"GET /metrics HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        data = b""
        while chunk := await stream.receive_some(65536):
            data += chunk
    body = data.partition(b"\r\n\r\n")[2].decode()
    line = next(line for line in body.splitlines() if line.startswith(name + " "))
    return float(line.split()[1])


async def open_rooms(port: int) -> int:
    """The server's ``gameserver_rooms`` gauge."""
    return int(await metric(port, "gameserver_rooms"))


async def test_a_reconnect_from_before_the_call_does_not_end_the_match(proxy: Proxy) -> None:
    with trio.fail_after(30):
        async with connect(proxy.url, name="ada", backoff=FAST) as client:
            await proxy.cut()
            while client.reconnects == 0:  # the Reconnected event waits, unread
                await trio.sleep(0.01)
            await client.wait_connected()
            joined = await client.create_room("tictactoe", bots={1: "random"})
            assert joined.seat is not None
            bot = StrategyBot("tictactoe", "random", seed=1)
            result = await play_room(client, bot, joined.room.room_id, joined.seat)
    assert result.completed and result.moves >= 3
    assert result.reconnects == 0 and not result.seat_lost


async def test_the_bot_leaves_the_room_when_the_match_is_over(server_port: int) -> None:
    with trio.fail_after(30):
        async with connect(f"ws://127.0.0.1:{server_port}/ws", name="ada") as client:
            joined = await client.create_room("tictactoe", bots={1: "random"})
            assert joined.seat is not None
            bot = StrategyBot("tictactoe", "random", seed=2)
            result = await play_room(client, bot, joined.room.room_id, joined.seat)
            assert result.completed
            # still connected, and the finished room is released all the same
            assert await open_rooms(server_port) == 0
            assert client.seats == () or joined.room.room_id not in client.rooms


async def test_leave_false_stays_for_a_rematch(server_port: int) -> None:
    with trio.fail_after(30):
        async with connect(f"ws://127.0.0.1:{server_port}/ws", name="ada") as client:
            joined = await client.create_room("tictactoe", bots={1: "random"})
            assert joined.seat is not None
            room_id = joined.room.room_id
            bot = StrategyBot("tictactoe", "random", seed=3)
            result = await play_room(client, bot, room_id, joined.seat, leave=False)
            assert result.completed and await open_rooms(server_port) == 1
            await client.rematch(room_id)  # still seated: the vote is accepted
