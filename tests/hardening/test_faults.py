"""Faults: SIGTERM of a real server, peers vanishing mid-frame / mid-close / by reset."""

from __future__ import annotations

import signal
import socket
import struct
from pathlib import Path

import trio

from gameserver.protocol.messages import CreateRoom, JoinResult, JoinRoom, Move, MoveResult, Spectate
from gameserver.replays.loader import load_match, match_paths
from gameserver.replays.simulate import resimulate
from gameserver.ws.codes import Opcode
from gameserver.ws.exceptions import ConnectionClosed

from .conftest import (
    RawPeer,
    RunningServer,
    masked_frame,
    metric,
    open_client,
    pair_in_room,
    serve_process,
)


async def test_sigterm_closes_every_client_with_1001_and_leaves_whole_logs(tmp_path: Path) -> None:
    process, port, _ = await serve_process(tmp_path)
    server = RunningServer(port, None, trio.CancelScope())  # type: ignore[arg-type]
    try:
        async with trio.open_nursery() as nursery:
            clients = []
            rooms = []
            for index in range(3):  # three rooms mid-match plus a spectator each
                alice = await open_client(server, nursery, f"a{index}")
                bob = await open_client(server, nursery, f"b{index}")
                watcher = await open_client(server, nursery, f"w{index}")
                room_id = (await alice.call(CreateRoom, JoinResult, game="connect4", players=2)).room.room_id
                await bob.call(JoinRoom, JoinResult, room_id=room_id)
                await watcher.call(Spectate, JoinResult, room_id=room_id)
                for version, column in enumerate((3, 4, 3)[: index + 1]):
                    mover = alice if version % 2 == 0 else bob
                    await mover.call(Move, MoveResult, room_id=room_id, version=version,
                                     move={"column": column})
                clients += [alice, bob, watcher]
                rooms.append((room_id, index + 1))
            process.send_signal(signal.SIGTERM)
            codes = []
            for client in clients:
                with trio.fail_after(10):
                    try:
                        while True:
                            await client.ws.receive()
                    except ConnectionClosed as closed:
                        codes.append(closed.code)
            assert codes == [1001] * len(clients)
            nursery.cancel_scope.cancel()
        with trio.fail_after(10):
            assert await process.wait() == 0
    finally:
        if process.returncode is None:
            process.kill()
    paths = match_paths(tmp_path / "replays")
    assert len(paths) == 3
    for room_id, moves in rooms:
        loaded = load_match(tmp_path / "replays" / f"{room_id}-1.gsr")
        assert not loaded.torn_tail and not loaded.complete and loaded.moves == moves
        resimulate(loaded)


async def test_peers_vanishing_mid_frame_mid_close_or_by_reset(server: RunningServer) -> None:
    async with trio.open_nursery() as nursery:
        pair = await pair_in_room(server, nursery)

        async def hello(peer: RawPeer, name: str) -> None:
            await peer.send_message({"type": "hello", "id": 1, "name": name})
            assert (await peer.next_message())["type"] == "reply"
            await peer.send_message({"type": "spectate", "id": 2, "room_id": pair.room_id})

        # 1. half a frame header, then EOF
        mid_header = await RawPeer.open(server.port)
        await hello(mid_header, "header")
        await mid_header.send_raw(b"\x82")
        await mid_header.stream.send_eof()
        # 2. a frame announcing 1000 bytes that carries 10, then EOF
        mid_payload = await RawPeer.open(server.port)
        await hello(mid_payload, "payload")
        await mid_payload.send_raw(masked_frame(Opcode.BINARY, b"x" * 1000)[:16])
        await mid_payload.stream.send_eof()
        # 3. the first fragment of a message, then gone
        mid_message = await RawPeer.open(server.port)
        await hello(mid_message, "fragment")
        await mid_message.send_raw(masked_frame(Opcode.BINARY, b"\x81", fin=False))
        await mid_message.aclose()
        # 4. sends its close frame, then vanishes without reading the answer
        mid_close = await RawPeer.open(server.port)
        await hello(mid_close, "closer")
        await mid_close.send_raw(masked_frame(Opcode.CLOSE, struct.pack("!H", 1000)))
        await mid_close.aclose()
        # 5. a TCP reset (SO_LINGER 0) while the server writes to it
        reset = await RawPeer.open(server.port)
        await hello(reset, "reset")
        reset.stream.socket.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        await reset.aclose()
        # 6. the server starts a close (a protocol error) and the peer never answers it
        no_answer = await RawPeer.open(server.port)
        await hello(no_answer, "silent")
        await no_answer.send_raw(bytes([0x83, 0x80]) + b"mask")  # reserved opcode 0x3
        code, _reason = await no_answer.close_code()
        assert code == 1002
        # the room keeps playing while all of that is cleaned up
        assert await pair.play(4) == 4
        with trio.fail_after(5):
            while await metric(server.port, "gameserver_connections") != 2:
                await trio.sleep(0.05)
        # the silent peer is dropped once the close timeout (1 s here) runs out
        with trio.fail_after(5):
            assert await no_answer.next_event() is None
        for peer in (mid_header, mid_payload, no_answer):
            await peer.aclose()
        assert await pair.play(2) == 6
        nursery.cancel_scope.cancel()
