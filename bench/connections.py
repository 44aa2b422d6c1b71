"""Connections benchmark: 10,000 idle WebSocket connections to one server process.

Measures, for ``gameserver serve`` and for an idle ``websockets`` (asyncio) server as a
reference, side by side in one run:

- the handshake rate: connections opened (TCP connect + upgrade + 101) per second,
  with up to ``--window`` handshakes in flight;
- the server's resident memory per open connection: (RSS with N open - RSS before)
  / N, read from /proc after the connections have settled;
- health: every connection answers the server's keepalive pings for a while (the
  server is told to ping every ``--ping-interval`` seconds and to close connections
  whose pong is late), then each connection sends one ping of its own and must get
  the pong. A connection counts as healthy if it is still open and got its pong.

Both servers run in their own process pinned to core 0 with RLIMIT_NOFILE raised;
this load generator (raw non-blocking sockets in one ``selectors`` loop, see
``bench/rawws.py``) is pinned to core 1. No compression is offered. Loopback only.

Run: ``python bench/connections.py`` (about a minute); ``--count 1000`` for a quick try
(the docs are only updated for a full run of 10,000).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import selectors
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import rawws  # noqa: E402
from rawws import RawWebSocket, upgrade_request  # noqa: E402

SERVERS = ["gameserver", "websockets"]
MARKER_START = "<!-- connections-benchmark:start -->"
MARKER_END = "<!-- connections-benchmark:end -->"
TARGET_KIB = 12.0


def serve_reference(ping_interval: float) -> None:
    """An idle ``websockets`` server: accepts, keeps alive, never sends anything else."""
    from websockets.asyncio.server import ServerConnection, serve

    async def handler(ws: ServerConnection) -> None:
        await ws.wait_closed()

    async def main() -> None:
        async with serve(
            handler, "127.0.0.1", 0, compression=None, ping_interval=ping_interval,
            ping_timeout=2 * ping_interval, subprotocols=["gameserver.v1"],  # type: ignore[list-item]
            backlog=4096,
        ) as server:
            print(f"ready {next(iter(server.sockets)).getsockname()[1]}", flush=True)
            await asyncio.Future()

    asyncio.run(main())


def start_reference(ping_interval: float) -> tuple[subprocess.Popen[str], int]:
    return rawws.start_script_server(
        __file__, "--serve-reference", str(ping_interval), what="reference server"
    )


def open_all(port: int, count: int, window: int) -> tuple[list[RawWebSocket], float]:
    """Open ``count`` connections, at most ``window`` handshaking at once; return them
    and the seconds it took."""
    selector = selectors.DefaultSelector()
    request = upgrade_request("/ws", "gameserver.v1")
    opened: list[RawWebSocket] = []
    in_flight = 0
    started = 0
    begin = time.perf_counter()
    deadline = begin + 300
    while len(opened) < count:
        while in_flight < window and started < count:
            ws = RawWebSocket.connect_nonblocking(port)
            selector.register(ws.sock, selectors.EVENT_WRITE, ws)
            in_flight += 1
            started += 1
        if time.perf_counter() > deadline:
            raise RuntimeError(f"only {len(opened)} of {count} connections opened")
        for key, events in selector.select(1.0):
            ws = key.data
            if events & selectors.EVENT_WRITE:
                error = ws.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                if error:
                    raise RuntimeError(f"connect failed: {os.strerror(error)}")
                ws.send(request)
                selector.modify(ws.sock, selectors.EVENT_READ, ws)
                continue
            ws.receive_available()
            if ws.closed and not ws.open:
                raise RuntimeError("the server refused or dropped a handshake")
            if ws.open:
                selector.unregister(ws.sock)
                opened.append(ws)
                in_flight -= 1
    elapsed = time.perf_counter() - begin
    selector.close()
    return opened, elapsed


def keep_alive(connections: list[RawWebSocket], seconds: float) -> None:
    """Answer the server's pings on every connection for ``seconds``."""
    selector = selectors.DefaultSelector()
    for ws in connections:
        selector.register(ws.sock, selectors.EVENT_READ, ws)
    stop = time.perf_counter() + seconds
    while time.perf_counter() < stop:
        for key, _ in selector.select(0.2):
            key.data.receive_available()
    selector.close()


def ping_all(connections: list[RawWebSocket], timeout: float) -> int:
    """Ping every connection once; return how many pongs came back in time."""
    selector = selectors.DefaultSelector()
    before = {id(ws): ws.pongs for ws in connections}
    for ws in connections:
        if not ws.closed:
            ws.ping()
            selector.register(ws.sock, selectors.EVENT_READ, ws)
    waiting = {id(ws) for ws in connections if not ws.closed}
    stop = time.perf_counter() + timeout
    while waiting and time.perf_counter() < stop:
        for key, _ in selector.select(0.2):
            ws = key.data
            ws.receive_available()
            if ws.pongs > before[id(ws)]:
                waiting.discard(id(ws))
                selector.unregister(ws.sock)
    selector.close()
    return len(connections) - len(waiting)


def measure(name: str, count: int, window: int, ping_interval: float, data_dir: Path) -> dict[str, float]:
    if name == "gameserver":
        process, port = rawws.start_gameserver(
            "--no-compression", "--ping-interval", str(ping_interval),
            "--ping-timeout", str(2 * ping_interval), data_dir=data_dir,
        )
    else:
        process, port = start_reference(ping_interval)
    connections: list[RawWebSocket] = []
    try:
        # Warm up (imports, first-connection allocations) before the baseline.
        warm = RawWebSocket.connect(port)
        warm.close()
        time.sleep(1.0)
        before = rawws.rss_kib(process.pid)
        cpu_before = rawws.cpu_seconds(process.pid)
        connections, seconds = open_all(port, count, window)
        cpu_handshakes = rawws.cpu_seconds(process.pid) - cpu_before
        keep_alive(connections, 3 * ping_interval + 1)
        after = rawws.rss_kib(process.pid)
        answered = ping_all(connections, 30.0)
        server_pings = sum(1 for ws in connections if ws.pings > 0)
        alive = sum(1 for ws in connections if not ws.closed)
        result = {
            "rate": count / seconds,
            "cpu_per_handshake_us": cpu_handshakes / count * 1e6,
            "kib_per_connection": (after - before) / count,
            "rss_mib": after / 1024,
            "alive": alive,
            "answered": answered,
            "server_pinged": server_pings,
        }
    finally:
        for ws in connections:
            ws.close()
        process.terminate()
        process.wait(30)
    return result


def write_report(results: dict[str, dict[str, float]], count: int, ping_interval: float) -> str:
    ours, ref = results["gameserver"], results["websockets"]
    lines = [
        MARKER_START,
        "## Idle connections",
        "",
        f"`python bench/connections.py`: {count:,} idle WebSocket connections to one server",
        "process (pinned to core 0), opened by a raw-socket client pinned to core 1 with up to",
        "500 handshakes in flight; no compression offered. Memory is the server's RSS growth",
        f"divided by the connections. The servers ping every {ping_interval:g} s and close",
        f"a connection whose pong is {2 * ping_interval:g} s late; the client answers for",
        f"{3 * ping_interval + 1:g} s, then pings every connection itself. The reference is an",
        "idle `websockets` (asyncio) server with the same keepalive.",
        "",
        f"Machine: {machine()}.",
        "",
        "| | gameserver | websockets |",
        "|---|---:|---:|",
        f"| handshakes per second | {ours['rate']:,.0f} | {ref['rate']:,.0f} |",
        f"| server CPU per handshake | {ours['cpu_per_handshake_us']:,.0f} µs "
        f"| {ref['cpu_per_handshake_us']:,.0f} µs |",
        f"| RSS per connection | {ours['kib_per_connection']:.1f} KiB "
        f"| {ref['kib_per_connection']:.1f} KiB |",
        f"| server RSS with {count:,} open | {ours['rss_mib']:,.0f} MiB | {ref['rss_mib']:,.0f} MiB |",
        f"| connections still open | {ours['alive']:,.0f} | {ref['alive']:,.0f} |",
        f"| got the server's keepalive pings | {ours['server_pinged']:,.0f} "
        f"| {ref['server_pinged']:,.0f} |",
        f"| answered our ping | {ours['answered']:,.0f} | {ref['answered']:,.0f} |",
        "",
    ]
    kib = ours["kib_per_connection"]
    healthy = ours["alive"] == count and ours["answered"] == count
    lines.append(
        f"Target: <= {TARGET_KIB:g} KiB per connection and all {count:,} healthy: "
        f"{kib:.1f} KiB ({'met' if kib <= TARGET_KIB else 'NOT met'}), "
        f"{ours['answered']:,.0f} of {count:,} healthy ({'met' if healthy else 'NOT met'})."
    )
    lines += ["", "![Idle connections: RSS per connection](connections.png)", MARKER_END]
    return "\n".join(lines) + "\n"


def machine() -> str:
    from fanout import machine as describe

    return describe()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--serve-reference", type=float, help=argparse.SUPPRESS)
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--window", type=int, default=500)
    parser.add_argument("--ping-interval", type=float, default=5.0)
    parser.add_argument("--servers", nargs="+", default=SERVERS, choices=SERVERS)
    args = parser.parse_args()
    if args.serve_reference is not None:
        serve_reference(args.serve_reference)
        return 0
    os.sched_setaffinity(0, {rawws.CLIENT_CORE})
    rawws.raise_nofile(args.count + 1000)
    gc.disable()  # the client holds many sockets; collection pauses would skew the rate
    results: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as data_dir:
        for name in args.servers:
            result = measure(name, args.count, args.window, args.ping_interval, Path(data_dir))
            results[name] = result
            print(
                f"{name:11} {args.count} connections: {result['rate']:,.0f} handshakes/s, "
                f"{result['cpu_per_handshake_us']:,.0f} us CPU each, "
                f"{result['kib_per_connection']:.1f} KiB each (RSS {result['rss_mib']:.0f} MiB), "
                f"alive {result['alive']:,.0f}, pinged {result['server_pinged']:,.0f}, "
                f"answered {result['answered']:,.0f}",
                flush=True,
            )
    if set(args.servers) == set(SERVERS):
        section = write_report(results, args.count, args.ping_interval)
        print(section)
        if args.count == 10_000:
            from plot import bar_chart, update_docs

            bar_chart(
                ROOT / "docs" / "connections.png", "kib per idle connection",
                [(name, [results[name]["kib_per_connection"]]) for name in SERVERS],
                ["server rss growth / connections"],
            )
            update_docs(section, MARKER_START, MARKER_END)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
