"""``gameserver serve --workers 2 --redis``: one parent, two worker processes sharing one
port (SO_REUSEPORT), each a node of the cluster. Real redis-server, real processes,
real SDK clients; which worker serves a client is read from Redis (the node that lists
the room the client opened in the lobby)."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import pytest
import trio

from gameserver.cli import main
from gameserver.client import connect
from gameserver.client.client import GameClient
from gameserver.cluster.redis_api import Script, open_redis
from gameserver.protocol.messages import MatchOver
from gameserver.replays.records import Moved
from gameserver.replays.simulate import resimulate

from .conftest import RedisServer
from .nodes import Node, load_log, start_node

LISTED = Script("test_listed", "return redis.call('HGET', KEYS[1], ARGV[1])")

#: Columns the two players (seat 0, seat 1) play in turn; seat 0 wins on the 7th move.
COLUMNS = (0, 1, 0, 1, 0, 1, 0)

#: Clients opened until both workers serve one (all on one worker: about 2**-19).
MAX_CLIENTS = 20


def _children(pid: int) -> set[int]:
    """The process ids of ``pid``'s children (Linux /proc)."""
    children = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError):
            # "PID (COMM) STATE PPID ...": COMM may hold spaces, so split after it.
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) == pid:
                children.add(int(stat.parent.name))
    return children


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


async def _start_workers(tmp_path: Path, redis: RedisServer) -> Node:
    parent = await start_node(tmp_path / "box", redis.url, "box", "--workers", "2")
    assert len(_children(parent.process.pid)) == 2  # the parent serves nothing itself
    return parent


async def _owner(redis_url: str, room_id: str) -> str:
    """The node that lists the public room ``room_id`` in ``gs:lobby`` (written in the
    background shortly after the room opened): the worker that serves its creator."""
    async with open_redis(redis_url) as api:
        with trio.fail_after(10):
            while (entry := await api.run_script(LISTED, ["gs:lobby"], [room_id])) is None:
                await trio.sleep(0.05)
    assert isinstance(entry, (bytes, str)), entry
    text = entry.decode("latin-1") if isinstance(entry, bytes) else entry
    return text.split(" ", 1)[0]


async def _listed(client: GameClient, room_id: str) -> None:
    """Wait until ``client``'s worker lists ``room_id`` (the mirror reads every 0.5 s)."""
    with trio.fail_after(10):
        while room_id not in {room.room_id for room in await client.list_rooms()}:
            await trio.sleep(0.05)


async def test_two_workers_share_one_port_play_across_workers_and_stop_on_sigterm(
    tmp_path: Path, redis_server: RedisServer
) -> None:
    parent = await _start_workers(tmp_path, redis_server)
    workers = _children(parent.process.pid)
    try:
        async with contextlib.AsyncExitStack() as stack:
            # Each client opens a room on the worker that accepted it; the first room
            # of each worker is kept with its client.
            by_worker: dict[str, tuple[GameClient, str]] = {}
            for index in range(MAX_CLIENTS):
                client = await stack.enter_async_context(connect(parent.url, name=f"p{index}"))
                room_id = (await client.create_room("connect4", players=2)).room.room_id
                by_worker.setdefault(await _owner(redis_server.url, room_id), (client, room_id))
                if len(by_worker) == 2:
                    break
            assert sorted(by_worker) == ["box-w0", "box-w1"]
            (first, room_id), (second, own_room) = by_worker["box-w0"], by_worker["box-w1"]
            await second.leave_room(own_room)
            await _listed(second, room_id)
            joined = await second.join_room(room_id)  # served by box-w0 through the bus
            assert joined.seat == 1
            version = 0
            for index, column in enumerate(COLUMNS):
                mover = (first, second)[index % 2]
                version = await mover.move(room_id, {"column": column}, version=version)
            assert version == len(COLUMNS)
            for client in (first, second):
                with trio.fail_after(20):
                    async for event in client.events():
                        if isinstance(event, MatchOver):
                            assert event.outcome.winners == (0,)
                            break
    finally:
        status = await parent.stop()
    assert status == 0
    assert all(_gone(pid) for pid in workers)
    loaded = await load_log(redis_server.url, f"{room_id}-1")
    assert loaded.complete
    assert [r.version for r in loaded.records if isinstance(r, Moved)] == list(range(1, 8))
    resimulate(loaded)


async def test_a_worker_that_dies_stops_the_group_with_status_1(
    tmp_path: Path, redis_server: RedisServer
) -> None:
    parent = await _start_workers(tmp_path, redis_server)
    killed, other = sorted(_children(parent.process.pid))
    os.kill(killed, 9)
    with trio.fail_after(30):
        status = await parent.process.wait()
    assert status == 1
    assert _gone(other)
    log = (tmp_path / "box" / "node.log").read_text()
    assert "exited with status -9; stopping the other workers" in log


def test_more_than_one_worker_without_redis_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status = main(["serve", "--workers", "2", "--data-dir", str(tmp_path)])
    assert status == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert "--workers: more than 1 only with --redis" in err[0]


def test_a_node_id_too_long_for_the_worker_suffix_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status = main([
        "serve", "--workers", "2", "--redis", "redis://127.0.0.1:1/0",
        "--node-id", "n" * 63, "--data-dir", str(tmp_path),
    ])  # fmt: skip
    assert status == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert "--node-id: with --workers, each worker adds -wN" in err[0]
