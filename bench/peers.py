"""Side by side with its peers: gameserver, Colyseus and boardgame.io serving the same
connect-four load, each driven by its own client library.

Systems (each server is its own process pinned to core 0, the load on core 1):

- ``gameserver --no-replays`` and ``gameserver --fsync always`` (match logs on the disk
  under a temporary directory, every move synced before anyone hears of it), driven by
  the raw-socket players of ``bench/gameload.py`` (``run_raw``);
- Colyseus 0.16 with its default patch rate (50 ms) and with immediate patches
  (``patchRate = null`` and ``broadcastPatch()`` after each change), driven by
  ``colyseus.js``;
- boardgame.io 0.50 (its stock server), driven by ``boardgame.io/client`` over socket.io.

The Colyseus and boardgame.io parts live in ``bench/peers/`` (Node; their npm packages are
installed there with ``npm ci`` when ``node_modules`` is missing). Each scenario is M
matches at once, players moving the instant they may (``instant``) or after a think time
(``paced``). Systems are interleaved in rounds, a fresh server per run, and every figure
is the median of the rounds. The full run rewrites the peers section of
docs/benchmarks.md; ``--quick`` prints a short run and leaves docs/ alone.

Run: ``.venv/bin/python bench/peers.py`` (about 25 minutes) or ``--quick`` (about 2).
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import rawws  # noqa: E402
from gameload import _start_recording, run_raw  # noqa: E402

PEERS = ROOT / "bench" / "peers"
MARKER_START = "<!-- peers-benchmark:start -->"
MARKER_END = "<!-- peers-benchmark:end -->"

SYSTEMS = [
    "gameserver --no-replays",
    "gameserver --fsync always",
    "Colyseus, immediate patches",
    "Colyseus, default 50 ms patches",
    "boardgame.io",
]
SHORT = dict(zip(SYSTEMS, ["gameserver", "gameserver fsync", "Colyseus immediate", "Colyseus 50 ms", "boardgame.io"]))
SCENARIOS = ["instant:100", "instant:1000", "paced:1000"]
# The peers limit no one's request rate: lift ours (50 requests/s per connection) so that
# fast players are not refused. The check itself still runs.
UNLIMITED = ("--rate", "1000000", "--burst", "1000000")
RESULTS = ROOT / "bench" / "results"  # ignored by git
IDLE_SECONDS = 2.0
WARMUP_SECONDS = 1.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short smoke run; docs are not updated")
    parser.add_argument("--scenarios", nargs="+", default=None, metavar="KIND:MATCHES",
                        help=f"instant:M or paced:M (default: {' '.join(SCENARIOS)})")
    parser.add_argument("--systems", nargs="+", default=SYSTEMS, choices=SYSTEMS, metavar="SYSTEM")
    parser.add_argument("--rounds", type=int, default=None, help="interleaved rounds (default 3)")
    parser.add_argument("--seconds", type=float, default=None, help="measured seconds per run (default 10)")
    parser.add_argument("--think", type=float, default=1.0, help="mean think time of paced players (s)")
    parser.add_argument("--no-write", action="store_true", help="print only; leave docs/ alone")
    parser.add_argument("--save", type=Path, default=RESULTS / "peers.json",
                        help="where every run's figures are kept, rewritten after each run")
    parser.add_argument("--report", type=Path, nargs="+", metavar="JSON",
                        help="run nothing: write the report from figures saved by runs of the "
                             "same settings (the rounds of several runs are pooled)")
    args = parser.parse_args()
    if args.report:
        return report_saved(args.report, write=not args.no_write)
    scenarios = args.scenarios or (["instant:20", "paced:20"] if args.quick else SCENARIOS)
    rounds = args.rounds or (1 if args.quick else 3)
    seconds = args.seconds or (3.0 if args.quick else 10.0)
    think = 0.2 if args.quick and args.think == 1.0 else args.think
    parsed = [_parse_scenario(text, parser) for text in scenarios]
    install_packages()
    args.save.parent.mkdir(parents=True, exist_ok=True)
    os.sched_setaffinity(0, {rawws.CLIENT_CORE})
    rawws.raise_nofile(30000)
    results: dict[tuple[str, int], dict[str, list[dict[str, float]]]] = {}
    with tempfile.TemporaryDirectory(dir=_disk_tmp()) as tmp:
        for round_number in range(1, rounds + 1):
            for kind, matches in parsed:
                cell = results.setdefault((kind, matches), {})
                for system in args.systems:
                    runs = cell.setdefault(system, [])
                    label = f"round {round_number} {kind} {matches:5} {system:32}"
                    try:
                        result = run_one(system, matches, think if kind == "paced" else 0.0, seconds, Path(tmp))
                    except (RuntimeError, OSError, subprocess.SubprocessError) as error:
                        print(f"{label} FAILED: {error}", flush=True)  # the others still run
                        continue
                    runs.append(result)
                    print(f"{label} {_line(result)}", flush=True)
                    cells = [[kind, m, cell] for (kind, m), cell in results.items()]
                    saved = {"rounds": round_number, "seconds": seconds, "think": think, "cells": cells}
                    args.save.write_text(json.dumps(saved, indent=1))
    return report(results, rounds, seconds, think, write=not args.quick and not args.no_write)


def report_saved(paths: list[Path], *, write: bool) -> int:
    """Pool the rounds saved by one or more runs and report them."""
    results: dict[tuple[str, int], dict[str, list[dict[str, float]]]] = {}
    rounds = 0
    for path in paths:
        saved = json.loads(path.read_text())
        rounds += saved["rounds"]
        for kind, matches, cell in saved["cells"]:
            pooled = results.setdefault((kind, int(matches)), {})
            for system, runs in cell.items():
                pooled.setdefault(system, []).extend(runs)
    return report(results, rounds, saved["seconds"], saved["think"], write=write)


def report(
    results: dict[tuple[str, int], dict[str, list[dict[str, float]]]],
    rounds: int,
    seconds: float,
    think: float,
    *,
    write: bool,
) -> int:
    """Print the section; with ``write``, put it into docs/benchmarks.md with its chart."""
    section = write_report(results, rounds, seconds, think)
    print(section)
    if write:
        from plot import bar_chart, update_docs

        bar_chart(
            ROOT / "docs" / "peers.png", "server CPU per move, us (lower is better)",
            [(SHORT[system], [statistics.median(r["server_cpu_per_move_us"] for r in cell[system])
                              if cell.get(system) else 0.0 for cell in results.values()])
             for system in SYSTEMS if any(cell.get(system) for cell in results.values())],
            [f"{kind} {matches:,}" for kind, matches in results],
            width=1000,
        )
        update_docs(section, MARKER_START, MARKER_END)
    return 0


def _parse_scenario(text: str, parser: argparse.ArgumentParser) -> tuple[str, int]:
    kind, _, count = text.partition(":")
    if kind not in ("instant", "paced") or not count.isdigit() or int(count) < 1:
        parser.error(f"--scenarios: expected instant:M or paced:M, got {text!r}")
    return kind, int(count)


def _disk_tmp() -> str:
    """Where match logs go: the system's temporary directory, unless it is a tmpfs (then
    ``bench/results``, ignored by git), so that ``--fsync always`` syncs a real disk."""
    tmp = os.path.realpath(tempfile.gettempdir())
    mounts = [line.split()[1:3] for line in Path("/proc/mounts").read_text().splitlines()]
    under = [(point, kind) for point, kind in mounts if tmp == point or tmp.startswith(point.rstrip("/") + "/")]
    if under and max(under, key=lambda m: len(m[0]))[1] == "tmpfs":
        RESULTS.mkdir(exist_ok=True)
        return str(RESULTS)
    return tmp


def install_packages() -> None:
    """``npm ci`` in bench/peers if its node_modules is missing (the lock file pins versions)."""
    if (PEERS / "node_modules").is_dir():
        return
    print("installing the peers' npm packages (npm ci in bench/peers) ...", flush=True)
    subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=PEERS, check=True)


# --- one run ---------------------------------------------------------------------------


def run_one(system: str, matches: int, think: float, seconds: float, tmp: Path) -> dict[str, float]:
    """One fresh server of ``system`` under ``matches`` matches for ``seconds`` measured seconds."""
    if system.startswith("gameserver"):
        if system.endswith("--no-replays"):
            server = rawws.start_gameserver("--no-compression", *UNLIMITED, data_dir=tmp)
        else:
            replays = tmp / f"replays-{matches}-{think:g}-{os.urandom(3).hex()}"
            server = _start_recording(replays, tmp, fsync="always", extra=UNLIMITED)
        try:
            return run_raw(matches, seconds, tmp, think=think, server=server, idle=IDLE_SECONDS)
        finally:
            server[0].terminate()
            server[0].wait(30)
    if system.startswith("Colyseus"):
        mode = "immediate" if "immediate" in system else "default"
        return _run_node(["colyseus-server.js"], [mode], "colyseus", matches, think, seconds)
    return _run_node(["bgio-server.js"], [], "bgio", matches, think, seconds)


def _run_node(
    script: list[str], extra: list[str], load_system: str, matches: int, think: float, seconds: float
) -> dict[str, float]:
    port = _free_port()
    server = subprocess.Popen(
        ["node", *script, str(port), *extra], cwd=PEERS, stdout=subprocess.PIPE, text=True,
        preexec_fn=_pinned(rawws.SERVER_CORE),
    )
    try:
        assert server.stdout is not None
        for line in server.stdout:  # the servers may log before they say they are ready
            if line.startswith("ready "):
                break
        else:
            raise RuntimeError(f"{script[0]} exited before it was ready")
        budget = 120 + seconds + WARMUP_SECONDS + 3 * think + IDLE_SECONDS
        load = subprocess.run(
            ["node", "load.js", "--system", load_system, "--port", str(port), "--server-pid",
             str(server.pid), "--matches", str(matches), "--think", str(think), "--seconds",
             str(seconds), "--warmup", str(WARMUP_SECONDS), "--idle", str(IDLE_SECONDS),
             "--seed", "1"],
            cwd=PEERS, capture_output=True, text=True, timeout=budget,
            preexec_fn=_pinned(rawws.CLIENT_CORE),
        )
        if load.returncode != 0 or not load.stdout.strip():
            raise RuntimeError(f"load.js failed ({load.returncode}): {load.stderr[-2000:]}")
        result: dict[str, float] = json.loads(load.stdout)
        return result
    finally:
        server.terminate()
        server.wait(30)


def _pinned(core: int) -> Callable[[], None]:
    """What a child runs before it starts: stay on ``core``, allow 30,000 open files."""

    def pin() -> None:
        os.sched_setaffinity(0, {core})
        rawws.raise_nofile(30000)

    return pin


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _line(r: dict[str, float]) -> str:
    return (
        f"{r['moves_per_second']:8,.0f} moves/s  CPU {r['server_cpu']:.2f} "
        f"({r['server_cpu_per_move_us']:4.0f} us/move)  p50 {r['p50']:6.1f} ms  p99 {r['p99']:6.1f} ms  "
        f"{r['sent_per_move']:5.0f} B/move  load CPU {r['load_cpu']:.2f}  "
        f"idle {r['idle_rss_per_client_kib']:5.1f} KiB/client"
    )


# --- the report ------------------------------------------------------------------------


def _versions() -> str:
    def version(package: str) -> str:
        meta = PEERS / "node_modules" / package / "package.json"
        return json.loads(meta.read_text())["version"] if meta.exists() else "?"

    node = subprocess.run(["node", "--version"], capture_output=True, text=True).stdout.strip()
    return (
        f"Node {node}, @colyseus/core {version('@colyseus/core')}, @colyseus/ws-transport "
        f"{version('@colyseus/ws-transport')}, @colyseus/schema {version('@colyseus/schema')}, "
        f"colyseus.js {version('colyseus.js')}, boardgame.io {version('boardgame.io')}"
    )


def _median(runs: list[dict[str, float]], key: str) -> float:
    return statistics.median(r[key] for r in runs)


def _spread(runs: list[dict[str, float]], key: str, fmt: str) -> str:
    values = sorted(r[key] for r in runs)
    middle = format(statistics.median(values), fmt)
    if len(values) < 2:
        return middle
    return f"{middle} ({format(values[0], fmt)}-{format(values[-1], fmt)})"


def write_report(
    results: dict[tuple[str, int], dict[str, list[dict[str, float]]]],
    rounds: int,
    seconds: float,
    think: float,
) -> str:
    from fanout import machine

    lines = [
        MARKER_START,
        "## Side by side: Colyseus and boardgame.io",
        "",
        "`.venv/bin/python bench/peers.py`: the same connect-four load (7 x 6, four in a row,",
        "alternating turns, rematch in the same room when a match ends) against each system,",
        "every player its own WebSocket connection through its server's own client library",
        "(gameserver: the raw-socket players of `bench/gameload.py`; Colyseus: `colyseus.js`;",
        "boardgame.io: `boardgame.io/client` over socket.io's WebSocket transport). Moves are",
        "random legal columns. Server pinned to core 0, load generator to core 1, a fresh",
        f"server per run. Each figure is the median of {rounds} interleaved round(s) of",
        f"{seconds:g} s measured after a warm-up; the range over the rounds is in brackets.",
        "gameserver's request rate limit per connection is lifted (`--rate`, `--burst`), as the",
        "peers have none. See bench/README.md for each system's settings and what differs.",
        "",
        "- moves/s: moves completed in the window (the mover has seen the state it produced).",
        "- server CPU per move: the server's user + system time (/proc/PID/stat) over the",
        "  window divided by those moves; server CPU is the same time as a share of its core.",
        "- p50/p99: from sending a move to the mover receiving the state it produced.",
        "- bytes per move: what the server's TCP connections sent in the window (kernel socket",
        "  statistics, `ss -ti` bytes_sent), per move: both players' updates and any reply.",
        f"- idle RSS per client: the server's RSS growth with every player seated and idle for",
        f"  {IDLE_SECONDS:g} s, over its RSS before the first connection, divided by the players.",
        "- load CPU: the load generator's own CPU share (1.0 = core 1 saturated, the figures",
        "  are then the client library's limit, not the server's).",
        "",
        "The machine is shared with other jobs, so wall-clock figures (moves/s, latency) move",
        "from run to run; the server's CPU per move is the steadier figure. A server CPU share",
        "well below 1.0 with long latencies means its core was busy with other jobs' work.",
        "",
        f"Machine: {machine()}; {_versions()}.",
    ]
    for (kind, matches), cell in results.items():
        what = (
            "players move the instant they may" if kind == "instant"
            else f"players think {think:g} s on average (0.5-1.5x) before each move"
        )
        lines += [
            "",
            f"**{matches:,} matches at once, {what}**",
            "",
            "| system | moves/s | server CPU | server CPU per move | p50 ms | p99 ms "
            "| bytes sent per move | idle RSS per client | load CPU |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for system, runs in cell.items():
            if not runs:
                lines.append(f"| {system} | failed in every round (see the run's output) |||||||||")
                continue
            lines.append(
                f"| {system} | {_spread(runs, 'moves_per_second', ',.0f')} "
                f"| {_median(runs, 'server_cpu'):.2f} "
                f"| {_spread(runs, 'server_cpu_per_move_us', ',.0f')} µs "
                f"| {_median(runs, 'p50'):.1f} | {_median(runs, 'p99'):.1f} "
                f"| {_median(runs, 'sent_per_move'):,.0f} B "
                f"| {_median(runs, 'idle_rss_per_client_kib'):.1f} KiB "
                f"| {_median(runs, 'load_cpu'):.2f} |"
            )
    lines += ["", "![Server CPU per move by system](peers.png)", MARKER_END]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    raise SystemExit(main())
