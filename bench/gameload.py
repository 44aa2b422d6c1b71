"""Game load benchmark: ``gameserver bot`` playing 100, 500 and 1,000 concurrent
connect-four matches against one ``gameserver serve`` process.

For each N a fresh server starts pinned to core 0 (match logs written to a temporary
directory with ``--fsync never``: the recording code runs, the disk's sync latency is
not what we measure), and ``gameserver bot --strategy random --count 2N`` runs pinned
to core 1, so all N matches are played at once through quick match (each bot plays
``--matches`` matches). Reported: moves per second, the bots' move-to-update latency
(from writing a ``move`` to receiving the ``state`` it produced; p50/p99, as measured
by the SDK), and the server's CPU use over the run (user + system, from /proc) as a
share of its one core. Every run is bounded by ``--timeout``.

Run: ``python bench/gameload.py`` (a few minutes); ``--matches-list 100`` for one size.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import rawws  # noqa: E402

SIZES = [100, 500, 1000]
MARKER_START = "<!-- gameload-benchmark:start -->"
MARKER_END = "<!-- gameload-benchmark:end -->"
TARGET_P99_MS = 50.0


def run_size(matches: int, per_bot: int, timeout: float, tmp: Path) -> dict[str, float]:
    replays = tmp / f"replays-{matches}"
    process, port = _start_recording(replays, tmp)
    try:
        cpu_before = rawws.cpu_seconds(process.pid)
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        bots_before = children.ru_utime + children.ru_stime
        started = time.perf_counter()
        bots = subprocess.run(
            [
                sys.executable, "-m", "gameserver", "bot", "--url", f"ws://127.0.0.1:{port}/ws",
                "--game", "connect4", "--strategy", "random", "--count", str(2 * matches),
                "--matches", str(per_bot), "--seed", "1", "--json", "--timeout", str(timeout),
            ],
            cwd=ROOT, capture_output=True, text=True, timeout=timeout + 60,
            preexec_fn=lambda: (os.sched_setaffinity(0, {rawws.CLIENT_CORE}), rawws.raise_nofile(30000)),
        )
        wall = time.perf_counter() - started
        cpu = rawws.cpu_seconds(process.pid) - cpu_before
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        bots_cpu = children.ru_utime + children.ru_stime - bots_before
        rss = rawws.rss_kib(process.pid) / 1024
    finally:
        process.terminate()
        process.wait(30)
    if not bots.stdout.strip():
        raise RuntimeError(f"gameserver bot failed: {bots.stderr[-2000:]}")
    report = json.loads(bots.stdout)
    return {
        "matches": report["matches"],
        "moves": report["moves"],
        "seconds": report["seconds"],
        "moves_per_second": report["moves_per_second"],
        "p50": report["latency_ms_p50"],
        "p99": report["latency_ms_p99"],
        "errors": report["errors"],
        "ok": report["ok"],
        "server_cpu": cpu / wall,
        "bots_cpu": bots_cpu / wall,
        "server_cpu_per_move_us": cpu / max(1, report["moves"]) * 1e6,
        "rss_mib": rss,
    }


def _start_recording(replays: Path, data_dir: Path) -> tuple[subprocess.Popen[str], int]:
    """Like ``rawws.start_gameserver`` but recording match logs (without fsync)."""
    command = [
        sys.executable, "-m", "gameserver", "serve", "--port", "0", "--replays", str(replays),
        "--fsync", "never", "--no-recover", "--data-dir", str(data_dir), "--log-level",
        "WARNING", "--max-connections", "20000", "--max-connections-per-ip", "20000",
        "--max-rooms", "20000", "--no-compression",
    ]
    process = subprocess.Popen(
        command, cwd=ROOT, stdout=subprocess.PIPE, text=True,
        preexec_fn=lambda: (os.sched_setaffinity(0, {rawws.SERVER_CORE}), rawws.raise_nofile(30000)),
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    found = re.search(r":(\d+)/\s*$", line)
    if not found:
        process.kill()
        raise RuntimeError(f"gameserver did not start: {line!r}")
    return process, int(found.group(1))


def write_report(results: dict[int, dict[str, float]], per_bot: int) -> str:
    from fanout import machine

    lines = [
        MARKER_START,
        "## Game load: concurrent connect-four matches",
        "",
        "`python bench/gameload.py`: `gameserver bot --game connect4 --strategy random",
        f"--count 2N --matches {per_bot}` (pinned to core 1) against one `gameserver serve`",
        "(pinned to core 0, match logs recorded with `--fsync never`). All N matches run at",
        "once. Latency is the SDK's move-to-update time (from writing a `move` to receiving",
        "the `state` it produced), so it includes the bots' own process, which runs all",
        "2N SDK clients on one core. Server CPU is its user + system time over the run",
        "divided by the wall time (1.0 = its core is saturated); bots CPU likewise for the",
        "bot process.",
        "",
        f"Machine: {machine()}.",
        "",
        "| matches at once | matches played | moves | moves/s | p50 ms | p99 ms "
        "| server CPU | bots CPU | server CPU per move | server RSS | errors |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for size in sorted(results):
        r = results[size]
        lines.append(
            f"| {size:,} | {r['matches']:,.0f} | {r['moves']:,.0f} | {r['moves_per_second']:,.0f} "
            f"| {r['p50']:.1f} | {r['p99']:.1f} | {r['server_cpu']:.2f} | {r['bots_cpu']:.2f} "
            f"| {r['server_cpu_per_move_us']:,.0f} µs | {r['rss_mib']:,.0f} MiB | {r['errors']:.0f} |"
        )
    top = results[max(results)]
    verdict = "met" if top["p99"] < TARGET_P99_MS else "NOT met"
    lines += [
        "",
        f"Target: {max(results):,} concurrent connect-four matches with p99 < "
        f"{TARGET_P99_MS:g} ms: {top['p99']:.1f} ms, {verdict}.",
        "",
        "![Game load: latency by concurrent matches](gameload.png)",
        MARKER_END,
    ]
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--matches-list", nargs="+", type=int, default=SIZES)
    parser.add_argument("--per-bot", type=int, default=2, help="matches each bot plays")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds per size")
    args = parser.parse_args()
    os.sched_setaffinity(0, {rawws.CLIENT_CORE})
    results: dict[int, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for size in args.matches_list:
            result = run_size(size, args.per_bot, args.timeout, Path(tmp))
            results[size] = result
            print(
                f"{size:5} matches at once: {result['matches']:.0f} played, "
                f"{result['moves']:.0f} moves, {result['moves_per_second']:,.0f} moves/s, "
                f"p50 {result['p50']} ms, p99 {result['p99']} ms, server CPU "
                f"{result['server_cpu']:.2f} ({result['server_cpu_per_move_us']:.0f} us/move), "
                f"bots CPU {result['bots_cpu']:.2f}, "
                f"errors {result['errors']}, ok {result['ok']}",
                flush=True,
            )
    if set(args.matches_list) == set(SIZES):
        from plot import bar_chart, update_docs

        section = write_report(results, args.per_bot)
        print(section)
        bar_chart(
            ROOT / "docs" / "gameload.png", "move to update ms by concurrent matches",
            [(f"{size}", [results[size]["p50"], results[size]["p99"]]) for size in SIZES],
            ["p50", "p99"],
        )
        update_docs(section, MARKER_START, MARKER_END)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
