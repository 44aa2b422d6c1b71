"""Independent peers, shutdown, and a client that never reads."""

from __future__ import annotations

import socket
from pathlib import Path

import msgpack
import trio
from websockets.exceptions import ConnectionClosed as WebsocketsClosed
from websockets.sync.client import connect as sync_connect

from gameserver.protocol.messages import (
    Chat,
    CreateRoom,
    EmptyResult,
    JoinResult,
    JoinRoom,
    MatchOver,
    Move,
    MoveResult,
    Spectate,
)
from gameserver.protocol.version import SUBPROTOCOL
from gameserver.ws.client import connect
from gameserver.ws.exceptions import ConnectionClosed

from .conftest import RunningServer, make_config, open_client, start_server


def websockets_session(url: str) -> list[dict[str, object]]:
    """Hello, create a room and chat with the ``websockets`` library (runs in a thread)."""
    answers = []
    with sync_connect(url, subprotocols=[SUBPROTOCOL]) as ws:
        assert ws.subprotocol == SUBPROTOCOL
        ws.send(msgpack.packb({"type": "hello", "id": 1, "name": "indie"}))
        answers.append(msgpack.unpackb(ws.recv(timeout=5)))
        ws.send(msgpack.packb({"type": "create_room", "id": 2, "game": "connect4", "players": 2}))
        while True:
            message = msgpack.unpackb(ws.recv(timeout=5))
            if message.get("id") == 2:
                answers.append(message)
                break
    return answers


def refused_without_subprotocol(url: str) -> tuple[int, str]:
    with sync_connect(url) as ws:
        try:
            ws.recv(timeout=5)
        except WebsocketsClosed as closed:
            assert closed.rcvd is not None
            return closed.rcvd.code, closed.rcvd.reason
    raise AssertionError("the server did not close")


async def test_the_websockets_library_as_an_independent_peer(server: RunningServer) -> None:
    hello, created = await trio.to_thread.run_sync(websockets_session, server.url)
    assert hello["type"] == "reply" and hello["result"]["resumed"] is False  # type: ignore[index]
    assert created["type"] == "reply"
    room = created["result"]["room"]  # type: ignore[index]
    assert room["game"] == "connect4" and created["result"]["seat"] == 0  # type: ignore[index]


async def test_a_client_without_the_subprotocol_is_refused_with_1002(server: RunningServer) -> None:
    code, reason = await trio.to_thread.run_sync(refused_without_subprotocol, server.url)
    assert code == 1002 and reason == f"unsupported subprotocol; offer {SUBPROTOCOL}"


async def test_shutdown_closes_every_connection_with_1001(tmp_path: Path) -> None:
    async with trio.open_nursery() as outer:
        async with trio.open_nursery() as nursery:
            server = await start_server(nursery, make_config(tmp_path))
            ws = await connect(server.url, nursery=outer, subprotocols=[SUBPROTOCOL])
            await ws.send(msgpack.packb({"type": "hello", "id": 1, "name": "x"}))
            await ws.receive()
            server.cancel_scope.cancel()
        with trio.fail_after(5):
            try:
                await ws.receive()
            except ConnectionClosed as closed:
                assert closed.code == 1001
            else:
                raise AssertionError("still open")


async def test_a_stalled_client_does_not_delay_the_others(tmp_path: Path) -> None:
    # Chats of 7 KB, 1000 of them: far more than the kernel buffers of the stalled socket.
    config = make_config(tmp_path, outbox_limit=64, chat_max_length=7000)
    async with trio.open_nursery() as nursery:
        server = await start_server(nursery, config)
        alice = await open_client(server, nursery, "alice")
        bob = await open_client(server, nursery, "bob")
        room = (await alice.call(CreateRoom, JoinResult, game="connect4", players=2)).room
        rid = room.room_id
        await bob.call(JoinRoom, JoinResult, room_id=rid)

        # A spectator with a tiny receive buffer that never reads after spectating.
        sock = trio.socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 2048)
        await sock.connect(("127.0.0.1", server.port))
        stalled = trio.SocketStream(sock)
        await stalled.send_all(
            b"GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
            + f"Sec-WebSocket-Protocol: {SUBPROTOCOL}\r\n\r\n".encode()
        )

        def frame(message: dict[str, object]) -> bytes:
            payload = msgpack.packb(message)
            assert len(payload) < 126
            mask = b"\x01\x02\x03\x04"
            masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
            return bytes([0x82, 0x80 | len(payload)]) + mask + masked

        await stalled.send_all(frame({"type": "hello", "id": 1, "name": "slow"}))
        await stalled.send_all(frame({"type": "spectate", "id": 2, "room_id": rid}))

        started = trio.current_time()
        text = "x" * 7000
        version = 0
        for turn in range(1000):
            mover = alice if turn % 2 == 0 else bob
            await mover.call(Chat, EmptyResult, room_id=rid, text=text)
        for column in [0, 1, 0, 1, 0, 1, 0]:
            mover = alice if version % 2 == 0 else bob
            version = (await mover.call(
                Move, MoveResult, room_id=rid, version=version, move={"column": column}
            )).version
        over = await bob.wait_for(MatchOver)
        elapsed = trio.current_time() - started
        assert over.outcome.winners == (0,)
        assert elapsed < 5, elapsed
        # the stalled spectator was cut off instead of holding anyone up
        status, _, body = await http_get_metrics(server.port)
        assert "gameserver_outbox_overflows_total 1" in body
        await stalled.aclose()
        nursery.cancel_scope.cancel()


async def http_get_metrics(port: int) -> tuple[int, dict[str, str], str]:
    from .test_http import http_get

    status, headers, body = await http_get(port, "/metrics")
    return status, headers, body.decode()
