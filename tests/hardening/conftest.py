"""Real servers and misbehaving peers for the hardening tests.

``RawPeer`` is a WebSocket client written on a bare TCP socket so a test can do what no
well-behaved client does: stop mid-frame, never answer pings, never read, send junk.
It parses what the server sends with the project's sans-IO client connection.
``pair_in_room`` gives two well-behaved players in a connect-four room so each test can
check that the others kept playing while one peer misbehaved.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import attrs
import msgpack
import pytest
import trio

from e2e.conftest import RunningServer, WireClient, make_config, open_client, start_server
from gameserver.app import ServerConfig
from gameserver.protocol.messages import CreateRoom, JoinResult, JoinRoom, Move, MoveResult
from gameserver.protocol.version import SUBPROTOCOL
from gameserver.ws.codes import Opcode
from gameserver.ws.connection import Connection, Role
from gameserver.ws.events import BinaryMessage, CloseReceived, Event, Ping, TextMessage
from gameserver.ws.frames import encode_frame

__all__ = [
    "RawPeer",
    "RunningServer",
    "Pair",
    "WireClient",
    "make_config",
    "open_client",
    "pair_in_room",
    "start_server",
    "upgrade_request",
    "with_ws",
    "serve_process",
    "rss_bytes",
    "open_fds",
]

UPGRADE_KEY = "dGhlIHNhbXBsZSBub25jZQ=="


def upgrade_request(
    *, path: str = "/ws", extra: str = "", subprotocol: str | None = SUBPROTOCOL
) -> bytes:
    """A valid upgrade request head for the game endpoint (``extra``: more header lines)."""
    lines = [
        f"GET {path} HTTP/1.1",
        "Host: 127.0.0.1",
        "Upgrade: websocket",
        "Connection: Upgrade",
        f"Sec-WebSocket-Key: {UPGRADE_KEY}",
        "Sec-WebSocket-Version: 13",
    ]
    if subprotocol is not None:
        lines.append(f"Sec-WebSocket-Protocol: {subprotocol}")
    head = "\r\n".join(lines) + "\r\n" + extra
    return (head + "\r\n").encode()


def with_ws(config: ServerConfig, **ws: Any) -> ServerConfig:
    """``config`` with some WebSocket-layer limits changed."""
    return attrs.evolve(config, websocket=attrs.evolve(config.websocket, **ws))


@attrs.define(eq=False)
class RawPeer:
    """A hand-driven client on a raw TCP socket (see module doc)."""

    stream: trio.SocketStream
    connection: Connection = attrs.field(factory=lambda: Connection(Role.CLIENT))
    events: list[Event] = attrs.field(factory=list)
    head: bytes = b""
    eof: bool = False

    @classmethod
    async def connect(cls, port: int, *, rcvbuf: int | None = None) -> RawPeer:
        """Open TCP to 127.0.0.1:``port`` without any handshake."""
        sock = trio.socket.socket()
        if rcvbuf is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        await sock.connect(("127.0.0.1", port))
        return cls(trio.SocketStream(sock))

    @classmethod
    async def open(cls, port: int, *, rcvbuf: int | None = None) -> RawPeer:
        """Connect and complete the upgrade to the game subprotocol."""
        peer = await cls.connect(port, rcvbuf=rcvbuf)
        await peer.stream.send_all(upgrade_request())
        status = await peer.read_head()
        assert status.startswith(b"HTTP/1.1 101"), status
        return peer

    async def read_head(self) -> bytes:
        """Read an HTTP response head (and keep any bytes after it as WebSocket data)."""
        data = b""
        with trio.fail_after(10):
            while b"\r\n\r\n" not in data:
                chunk = await self.stream.receive_some(65536)
                if not chunk:
                    break
                data += chunk
        head, _, rest = data.partition(b"\r\n\r\n")
        self.head = head
        if rest:
            self.connection.receive_data(rest)
            self.events.extend(self.connection.events_received())
        return head

    async def read_http(self, timeout: float = 10) -> tuple[int, bytes]:
        """Read a whole HTTP response until the server closes; return (status, body)."""
        data = b""
        with trio.fail_after(timeout):
            while True:
                try:
                    chunk = await self.stream.receive_some(65536)
                except trio.BrokenResourceError:
                    break
                if not chunk:
                    break
                data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        return int(head.split(b" ", 2)[1]), body

    async def send_message(self, message: dict[str, Any] | bytes) -> None:
        """Send one masked binary message (a dict is msgpack-encoded first)."""
        data = message if isinstance(message, bytes) else msgpack.packb(message)
        self.connection.send_binary(data)
        await self.stream.send_all(self.connection.data_to_send())

    async def send_raw(self, data: bytes) -> None:
        """Write bytes as they are."""
        await self.stream.send_all(data)

    async def next_event(self, timeout: float = 10) -> Event | None:
        """The next event from the server; None at EOF. Answers nothing by itself."""
        with trio.fail_after(timeout):
            while not self.events:
                if self.eof:
                    return None
                try:
                    chunk = await self.stream.receive_some(65536)
                except trio.BrokenResourceError:
                    chunk = b""
                if not chunk:
                    self.eof = True
                    self.connection.receive_eof()
                else:
                    self.connection.receive_data(chunk)
                self.events.extend(self.connection.events_received())
            return self.events.pop(0)

    async def next_message(self, timeout: float = 10) -> dict[str, Any]:
        """The next decoded protocol message (pings are skipped, not answered)."""
        while True:
            event = await self.next_event(timeout)
            if isinstance(event, BinaryMessage):
                decoded = msgpack.unpackb(event.data)
                assert isinstance(decoded, dict)
                return decoded
            if isinstance(event, (Ping, TextMessage)):
                continue
            raise AssertionError(f"expected a message, got {event!r}")

    async def close_code(self, timeout: float = 10) -> tuple[int, str]:
        """Skip messages until the server's close frame; return its code and reason."""
        while True:
            event = await self.next_event(timeout)
            assert event is not None, "the server dropped TCP without a close frame"
            if isinstance(event, CloseReceived):
                return event.code, event.reason

    async def aclose(self) -> None:
        await trio.aclose_forcefully(self.stream)


def masked_frame(opcode: Opcode, payload: bytes, *, fin: bool = True) -> bytes:
    """A client frame as bytes (masked, as RFC 6455 requires of clients)."""
    return encode_frame(opcode, payload, fin=fin, mask=os.urandom(4))


@attrs.define
class Pair:
    """Two players in one connect-four room; ``play`` makes the next move."""

    alice: WireClient
    bob: WireClient
    room_id: str
    version: int = 0

    async def play(self, moves: int = 2) -> int:
        """Make ``moves`` alternating moves in columns 0..5 (no four in a row); return version."""
        for _ in range(moves):
            mover = self.alice if self.version % 2 == 0 else self.bob
            column = (self.version // 2 + self.version % 2 * 3) % 6
            result = await mover.call(
                Move, MoveResult, room_id=self.room_id, version=self.version,
                move={"column": column},
            )
            self.version = result.version
        return self.version


async def pair_in_room(server: RunningServer, nursery: trio.Nursery) -> Pair:
    """Two fresh players seated in a new connect-four room."""
    alice = await open_client(server, nursery, "alice")
    bob = await open_client(server, nursery, "bob")
    created = await alice.call(CreateRoom, JoinResult, game="connect4", players=2)
    await bob.call(JoinRoom, JoinResult, room_id=created.room.room_id)
    return Pair(alice, bob, created.room.room_id)


@pytest.fixture
async def server(tmp_path: Path) -> Any:
    async with trio.open_nursery() as nursery:
        running = await start_server(nursery, make_config(tmp_path))
        yield running
        nursery.cancel_scope.cancel()


async def serve_process(
    tmp_path: Path, *args: str, preexec_fn: Any = None
) -> tuple[trio.Process, int, str]:
    """Run ``gameserver serve`` on a free port; return (process, port, scheme)."""
    process = await trio.lowlevel.open_process(
        [
            sys.executable, "-m", "gameserver", "serve", "--port", "0",
            "--replays", str(tmp_path / "replays"), "--data-dir", str(tmp_path / "data"),
            "--static", str(tmp_path), "--bot-delay", "0", "--log-level", "WARNING",
            "--fsync", "never", *args,
        ],
        stdout=subprocess.PIPE,
        preexec_fn=preexec_fn,
    )
    assert process.stdout is not None
    output = b""
    with trio.fail_after(20):
        while b"listening on" not in output or not output.endswith(b"\n"):
            chunk = await process.stdout.receive_some(4096)
            assert chunk, "the server exited before listening"
            output += chunk
    url = output.decode().split("listening on ", 1)[1].split()[0]
    scheme, _, rest = url.partition("://")
    return process, int(rest.rstrip("/").rsplit(":", 1)[1]), scheme


def rss_bytes(pid: int | str = "self") -> int:
    """Resident set size of a process in bytes (Linux /proc)."""
    with open(f"/proc/{pid}/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def open_fds(pid: int | str = "self") -> int:
    """Number of open file descriptors of a process (Linux /proc)."""
    return len(os.listdir(f"/proc/{pid}/fd"))


async def metric(port: int, name: str) -> float:
    """The value of one unlabelled metric from the server's ``/metrics``."""
    stream = await trio.open_tcp_stream("127.0.0.1", port)
    await stream.send_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
    data = b""
    with trio.fail_after(5):
        while chunk := await stream.receive_some(65536):
            data += chunk
    await stream.aclose()
    for line in data.decode().splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    raise AssertionError(f"no metric {name}")
