"""A tiny non-blocking RFC 6455 client over raw sockets, for the load generators.

The benchmarks need thousands of client connections driven from one process with as
little client-side cost as possible, so each connection is a plain non-blocking socket
and a byte buffer; the caller runs one ``selectors`` loop over all of them. Frames from
the server are parsed here (they are unmasked); frames to the server are masked with
a fixed key (the server cannot tell, and masking cost is not what we measure).

Pings from the server are answered at once with a pong, so idle connections stay
healthy. Whole messages (FIN data frames; the servers under test never fragment) are
returned by :meth:`RawWebSocket.feed`.
"""

from __future__ import annotations

import base64
import os
import re
import resource
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import msgpack  # noqa: E402

from gameserver.ws.codes import Opcode  # noqa: E402
from gameserver.ws.frames import encode_frame  # noqa: E402

MASK = b"\x5a\x17\xc3\x02"

OP_BINARY = 0x2
OP_CLOSE = 0x8
OP_PING = 0x9
OP_PONG = 0xA


def raise_nofile(wanted: int) -> int:
    """Raise RLIMIT_NOFILE towards ``wanted`` (up to the hard limit); return the new soft limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        soft = target
    return soft


def upgrade_request(path: str, subprotocol: str | None) -> bytes:
    """The opening handshake request (random key; no extensions offered)."""
    key = base64.b64encode(os.urandom(16)).decode()
    lines = [
        f"GET {path} HTTP/1.1",
        "Host: 127.0.0.1",
        "Upgrade: websocket",
        "Connection: Upgrade",
        f"Sec-WebSocket-Key: {key}",
        "Sec-WebSocket-Version: 13",
    ]
    if subprotocol:
        lines.append(f"Sec-WebSocket-Protocol: {subprotocol}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def binary_frame(payload: bytes) -> bytes:
    """A masked binary frame carrying ``payload``."""
    return encode_frame(Opcode.BINARY, payload, mask=MASK)


def request_frame(message: dict[str, object]) -> bytes:
    """A masked binary frame carrying one msgpack-encoded protocol request."""
    return binary_frame(msgpack.packb(message))


class RawWebSocket:
    """One client connection: a non-blocking socket plus frame parsing state."""

    __slots__ = ("sock", "buf", "open", "pongs", "pings", "closed", "out", "messages")

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buf = b""
        #: True once the 101 response has been read.
        self.open = False
        #: Pongs received (answers to our pings).
        self.pongs = 0
        #: Pings received from the server (each answered at once).
        self.pings = 0
        #: Set when the server closed the connection (close frame or EOF).
        self.closed = False
        #: Bytes not yet written (only when the socket buffer was full).
        self.out = b""
        #: Whole messages received since the caller last took them.
        self.messages: list[bytes] = []

    @classmethod
    def connect_nonblocking(cls, port: int, host: str = "127.0.0.1") -> RawWebSocket:
        """Start a TCP connect; send the handshake once the socket is writable."""
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.setblocking(False)
        try:
            sock.connect((host, port))
        except BlockingIOError:
            pass
        return cls(sock)

    @classmethod
    def connect(
        cls, port: int, path: str = "/ws", subprotocol: str | None = "gameserver.v1",
        timeout: float = 10.0,
    ) -> RawWebSocket:
        """Connect and finish the handshake (blocking), then switch to non-blocking."""
        sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        ws = cls(sock)
        sock.sendall(upgrade_request(path, subprotocol))
        while not ws.open:
            chunk = sock.recv(65536)
            if not chunk:
                raise RuntimeError("server closed during the handshake")
            ws.feed(chunk)
        sock.setblocking(False)
        return ws

    def send(self, data: bytes) -> None:
        """Write ``data`` now if the socket takes it; keep the rest in ``out``."""
        if self.out:
            self.out += data
            return
        try:
            sent = self.sock.send(data)
        except BlockingIOError:
            sent = 0
        except OSError:
            self.closed = True
            return
        if sent < len(data):
            self.out = data[sent:]

    def flush(self) -> None:
        """Write what ``send`` could not (call when the socket is writable)."""
        if self.out:
            data, self.out = self.out, b""
            self.send(data)

    def feed(self, data: bytes) -> int:
        """Consume bytes read from the socket; return how many whole messages arrived.

        The messages are appended to ``messages``. Pings are answered; a close frame or
        an HTTP refusal marks the connection ``closed``.
        """
        buf = self.buf + data if self.buf else data
        if not self.open:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                self.buf = buf
                return 0
            if not buf.startswith(b"HTTP/1.1 101"):
                self.closed = True
                raise RuntimeError(f"handshake refused: {buf[:60]!r}")
            self.open = True
            buf = buf[end + 4 :]
        count = 0
        pos = 0
        size = len(buf)
        while size - pos >= 2:
            first = buf[pos]
            length = buf[pos + 1] & 0x7F
            start = pos + 2
            if length == 126:
                if size - pos < 4:
                    break
                length = int.from_bytes(buf[pos + 2 : pos + 4], "big")
                start = pos + 4
            elif length == 127:
                if size - pos < 10:
                    break
                length = int.from_bytes(buf[pos + 2 : pos + 10], "big")
                start = pos + 10
            end = start + length
            if end > size:
                break
            opcode = first & 0x0F
            if opcode == OP_PING:
                self.pings += 1
                self.send(encode_frame(Opcode.PONG, buf[start:end], mask=MASK))
            elif opcode == OP_PONG:
                self.pongs += 1
            elif opcode == OP_CLOSE:
                self.closed = True
            else:
                self.messages.append(buf[start:end])
                count += 1
            pos = end
        self.buf = buf[pos:] if pos < size else b""
        return count

    def ping(self) -> None:
        """Send a ping; the server's pong increments ``pongs``."""
        self.send(encode_frame(Opcode.PING, b"bench", mask=MASK))

    def receive_available(self) -> int:
        """Read everything the socket holds now; return the messages completed."""
        count = 0
        while True:
            try:
                data = self.sock.recv(262144)
            except BlockingIOError:
                return count
            except OSError:
                self.closed = True
                return count
            if not data:
                self.closed = True
                return count
            count += self.feed(data)

    def close(self) -> None:
        """Drop the TCP connection."""
        self.sock.close()


def rss_kib(pid: int) -> int:
    """Resident set size of process ``pid`` in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for {pid}")


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time used so far by process ``pid``."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks


def tcp_bytes_sent(port: int) -> dict[str, int]:
    """Bytes sent so far by each established TCP connection whose local port is ``port``
    (a server's accepted connections), by peer address, from the kernel's socket
    statistics (``ss -ti``, ``bytes_sent``), whatever system call wrote them. Compare two
    readings with :func:`bytes_sent_between`."""
    listing = subprocess.run(
        ["ss", "-tinH", "state", "established", f"( sport = :{port} )"],
        capture_output=True, text=True, check=True,
    ).stdout
    # Each connection is a line of addresses followed by an indented line of figures.
    found = re.findall(r"(\S+)\s*\n\s+[^\n]*?\bbytes_sent:(\d+)", listing)
    return {peer: int(sent) for peer, sent in found}


def bytes_sent_between(before: dict[str, int], after: dict[str, int]) -> int:
    """Bytes sent between two :func:`tcp_bytes_sent` readings by the connections open at
    both (one that closed in between, such as a finished HTTP request, has no later
    reading, and one opened since has no earlier one)."""
    return sum(after[peer] - sent for peer, sent in before.items() if peer in after)


def wait_until(predicate: object, timeout: float, what: str) -> None:
    """Poll ``predicate()`` every 10 ms until true; raise after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}")
        time.sleep(0.01)


SERVER_CORE = 0
CLIENT_CORE = 1


def start_script_server(script: str, *args: str, what: str) -> tuple[subprocess.Popen[str], int]:
    """Run ``script`` with ``args`` in a child Python pinned to SERVER_CORE; it must print
    "ready PORT" once it listens. Return the process and the port; the caller stops it."""
    process = subprocess.Popen(
        [sys.executable, script, *args],
        cwd=ROOT, stdout=subprocess.PIPE, text=True,
        preexec_fn=lambda: (os.sched_setaffinity(0, {SERVER_CORE}), raise_nofile(30000)),
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    if not line.startswith("ready "):
        process.kill()
        raise RuntimeError(f"{what} did not start: {line!r}")
    return process, int(line.split()[1])


def start_gameserver(*extra: str, data_dir: Path) -> tuple[subprocess.Popen[str], int]:
    """Start ``gameserver serve`` on a free port pinned to SERVER_CORE; return it and its port.

    Nothing is recorded (``--no-replays``) and every per-address limit is lifted, since
    all load comes from 127.0.0.1.
    """
    command = [
        sys.executable, "-m", "gameserver", "serve", "--port", "0", "--no-replays",
        "--no-recover", "--data-dir", str(data_dir), "--log-level", "WARNING",
        "--max-connections", "20000", "--max-connections-per-ip", "20000",
        "--max-rooms", "20000", "--max-rooms-per-address", "0", *extra,
    ]
    process = subprocess.Popen(
        command,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: (os.sched_setaffinity(0, {SERVER_CORE}), raise_nofile(30000)),
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    found = re.search(r":(\d+)/\s*$", line)
    if not found:
        process.kill()
        raise RuntimeError(f"gameserver did not start: {line!r}")
    return process, int(found.group(1))


def percentile(sorted_values: list[float], pct: float) -> float:
    """Nearest-rank percentile of sorted values."""
    rank = max(1, -(-len(sorted_values) * pct // 100))
    return sorted_values[int(rank) - 1]
