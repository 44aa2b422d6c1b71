"""Cluster store benchmark: the cost of one Redis call through ``RedisAPI`` under Trio.

Starts its own ``redis-server`` (``appendonly yes``, ``appendfsync always``, in a
temporary directory on the same disk as ``--dir``), then, in one Trio task, makes
``--calls`` sequential calls of each kind and reports per call:

- ``ping``: the cheapest round trip (the client's own overhead; ``CONFIG GET`` here,
  the cheapest call of the interface);
- ``append``: the fenced append (``scripts.APPEND``) of one 80-byte move record,
  fdatasync'ed by Redis before it replies;
- ``claim``: a room claim that finds the room already ours (no write).

Client CPU is this process's user and kernel time (``getrusage``; Redis's CPU is not
included; on loopback the kernel time includes the TCP work of delivering each request),
latency percentiles are wall time per call. Loopback only.

Run: ``.venv/bin/python bench/cluster_calls.py`` (about ten seconds).
"""

from __future__ import annotations

import argparse
import resource
import socket
import subprocess
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import trio

from gameserver.cluster.leases import NodeLease
from gameserver.cluster.match_stream import MatchStreams
from gameserver.cluster.redis_api import RedisAPI, open_redis


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def start_redis(directory: Path) -> tuple[subprocess.Popen[bytes], int]:
    port = _free_port()
    process = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--dir", str(directory),
         "--appendonly", "yes", "--appendfsync", "always", "--save", ""],
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return process, port
        except OSError:
            time.sleep(0.05)
    process.kill()
    raise SystemExit("redis-server did not start")


async def measure(name: str, call: Callable[[], Awaitable[object]], calls: int) -> None:
    for _ in range(min(100, calls)):  # warm up: connections, script cache
        await call()
    latencies = []
    before, wall = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
    for _ in range(calls):
        started = time.perf_counter()
        await call()
        latencies.append(time.perf_counter() - started)
    after, wall = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter() - wall
    user = (after.ru_utime - before.ru_utime) / calls
    system = (after.ru_stime - before.ru_stime) / calls
    latencies.sort()
    p50, p99 = latencies[len(latencies) // 2], latencies[int(len(latencies) * 0.99)]
    print(
        f"{name:7} client CPU {(user + system) * 1e3:.3f} ms/call (user {user * 1e3:.3f},"
        f" kernel {system * 1e3:.3f})   wall p50 {p50 * 1e3:.3f} ms   p99 {p99 * 1e3:.3f} ms"
        f"   ({calls / wall:.0f} calls/s)"
    )


async def run(url: str, calls: int) -> None:
    async with open_redis(url) as api:
        await bench(api, calls)


async def bench(api: RedisAPI, calls: int) -> None:
    node = NodeLease(api, "bench", lease_time=600)
    await node.register()
    claim = await node.claim("room-bench")
    streams = MatchStreams(api)
    position = 1
    record = bytes(80)

    async def append() -> None:
        nonlocal position
        await streams.append(claim, "match-bench", position, [record])
        position += 1

    await measure("ping", lambda: api.config(["appendfsync"]), calls)
    await measure("append", append, calls)
    await measure("claim", lambda: node.claim("room-bench"), calls)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=2000, help="calls of each kind")
    parser.add_argument("--dir", type=Path, default=Path("."), help="where Redis writes")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=args.dir) as directory:
        process, port = start_redis(Path(directory))
        try:
            trio.run(run, f"redis://127.0.0.1:{port}/0", args.calls)
        finally:
            process.kill()
            process.wait()


if __name__ == "__main__":
    main()
