"""Cluster load benchmark: server CPU per move of one cluster node against one single
process, under the same raw-socket connect-four load (issue 17, "Benchmarks").

Starts its own ``redis-server`` (``appendonly yes``, ``appendfsync always``, a free
loopback port, files in a temporary directory under ``--dir``), then plays interleaved
rounds; each round measures, one after the other:

- ``single``: ``gameserver serve`` recording match logs to files with ``--fsync always``;
- ``cluster``: ``gameserver serve --redis URL`` (one node, every player connected to it),
  its match logs appended to Redis (fdatasync'ed by Redis before it replies).

Both get ``--matches`` instant connect-four matches of two raw-socket players
(``gameload.run_raw``: each player moves the moment its state arrives, rematches at the
end) for ``--seconds``. Servers and Redis are pinned to core 0, the players to core 1.
Reported per round: moves/s, the server's CPU per move (user + system from /proc), and
Redis's own CPU per move over the same period; then medians and the ratio of the
node's CPU per move to the single process's (the issue's goal: at most 1.5x), with and
without Redis's share. Redis is emptied (``FLUSHALL``) between rounds.

Run: ``.venv/bin/python bench/cluster_load.py`` (about two minutes); ``--quick`` for a
short smoke run.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import gameload  # noqa: E402
import rawws  # noqa: E402

# No rate limit: instant players may send faster than a person would.
_UNLIMITED = ("--rate", "1000000", "--burst", "1000000")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _redis_command(port: int, command: bytes) -> bytes:
    """Send one inline command to Redis on ``port``; return the start of its answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as conn:
        conn.sendall(command + b"\r\n")
        return conn.recv(256)


def start_redis(directory: Path) -> tuple[subprocess.Popen[bytes], int]:
    """A durable ``redis-server`` pinned to the server core; the caller kills it."""
    executable = shutil.which("redis-server")
    if executable is None:
        raise SystemExit("redis-server is not installed")
    port = _free_port()
    process = subprocess.Popen(
        [executable, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(directory),
         "--appendonly", "yes", "--appendfsync", "always", "--save", "",
         "--logfile", str(directory / "redis.log")],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        preexec_fn=lambda: os.sched_setaffinity(0, {rawws.SERVER_CORE}),
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if _redis_command(port, b"PING").startswith(b"+PONG"):
                return process, port
        except OSError:
            time.sleep(0.05)
    process.kill()
    raise SystemExit("redis-server did not start")


def measure(
    kind: str, extra: tuple[str, ...], redis: subprocess.Popen[bytes], args: argparse.Namespace,
    tmp: Path,
) -> dict[str, float]:
    """One ``run_raw`` against a fresh server of ``kind``; adds Redis's CPU per move."""
    directory = Path(tempfile.mkdtemp(prefix=f"{kind}-", dir=tmp))
    server = gameload._start_recording(
        directory / "replays", directory, fsync="always", extra=(*_UNLIMITED, *extra)
    )
    redis_cpu: list[float] = []

    def read_redis() -> None:
        redis_cpu.append(rawws.cpu_seconds(redis.pid))

    def on_measure() -> None:
        # run_raw measures for ``seconds`` from this call: read Redis at both ends.
        read_redis()
        threading.Timer(args.seconds, read_redis).start()

    try:
        result = gameload.run_raw(
            args.matches, args.seconds, directory, server=server, on_measure=on_measure
        )
    finally:
        server[0].terminate()
        server[0].wait(30)
    time.sleep(0.2)  # the timer has fired by now (run_raw returned after the period)
    moves = result["moves_per_second"] * args.seconds
    result["redis_cpu_per_move_us"] = (redis_cpu[1] - redis_cpu[0]) / max(1, moves) * 1e6
    shutil.rmtree(directory, ignore_errors=True)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--matches", type=int, default=100, help="concurrent matches")
    parser.add_argument("--seconds", type=float, default=10.0, help="measured seconds per server")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds")
    parser.add_argument("--dir", type=Path, default=None, help="where logs and Redis write")
    parser.add_argument("--quick", action="store_true", help="one short round (a smoke run)")
    args = parser.parse_args()
    if args.quick:
        args.matches, args.seconds, args.rounds = 10, 2.0, 1
    os.sched_setaffinity(0, {rawws.CLIENT_CORE})
    rawws.raise_nofile(30000)
    results: dict[str, list[dict[str, float]]] = {"single": [], "cluster": []}
    with tempfile.TemporaryDirectory(dir=args.dir) as name:
        tmp = Path(name)
        (tmp / "redis").mkdir()
        redis, port = start_redis(tmp / "redis")
        url = f"redis://127.0.0.1:{port}/0"
        try:
            for number in range(1, args.rounds + 1):
                for kind, extra in (
                    ("single", ()),
                    ("cluster", ("--redis", url, "--node-id", f"bench-{number}")),
                ):
                    result = measure(kind, extra, redis, args, tmp)
                    _redis_command(port, b"FLUSHALL")
                    results[kind].append(result)
                    print(
                        f"round {number} {kind:7}: {result['moves_per_second']:7.0f} moves/s, "
                        f"server {result['server_cpu_per_move_us']:5.0f} us/move "
                        f"(CPU {result['server_cpu']:.2f}), Redis "
                        f"{result['redis_cpu_per_move_us']:4.0f} us/move, "
                        f"p50 {result['p50']:.1f} ms p99 {result['p99']:.1f} ms",
                        flush=True,
                    )
        finally:
            redis.kill()
            redis.wait()
    print_summary(results)
    return 0


def print_summary(results: dict[str, list[dict[str, float]]]) -> None:
    """Medians per kind and the cluster/single ratios of CPU per move."""
    medians = {
        kind: {key: statistics.median(r[key] for r in rows) for key in rows[0]}
        for kind, rows in results.items()
    }
    for kind, median in medians.items():
        print(
            f"median {kind:7}: {median['moves_per_second']:.0f} moves/s, server "
            f"{median['server_cpu_per_move_us']:.0f} us/move, Redis "
            f"{median['redis_cpu_per_move_us']:.0f} us/move, p50 {median['p50']:.1f} ms, "
            f"p99 {median['p99']:.1f} ms"
        )
    single, cluster = results["single"], results["cluster"]
    ratios = [c["server_cpu_per_move_us"] / s["server_cpu_per_move_us"] for s, c in zip(single, cluster)]
    with_redis = [
        (c["server_cpu_per_move_us"] + c["redis_cpu_per_move_us"]) / s["server_cpu_per_move_us"]
        for s, c in zip(single, cluster)
    ]
    print(
        f"cluster/single server CPU per move: median {statistics.median(ratios):.2f}x "
        f"(rounds {', '.join(f'{r:.2f}' for r in ratios)}); with Redis's CPU: median "
        f"{statistics.median(with_redis):.2f}x (goal: at most 1.5x)"
    )


if __name__ == "__main__":
    raise SystemExit(main())
