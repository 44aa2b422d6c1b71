"""Open rooms are bounded on every path: per server, per player and per client address.

Every client here is a real WebSocket peer; the ones that must come from another
address bind 127.0.0.2 (any 127/8 address works as a source on Linux).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import attrs
import msgpack
import trio

from gameserver.protocol.messages import CreateRoom, JoinResult, JoinRoom, LeaveRoom, QuickMatch
from gameserver.protocol.messages import BotSeat, EmptyResult

from .conftest import RawPeer, WireClient, make_config, open_client, start_server, upgrade_request


def limited(tmp_path: Path, **service: Any) -> Any:
    config = make_config(tmp_path)
    return attrs.evolve(config, service=attrs.evolve(config.service, **service))


class Peer:
    """A raw peer speaking requests by dict, from a chosen source address."""

    def __init__(self, raw: RawPeer) -> None:
        self.raw = raw
        self.next_id = 1

    @classmethod
    async def open(cls, port: int, source: str, name: str) -> Peer:
        sock = trio.socket.socket()
        await sock.bind((source, 0))
        await sock.connect(("127.0.0.1", port))
        raw = RawPeer(trio.SocketStream(sock))
        await raw.send_raw(upgrade_request())
        assert (await raw.read_head()).startswith(b"HTTP/1.1 101")
        peer = cls(raw)
        assert (await peer.request("hello", name=name))["type"] == "reply"
        return peer

    async def request(self, kind: str, **fields: Any) -> dict[str, Any]:
        self.next_id += 1
        request_id = self.next_id
        await self.raw.send_message({"type": kind, "id": request_id, **fields})
        while True:
            message = await self.raw.next_message()
            if message.get("id") == request_id:
                return message


async def refused(client: WireClient, cls: Any, **fields: Any) -> str:
    return await client.fail(cls, **fields)


async def test_quick_match_respects_max_rooms(tmp_path: Path) -> None:
    config = limited(tmp_path, max_rooms=3, max_rooms_per_player=100, max_rooms_per_address=100)
    async with trio.open_nursery() as nursery:
        server = await start_server(nursery, config)
        ann = await open_client(server, nursery, "ann")
        # the same player never joins its own waiting room: each call opens one
        for _ in range(3):
            await ann.call(QuickMatch, JoinResult, game="connect4", players=2)
        assert await ann.fail(QuickMatch, game="connect4", players=2) == "too_many_rooms"
        assert await ann.fail(CreateRoom, game="tictactoe", players=2) == "too_many_rooms"
        # joining an existing room opens nothing: still allowed
        ben = await open_client(server, nursery, "ben")
        joined = await ben.call(QuickMatch, JoinResult, game="connect4", players=2)
        assert joined.seat == 1
        nursery.cancel_scope.cancel()


async def test_the_per_player_limit_holds_on_every_path(tmp_path: Path) -> None:
    config = limited(tmp_path, max_rooms_per_player=2, max_rooms_per_address=100)
    async with trio.open_nursery() as nursery:
        server = await start_server(nursery, config)
        ann = await open_client(server, nursery, "ann")
        ben = await open_client(server, nursery, "ben")
        first = await ann.call(CreateRoom, JoinResult, game="connect4", players=2)
        await ann.call(QuickMatch, JoinResult, game="tictactoe", players=2)
        bens = await ben.call(CreateRoom, JoinResult, game="liarsdice", players=3)
        private = await ben.call(CreateRoom, JoinResult, game="liarsdice", players=3, private=True)
        # ann holds two rooms: every way to a third is refused
        assert await ann.fail(CreateRoom, game="connect4", players=2) == "too_many_rooms"
        assert await ann.fail(QuickMatch, game="connect4", players=2) == "too_many_rooms"
        assert await ann.fail(QuickMatch, game="liarsdice", players=3) == "too_many_rooms"
        assert await ann.fail(JoinRoom, room_id=bens.room.room_id) == "too_many_rooms"
        assert await ann.fail(JoinRoom, invite_code=private.invite_code) == "too_many_rooms"
        assert (
            await ann.fail(CreateRoom, game="connect4", players=2, bots=(BotSeat(seat=0), BotSeat(seat=1)))
            == "too_many_rooms"
        )
        # leaving one gives the place back
        await ann.call(LeaveRoom, EmptyResult, room_id=first.room.room_id)
        await ann.call(JoinRoom, JoinResult, room_id=bens.room.room_id)
        nursery.cancel_scope.cancel()


async def test_a_bots_only_room_counts_for_its_creator(tmp_path: Path) -> None:
    config = limited(tmp_path, max_rooms_per_player=1, max_rooms_per_address=100)
    async with trio.open_nursery() as nursery:
        server = await start_server(nursery, config)
        ann = await open_client(server, nursery, "ann")
        watched = await ann.call(
            CreateRoom, JoinResult, game="liarsdice", players=2, bots=(BotSeat(seat=0), BotSeat(seat=1)),
        )
        assert watched.seat is None
        assert await ann.fail(CreateRoom, game="connect4", players=2) == "too_many_rooms"
        nursery.cancel_scope.cancel()


async def test_the_per_address_limit_holds_on_every_path_and_spares_other_addresses(
    tmp_path: Path,
) -> None:
    config = limited(tmp_path, max_rooms_per_player=5, max_rooms_per_address=3)
    async with trio.open_nursery() as nursery:
        server = await start_server(nursery, config)
        squatters = [await Peer.open(server.port, "127.0.0.1", f"s{index}") for index in range(3)]
        honest = await Peer.open(server.port, "127.0.0.2", "honest")
        for squatter in squatters:
            reply = await squatter.request("create_room", game="connect4", players=2)
            assert reply["type"] == "reply", reply
        # a fresh player from the same address gets nothing either
        late = await Peer.open(server.port, "127.0.0.1", "late")
        for kind, fields in (
            ("create_room", {"game": "tictactoe", "players": 2}),
            ("quick_match", {"game": "tictactoe", "players": 2}),
            ("quick_match", {"game": "connect4", "players": 2}),
        ):
            answer = await late.request(kind, **fields)
            assert (answer["type"], answer.get("code")) == ("error", "too_many_rooms"), answer
        honests = await honest.request("create_room", game="liarsdice", players=3, private=True)
        assert honests["type"] == "reply"
        answer = await late.request("join_room", invite_code=honests["result"]["invite_code"])
        assert answer.get("code") == "too_many_rooms"
        # the other address is unaffected: it joins a squatter's room and opens its own
        room_id = (await squatters[0].request("list_rooms"))["result"]["rooms"][-1]["room_id"]
        assert (await honest.request("join_room", room_id=room_id))["type"] == "reply"
        assert (await honest.request("quick_match", game="tictactoe", players=2))["type"] == "reply"
        # a squatter that leaves its room frees a place for its address
        room_of_1 = [r for r in (await late.request("list_rooms"))["result"]["rooms"]
                     if r["seats"][0]["name"] == "s1"][0]["room_id"]
        assert (await squatters[1].request("leave_room", room_id=room_of_1))["type"] == "reply"
        assert (await late.request("create_room", game="tictactoe", players=2))["type"] == "reply"
        for peer in (*squatters, honest, late):
            await peer.raw.aclose()
        nursery.cancel_scope.cancel()
