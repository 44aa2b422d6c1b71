"""Soak benchmark: does a server that plays matches for a long time stay the same size?

One ``gameserver serve`` process (pinned to core 0, recording match logs to a temporary
directory with ``--fsync never``) and one ``gameserver bot`` fleet (pinned to core 1):
``--bots`` SDK bots quick-match and play connect four, match after match, for
``--minutes``. Every ``--every`` seconds the server's RSS (from /proc) and its open rooms
and finished matches (from /metrics) are sampled. Reported: the RSS slope in MB per
minute by least squares over the samples after ``--warmup`` seconds (target: under
1 MB/min), RSS at the end of the warm-up and at the end, rooms open at the end, and
matches played.

Run: ``python bench/soak.py`` (about 11 minutes; rewrites the soak section of
docs/benchmarks.md); ``--minutes 2 --no-write`` for a smoke run.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

import rawws  # noqa: E402
from fanout import machine  # noqa: E402
from gameload import _start_recording  # noqa: E402

MARKER_START = "<!-- soak-benchmark:start -->"
MARKER_END = "<!-- soak-benchmark:end -->"
TARGET_SLOPE_MB_PER_MIN = 1.0


def metric(port: int, name: str) -> float:
    """The sum of every sample of ``name`` in the server's /metrics."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
        text = response.read().decode()
    total = 0.0
    for line in text.splitlines():
        if line.startswith(name) and line[len(name)] in " {":
            total += float(line.rsplit(" ", 1)[1])
    return total


def slope_per_minute(samples: list[tuple[float, float]]) -> float:
    """Least-squares slope of (seconds, MiB) samples, in MiB per minute."""
    n = len(samples)
    mean_t = sum(t for t, _ in samples) / n
    mean_v = sum(v for _, v in samples) / n
    num = sum((t - mean_t) * (v - mean_v) for t, v in samples)
    den = sum((t - mean_t) ** 2 for t, _ in samples)
    return 60.0 * num / den if den else 0.0


def run(bots: int, minutes: float, warmup: float, every: float, think: float) -> dict[str, float]:
    """Play for ``minutes`` and sample; return the figures of the run."""
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        server, port = _start_recording(tmp / "replays", tmp)
        fleet = subprocess.Popen(
            [
                sys.executable, "-m", "gameserver", "bot", "--url", f"ws://127.0.0.1:{port}/ws",
                "--game", "connect4", "--strategy", "random", "--count", str(bots),
                "--matches", "1000000", "--seed", "1", "--think", str(think),
                "--timeout", str(minutes * 60 + 120),
            ],
            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
            preexec_fn=lambda: os.sched_setaffinity(0, {rawws.CLIENT_CORE}),
        )
        samples: list[tuple[float, float]] = []
        started = time.monotonic()
        try:
            while (elapsed := time.monotonic() - started) < minutes * 60:
                if fleet.poll() is not None:
                    raise RuntimeError(f"the bot fleet stopped early: {fleet.stderr.read()[-2000:]}")
                samples.append((elapsed, rawws.rss_kib(server.pid) / 1024))
                time.sleep(every)
            rooms = metric(port, "gameserver_rooms")
            matches = metric(port, "gameserver_matches_finished_total")
        finally:
            fleet.terminate()
            fleet.wait(30)
            server.terminate()
            server.wait(30)
    steady = [(t, v) for t, v in samples if t >= warmup]
    return {
        "bots": bots,
        "minutes": minutes,
        "slope": slope_per_minute(steady),
        "rss_start": steady[0][1],
        "rss_end": steady[-1][1],
        "rooms": rooms,
        "matches": matches,
        "samples": len(steady),
    }


def write_report(result: dict[str, float], think: float, warmup: float) -> str:
    """The markdown section for docs/benchmarks.md."""
    met = "met" if result["slope"] < TARGET_SLOPE_MB_PER_MIN else "NOT met"
    return "\n".join([
        MARKER_START,
        f"{result['bots']:.0f} `gameserver bot` bots (connect four, random, mean think "
        f"{think:g} s) playing match after match for {result['minutes']:g} minutes against "
        "one recording server; RSS sampled from /proc, slope by least squares after a "
        f"{warmup:g} s warm-up over {result['samples']:.0f} samples.",
        "",
        "| RSS slope | RSS after warm-up | RSS at the end | rooms open at the end | matches played |",
        "|---:|---:|---:|---:|---:|",
        f"| {result['slope']:+.2f} MB/min ({met}: < {TARGET_SLOPE_MB_PER_MIN:g}) "
        f"| {result['rss_start']:.1f} MiB | {result['rss_end']:.1f} MiB "
        f"| {result['rooms']:.0f} | {result['matches']:,.0f} |",
        "",
        f"Machine: {machine()}.",
        MARKER_END,
    ])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bots", type=int, default=60, help="bots in the fleet (default 60)")
    parser.add_argument("--minutes", type=float, default=11.0, help="length of the run (default 11)")
    parser.add_argument("--warmup", type=float, default=60.0, help="seconds left out of the slope")
    parser.add_argument("--every", type=float, default=5.0, help="seconds between samples")
    parser.add_argument("--think", type=float, default=0.05, help="mean bot think time, seconds")
    parser.add_argument("--no-write", action="store_true", help="print; leave docs/ alone")
    args = parser.parse_args()
    result = run(args.bots, args.minutes, args.warmup, args.every, args.think)
    section = write_report(result, args.think, args.warmup)
    print(section)
    if not args.no_write:
        doc = ROOT / "docs" / "benchmarks.md"
        text = doc.read_text()
        pattern = re.compile(re.escape(MARKER_START) + ".*?" + re.escape(MARKER_END), re.S)
        if pattern.search(text):
            text = pattern.sub(lambda _: section, text)
        else:
            text = text.rstrip("\n") + "\n\n## Soak: memory over a long run\n\n" + section + "\n"
        doc.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
