"""Two ``gameserver serve --redis`` nodes, one lobby: players on different nodes list,
join, watch, play and chat in one room, whose owner's room task serves the players of
the other node through the bus. Real redis-server, real nodes, real SDK clients."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import trio

from gameserver.client import connect
from gameserver.client.client import GameClient
from gameserver.client.errors import RequestFailed
from gameserver.cluster.redis_api import Script, open_redis
from gameserver.protocol.messages import ChatMessage, LobbyUpdate, MatchOver, State
from gameserver.replays.records import Moved
from gameserver.replays.simulate import resimulate

from .conftest import RedisServer
from .nodes import Node, load_log, start_node

INVITES = Script("test_invites", "return redis.call('HGETALL', KEYS[1])")

#: Columns alice (seat 0) and bob (seat 1) play in turn; alice wins on the 7th move.
COLUMNS = (0, 1, 0, 1, 0, 1, 0)


@asynccontextmanager
async def two_nodes(tmp_path: Path, redis: RedisServer) -> AsyncIterator[tuple[Node, Node]]:
    a = await start_node(tmp_path / "a", redis.url, "node-a")
    try:
        b = await start_node(tmp_path / "b", redis.url, "node-b")
        try:
            yield a, b
        finally:
            assert await b.stop() == 0
    finally:
        assert await a.stop() == 0


async def _listed(client: GameClient, room_id: str) -> None:
    """Wait until ``client``'s node lists ``room_id`` (the mirror reads every 0.5 s)."""
    with trio.fail_after(10):
        while room_id not in {room.room_id for room in await client.list_rooms()}:
            await trio.sleep(0.05)


async def _event(client: GameClient, kind: type, test=lambda event: True):  # type: ignore[no-untyped-def]
    with trio.fail_after(20):
        async for event in client.events():
            if isinstance(event, kind) and test(event):
                return event
    raise AssertionError("events ended")


async def test_players_on_two_nodes_play_watch_and_chat_in_one_room(
    tmp_path: Path, redis_server: RedisServer
) -> None:
    async with two_nodes(tmp_path, redis_server) as (a, b):
        async with (
            connect(a.url, name="alice") as alice,
            connect(b.url, name="bob") as bob,
            connect(b.url, name="carol") as carol,
        ):
            room_id = (await alice.create_room("connect4", players=2)).room.room_id
            await _listed(bob, room_id)
            joined = await bob.join_room(room_id)  # served by node-a through the bus
            assert joined.seat == 1 and joined.room.room_id == room_id
            await carol.spectate(room_id)
            version = 0
            for index, column in enumerate(COLUMNS):
                mover = (alice, bob)[index % 2]
                version = await mover.move(room_id, {"column": column}, version=version)
                if index == 2:
                    await bob.chat(room_id, "good move")
            assert version == 7
            chat = await _event(alice, ChatMessage)
            assert chat.text == "good move" and chat.name == "bob"
            for client in (alice, bob, carol):
                over = await _event(client, MatchOver)
                assert over.outcome.winners == (0,)
            assert carol.states[room_id].version == 7  # the spectator saw every move
    loaded = await load_log(redis_server.url, f"{room_id}-1")
    assert loaded.complete
    assert [r.version for r in loaded.records if isinstance(r, Moved)] == list(range(1, 8))
    resimulate(loaded)


async def test_a_lobby_watcher_sees_the_rooms_of_the_other_node(
    tmp_path: Path, redis_server: RedisServer
) -> None:
    async with two_nodes(tmp_path, redis_server) as (a, b):
        async with connect(a.url, name="alice") as alice, connect(b.url, name="bob") as bob:
            assert await bob.watch_lobby() == []
            room_id = (await alice.create_room("connect4", players=2)).room.room_id
            update = await _event(bob, LobbyUpdate, lambda u: bool(u.rooms))
            assert [room.room_id for room in update.rooms] == [room_id]
            await alice.leave_room(room_id)  # the room empties and closes
            update = await _event(bob, LobbyUpdate, lambda u: bool(u.removed))
            assert update.removed == (room_id,)


async def test_a_player_of_the_other_node_reconnects_and_gets_its_seat_back(
    tmp_path: Path, redis_server: RedisServer
) -> None:
    async with two_nodes(tmp_path, redis_server) as (a, b):
        async with connect(a.url, name="alice") as alice:
            room_id = (await alice.create_room("connect4", players=2)).room.room_id
            async with connect(b.url, name="bob") as bob:
                await _listed(bob, room_id)
                await bob.join_room(room_id)
                await alice.move(room_id, {"column": 0}, version=0)
                token = bob.token
            # bob's connection to node-b is gone: node-a's room learns it.
            await _event(alice, State, lambda s: not s.seats[1].connected)
            async with connect(b.url, name="bob", token=token) as bob:
                assert bob.resumed and [(s.room_id, s.seat) for s in bob.seats] == [(room_id, 1)]
                await _event(alice, State, lambda s: s.seats[1].connected)
                assert await bob.move(room_id, {"column": 1}, version=1) == 2


async def test_kill_9_of_the_owner_mid_match_the_other_node_takes_over_and_both_finish(
    tmp_path: Path, redis_server: RedisServer
) -> None:
    """alice plays through node-a, which owns the room; bob through node-b. node-a is
    killed: node-b claims the room while it runs, alice's
    client reconnects to node-b (the balancer's job) and resumes; they finish, and every
    move acknowledged before and after the kill is in the log once."""
    a = await start_node(tmp_path / "a", redis_server.url, "node-a")
    b = await start_node(tmp_path / "b", redis_server.url, "node-b")
    try:
        async with connect(a.url, name="alice") as alice, connect(b.url, name="bob") as bob:
            room_id = (await alice.create_room("connect4", players=2)).room.room_id
            await _listed(bob, room_id)
            await bob.join_room(room_id)
            acknowledged = []
            for index in range(3):
                mover = (alice, bob)[index % 2]
                acknowledged.append(
                    await mover.move(room_id, {"column": COLUMNS[index]}, version=index)
                )
            seen = {client.name: client.states[room_id] for client in (alice, bob)}
            await a.kill_9()
            alice.url = b.url  # alice's next connection goes to the survivor
            # Once the room runs on node-b it sends a snapshot to both: bob is connected
            # there, and alice is, whether she came back before or after the takeover.
            with trio.fail_after(20):
                while any(client.states[room_id] is seen[client.name] for client in (alice, bob)):
                    await trio.sleep(0.05)
            for seat, client in enumerate((alice, bob)):
                state = client.states[room_id]
                assert (state.seat, state.version, state.to_act) == (seat, 3, (1,))
            version = 3
            for index in range(3, 7):
                mover = (alice, bob)[index % 2]
                version = await mover.move(room_id, {"column": COLUMNS[index]}, version=version)
                acknowledged.append(version)
            assert (await _event(bob, MatchOver)).outcome.winners == (0,)
    finally:
        await a.stop()
        assert await b.stop() == 0
    loaded = await load_log(redis_server.url, f"{room_id}-1")
    versions = [r.version for r in loaded.records if isinstance(r, Moved)]
    assert versions == acknowledged == list(range(1, 8))  # every acknowledged move, once
    assert loaded.complete
    resimulate(loaded)


async def test_quick_match_pairs_players_of_two_nodes_and_never_overfills(
    tmp_path: Path, redis_server: RedisServer
) -> None:
    async with two_nodes(tmp_path, redis_server) as (a, b):
        async with connect(a.url, name="alice") as alice, connect(b.url, name="bob") as bob:
            first = await alice.quick_match("connect4")
            await _listed(bob, first.room.room_id)
            second = await bob.quick_match("connect4")  # served by node-a's lobby
            assert (second.room.room_id, second.seat) == (first.room.room_id, 1)
            await _event(alice, State, lambda s: s.to_act == (0,))
        # Twelve players, six per node, all at once: some rooms are shared across the
        # nodes, none holds more than two players.
        results: dict[str, list[int]] = {}
        async with trio.open_nursery() as nursery:
            for number in range(12):

                async def play(number: int = number) -> None:
                    url = (a.url, b.url)[number % 2]
                    async with connect(url, name=f"p{number}") as client:
                        joined = await client.quick_match("connect4")
                        results.setdefault(joined.room.room_id, []).append(joined.seat)

                nursery.start_soon(play)
        assert sum(len(seats) for seats in results.values()) == 12
        for seats in results.values():
            assert sorted(seats) in ([0], [0, 1]), results


async def _new_state(client: GameClient, room_id: str, before: object) -> State:
    """Wait for a state of ``room_id`` newer than ``before`` (another object)."""
    with trio.fail_after(20):
        while client.states.get(room_id) is before or room_id not in client.states:
            await trio.sleep(0.05)
    return client.states[room_id]


async def test_a_player_resumes_on_the_other_node_and_plays_on(
    tmp_path: Path, redis_server: RedisServer
) -> None:
    """bob sits in node-a's room through node-a, then comes back through node-b: node-a
    relays him there, and his requests go from node-b to the room."""
    async with two_nodes(tmp_path, redis_server) as (a, b):
        async with connect(a.url, name="alice") as alice:
            room_id = (await alice.create_room("connect4", players=2)).room.room_id
            async with connect(a.url, name="bob") as bob:
                await bob.join_room(room_id)
                await alice.move(room_id, {"column": 0}, version=0)
                token = bob.token
            await _event(alice, State, lambda s: not s.seats[1].connected)
            async with connect(b.url, name="carol") as carol:
                await _listed(carol, room_id)  # node-b's mirror has read the room
            async with connect(b.url, name="bob", token=token) as bob:
                # node-b knows bob's seat from node-a's listing of the room.
                assert bob.resumed and [(s.room_id, s.seat) for s in bob.seats] == [(room_id, 1)]
                state = await _new_state(bob, room_id, None)
                assert (state.seat, state.version, state.to_act) == (1, 1, (1,))
                await _event(alice, State, lambda s: s.seats[1].connected)
                version = 1
                for index in range(1, 7):
                    mover = (alice, bob)[index % 2]
                    version = await mover.move(room_id, {"column": COLUMNS[index]}, version=version)
                assert (await _event(bob, MatchOver)).outcome.winners == (0,)


async def test_three_nodes_the_owner_dies_and_players_on_the_others_finish(
    tmp_path: Path, redis_server: RedisServer
) -> None:
    """alice (node-a) and bob (node-c) play in node-a's room; node-a is killed. A
    survivor takes the room over and finds bob on node-c; alice comes back through
    node-c. They finish through node-c, and the log holds every acknowledged move once."""
    nodes = [await start_node(tmp_path / n, redis_server.url, f"node-{n}") for n in "abc"]
    a, _b, c = nodes
    try:
        async with connect(a.url, name="alice") as alice, connect(c.url, name="bob") as bob:
            room_id = (await alice.create_room("connect4", players=2)).room.room_id
            await _listed(bob, room_id)
            await bob.join_room(room_id)
            acknowledged = [
                await (alice, bob)[index % 2].move(
                    room_id, {"column": COLUMNS[index]}, version=index
                )
                for index in range(3)
            ]
            seen = {client.name: client.states[room_id] for client in (alice, bob)}
            await a.kill_9()
            alice.url = c.url
            for client in (alice, bob):
                state = await _new_state(client, room_id, seen[client.name])
                assert (state.version, state.to_act) == (3, (1,))
            version = 3
            for index in range(3, 7):
                version = await (alice, bob)[index % 2].move(
                    room_id, {"column": COLUMNS[index]}, version=version
                )
                acknowledged.append(version)
            assert (await _event(bob, MatchOver)).outcome.winners == (0,)
    finally:
        for node in nodes:
            await node.stop()
    loaded = await load_log(redis_server.url, f"{room_id}-1")
    versions = [r.version for r in loaded.records if isinstance(r, Moved)]
    assert versions == acknowledged == list(range(1, 8))
    assert loaded.complete
    resimulate(loaded)


async def test_a_player_seated_through_the_other_node_resumes_on_the_owner(
    tmp_path: Path, redis_server: RedisServer
) -> None:
    """bob sits in node-a's room through node-b (a RemoteMember there), then comes back
    through node-a itself: his requests reach his seat through the bus to node-a."""
    async with two_nodes(tmp_path, redis_server) as (a, b):
        async with connect(a.url, name="alice") as alice:
            room_id = (await alice.create_room("connect4", players=2)).room.room_id
            async with connect(b.url, name="bob") as bob:
                await _listed(bob, room_id)
                await bob.join_room(room_id)
                await alice.move(room_id, {"column": 0}, version=0)
                token = bob.token
            await _event(alice, State, lambda s: not s.seats[1].connected)
            async with connect(a.url, name="bob", token=token) as bob:
                # The room here seats bob as node-b's member: the hello still lists it.
                assert [(s.room_id, s.seat) for s in bob.seats] == [(room_id, 1)]
                state = await _new_state(bob, room_id, None)
                assert (state.seat, state.version) == (1, 1)
                assert await bob.move(room_id, {"column": 1}, version=1) == 2
                await bob.chat(room_id, "back")
                assert (await _event(alice, ChatMessage)).text == "back"


async def test_an_invite_code_of_one_node_opens_its_private_room_on_the_other(
    tmp_path: Path, redis_server: RedisServer
) -> None:
    async with two_nodes(tmp_path, redis_server) as (a, b):
        async with connect(a.url, name="alice") as alice, connect(b.url, name="bob") as bob:
            created = await alice.create_room("connect4", players=2, private=True)
            code = created.invite_code
            assert code is not None
            with trio.fail_after(10):  # the mirror reads the codes every 0.5 s
                while True:
                    try:
                        joined = await bob.join_room(invite_code=code.lower())
                        break
                    except RequestFailed as error:
                        assert error.code == "room_not_found"
                        await trio.sleep(0.2)
            assert (joined.room.room_id, joined.seat) == (created.room.room_id, 1)
            assert await alice.move(created.room.room_id, {"column": 3}, version=0) == 1
            assert await bob.move(created.room.room_id, {"column": 3}, version=1) == 2
            with trio.fail_after(10):  # gone from Redis once the room is
                await alice.leave_room(created.room.room_id)
                await bob.leave_room(created.room.room_id)
                async with open_redis(redis_server.url) as api:
                    while await api.run_script(INVITES, ["gs:invites"], []):
                        await trio.sleep(0.05)
