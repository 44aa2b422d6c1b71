"""A real game server on 127.0.0.1 (port 0) and a low-level wire client for e2e tests.

The servers themselves (in-process ``start_server``, subprocess ``ServeProcess``) live in
``support.servers``; they are re-exported here.

``WireClient`` speaks the protocol over the project's WebSocket client and keeps every
received message both decoded and as raw bytes, so tests can inspect exactly what went
over the wire (e.g. to prove hidden information never did).
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest
import trio

from gameserver.app import ServerConfig
from gameserver.protocol.codec import decode_result, decode_server_message, encode_client_message
from gameserver.protocol.messages import (
    ClientMessage,
    CreateRoom,
    Error,
    Hello,
    HelloResult,
    JoinResult,
    JoinRoom,
    Reply,
    Result,
    ServerMessage,
    State,
)
from gameserver.protocol.version import SUBPROTOCOL
from gameserver.rooms.config import RoomConfig
from gameserver.sessions.service import ServiceConfig
from gameserver.ws.client import connect
from gameserver.ws.config import WebSocketServerConfig
from gameserver.ws.websocket import WebSocket
from support.servers import RunningServer, ServeProcess, start_server

M = TypeVar("M", bound=ServerMessage)
R = TypeVar("R", bound=Result)


def make_config(tmp_path: Path, *, outbox_limit: int = 256, **rooms: Any) -> ServerConfig:
    static = tmp_path / "static"
    static.mkdir(exist_ok=True)
    return ServerConfig(
        websocket=WebSocketServerConfig(max_message_size=2**20, close_timeout=1.0),
        host="127.0.0.1",
        port=0,
        replays_dir=tmp_path / "replays",
        data_dir=tmp_path / "data",
        static_dir=static,
        service=ServiceConfig(
            rooms=RoomConfig(**{"bot_delay": 0.0, "grace_period": 30.0, **rooms}),
            message_rate=10000.0,
            message_burst=10000.0,
            outbox_limit=outbox_limit,
        ),
    )


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[RunningServer]:
    async with trio.open_nursery() as nursery:
        running = await start_server(nursery, make_config(tmp_path))
        yield running
        nursery.cancel_scope.cancel()


class WireClient:
    """One protocol connection; requests are answered in order of ids."""

    def __init__(self, ws: WebSocket) -> None:
        self.ws = ws
        self.ids = itertools.count(1)
        self.buffer: list[ServerMessage] = []
        self.raw: list[bytes] = []
        self.token: str | None = None
        self.player_id: str | None = None

    async def _read_one(self) -> ServerMessage:
        data = await self.ws.receive()
        assert isinstance(data, bytes), "the server sends binary messages only"
        self.raw.append(data)
        message = decode_server_message(data)
        self.buffer.append(message)
        return message

    async def send_raw(self, data: bytes | str) -> None:
        await self.ws.send(data)

    async def send(self, cls: type[ClientMessage], **fields: Any) -> int:
        request_id = fields.pop("id", None) or next(self.ids)
        await self.ws.send(encode_client_message(cls(id=request_id, **fields)))
        return request_id

    async def answer(self, request_id: int | None) -> Reply | Error:
        """Wait for the reply or error with ``request_id`` (None: an unsolicited error)."""
        with trio.fail_after(10):
            while True:
                for message in self.buffer:
                    if isinstance(message, (Reply, Error)) and message.id == request_id:
                        self.buffer.remove(message)
                        return message
                await self._read_one()

    async def call(self, cls: type[ClientMessage], result: type[R], **fields: Any) -> R:
        """Send a request and return its result; fail the test on an error answer."""
        answer = await self.answer(await self.send(cls, **fields))
        assert isinstance(answer, Reply), answer
        return decode_result(result, answer.result)

    async def fail(self, cls: type[ClientMessage], **fields: Any) -> str:
        """Send a request that must fail; return its error code."""
        answer = await self.answer(await self.send(cls, **fields))
        assert isinstance(answer, Error), answer
        return answer.code

    async def wait_for(self, cls: type[M], predicate: Callable[[M], bool] = lambda m: True) -> M:
        """Return (and consume) the first buffered or arriving ``cls`` message that fits."""
        with trio.fail_after(10):
            while True:
                for message in self.buffer:
                    if isinstance(message, cls) and predicate(message):
                        self.buffer.remove(message)
                        return message
                await self._read_one()

    async def state(self, room_id: str, predicate: Callable[[State], bool] = lambda s: True) -> State:
        """The newest state of ``room_id`` that fits ``predicate``."""
        found = await self.wait_for(State, lambda s: s.room_id == room_id and predicate(s))
        # drop older buffered states of this room: only the newest matters
        newer = [m for m in self.buffer if isinstance(m, State) and m.room_id == room_id and predicate(m)]
        for message in newer:
            self.buffer.remove(message)
        return newer[-1] if newer else found

    async def hello(self, name: str, token: str | None = None) -> HelloResult:
        result = await self.call(Hello, HelloResult, name=name, token=token)
        self.token, self.player_id = result.token, result.player_id
        return result


async def open_client(
    server: RunningServer | ServeProcess,
    nursery: trio.Nursery,
    name: str | None = None,
    token: str | None = None,
) -> WireClient:
    """Connect (in ``nursery``) and, when ``name`` is given, say hello."""
    ws = await connect(server.url, nursery=nursery, subprotocols=[SUBPROTOCOL])
    nursery.start_soon(_close_at_exit, ws)
    client = WireClient(ws)
    if name is not None:
        await client.hello(name, token)
    return client


async def seated_pair(
    server: RunningServer | ServeProcess, nursery: trio.Nursery
) -> tuple[WireClient, WireClient, str]:
    """Alice and Bob in a tic-tac-toe room of their own whose match has started (Alice
    holds seat 0 and has its first ``state``); returns them and the room id."""
    alice = await open_client(server, nursery, "alice")
    bob = await open_client(server, nursery, "bob")
    joined = await alice.call(CreateRoom, JoinResult, game="tictactoe", players=2)
    rid = joined.room.room_id
    await bob.call(JoinRoom, JoinResult, room_id=rid)
    await alice.state(rid)
    return alice, bob, rid


async def _close_at_exit(ws: WebSocket) -> None:
    try:
        await trio.sleep_forever()
    finally:
        with trio.CancelScope(shield=True), trio.move_on_after(1):
            await ws.close()


__all__ = [
    "RunningServer", "ServeProcess", "WireClient", "open_client", "seated_pair", "start_server",
    "make_config",
]
