"""Message limits on a live server: WebSocket size, msgpack depth and lengths, chat, names."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import msgpack
import pytest
import trio

from gameserver.app import DEFAULT_WS_MESSAGE_SIZE, ServerConfig
from gameserver.commands import echo, serve
from gameserver.protocol.messages import Chat, EmptyResult, Error

from .conftest import RawPeer, RunningServer, make_config, pair_in_room, start_server


def parsed_defaults(module: Any) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    module.configure(parser)
    return parser.parse_args([])


def test_game_traffic_has_a_smaller_default_than_echo() -> None:
    assert ServerConfig().websocket.max_message_size == DEFAULT_WS_MESSAGE_SIZE == 2**20
    assert parsed_defaults(serve).max_message_size == DEFAULT_WS_MESSAGE_SIZE
    assert parsed_defaults(echo).max_message_size == 16 * 2**20


async def test_oversized_websocket_message_closes_with_1009_and_only_that_one(
    server: RunningServer,
) -> None:
    async with trio.open_nursery() as nursery:
        pair = await pair_in_room(server, nursery)
        peer = await RawPeer.open(server.port)
        await peer.send_message({"type": "hello", "id": 1, "name": "big"})
        assert (await peer.next_message())["type"] == "reply"
        # Just over 1 MiB: the header alone announces it, so no payload needs to follow.
        length = DEFAULT_WS_MESSAGE_SIZE + 1
        await peer.send_raw(bytes([0x82, 0x80 | 127]) + length.to_bytes(8, "big") + b"mask")
        code, reason = await peer.close_code()
        assert code == 1009, (code, reason)
        assert await pair.play(2) == 2
        nursery.cancel_scope.cancel()


def nested(depth: int) -> object:
    value: object = 1
    for _ in range(depth - 1):
        value = [value]
    return value


HOSTILE: list[tuple[str, dict[str, Any] | bytes, str]] = [
    ("too deep", {"type": "move", "id": 7, "room_id": "r", "version": 0, "move": nested(12)},
     "too_deep"),
    ("long array", {"type": "move", "id": 7, "room_id": "r", "version": 0,
                    "move": {"c": list(range(2000))}}, "too_large"),
    ("many keys", {"type": "move", "id": 7, "room_id": "r", "version": 0,
                   "move": {str(i): i for i in range(300)}}, "too_large"),
    ("long string", {"type": "chat", "id": 7, "room_id": "r", "text": "x" * 9000}, "too_large"),
    ("long binary", {"type": "chat", "id": 7, "room_id": "r", "text": b"x" * 9000}, "too_large"),
    ("big request", {"type": "chat", "id": 7, "room_id": "r",
                     "text": ["x" * 8000] * 9}, "too_large"),
    ("not msgpack", b"\xc1\xc1\xc1", "bad_message"),
    ("not a map", msgpack.packb([1, 2, 3]), "bad_message"),
    ("huge declared map", b"\xdf\xff\xff\xff\xff", "too_large"),
    ("truncated string", b"\xdb\xff\xff\xff\xff", "bad_message"),
]


@pytest.mark.parametrize(("label", "message", "code"), HOSTILE, ids=[h[0] for h in HOSTILE])
async def test_decode_limits_answer_errors_and_the_connection_goes_on(
    server: RunningServer, label: str, message: dict[str, Any] | bytes, code: str
) -> None:
    async with trio.open_nursery() as nursery:
        pair = await pair_in_room(server, nursery)
        await pair.alice.send_raw(message if isinstance(message, bytes) else msgpack.packb(message))
        answer = await pair.alice.wait_for(Error)
        assert answer.code == code, (label, answer)
        assert answer.message
        assert await pair.play(2) == 2  # the same connection and room go on
        nursery.cancel_scope.cancel()


async def test_chat_and_name_length_limits(tmp_path: Path) -> None:
    config = make_config(tmp_path, chat_max_length=40)
    async with trio.open_nursery() as nursery:
        server = await start_server(nursery, config)
        pair = await pair_in_room(server, nursery)
        assert await pair.alice.fail(Chat, room_id=pair.room_id, text="y" * 41) == "chat_too_long"
        assert await pair.alice.fail(Chat, room_id=pair.room_id, text="") == "chat_too_long"
        await pair.alice.call(Chat, EmptyResult, room_id=pair.room_id, text="y" * 40)
        peer = await RawPeer.open(server.port)
        for name in ("n" * 33, "", "   ", "bad\nname", "\u202e"):
            await peer.send_message({"type": "hello", "id": 1, "name": name})
            answer = await peer.next_message()
            assert answer["type"] == "error" and answer["code"] == "invalid_name", name
        await peer.send_message({"type": "hello", "id": 2, "name": "n" * 32})
        assert (await peer.next_message())["type"] == "reply"
        assert await pair.play(2) == 2
        nursery.cancel_scope.cancel()
