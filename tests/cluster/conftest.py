"""A real ``redis-server`` per test: its own free loopback port, its own temporary
directory, the durable configuration cluster mode requires, stopped after the test.

``RedisServer.kill()`` and ``start()`` restart it on the same port and directory, so a
test can check what survives a crash of Redis (its append-only file is replayed).
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from gameserver.cluster.leases import Claim, NodeLease
from gameserver.cluster.match_stream import MatchStreams
from gameserver.cluster.redis_api import RedisAPI, open_redis
from gameserver.replays.loader import LoadedMatch

#: How long a starting Redis may take to answer PING (a hang guard, not a timing assert).
START_TIMEOUT = 30.0


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _answers_ping(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1.0) as conn:
            conn.sendall(b"PING\r\n")
            return conn.recv(64).startswith(b"+PONG")
    except OSError:
        return False


class RedisServer:
    """One ``redis-server`` process on 127.0.0.1:``port`` with its files in ``directory``."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.port = _free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        """Start it (again, on the same port and directory) and wait until it answers."""
        executable = shutil.which("redis-server")
        if executable is None:
            pytest.fail("redis-server is not installed (the README's test command installs it)")
        self.process = subprocess.Popen(
            [
                executable, "--port", str(self.port), "--bind", "127.0.0.1",
                "--dir", str(self.directory), "--appendonly", "yes",
                "--appendfsync", "always", "--save", "", "--daemonize", "no",
                "--logfile", str(self.directory / "redis.log"),
            ],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + START_TIMEOUT
        while not _answers_ping(self.port):
            if self.process.poll() is not None or time.monotonic() > deadline:
                log = (self.directory / "redis.log").read_text(errors="replace")
                pytest.fail(f"redis-server did not start on port {self.port}:\n{log[-2000:]}")
            time.sleep(0.02)

    def kill(self) -> None:
        """Kill it with SIGKILL (no chance to save anything) and wait until it is gone."""
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    """A running ``redis-server`` with ``appendonly yes`` and ``appendfsync always``."""
    directory = tmp_path / "redis"
    directory.mkdir()
    server = RedisServer(directory)
    server.start()
    try:
        yield server
    finally:
        server.kill()


@pytest.fixture
async def redis_api(redis_server: RedisServer) -> AsyncIterator[RedisAPI]:
    """A ``RedisAPI`` connected to ``redis_server``."""
    async with open_redis(redis_server.url) as api:
        yield api


# -- match logs to write (the committed samples of tests/replays) ---------------------

SAMPLES = Path(__file__).resolve().parent.parent / "replays" / "samples"
SAMPLE = SAMPLES / "v2-liarsdice-three-bots.gsr"
UNFINISHED = SAMPLES / "v2-connect4-crashed.gsr"


async def owner(api: RedisAPI, room_id: str, node_id: str = "node-a") -> tuple[NodeLease, Claim]:
    """A registered node (lease of 30 s, no heartbeats) and its claim of ``room_id``."""
    node = NodeLease(api, node_id, lease_time=30)
    await node.register()
    return node, await node.claim(room_id)


async def write_log(streams: MatchStreams, claim: Claim, loaded: LoadedMatch) -> None:
    """Record ``loaded`` through the fenced append, a few records per call as a room does."""
    recorder = await streams.create(claim, loaded.header)
    records = list(loaded.records)
    while records:
        batch, records = records[:3], records[3:]
        await recorder.append_many(batch)
