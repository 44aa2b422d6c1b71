"""Echo benchmark: ``gameserver echo`` against ``websockets`` and ``trio-websocket``.

Each server runs in its own process pinned to CPU core 0; the load generator (this
process) is pinned to core 1. The load generator speaks raw RFC 6455 over a plain
socket: it pre-encodes masked binary frames (up to 256, each with its own random
mask, as real clients send) and sends them round and round, and counts whole echoed
messages by parsing frame headers, so its own cost per message is tiny and the same
for every server. Compression is off everywhere (no extension is
offered and every server is told not to use it).

Three load shapes:

- sequential: one connection, one message in flight (send, wait for the echo,
  repeat), per message size: latency-bound;
- pipelined: one connection, 32 messages in flight (2 of 1 MiB), per message size:
  throughput-bound;
- many: 50 connections, each with one 64-byte message in flight: what a busy game
  server sees (many clients, small requests, each waiting for its reply). A bare Trio
  TCP echo (no WebSocket at all, ``--serve bare-trio``) runs beside the WebSocket
  servers as the floor: what Trio itself costs per message.

Run: ``python bench/echo.py`` (about four minutes); ``--quick`` for a short smoke run;
``--shapes many`` for one shape only. The results tables are written into
docs/benchmarks.md (its echo section) after a full run. ``--baseline DIR [DIR ...]``
also runs ``gameserver echo`` from the source tree in each DIR (say, one unpacked by
``git archive HEAD~1 | tar -x -C DIR``) in the same interleaved rounds, to measure a
change old against new; their figures are printed only.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import platform
import re
import selectors
import signal
import socket
import subprocess
import sys
import time
from collections import deque
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path
from statistics import median
from typing import NamedTuple

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from gameserver.ws.codes import Opcode  # noqa: E402
from gameserver.ws.frames import encode_frame  # noqa: E402

SIZES = [64, 64 * 1024, 1024 * 1024]
SERVERS = ["gameserver", "websockets", "trio-websocket"]
# The floor of the many-connections shape: a Trio TCP echo without WebSocket.
BARE = "bare-trio"
# Servers named "baseline:DIR" run ``gameserver echo`` from the source tree in DIR.
BASELINE = "baseline:"
SHAPES = ["sequential", "pipelined", "many"]
MANY_CONNECTIONS = 50
MANY_SIZE = 64
MASK = b"\x37\xfa\x21\x3d"
# How many differently masked copies of the load's frame to cycle through.
MASK_POOL = 256
MASK_POOL_BYTES = 64 * 1024 * 1024
IN_FLIGHT_BYTES = 2 * 1024 * 1024
MIN_WINDOW = 2
MAX_WINDOW = 32
SERVER_CORE = 0
CLIENT_CORE = 1
MARKER_START = "<!-- echo-benchmark:start -->"
MARKER_END = "<!-- echo-benchmark:end -->"


# --- the echo servers (each run as ``python bench/echo.py --serve NAME``) ---------


def serve_websockets(port: int) -> None:
    from websockets.asyncio.server import ServerConnection, serve

    async def echo(ws: ServerConnection) -> None:
        async for message in ws:
            await ws.send(message)

    async def main() -> None:
        async with serve(
            echo, "127.0.0.1", port, compression=None, max_size=None, ping_interval=None
        ) as server:
            print(f"ready {next(iter(server.sockets)).getsockname()[1]}", flush=True)
            stop = asyncio.get_running_loop().create_future()
            for signum in (signal.SIGINT, signal.SIGTERM):
                asyncio.get_running_loop().add_signal_handler(signum, stop.set_result, None)
            await stop

    asyncio.run(main())


# trio-websocket's read size: its default (4096) unless --trio-websocket-read-size says.
READ_SIZE = [4096]


def serve_trio_websocket(port: int) -> None:
    import trio
    from trio_websocket import ConnectionClosed, WebSocketRequest, serve_websocket

    async def echo(request: WebSocketRequest) -> None:
        ws = await request.accept()
        try:
            while True:
                await ws.send_message(await ws.get_message())
        except ConnectionClosed:
            pass

    async def main() -> None:
        async with trio.open_nursery() as nursery:
            server = await nursery.start(
                lambda task_status: serve_websocket(
                    echo,
                    "127.0.0.1",
                    port,
                    None,
                    max_message_size=2 * 1024 * 1024,
                    receive_buffer_size=READ_SIZE[0],
                    task_status=task_status,
                )
            )
            print(f"ready {server.port}", flush=True)

    trio.run(main)


def serve_bare_trio(port: int) -> None:
    """A TCP echo on Trio's ``SocketStream``, no WebSocket: the floor of the many shape."""
    import trio

    async def echo(stream: trio.SocketStream) -> None:
        try:
            while data := await stream.receive_some(65536):
                await stream.send_all(data)
        except trio.BrokenResourceError:
            pass

    async def main() -> None:
        listeners = await trio.open_tcp_listeners(port, host="127.0.0.1")
        print(f"ready {listeners[0].socket.getsockname()[1]}", flush=True)
        await trio.serve_listeners(echo, listeners)

    trio.run(main)


def start_server(name: str, read_size: int = 4096) -> tuple[subprocess.Popen[str], int]:
    """Start server ``name`` pinned to SERVER_CORE; return the process and its port."""
    env = None
    cwd = ROOT
    if name == "gameserver" or name.startswith(BASELINE):
        command = [sys.executable, "-m", "gameserver", "echo", "--port", "0", "--no-compression"]
        if name.startswith(BASELINE):
            cwd = Path(name.removeprefix(BASELINE))
            env = {**os.environ, "PYTHONPATH": str(cwd)}
    else:
        command = [sys.executable, __file__, "--serve", name]
        command += ["--trio-websocket-read-size", str(read_size)]
    process = subprocess.Popen(
        command,
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: os.sched_setaffinity(0, {SERVER_CORE}),
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    match = re.search(r"(?:ready |:)(\d+)/?\s*$", line)
    if not match:
        process.kill()
        raise RuntimeError(f"{name} did not start: {line!r}")
    return process, int(match.group(1))


# --- the load generator -----------------------------------------------------------------


class EchoCounter:
    """Count whole messages in a stream of unmasked server frames without copying payloads."""

    def __init__(self) -> None:
        self.pending = b""  # an incomplete frame header
        self.skip = 0  # payload bytes of the current frame still to come
        self.messages = 0

    def feed(self, data: bytes) -> int:
        """Consume ``data``; return how many messages it completed."""
        before = self.messages
        view = memoryview(data)
        pos = 0
        end = len(data)
        if self.pending:
            data = self.pending + bytes(view)
            view, end, self.pending = memoryview(data), len(data), b""
        while True:
            if self.skip:
                step = min(self.skip, end - pos)
                self.skip -= step
                pos += step
                if self.skip:
                    return self.messages - before
                if self._fin:
                    self.messages += 1
            if pos >= end:
                return self.messages - before
            if end - pos < 2:
                self.pending = bytes(view[pos:])
                return self.messages - before
            first, second = data[pos], data[pos + 1]
            length = second & 0x7F
            header = 2
            if length == 126:
                header = 4
            elif length == 127:
                header = 10
            if end - pos < header:
                self.pending = bytes(view[pos:])
                return self.messages - before
            if length == 126:
                length = int.from_bytes(data[pos + 2 : pos + 4], "big")
            elif length == 127:
                length = int.from_bytes(data[pos + 2 : pos + 10], "big")
            opcode = first & 0x0F
            if opcode >= 0x8:
                raise RuntimeError(f"unexpected control frame (opcode {opcode})")
            pos += header
            self._fin = bool(first & 0x80)
            self.skip = length
            if length == 0:
                if self._fin:
                    self.messages += 1

    _fin = False


def open_connection(port: int, websocket: bool = True) -> socket.socket:
    """Connect to ``port``; complete the opening handshake unless ``websocket`` is False."""
    sock = socket.create_connection(("127.0.0.1", port))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    if not websocket:
        return sock
    sock.sendall(
        b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
    response = b""
    while b"\r\n\r\n" not in response:
        chunk = sock.recv(4096)
        if not chunk:
            raise RuntimeError("server closed during the handshake")
        response += chunk
    if not response.startswith(b"HTTP/1.1 101"):
        raise RuntimeError(f"handshake refused: {response[:80]!r}")
    if response.split(b"\r\n\r\n", 1)[1]:
        raise RuntimeError("unexpected bytes after the 101 response")
    return sock


def run_load(
    port: int, size: int, window: int, warmup: float, duration: float
) -> tuple[float, int]:
    """Echo ``size``-byte messages with ``window`` in flight.

    Return the messages/s measured after the warm-up, and the number of messages
    echoed in all (warm-up included).
    """
    next_frame = itertools.cycle(masked_frames(size)).__next__
    sock = open_connection(port)
    sock.setblocking(False)
    selector = selectors.DefaultSelector()
    selector.register(sock, selectors.EVENT_READ)
    counter = EchoCounter()
    # Outgoing bytes: a list of whole frames plus an offset into the first one, so a
    # partial send never copies what is left.
    queue: deque[bytes] = deque(next_frame() for _ in range(window))
    offset = 0
    in_flight = window
    measured = 0
    now = time.perf_counter()
    measure_from, stop_at = now + warmup, now + warmup + duration
    started_at = 0.0
    writing = False
    while True:
        if bool(queue) != writing:
            writing = bool(queue)
            events = selectors.EVENT_READ | (selectors.EVENT_WRITE if writing else 0)
            selector.modify(sock, events)
        for _, mask in selector.select():
            if mask & selectors.EVENT_WRITE:
                while queue:
                    head = queue[0]
                    if offset == 0 and len(queue) > 1 and len(head) < 65536:
                        # Coalesce small frames into one send call, as a real client would.
                        batch = b"".join(queue)
                        queue.clear()
                        queue.append(batch)
                        head = batch
                    try:
                        sent = sock.send(memoryview(head)[offset:])
                    except BlockingIOError:
                        break
                    offset += sent
                    if offset < len(head):
                        break
                    queue.popleft()
                    offset = 0
            if mask & selectors.EVENT_READ:
                try:
                    data = sock.recv(1 << 20)
                except BlockingIOError:
                    continue
                if not data:
                    raise RuntimeError("server closed the connection")
                done = counter.feed(data)
                in_flight -= done
                now = time.perf_counter()
                if now >= measure_from:
                    if not started_at:
                        started_at = now
                    else:
                        measured += done
                if now < stop_at:
                    queue.extend(next_frame() for _ in range(done))
                    in_flight += done
                elif in_flight == 0:
                    close_politely(sock)
                    return measured / (now - started_at), counter.messages


def masked_frames(size: int) -> list[bytes]:
    """Binary frames of one random ``size``-byte payload, each with its own random mask.

    Real clients pick a fresh random mask for every frame (RFC 6455 section 5.3), so
    the load cycles through many differently masked copies, encoded once up front: no
    server can profit from seeing the same mask again and again.
    """
    payload = os.urandom(size)
    pool_size = max(8, min(MASK_POOL, MASK_POOL_BYTES // (size + 14)))
    return [encode_frame(Opcode.BINARY, payload, mask=os.urandom(4)) for _ in range(pool_size)]


class ManyResult(NamedTuple):
    """One run of the many-connections shape, over its measured window."""

    rate: float
    """Echoed messages per second."""
    cpu_us: float
    """Server CPU time (user + system) per echoed message, in microseconds."""
    load_cpu_us: float
    """The load generator's own CPU time per echoed message, in microseconds."""


def run_many(
    port: int, pid: int, websocket: bool, connections: int, warmup: float, duration: float
) -> ManyResult:
    """Echo ``MANY_SIZE``-byte messages over ``connections`` connections, one in flight
    on each: send, wait for the whole echo, send the next.

    One selector loop drives every socket; the frames are encoded up front and each
    reply is counted by its length alone (one message in flight: the reply is exactly
    one frame), so the load costs a few microseconds per message. ``websocket`` False
    speaks raw TCP to a bare echo: no handshake, the masked frame comes back as sent.
    """
    next_frame = itertools.cycle(masked_frames(MANY_SIZE)).__next__
    # Unmasked server frame: 2-byte header, no mask. Raw TCP: the frame as sent.
    reply_size = MANY_SIZE + 2 if websocket else MANY_SIZE + 6
    socks = [open_connection(port, websocket) for _ in range(connections)]
    selector = selectors.DefaultSelector()
    received = [0] * connections
    for index, sock in enumerate(socks):
        sock.setblocking(False)
        selector.register(sock, selectors.EVENT_READ, index)
    for sock in socks:
        sock.send(next_frame())
    in_flight = connections
    echoed = 0
    now = time.perf_counter()
    measure_from, stop_at = now + warmup, now + warmup + duration
    # (time, messages echoed, server CPU, load CPU) when the window opens and closes.
    window_start: tuple[float, int, float, float] | None = None
    window_end: tuple[float, int, float, float] | None = None
    while in_flight:
        for key, _ in selector.select():
            index = key.data
            sock = socks[index]
            data = sock.recv(65536)
            if not data:
                raise RuntimeError("server closed the connection")
            got = received[index] + len(data)
            if got < reply_size:
                received[index] = got
                continue
            if got > reply_size:
                raise RuntimeError(f"reply of {got} bytes, expected {reply_size}")
            received[index] = 0
            echoed += 1
            if window_end is None:
                # 70 bytes always fit an empty socket send buffer.
                sock.send(next_frame())
            else:
                in_flight -= 1
        if window_start is None or window_end is None:
            now = time.perf_counter()
            if window_start is None and now >= measure_from:
                window_start = (now, echoed, cpu_seconds(pid), time.process_time())
            elif window_start is not None and now >= stop_at:
                window_end = (now, echoed, cpu_seconds(pid), time.process_time())
    selector.close()
    for sock in socks:
        if websocket:
            close_politely(sock)
        else:
            sock.setblocking(True)
            sock.settimeout(5)
            sock.shutdown(socket.SHUT_WR)
            while sock.recv(65536):
                pass
            sock.close()
    assert window_start is not None and window_end is not None
    messages = window_end[1] - window_start[1]
    return ManyResult(
        rate=messages / (window_end[0] - window_start[0]),
        cpu_us=1e6 * (window_end[2] - window_start[2]) / max(1, messages),
        load_cpu_us=1e6 * (window_end[3] - window_start[3]) / max(1, messages),
    )


def close_politely(sock: socket.socket) -> None:
    """Send a close frame and wait (briefly) for the server to end the connection."""
    sock.setblocking(True)
    sock.settimeout(5)
    sock.sendall(encode_frame(Opcode.CLOSE, (1000).to_bytes(2, "big"), mask=MASK))
    try:
        while sock.recv(65536):
            pass
    except OSError:
        pass
    sock.close()


def check_echo(port: int, websocket: bool = True) -> None:
    """Make sure the server echoes a binary message byte for byte before timing it
    (``websocket`` False: a bare TCP echo, which sends the masked frame back as is)."""
    payload = os.urandom(1000)
    sock = open_connection(port, websocket)
    sock.settimeout(10)
    sent = encode_frame(Opcode.BINARY, payload, mask=MASK)
    sock.sendall(sent)
    expected = encode_frame(Opcode.BINARY, payload) if websocket else sent
    received = b""
    while len(received) < len(expected):
        chunk = sock.recv(65536)
        if not chunk:
            raise RuntimeError("server closed before echoing")
        received += chunk
    if websocket:
        close_politely(sock)
    else:
        sock.close()
    if received != expected:
        raise RuntimeError("echo mismatch")


# --- report -----------------------------------------------------------------------------


def machine() -> str:
    model = "unknown CPU"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    return (
        f"{os.cpu_count()} CPUs ({model}), Linux {platform.release()}, "
        f"Python {platform.python_version()}, trio {version('trio')}, "
        f"websockets {version('websockets')}, trio-websocket {version('trio-websocket')}"
    )


def human(size: int) -> str:
    return f"{size // 1048576} MiB" if size >= 1048576 else (
        f"{size // 1024} KiB" if size >= 1024 else f"{size} B"
    )


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time consumed so far by process ``pid``."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_table(cpu: dict[tuple[str, int, str], float], shape: str) -> list[str]:
    lines = [
        "| size | gameserver us/msg | websockets us/msg | trio-websocket us/msg |",
        "|---|---:|---:|---:|",
    ]
    for size in SIZES:
        cells = " | ".join(f"{cpu[name, size, shape]:,.0f}" for name in SERVERS)
        lines.append(f"| {human(size)} | {cells} |")
    return lines


def table(results: dict[tuple[str, int, str], float], shape: str) -> list[str]:
    lines = [
        "| size | gameserver msg/s | websockets msg/s | trio-websocket msg/s "
        "| vs websockets | vs trio-websocket |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for size in SIZES:
        ours, lib, trio_ws = (results[name, size, shape] for name in SERVERS)
        lines.append(
            f"| {human(size)} | {ours:,.0f} | {lib:,.0f} | {trio_ws:,.0f} "
            f"| {ours / lib:.2f}x | {ours / trio_ws:.2f}x |"
        )
    return lines


MANY_LABELS = {
    "gameserver": "gameserver",
    "websockets": "websockets (asyncio)",
    "trio-websocket": "trio-websocket",
    BARE: "bare Trio TCP echo (floor, no WebSocket)",
}


def many_table(runs: dict[str, list[ManyResult]]) -> list[str]:
    """The many-connections table: medians over the rounds, and the median of each
    round's ratio to websockets (the rounds are interleaved, so a round's ratio
    compares servers measured moments apart)."""
    reference = runs["websockets"]
    lines = [
        "| server | msg/s | vs websockets | server CPU us/msg | CPU vs websockets |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, results in runs.items():
        rate = median(r.rate for r in results)
        cpu = median(r.cpu_us for r in results)
        speed = median(r.rate / ref.rate for r, ref in zip(results, reference))
        cost = median(r.cpu_us / ref.cpu_us for r, ref in zip(results, reference))
        lines.append(
            f"| {MANY_LABELS.get(name, name)} | {rate:,.0f} | {speed:.2f}x | {cpu:,.1f} | {cost:.2f}x |"
        )
    return lines


def write_report(
    results: dict[tuple[str, int, str], float],
    cpu: dict[tuple[str, int, str], float],
    many: dict[str, list[ManyResult]],
    seconds: float,
    rounds: int,
    many_rounds: int,
    read_size: int,
) -> str:
    lines = [
        MARKER_START,
        "## WebSocket echo",
        "",
        "`python bench/echo.py`: each echo server in its own process pinned to core 0, one",
        "raw-socket load generator pinned to core 1 (binary messages, frames pre-encoded,",
        "each with its own random mask; compression off everywhere). Every server runs",
        "with its library's defaults except: no compression, no keepalive pings, a",
        "message limit of at least 1 MiB; trio-websocket reads",
        f"{read_size} bytes at a time (`receive_buffer_size`; ours reads 65536).",
        "",
        f"Machine: {machine()}.",
        "",
        f"### Many connections: {MANY_CONNECTIONS} connections, one {MANY_SIZE} B message in "
        "flight on each",
        "",
        "Each connection sends a message, waits for its whole echo, sends the next: many",
        "clients with small requests, each waiting for its reply, as a game server sees",
        "them. One selector loop drives all connections. The bare Trio TCP echo",
        "(`receive_some` then `send_all`, no WebSocket) is the floor: what Trio itself",
        f"costs per message. Medians of {many_rounds} interleaved rounds of {seconds:g} s "
        "each (after a",
        "warm-up); the ratios are the medians of each round's ratio. Server CPU is user +",
        "system time from /proc over the measured window; lower is better. On this shared",
        "machine (other jobs run on both cores) msg/s swings from round to round with",
        "what else runs on the server's core; CPU per message is the steadier figure, and",
        "a server that has its core to itself echoes about 1 / (CPU per message) msg/s.",
        "",
        *many_table(many),
        "",
        "### One connection",
        "",
        "*Sequential* keeps one message in flight; *pipelined* keeps 32 in flight (2 for",
        f"1 MiB messages). Each cell is messages per second: the best of {rounds}",
        f"interleaved runs of {seconds:g} s each (after a warm-up), so load from elsewhere",
        "on the machine hurts no server more than another.",
        "",
        "Pipelined:",
        "",
        *table(results, "pipelined"),
        "",
        "Sequential:",
        "",
        *table(results, "sequential"),
        "",
        "Server CPU time per echoed message (user + system, from /proc; the lowest of the",
        "runs; lower is better). It depends far less on what else the machine is doing.",
        "",
        "Pipelined:",
        "",
        *cpu_table(cpu, "pipelined"),
        "",
        "Sequential:",
        "",
        *cpu_table(cpu, "sequential"),
        MARKER_END,
    ]
    return "\n".join(lines) + "\n"


def update_docs(section: str) -> None:
    path = ROOT / "docs" / "benchmarks.md"
    text = path.read_text() if path.exists() else "# Benchmarks\n\n"
    if MARKER_START in text:
        before, rest = text.split(MARKER_START, 1)
        after = rest.split(MARKER_END, 1)[1].lstrip("\n")
        text = before + section + ("\n" + after if after else "")
    else:
        text = text.rstrip("\n") + "\n\n" + section
    path.write_text(text)


def measure_one_connection(
    servers: dict[str, tuple[subprocess.Popen[str], int]],
    shapes: list[str],
    seconds: float,
    warmup: float,
    rounds: int,
) -> tuple[dict[tuple[str, int, str], float], dict[tuple[str, int, str], float]]:
    """The sequential and pipelined shapes: best rate and lowest CPU per cell."""
    results: dict[tuple[str, int, str], float] = {}
    cpu: dict[tuple[str, int, str], float] = {}
    for size in SIZES:
        pipelined = max(MIN_WINDOW, min(MAX_WINDOW, IN_FLIGHT_BYTES // size))
        for shape, window in (("sequential", 1), ("pipelined", pipelined)):
            if shape not in shapes:
                continue
            for _ in range(rounds):
                for name, (process, port) in servers.items():
                    before = cpu_seconds(process.pid)
                    rate, count = run_load(port, size, window, warmup, seconds)
                    used = 1e6 * (cpu_seconds(process.pid) - before) / count
                    key = (name, size, shape)
                    results[key] = max(results.get(key, 0.0), rate)
                    cpu[key] = min(cpu.get(key, float("inf")), used)
            for name in servers:
                rate, used = results[name, size, shape], cpu[name, size, shape]
                print(
                    f"{name:15} {human(size):>7} {shape:10} {rate:12,.0f} msg/s"
                    f" {used:10,.1f} us CPU/msg",
                    flush=True,
                )
    return results, cpu


def measure_many(
    servers: dict[str, tuple[subprocess.Popen[str], int]],
    seconds: float,
    warmup: float,
    rounds: int,
) -> dict[str, list[ManyResult]]:
    """The many-connections shape, every server once per round, in turn."""
    many: dict[str, list[ManyResult]] = {name: [] for name in servers}
    for round_number in range(rounds):
        for name, (process, port) in servers.items():
            result = run_many(
                port, process.pid, name != BARE, MANY_CONNECTIONS, warmup, seconds
            )
            many[name].append(result)
            print(
                f"round {round_number + 1} {name:15} many {result.rate:12,.0f} msg/s"
                f" {result.cpu_us:8,.1f} us CPU/msg (load {result.load_cpu_us:.1f})",
                flush=True,
            )
    return many


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--serve", choices=["websockets", "trio-websocket", BARE], help=argparse.SUPPRESS
    )
    parser.add_argument("--port", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--quick", action="store_true", help="short run; docs are not updated")
    parser.add_argument("--seconds", type=float, default=2.0, help="measured seconds per run")
    parser.add_argument(
        "--rounds", type=int, default=3, help="interleaved runs per cell (best or median kept)"
    )
    parser.add_argument(
        "--many-rounds",
        type=int,
        default=7,
        help="interleaved runs of the many shape (medians kept; its rounds are short)",
    )
    parser.add_argument("--servers", nargs="+", default=SERVERS, choices=SERVERS)
    parser.add_argument("--shapes", nargs="+", default=SHAPES, choices=SHAPES)
    parser.add_argument(
        "--baseline",
        type=Path,
        nargs="+",
        default=[],
        help="also run `gameserver echo` from these source trees (printed only, docs untouched)",
    )
    parser.add_argument(
        "--trio-websocket-read-size",
        type=int,
        default=4096,
        help="trio-websocket's receive_buffer_size (its default is 4096; ours reads 65536)",
    )
    args = parser.parse_args()
    READ_SIZE[0] = args.trio_websocket_read_size
    if args.serve:
        serve: Callable[[int], None] = {
            "websockets": serve_websockets,
            "trio-websocket": serve_trio_websocket,
            BARE: serve_bare_trio,
        }[args.serve]
        serve(args.port)
        return 0

    os.sched_setaffinity(0, {CLIENT_CORE})
    seconds, warmup = (0.5, 0.2) if args.quick else (args.seconds, 0.5)
    rounds = 1 if args.quick else args.rounds
    names = list(args.servers)
    names[1:1] = [BASELINE + str(path.resolve()) for path in args.baseline]
    # All servers run side by side (idle ones cost nothing) and the cells are measured
    # in interleaved rounds, so a burst of load from elsewhere on the machine does not
    # favour whichever server happened to run at a quiet moment.
    servers = {
        name: start_server(name, args.trio_websocket_read_size) for name in names
    }
    if "many" in args.shapes:
        servers[BARE] = start_server(BARE)
    try:
        for name, (_, port) in servers.items():
            check_echo(port, websocket=name != BARE)
        one = {name: server for name, server in servers.items() if name != BARE}
        results, cpu = measure_one_connection(one, args.shapes, seconds, warmup, rounds)
        many_rounds = 1 if args.quick else args.many_rounds
        many = measure_many(servers, seconds, warmup, many_rounds) if "many" in args.shapes else {}
    finally:
        for process, _ in servers.values():
            process.terminate()
            process.wait(10)
    if many:
        print("\n".join(many_table(many)))
    complete = set(args.servers) == set(SERVERS) and set(args.shapes) == set(SHAPES)
    if complete and not args.baseline:
        section = write_report(
            results, cpu, many, seconds, rounds, many_rounds, args.trio_websocket_read_size
        )
        print(section)
        if not args.quick:
            update_docs(section)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
