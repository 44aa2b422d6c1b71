"""``gameserver serve --redis``, one node at a time: match logs in Redis streams, written
through the fenced append before anything is sent; rooms taken back from their streams
after kill -9 by the same node id or, once the lease ran out, by another node id.

Real redis-server, real ``gameserver serve`` processes, real SDK clients.
"""

from __future__ import annotations

import json
import signal
import socket
import subprocess
from pathlib import Path

import trio

from gameserver.client import connect
from gameserver.client.client import GameClient
from gameserver.cluster.redis_api import Script, open_redis
from gameserver.cluster.lobby_registry import parse_entry
from gameserver.protocol.messages import MatchOver, RatingUpdate, RoomSummary
from gameserver.replays.loader import load_match
from gameserver.replays.records import Moved
from gameserver.replays.simulate import resimulate

from .conftest import RedisServer
from .nodes import http_get, load_log, serve_args, start_node

# Reads what the tests check in Redis (the server never runs these).
READ_ROOM = Script("test_read_room", "return redis.call('HMGET', KEYS[1], 'owner', 'epoch')")
READ_LOBBY = Script("test_read_lobby", "return redis.call('HGETALL', KEYS[1])")
LEASE_ALIVE = Script("test_lease_alive", "return redis.call('EXISTS', KEYS[1])")

#: Columns alice (seat 0) and bob (seat 1) play in turn; alice wins on the 7th move.
COLUMNS = (0, 1, 0, 1, 0, 1, 0)


async def _play(clients: tuple[GameClient, GameClient], room_id: str, moves: range) -> int:
    """Play ``COLUMNS[moves]``; return the version after the last one."""
    version = moves.start
    for index in moves:
        version = await clients[index % 2].move(
            room_id, {"column": COLUMNS[index]}, version=version
        )
    return version


async def _wait_over(client: GameClient) -> MatchOver:
    with trio.fail_after(30):
        async for event in client.events():
            if isinstance(event, MatchOver):
                return event
    raise AssertionError("the events ended before the match")


async def _room_owner(url: str, room_id: str) -> tuple[str, int]:
    async with open_redis(url) as api:
        owner, epoch = await api.run_script(READ_ROOM, [f"gs:room:{room_id}"], [])
    return owner.decode(), int(epoch)


async def _lobby(url: str) -> dict[str, tuple[str, RoomSummary]]:
    async with open_redis(url) as api:
        flat = await api.run_script(READ_LOBBY, ["gs:lobby"], [])
    found = {}
    for room_id, entry in zip(flat[::2], flat[1::2]):
        node, _token, summary = parse_entry(entry)
        found[room_id.decode()] = (node, summary)
    return found


async def _half_match_then_kill(tmp_path: Path, redis: RedisServer) -> tuple[str, list[str]]:
    """node-a: alice creates a public connect4 room, bob joins, four moves; check the
    stream holds each acknowledged move and the lobby lists the room (and carol's
    waiting room); kill -9 node-a. Return the room id and the two players' tokens."""
    node = await start_node(tmp_path / "a", redis.url, "node-a")
    try:
        async with (
            connect(node.url, name="alice") as alice,
            connect(node.url, name="bob") as bob,
            connect(node.url, name="carol") as carol,
        ):
            waiting = (await carol.create_room("connect4", players=2)).room.room_id
            joined = await alice.create_room("connect4", players=2)
            room_id = joined.room.room_id
            await bob.join_room(room_id)
            for moves in (range(0, 2), range(2, 4)):
                version = await _play((alice, bob), room_id, moves)
                # Acknowledged, so already in the stream (durable before broadcast).
                loaded = await load_log(redis.url, f"{room_id}-1")
                assert [r.version for r in loaded.records if isinstance(r, Moved)] == list(
                    range(1, version + 1)
                )
            assert await _room_owner(redis.url, room_id) == ("node-a", 1)
            with trio.fail_after(10):
                while (await _lobby(redis.url)).get(room_id, (None,))[0] != "node-a":
                    await trio.sleep(0.05)
            assert (await _lobby(redis.url))[waiting][0] == "node-a"
            listed = (await _lobby(redis.url))[room_id][1]
            assert listed.status.value == "playing" and listed.players == 2
            tokens = [alice.token, bob.token]
            await node.kill_9()
    finally:
        await node.stop()
    assert all(tokens)
    return room_id, tokens  # type: ignore[return-value]


async def _connected(
    url: str, name: str, *, task_status: trio.TaskStatus[GameClient] = trio.TASK_STATUS_IGNORED
) -> None:
    """An SDK client for the caller's nursery: cancel the nursery to close it."""
    async with connect(url, name=name) as client:
        task_status.started(client)
        await trio.sleep_forever()


async def _lease_gone(url: str, node_id: str) -> None:
    async with open_redis(url) as api:
        with trio.fail_after(10):
            while await api.run_script(LEASE_ALIVE, [f"gs:node:{node_id}"], []):
                await trio.sleep(0.05)


async def _resume_and_finish(url: str, room_id: str, tokens: list[str]) -> None:
    await _resume_and_finish_from(url, room_id, tokens, 4)


async def _resume_and_finish_from(url: str, room_id: str, tokens: list[str], done: int) -> None:
    """Resume both players on ``url`` with ``tokens``; play from move ``done`` to the end."""
    async with (
        connect(url, name="alice", token=tokens[0]) as alice,
        connect(url, name="bob", token=tokens[1]) as bob,
    ):
        assert alice.resumed and [(s.room_id, s.seat) for s in alice.seats] == [(room_id, 0)]
        assert bob.resumed and [(s.room_id, s.seat) for s in bob.seats] == [(room_id, 1)]
        with trio.fail_after(10):
            while room_id not in alice.states:
                await trio.sleep(0.01)
        assert alice.states[room_id].version == done
        assert await _play((alice, bob), room_id, range(done, 7)) == 7
        over = await _wait_over(bob)
        assert over.outcome.winners == (0,)


async def _check_lobby_after_takeover(redis_url: str, room_id: str, node_id: str) -> None:
    """Only the room taken over is listed, by its new owner: the waiting room of the
    killed process (never claimed: it had no log) was dropped."""
    with trio.fail_after(10):
        while (await _lobby(redis_url)).get(room_id, ("",))[0] != node_id:
            await trio.sleep(0.05)
    lobby = await _lobby(redis_url)
    assert list(lobby) == [room_id] and lobby[room_id][0] == node_id


async def _check_finished_log(redis_url: str, room_id: str, replays: Path) -> None:
    loaded = await load_log(redis_url, f"{room_id}-1")
    assert loaded.complete and loaded.moves == 7
    versions = [r.version for r in loaded.records if isinstance(r, Moved)]
    assert versions == list(range(1, 8))  # contiguous, none applied twice
    resimulate(loaded)  # raises on a state-hash mismatch
    # The owner copied the finished log to its replays directory, byte for byte.
    copy = load_match(replays / f"{room_id}-1.gsr")
    assert copy.header == loaded.header and copy.records == loaded.records


async def test_kill_9_then_same_node_id_takes_its_rooms_back(
    tmp_path: Path, redis_server: RedisServer
) -> None:
    room_id, tokens = await _half_match_then_kill(tmp_path, redis_server)
    # Same node id: it waits for its old lease to run out, then claims its rooms anew.
    node = await start_node(tmp_path / "a", redis_server.url, "node-a")
    try:
        assert await _room_owner(redis_server.url, room_id) == ("node-a", 2)
        await _check_lobby_after_takeover(redis_server.url, room_id, "node-a")
        await _resume_and_finish(node.url, room_id, tokens)
        await _check_finished_log(redis_server.url, room_id, tmp_path / "a" / "replays")
    finally:
        assert await node.stop() == 0


async def test_another_node_takes_over_after_the_lease_and_tokens_still_resume(
    tmp_path: Path, redis_server: RedisServer
) -> None:
    room_id, tokens = await _half_match_then_kill(tmp_path, redis_server)
    await _lease_gone(redis_server.url, "node-a")  # else node-b would refuse to start
    # Another node id, other files: the token secret is the cluster's (in Redis).
    node = await start_node(tmp_path / "b", redis_server.url, "node-b")
    try:
        assert await _room_owner(redis_server.url, room_id) == ("node-b", 2)
        await _check_lobby_after_takeover(redis_server.url, room_id, "node-b")
        await _resume_and_finish(node.url, room_id, tokens)
        await _check_finished_log(redis_server.url, room_id, tmp_path / "b" / "replays")
        with trio.fail_after(10):  # the room closes after the match: unlisted, released
            while room_id in await _lobby(redis_server.url):
                await trio.sleep(0.05)
    finally:
        assert await node.stop() == 0


def _redis_command(port: int, *words: str) -> bytes:
    command = f"*{len(words)}\r\n" + "".join(f"${len(w)}\r\n{w}\r\n" for w in words)
    with socket.create_connection(("127.0.0.1", port), timeout=5) as conn:
        conn.sendall(command.encode())
        return conn.recv(1024)


def test_a_redis_that_may_lose_writes_is_refused(tmp_path: Path, redis_server: RedisServer) -> None:
    assert _redis_command(redis_server.port, "CONFIG", "SET", "appendfsync", "everysec") == b"+OK\r\n"
    result = subprocess.run(
        serve_args(tmp_path, redis_server.url, "node-a"), capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 1, result
    [line] = result.stderr.splitlines()
    assert line.startswith("gameserver: Redis could lose acknowledged moves: appendfsync is")


def test_an_unreachable_redis_is_one_line_and_status_1(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = subprocess.run(
        serve_args(tmp_path, f"redis://127.0.0.1:{port}/0", "node-a"),
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 1, result
    [line] = result.stderr.splitlines()
    assert line.startswith("gameserver: Redis did not answer"), line


async def test_redis_down_pauses_the_room_and_the_move_lands_once_it_is_back(
    tmp_path: Path, redis_server: RedisServer
) -> None:
    # A lease longer than Redis is down: the node keeps its rooms across the restart.
    node = await start_node(tmp_path / "a", redis_server.url, "node-a", "--lease-time", "60")
    try:
        async with connect(node.url, name="alice") as alice, connect(node.url, name="bob") as bob:
            room_id = (await alice.create_room("connect4", players=2)).room.room_id
            await bob.join_room(room_id)
            await _play((alice, bob), room_id, range(0, 2))
            redis_server.kill()
            versions: list[int] = []
            async with trio.open_nursery() as nursery:

                async def move() -> None:
                    versions.append(await _play((alice, bob), room_id, range(2, 3)))

                nursery.start_soon(move)
                # The move cannot be acknowledged while its record cannot be written.
                await trio.sleep(0.5)
                assert versions == [] and alice.states[room_id].version == 2
                redis_server.start()
            assert versions == [3]
            assert await _play((alice, bob), room_id, range(3, 7)) == 7
            assert (await _wait_over(bob)).outcome.winners == (0,)
    finally:
        assert await node.stop() == 0
    loaded = await load_log(redis_server.url, f"{room_id}-1")
    assert loaded.complete
    assert [r.version for r in loaded.records if isinstance(r, Moved)] == list(range(1, 8))


async def test_a_stalled_node_is_taken_over_and_when_it_wakes_it_is_fenced_and_stops(
    tmp_path: Path, redis_server: RedisServer
) -> None:
    node_a = await start_node(tmp_path / "a", redis_server.url, "node-a")
    node_b = await start_node(tmp_path / "b", redis_server.url, "node-b")
    try:
        async with trio.open_nursery() as nursery:
            alice = await nursery.start(_connected, node_a.url, "alice")
            bob = await nursery.start(_connected, node_a.url, "bob")
            room_id = (await alice.create_room("connect4", players=2)).room.room_id
            await bob.join_room(room_id)
            await _play((alice, bob), room_id, range(0, 2))
            tokens = [alice.token, bob.token]
            node_a.process.send_signal(signal.SIGSTOP)
            # node-b, running, takes the room over once node-a's lease ran out.
            with trio.fail_after(20):
                while await _room_owner(redis_server.url, room_id) != ("node-b", 2):
                    await trio.sleep(0.05)
            # A move reaches the stalled node, which wakes up: it must not be applied.
            answered: list[int] = []

            async def stale_move() -> None:
                answered.append(await alice.move(room_id, {"column": 6}, version=2))

            nursery.start_soon(stale_move)
            await trio.sleep(0.2)
            node_a.process.send_signal(signal.SIGCONT)
            with trio.fail_after(20):
                await node_a.process.wait()
            nursery.cancel_scope.cancel()
        assert answered == []
        assert node_a.process.returncode == 1
        loaded = await load_log(redis_server.url, f"{room_id}-1")
        assert [r.version for r in loaded.records if isinstance(r, Moved)] == [1, 2]
        await _resume_and_finish_from(node_b.url, room_id, tokens, 2)
    finally:
        node_a.process.send_signal(signal.SIGCONT)
        await node_a.stop()
        assert await node_b.stop() == 0


async def test_a_rated_match_on_a_node_is_rated_and_its_replay_served(
    tmp_path: Path, redis_server: RedisServer
) -> None:
    """The finished stream is copied to the node's replays directory before the match
    is rated, so ratings and the HTTP replay API read it as any log."""
    node = await start_node(tmp_path / "a", redis_server.url, "node-a")
    try:
        async with connect(node.url, name="Alice") as alice, connect(node.url, name="Bob") as bob:
            await alice.register("alice-password-1")
            await bob.register("bob-password-22")
            room_id = (await alice.create_room("connect4", players=2, rated=True)).room.room_id
            await bob.join_room(room_id)
            await _play((alice, bob), room_id, range(0, 7))
            with trio.fail_after(30):
                async for event in alice.events():
                    if isinstance(event, RatingUpdate):
                        break
            assert event.room_id == room_id
            assert [change.after > change.before for change in event.changes] == [True, False]
        status, body = await http_get(node.port, f"/api/replays/{room_id}-1")
        assert status == 200
        replay = json.loads(body)
        assert replay["header"]["id"] == f"{room_id}-1" and replay["header"]["length"] == 7
    finally:
        assert await node.stop() == 0
