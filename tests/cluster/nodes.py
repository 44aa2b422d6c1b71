"""Real ``gameserver serve --redis`` processes for the cluster tests."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import trio

from gameserver.cluster.match_stream import MatchStreams
from gameserver.cluster.redis_api import open_redis
from gameserver.replays.loader import LoadedMatch

#: A short lease, so a killed node's rooms are free to take over within a second or two.
LEASE = "1.0"


class Node:
    """One ``gameserver serve --redis`` process and where it listens."""

    def __init__(self, process: trio.Process, port: int) -> None:
        self.process = process
        self.port = port

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws"

    async def kill_9(self) -> None:
        self.process.kill()
        await self.process.wait()

    async def stop(self) -> int:
        """SIGTERM, wait, return the exit status (killing it if it hangs)."""
        if self.process.returncode is None:
            self.process.terminate()
            with trio.move_on_after(20):
                await self.process.wait()
            if self.process.returncode is None:
                self.process.kill()
                await self.process.wait()
        return self.process.returncode


def serve_args(
    directory: Path, redis_url: str, node_id: str | None, *extra: str, port: int = 0
) -> list[str]:
    """The command line of a node with its files in ``directory`` (made if missing)."""
    directory.mkdir(parents=True, exist_ok=True)
    args = [
        sys.executable, "-m", "gameserver", "serve", "--port", str(port),
        "--replays", str(directory / "replays"), "--data-dir", str(directory / "data"),
        "--static", str(directory), "--bot-delay", "0", "--log-level", "WARNING",
        "--redis", redis_url, "--lease-time", LEASE, "--storage-retry", "0.2", *extra,
    ]  # fmt: skip
    if node_id is not None:
        args += ["--node-id", node_id]
    return args


async def start_node(
    directory: Path, redis_url: str, node_id: str | None, *extra: str, port: int = 0
) -> Node:
    """Start a node and return it once it listens (a hang guard of 30 s)."""
    directory.mkdir(parents=True, exist_ok=True)
    with open(directory / "node.log", "ab") as log:  # read it when a test fails
        process = await trio.lowlevel.open_process(
            serve_args(directory, redis_url, node_id, *extra, port=port),
            stdout=subprocess.PIPE, stderr=log,
        )
    assert process.stdout is not None
    output = b""
    with trio.fail_after(30):
        while b"listening on" not in output:
            chunk = await process.stdout.receive_some(4096)
            assert chunk, "the node exited before listening"
            output += chunk
    line = output.decode().split("listening on ", 1)[1].split()[0]
    return Node(process, int(line.rstrip("/").rsplit(":", 1)[1]))


async def load_log(redis_url: str, match_id: str) -> LoadedMatch:
    """The match log ``match_id`` as it is in Redis now."""
    async with open_redis(redis_url) as api:
        return await MatchStreams(api).load(match_id)


async def http_get(port: int, target: str) -> tuple[int, bytes]:
    """One plain HTTP/1.1 GET to a node; its status and body."""
    stream = await trio.open_tcp_stream("127.0.0.1", port)
    async with stream:
        request = f"GET {target} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
        await stream.send_all(request.encode("latin-1"))
        data = b""
        with trio.fail_after(10):
            while chunk := await stream.receive_some(65536):
                data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), body
