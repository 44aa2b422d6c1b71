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

The same sizes are also driven by raw-socket players that move instantly (the server's
own limit, without the SDK's cost), and 1,000 matches by raw players that think before
each move (``--think-list``, mean seconds), the load people playing actually make.

Run: ``python bench/gameload.py`` (a few minutes); ``--matches-list 100`` for one size.

Comparing two or more checkouts of the server (``--compare OLD NEW ...``, e.g. a
``git worktree`` of main beside your branch): each round starts one ``--no-replays``
server per checkout (PYTHONPATH at the checkout, all pinned to core 0) and drives them
all AT ONCE with the raw players, one load process per server (core 1), so every
round compares them under the same load from elsewhere on the machine. Printed: each
server's CPU per move, and its ratio to the first checkout's in the same round; then
the medians. On a shared machine the load processes may not saturate the servers:
moves/s then measure the load, and only the CPU ratios mean something.
``--protocol 2``: the raw players speak protocol version 2 and follow their states by
deltas (default 1: full states).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import rawws  # noqa: E402

SIZES = [100, 500, 1000]
MARKER_START = "<!-- gameload-benchmark:start -->"
MARKER_END = "<!-- gameload-benchmark:end -->"
TARGET_P99_MS = 50.0


def run_size(
    matches: int, per_bot: int, timeout: float, tmp: Path, think: float = 0.0
) -> dict[str, float]:
    """``gameserver bot`` with 2 x ``matches`` bots playing ``per_bot`` matches each,
    pausing about ``think`` seconds before each move, against a recording server."""
    replays = tmp / f"replays-{matches}-{think:g}"
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
                "--think", str(think),
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
        "think": think,
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


def _start_recording(
    replays: Path, data_dir: Path, fsync: str = "never", extra: tuple[str, ...] = ()
) -> tuple[subprocess.Popen[str], int]:
    """Like ``rawws.start_gameserver`` but recording match logs (``--fsync never`` unless
    ``fsync`` says otherwise); ``extra`` are more ``serve`` options."""
    command = [
        sys.executable, "-m", "gameserver", "serve", "--port", "0", "--replays", str(replays),
        "--fsync", fsync, "--no-recover", "--data-dir", str(data_dir), "--log-level",
        "WARNING", "--max-connections", "20000", "--max-connections-per-ip", "20000",
        "--max-rooms", "20000", "--max-rooms-per-address", "0", "--no-compression", *extra,
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


def write_report(
    results: dict[int, dict[str, float]],
    per_bot: int,
    raw: dict[int, dict[str, float]],
    paced: list[dict[str, float]],
    paced_matches: int,
    bots_paced: list[dict[str, float]],
) -> str:
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
        f"{TARGET_P99_MS:g} ms: {top['p99']:.1f} ms with `gameserver bot`, {verdict}.",
    ]
    if raw:
        lines += [
            "",
            "The same matches driven without the SDK: 2N raw-socket players in one",
            "`selectors` loop (`bench/rawws.py`, core 1), each moving a random legal move the",
            "moment a `state` says it may (no thinking time, rematch at the end), timed for",
            "a fixed period after one second of warm-up. Latency is from writing the `move`",
            "to reading the `state` it produced; this isolates the server from the bots' cost.",
            "",
            "| matches at once | moves/s | p50 ms | p99 ms | server CPU | server CPU per move "
            "| server RSS |",
            "|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for size in sorted(raw):
            r = raw[size]
            lines.append(
                f"| {size:,} | {r['moves_per_second']:,.0f} | {r['p50']:.1f} | {r['p99']:.1f} "
                f"| {r['server_cpu']:.2f} | {r['server_cpu_per_move_us']:,.0f} µs "
                f"| {r['rss_mib']:,.0f} MiB |"
            )
        top_raw = raw[max(raw)]
        lines += [
            "",
            f"Raw-socket drive, {max(raw):,} matches: p99 {top_raw['p99']:.1f} ms "
            f"({'met' if top_raw['p99'] < TARGET_P99_MS else 'NOT met'} against {TARGET_P99_MS:g} ms).",
        ]
    if paced:
        lines += [
            "",
            f"At a person's pace: {paced_matches:,} matches driven the same raw way, but each",
            "player thinks before it moves (a time drawn uniformly between half and one and a",
            "half times the mean), so the server sees the load of people playing rather",
            "than of players that answer instantly.",
            "",
            "| matches at once | mean think time | moves/s | p50 ms | p99 ms | server CPU "
            "| server CPU per move |",
            "|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for r in paced:
            lines.append(
                f"| {paced_matches:,} | {r['think']:g} s | {r['moves_per_second']:,.0f} "
                f"| {r['p50']:.1f} | {r['p99']:.1f} | {r['server_cpu']:.2f} "
                f"| {r['server_cpu_per_move_us']:,.0f} µs |"
            )
        verdicts = ", ".join(
            f"{r['think']:g} s think time p99 {r['p99']:.1f} ms "
            f"({'met' if r['p99'] < TARGET_P99_MS else 'NOT met'})"
            for r in paced
        )
        lines += ["", f"Paced, {paced_matches:,} matches, against {TARGET_P99_MS:g} ms: {verdicts}."]
    if bots_paced:
        lines += [
            "",
            f"The same pace with the SDK: `gameserver bot ... --count {2 * paced_matches:,} "
            "--matches 1 --think T`, each bot",
            "pausing a drawn time around T before each move; one match per bot, all at once",
            "(moves/s is over the whole run: connecting, and the longest match's tail).",
            "",
            "| matches at once | mean think time | matches played | moves/s | p50 ms | p99 ms "
            "| server CPU | bots CPU | server CPU per move | errors |",
            "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for r in bots_paced:
            lines.append(
                f"| {paced_matches:,} | {r['think']:g} s | {r['matches']:,.0f} "
                f"| {r['moves_per_second']:,.0f} | {r['p50']:.1f} | {r['p99']:.1f} "
                f"| {r['server_cpu']:.2f} | {r['bots_cpu']:.2f} "
                f"| {r['server_cpu_per_move_us']:,.0f} µs | {r['errors']:.0f} |"
            )
        verdicts = ", ".join(
            f"{r['think']:g} s think time p99 {r['p99']:.1f} ms "
            f"({'met' if r['p99'] < TARGET_P99_MS else 'NOT met'})"
            for r in bots_paced
        )
        lines += [
            "",
            f"`gameserver bot` at a person's pace, {paced_matches:,} matches, against "
            f"{TARGET_P99_MS:g} ms: {verdicts}.",
        ]
    lines += [
        "",
        "![Game load: latency by concurrent matches](gameload.png)",
        MARKER_END,
    ]
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--compare", nargs="+", metavar="CHECKOUT",
                        help="compare the servers of these checkouts (see the module docstring)")
    parser.add_argument("--rounds", type=int, default=5, help="rounds of --compare")
    parser.add_argument("--protocol", type=int, choices=[1, 2], default=1,
                        help="protocol version the raw players speak (2: they follow deltas)")
    parser.add_argument("--drive", nargs=2, type=int, help=argparse.SUPPRESS)
    parser.add_argument("--matches-list", nargs="+", type=int, default=SIZES)
    parser.add_argument("--per-bot", type=int, default=2, help="matches each bot plays")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds per size")
    parser.add_argument("--raw-seconds", type=float, default=10.0,
                        help="timed seconds of the raw-socket run per size (0: skip it)")
    parser.add_argument("--think-list", nargs="*", type=float, default=[1.0, 3.0],
                        help="mean think times (s) of the paced raw runs (none: skip them)")
    parser.add_argument("--paced-matches", type=int, default=1000,
                        help="concurrent matches in the paced runs")
    parser.add_argument("--paced-seconds", type=float, default=20.0,
                        help="timed seconds of each paced run")
    parser.add_argument("--bot-think-list", nargs="*", type=float, default=[1.0],
                        help="mean think times (s) of the paced gameserver bot runs (none: skip)")
    args = parser.parse_args()
    os.sched_setaffinity(0, {rawws.CLIENT_CORE})
    if args.drive:
        _drive(*args.drive, matches=args.matches_list[0], seconds=args.raw_seconds,
               protocol=args.protocol)
        return 0
    if args.compare:
        compare_checkouts(
            args.compare, args.rounds, args.matches_list[0], args.raw_seconds, args.protocol
        )
        return 0
    results: dict[int, dict[str, float]] = {}
    raw: dict[int, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        rawws.raise_nofile(30000)
        for size in args.matches_list if args.raw_seconds > 0 else []:
            raw[size] = run_raw(size, args.raw_seconds, Path(tmp), protocol=args.protocol)
            r = raw[size]
            print(
                f"{size:5} raw matches at once: {r['moves_per_second']:,.0f} moves/s, "
                f"p50 {r['p50']:.1f} ms, p99 {r['p99']:.1f} ms, server CPU {r['server_cpu']:.2f} "
                f"({r['server_cpu_per_move_us']:.0f} us/move)",
                flush=True,
            )
        paced = []
        for think in args.think_list:
            r = run_raw(
                args.paced_matches, args.paced_seconds, Path(tmp), think=think,
                protocol=args.protocol,
            )
            paced.append(r)
            print(
                f"{args.paced_matches:5} paced matches, think {think:g} s: "
                f"{r['moves_per_second']:,.0f} moves/s, p50 {r['p50']:.1f} ms, "
                f"p99 {r['p99']:.1f} ms, server CPU {r['server_cpu']:.2f} "
                f"({r['server_cpu_per_move_us']:.0f} us/move)",
                flush=True,
            )
        bots_paced = []
        for think in args.bot_think_list:
            r = run_size(args.paced_matches, 1, args.timeout, Path(tmp), think=think)
            bots_paced.append(r)
            print(
                f"{args.paced_matches:5} paced bot matches, think {think:g} s: "
                f"{r['matches']:.0f} played, {r['moves_per_second']:,.0f} moves/s, "
                f"p50 {r['p50']} ms, p99 {r['p99']} ms, server CPU {r['server_cpu']:.2f}, "
                f"bots CPU {r['bots_cpu']:.2f}, errors {r['errors']}, ok {r['ok']}",
                flush=True,
            )
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

        section = write_report(
            results, args.per_bot, raw, paced, args.paced_matches, bots_paced
        )
        print(section)
        bar_chart(
            ROOT / "docs" / "gameload.png", "move to update ms by concurrent matches",
            [(f"{size}", [results[size]["p50"], results[size]["p99"]]) for size in SIZES],
            ["p50", "p99"],
        )
        update_docs(section, MARKER_START, MARKER_END)
    return 0



# --- the raw-socket driver: the same matches without the SDK --------------------------


class _Seat:
    # ``seat`` is the player's index in the run (even: creates the room, odd: joins it).
    __slots__ = (
        "ws", "seat", "room_id", "pending", "sent_at", "version", "match", "done", "acted", "held",
        "document", "index", "playing",
    )

    def __init__(self, ws: object) -> None:
        self.ws = ws
        self.seat = -1
        self.room_id = ""
        self.pending = -1  # the version our last move produced, until its state arrives
        self.sent_at = 0.0
        self.version = -1
        self.match = 0
        self.done = False
        self.acted = (-1, -1)  # (match, version) of the state last moved on
        self.held: dict[str, Any] | None = None  # the first state, kept until play starts
        # Protocol version 2: the document of the last full state, with deltas applied,
        # and the seat index that state named.
        self.document: dict[str, Any] | None = None
        self.index: int | None = None
        self.playing = 0  # the match number of that full state


def _read_state(seat: _Seat, message: Any) -> dict[str, Any] | None:
    """The ``state`` a server message brings ``seat`` (None: it brings none). A full
    state starts the player's document; a delta (protocol version 2, a msgpack array)
    is applied to it and read as the full state it stands for."""
    from gameserver.protocol import delta

    if isinstance(message, list):
        if seat.document is None:
            raise RuntimeError("a delta arrived before any full state")
        room_id, _base, version, _cause, ops = message[:5]
        document = seat.document = delta.apply(seat.document, ops)
        return {
            "type": "state", "room_id": room_id, "match": seat.playing, "version": version,
            "seat": seat.index, "to_act": document["to_act"], "outcome": document["outcome"],
            "legal_moves": delta.legal_moves_of(document, seat.index),
        }
    if message.get("type") == "error":
        raise RuntimeError(f"refused: {message}")
    if message.get("type") != "state":
        return None
    seat.index, seat.playing = message["seat"], message["match"]
    seat.document = delta.document_of(
        view=message["view"], to_act=message["to_act"], legal=message.get("legal_moves") or [],
        seats=message["seats"], clock=message.get("clock"), outcome=message.get("outcome"),
    )
    return dict(message)


def run_raw(
    matches: int,
    seconds: float,
    tmp: Path,
    think: float = 0.0,
    *,
    server: tuple[subprocess.Popen[str], int] | None = None,
    on_measure: Callable[[], None] | None = None,
    idle: float = 0.0,
    protocol: int = 1,
) -> dict[str, float]:
    """``matches`` rooms of two raw-socket players each, moving when it is their turn
    (random legal moves, rematch at the end) for ``seconds``; one selector loop.

    All players are seated first and nobody moves until every match has started; the
    server's RSS growth from before the first connection to ``idle`` seconds after the
    last seat is taken, per player, is ``idle_rss_per_client_kib``. With ``think`` 0 a
    player then moves the moment its state arrives; otherwise it waits a think time drawn
    uniformly from 0.5 to 1.5 times ``think`` seconds, as a person would. ``server``
    (process, port) is used instead of starting a recording server (the caller then stops
    it); ``on_measure`` is called when the measured period starts. ``sent_per_move`` is
    the bytes the server's TCP connections sent in the period (``rawws.tcp_bytes_sent``)
    per move. ``protocol`` 2: the players speak version 2 and follow states by deltas.
    """
    import heapq
    import random
    import selectors

    import msgpack

    from rawws import RawWebSocket, request_frame

    from gameserver.protocol.version import SUBPROTOCOLS

    process, port = server or _start_recording(tmp / f"replays-raw-{matches}", tmp)
    rng = random.Random(3)
    selector = selectors.DefaultSelector()
    seats: list[_Seat] = []
    latencies: list[float] = []
    try:
        rss_before = rawws.rss_kib(process.pid)
        for index in range(2 * matches):
            ws = RawWebSocket.connect(port, subprotocol=SUBPROTOCOLS[protocol])
            seat = _Seat(ws)
            seat.seat = index
            seats.append(seat)
            selector.register(ws.sock, selectors.EVENT_READ, seat)
            ws.send(request_frame({"type": "hello", "id": 1, "name": f"raw{index}"}))
            if index % 2 == 0:
                ws.send(request_frame({"type": "create_room", "id": 2, "game": "connect4", "players": 2}))
        cpu_before = -1.0  # read when the measured period starts
        sent_before: dict[str, int] = {}
        load_before = 0.0
        seated = 0
        started = time.perf_counter()
        while seated < len(seats):  # seat everyone; hold each first state
            if time.perf_counter() > started + 120:
                raise RuntimeError(f"only {seated} of {len(seats)} raw players seated")
            for key, _ in selector.select(1.0):
                seated += _seat_raw(key.data, seats)
        time.sleep(idle)
        rss_idle = rawws.rss_kib(process.pid)
        started = time.perf_counter()
        # Paced players all start together; a few think times spread their moves out.
        measure_from = started + 1.0 + 3 * think
        measured_at = measure_from
        stop = measure_from + seconds
        moves = 0
        held = True
        # Moves waiting for their think time: (due, order, seat, frame).
        thinking: list[tuple[float, int, _Seat, bytes]] = []
        order = 0
        while time.perf_counter() < stop:
            now = time.perf_counter()
            if cpu_before < 0 and now >= measure_from:
                if on_measure is not None:
                    on_measure()
                cpu_before = rawws.cpu_seconds(process.pid)
                sent_before = rawws.tcp_bytes_sent(port)
                load_before = time.process_time()
                measured_at = now
            while thinking and thinking[0][0] <= now:
                _, _, seat, frame = heapq.heappop(thinking)
                seat.sent_at = time.perf_counter()
                seat.ws.send(frame)  # type: ignore[attr-defined]
            wait = 1.0 if not thinking else min(1.0, max(0.0, thinking[0][0] - now))
            if held:  # play starts: each seat acts on the state it was held at
                ready, held = [(seat, [seat.held]) for seat in seats], False
            else:
                ready = [(key.data, None) for key, _ in selector.select(wait)]
            for seat, messages in ready:
                ws = seat.ws
                if messages is None:
                    ws.receive_available()
                    if ws.closed:
                        raise RuntimeError("the server closed a raw player")
                    raws, ws.messages = ws.messages, []
                    messages = [_read_state(seat, msgpack.unpackb(raw)) for raw in raws]
                for message in messages:
                    if message is not None:
                        now = time.perf_counter()
                        if seat.pending >= 0 and message["version"] >= seat.pending:
                            if cpu_before >= 0:  # every move completed in the window
                                latencies.append(now - seat.sent_at)
                                moves += 1
                            seat.pending = -1
                        seat.room_id = message["room_id"]
                        seat.version = message["version"]
                        if message.get("outcome") is not None:
                            if message["match"] > seat.match or not seat.done:
                                seat.done = True
                                seat.match = message["match"]
                                ws.send(request_frame({"type": "rematch", "id": 3, "room_id": seat.room_id}))
                            continue
                        seat.done = False
                        legal = message.get("legal_moves")
                        turn = (message["match"], message["version"])
                        if legal and message["seat"] in message["to_act"] and turn != seat.acted:
                            seat.acted = turn
                            seat.pending = message["version"] + 1
                            frame = request_frame({
                                "type": "move", "id": 10 + message["version"],
                                "room_id": seat.room_id, "version": message["version"],
                                "move": rng.choice(legal),
                            })
                            if think > 0:
                                due = time.perf_counter() + think * rng.uniform(0.5, 1.5)
                                order += 1
                                heapq.heappush(thinking, (due, order, seat, frame))
                            else:
                                seat.sent_at = time.perf_counter()
                                ws.send(frame)
        wall = time.perf_counter() - measured_at
        cpu = rawws.cpu_seconds(process.pid) - cpu_before
        sent = rawws.bytes_sent_between(sent_before, rawws.tcp_bytes_sent(port))
        load_cpu = time.process_time() - load_before
        rss = rawws.rss_kib(process.pid) / 1024
    finally:
        for seat in seats:
            seat.ws.close()  # type: ignore[attr-defined]
        if server is None:
            process.terminate()
            process.wait(30)
    latencies.sort()
    return {
        "think": think,
        "moves_per_second": moves / seconds,
        "p50": rawws.percentile(latencies, 50) * 1000,
        "p99": rawws.percentile(latencies, 99) * 1000,
        "server_cpu": cpu / wall,
        "server_cpu_per_move_us": cpu / max(1, moves) * 1e6,
        "rss_mib": rss,
        "sent_per_move": sent / max(1, moves),
        "load_cpu": load_cpu / wall,
        "idle_rss_per_client_kib": (rss_idle - rss_before) / len(seats),
    }


def _seat_raw(seat: _Seat, seats: list[_Seat]) -> int:
    """Read what ``seat``'s server sent while players are being seated: the room-created
    reply makes its partner join; a first ``state`` is held. Return 1 if it is now seated."""
    import msgpack

    from rawws import request_frame

    ws = seat.ws
    ws.receive_available()  # type: ignore[attr-defined]
    if ws.closed:  # type: ignore[attr-defined]
        raise RuntimeError("the server closed a raw player")
    messages, ws.messages = ws.messages, []  # type: ignore[attr-defined]
    was_seated = seat.held is not None
    for raw in messages:
        message = msgpack.unpackb(raw)
        if isinstance(message, dict) and message.get("type") == "reply" and message.get("id") == 2 and seat.seat % 2 == 0:
            room_id = message["result"]["room"]["room_id"]
            partner = seats[seat.seat + 1]
            partner.ws.send(request_frame({"type": "join_room", "id": 2, "room_id": room_id}))  # type: ignore[attr-defined]
            continue
        state = _read_state(seat, message)
        if state is not None:  # the newest, to act on when play starts
            seat.held = state
    return int(seat.held is not None and not was_seated)


# --- comparing checkouts: servers side by side under the same load -------------------


# As issue 16 measures a move's cost: no match logs, no rate limit, no room quota.
_COMPARE_FLAGS = (
    "--no-replays", "--rate", "1000000", "--burst", "1000000", "--max-rooms-per-address", "0",
)


def _start_checkout(checkout: Path, data_dir: Path) -> tuple[subprocess.Popen[str], int]:
    """``gameserver serve`` of ``checkout`` (PYTHONPATH at its root) pinned to the server core."""
    command = [
        sys.executable, "-m", "gameserver", "serve", "--port", "0", "--no-recover",
        "--data-dir", str(data_dir), "--log-level", "WARNING", "--max-connections", "20000",
        "--max-connections-per-ip", "20000", "--max-rooms", "20000", "--no-compression",
        *_COMPARE_FLAGS,
    ]
    process = subprocess.Popen(
        command, cwd=checkout, stdout=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONPATH": str(checkout)},
        preexec_fn=lambda: (os.sched_setaffinity(0, {rawws.SERVER_CORE}), rawws.raise_nofile(30000)),
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    found = re.search(r":(\d+)/\s*$", line)
    if not found:
        process.kill()
        raise RuntimeError(f"the server of {checkout} did not start: {line!r}")
    return process, int(found.group(1))


class _Pid:
    """Stands for a server process this process did not start (``run_raw`` reads its pid)."""

    def __init__(self, pid: int) -> None:
        self.pid = pid


def _drive(pid: int, port: int, *, matches: int, seconds: float, protocol: int) -> None:
    """The load process of one compared server: ``run_raw``, its result as JSON."""
    rawws.raise_nofile(30000)
    with tempfile.TemporaryDirectory() as tmp:
        result = run_raw(
            matches, seconds, Path(tmp), server=(_Pid(pid), port), protocol=protocol  # type: ignore[arg-type]
        )
    print(json.dumps(result))


def compare_checkouts(
    checkouts: list[str], rounds: int, matches: int, seconds: float, protocol: int
) -> None:
    """Print CPU per move of each checkout's server (its players speaking ``protocol``),
    round by round and as medians."""
    roots = [Path(checkout).resolve() for checkout in checkouts]
    per_move: dict[Path, list[float]] = {root: [] for root in roots}
    ratios: dict[Path, list[float]] = {root: [] for root in roots}
    with tempfile.TemporaryDirectory() as tmp:
        for number in range(1, rounds + 1):
            servers = [_start_checkout(root, Path(tmp)) for root in roots]
            try:
                loads = [
                    subprocess.Popen(
                        [sys.executable, __file__, "--drive", str(process.pid), str(port),
                         "--matches-list", str(matches), "--raw-seconds", str(seconds),
                         "--protocol", str(protocol)],
                        stdout=subprocess.PIPE, text=True,
                    )
                    for process, port in servers
                ]
                results = [json.loads(load.communicate(timeout=seconds + 600)[0]) for load in loads]
            finally:
                for process, _ in servers:
                    process.terminate()
                    process.wait(30)
            first = results[0]["server_cpu_per_move_us"]
            cells = []
            for root, result in zip(roots, results):
                cost = result["server_cpu_per_move_us"]
                per_move[root].append(cost)
                ratios[root].append(cost / first)
                cells.append(
                    f"{root.name}: {cost:.0f} us/move ({cost / first:.2f}x), "
                    f"server CPU {result['server_cpu']:.2f}"
                )
            print(f"round {number}: " + " | ".join(cells), flush=True)
    for root in roots:
        print(
            f"{root}: median {statistics.median(per_move[root]):.0f} us/move, median ratio to "
            f"{roots[0].name} {statistics.median(ratios[root]):.2f}x"
        )


if __name__ == "__main__":
    raise SystemExit(main())
