"""Profile the server's hot path: a move in, a state out to every participant.

Runs the real server (``run_server``, no replays, no compression) in a child process
pinned to core 0 under ``cProfile``, drives it from this process (core 1) with the
fan-out load generator of ``bench/fanout.py`` (one connect-four room, two players,
N spectators, random moves), then stops the server and prints the functions with the
most own time and the most cumulative time. Only the moves are profiled: the server
starts profiling when told to (after the spectators are seated).

Run: ``python bench/profile_hotpath.py [--spectators 1000] [--moves 200] [--top 25]``;
a run with the defaults also writes the top costs into docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import rawws  # noqa: E402

MARKER_START = "<!-- profile-hotpath:start -->"
MARKER_END = "<!-- profile-hotpath:end -->"
DEFAULTS = {"spectators": 1000, "moves": 200}


def serve_profiled(stats_path: str, data_dir: str) -> None:
    """Run the server; SIGUSR1 starts the profiler, SIGTERM stops and writes the stats."""
    import trio

    from gameserver.app import ServerConfig, run_server
    from gameserver.rooms.service import ServiceConfig
    from gameserver.ws.config import ServerConfig as WebSocketServerConfig

    profiler = cProfile.Profile()
    config = ServerConfig(
        port=0,
        replays_dir=None,
        data_dir=Path(data_dir),
        static_dir=None,
        recover=False,
        service=ServiceConfig(message_rate=1e6, message_burst=1e6, max_rooms=20000),
        websocket=WebSocketServerConfig(
            ping_interval=None, compression=False, max_connections=20000,
            max_connections_per_ip=20000, max_message_size=2**20,
        ),
    )

    async def main() -> None:
        with trio.open_signal_receiver(signal.SIGUSR1, signal.SIGTERM) as signals:
            async with trio.open_nursery() as nursery:
                port = await nursery.start(run_server, config)
                print(f"ready {port}", flush=True)
                async for signum in signals:
                    if signum == signal.SIGUSR1:
                        profiler.enable()
                    else:
                        profiler.disable()
                        nursery.cancel_scope.cancel()
                        break

    trio.run(main)
    profiler.dump_stats(stats_path)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--serve", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("--spectators", type=int, default=1000)
    parser.add_argument("--moves", type=int, default=200)
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args()
    if args.serve:
        serve_profiled(*args.serve)
        return 0

    from fanout import Driver

    os.sched_setaffinity(0, {rawws.CLIENT_CORE})
    rawws.raise_nofile(30000)
    with tempfile.TemporaryDirectory() as tmp:
        stats_path = os.path.join(tmp, "server.prof")
        process = subprocess.Popen(
            [sys.executable, __file__, "--serve", stats_path, tmp],
            cwd=ROOT, stdout=subprocess.PIPE, text=True,
            preexec_fn=lambda: (os.sched_setaffinity(0, {rawws.SERVER_CORE}), rawws.raise_nofile(30000)),
        )
        assert process.stdout is not None
        line = process.stdout.readline()
        if not line.startswith("ready "):
            process.kill()
            raise RuntimeError(f"server did not start: {line!r}")
        driver = Driver(int(line.split()[1]), args.spectators)
        try:
            driver.setup()
            driver.run(5, warmup=0)
            process.send_signal(signal.SIGUSR1)
            latencies = sorted(driver.run(args.moves, warmup=0))
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(60)
            driver.close()
        print(
            f"{args.moves} moves, {args.spectators} spectators; under the profiler: "
            f"p50 {rawws.percentile(latencies, 50) * 1000:.1f} ms, "
            f"p99 {rawws.percentile(latencies, 99) * 1000:.1f} ms"
        )
        out = io.StringIO()
        stats = pstats.Stats(stats_path, stream=out)
        stats.strip_dirs()
        stats.sort_stats("tottime").print_stats(args.top)
        stats.sort_stats("cumulative").print_stats(args.top)
        print(out.getvalue())
        if args.spectators == DEFAULTS["spectators"] and args.moves == DEFAULTS["moves"]:
            from plot import update_docs

            update_docs(report(stats, args.moves, args.spectators), MARKER_START, MARKER_END)
    return 0


def report(stats: pstats.Stats, moves: int, spectators: int) -> str:
    """The docs section: the functions with the most own time, per move."""
    rows = stats.stats  # type: ignore[attr-defined]
    total = sum(entry[2] for entry in rows.values())
    top = sorted(rows.items(), key=lambda item: item[1][2], reverse=True)[:12]
    lines = [
        MARKER_START,
        "## Profile of the hot path",
        "",
        f"`python bench/profile_hotpath.py`: the server under `cProfile` (core 0) while the",
        f"fan-out load generator plays {moves} moves in one room with {spectators:,}",
        "spectators (core 1). Own time per move, in the profiler (which slows Python code",
        "down several times but not system calls):",
        "",
        "| function | calls per move | own µs per move | share |",
        "|---|---:|---:|---:|",
    ]
    for (filename, line, name), entry in top:
        calls, own = entry[1], entry[2]
        where = f"{Path(filename).name}:{line} {name}" if line else name
        lines.append(
            f"| `{where}` | {calls / moves:,.0f} | {own / moves * 1e6:,.0f} "
            f"| {own / total * 100:.0f} % |"
        )
    lines += [
        "",
        "Reading it: the room encodes the spectators' `state` once and then the cost is one",
        "`write` system call per spectator (`posix.write`, from `WebSocket.try_send_frame`):",
        "on this virtual machine a small loopback TCP write costs 10-30 µs, so a thousand",
        "recipients cost 10-30 ms whatever the language. What Python adds around each write",
        "(the outbox check, `Client.send`, `try_send_frame`) is a few µs; the time in",
        "`epoll.poll` is the server waiting for the next move. Before the direct write, each",
        "spectator's message went outbox -> writer task -> WebSocket writer task ->",
        "`send_all`: four task switches per recipient, and trio's scheduling dominated the",
        "profile (`_nonblocking_helper`, `reschedule`, `outcome.Value`).",
        MARKER_END,
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    raise SystemExit(main())
