"""A client written from docs/protocol.md alone: trio-websocket plus plain msgpack dicts.

No gameserver code on the client side: this is what a third-party client does, and it
checks that the document (not our SDK) is enough to play.
"""

from __future__ import annotations

from typing import Any

import msgpack
import trio
from trio_websocket import ConnectionClosed, WebSocketConnection, open_websocket_url


async def send(ws: WebSocketConnection, message: dict[str, Any]) -> None:
    await ws.send_message(msgpack.packb(message))


async def receive(ws: WebSocketConnection) -> dict[str, Any]:
    data = await ws.get_message()
    assert isinstance(data, bytes), "every server message is binary"
    message = msgpack.unpackb(data)
    assert isinstance(message, dict) and isinstance(message["type"], str)
    return message


async def answer(ws: WebSocketConnection, request_id: int, pushes: list[dict[str, Any]]) -> dict[str, Any]:
    """The reply or error for ``request_id``; pushes arriving meanwhile are kept."""
    while True:
        message = await receive(ws)
        if message["type"] in ("reply", "error") and message["id"] == request_id:
            return message
        pushes.append(message)


async def test_a_doc_only_client_plays_tic_tac_toe_to_the_end(server_url: str) -> None:
    pushes: list[dict[str, Any]] = []
    with trio.fail_after(20):
        async with open_websocket_url(server_url, subprotocols=["gameserver.v1"]) as ws:
            assert ws.subprotocol == "gameserver.v1"
            await send(ws, {"type": "hello", "id": 1, "name": "doc reader"})
            hello = await answer(ws, 1, pushes)
            assert hello["type"] == "reply"
            assert set(hello["result"]) >= {"player_id", "name", "token", "resumed", "seats"}

            await send(ws, {"type": "create_room", "id": 2, "game": "tictactoe", "players": 2,
                            "bots": [{"seat": 1, "strategy": "random"}]})  # fmt: skip
            created = await answer(ws, 2, pushes)
            assert created["type"] == "reply"
            room_id = created["result"]["room"]["room_id"]
            seat = created["result"]["seat"]

            request_id = 2
            latest: dict[str, Any] | None = None
            over: dict[str, Any] | None = None
            while over is None:
                message = pushes.pop(0) if pushes else await receive(ws)
                if message["type"] == "state" and message["room_id"] == room_id:
                    assert latest is None or message["version"] >= latest["version"]
                    latest = message
                    if seat in message["to_act"]:
                        assert message["legal_moves"], "a seat to act gets its legal moves"
                        request_id += 1
                        await send(ws, {"type": "move", "id": request_id, "room_id": room_id,
                                        "version": message["version"],
                                        "move": message["legal_moves"][0]})  # fmt: skip
                        reply = await answer(ws, request_id, pushes)
                        assert reply["type"] == "reply", reply
                        assert reply["result"]["version"] == message["version"] + 1
                    else:
                        assert message["legal_moves"] is None
                elif message["type"] == "match_over" and message["room_id"] == room_id:
                    over = message
            assert latest is not None and latest["outcome"] == over["outcome"]
            assert set(over["outcome"]) == {"winners", "draw", "scores", "reason", "termination"}
            assert over["outcome"]["termination"] == "normal"  # played to the end on the board


async def test_a_doc_only_client_gets_the_documented_errors(server_url: str) -> None:
    with trio.fail_after(10):
        async with open_websocket_url(server_url, subprotocols=["gameserver.v1"]) as ws:
            await send(ws, {"type": "list_rooms", "id": 1})
            assert (await receive(ws))["code"] == "not_authenticated"
            await ws.send_message(b"\xc1")
            error = await receive(ws)
            assert (error["type"], error["id"], error["code"]) == ("error", None, "bad_message")
            await ws.send_message("a text message")
            assert (await receive(ws))["code"] == "bad_message"
            await send(ws, {"type": "hello", "id": 2, "name": "x", "token": 5})
            error = await receive(ws)
            assert (error["id"], error["code"]) == (2, "invalid_field")
            assert "hello.token" in error["message"]
            await send(ws, {"type": "teleport", "id": 3})
            assert (await receive(ws))["code"] == "unknown_type"
            await send(ws, {"type": "hello", "id": 4, "name": "x"})
            assert (await receive(ws))["type"] == "reply"
            await send(ws, {"type": "hello", "id": 5, "name": "x"})
            assert (await receive(ws))["code"] == "already_authenticated"
            await send(ws, {"type": "move", "id": 6, "room_id": "nowhere", "version": 0, "move": {}})
            error = await receive(ws)
            assert error["id"] == 6 and error["code"] in {"room_not_found", "not_in_room"}


async def test_a_client_without_the_subprotocol_is_closed_with_1002(server_url: str) -> None:
    with trio.fail_after(10):
        async with open_websocket_url(server_url) as ws:
            try:
                await ws.get_message()
            except ConnectionClosed as closed:
                assert closed.reason.code == 1002
                assert "gameserver.v1" in (closed.reason.reason or "")
            else:  # pragma: no cover
                raise AssertionError("the server must close the connection")
