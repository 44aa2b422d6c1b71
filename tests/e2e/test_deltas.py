"""Protocol version 2 over real sockets: negotiation, deltas, gaps, retries, hidden dice.

Clients offering ``gameserver.v2`` (``deltas.V2Client``) play beside clients of version
1 on a real server: what a version-2 client rebuilds from deltas must be exactly the full
state a version-1 client in the same place gets; a lost delta is noticed at the next one
and recovered by ``sync``; a retried move gets the very same bytes; and no delta frame
carries another seat's hidden dice.
"""

from __future__ import annotations

import random
from pathlib import Path

import msgpack
import trio
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gameserver.games.registry import get_game
from gameserver.protocol import delta
from gameserver.protocol.codec import decode_delta, encode_client_message, is_delta
from gameserver.protocol.messages import (
    CreateRoom,
    EmptyResult,
    JoinResult,
    JoinRoom,
    Move,
    MoveResult,
    Spectate,
    State,
    Sync,
)
from gameserver.protocol.version import SUBPROTOCOL_V1, SUBPROTOCOL_V2
from gameserver.ws.client import connect

from .conftest import RunningServer, WireClient, make_config, open_client, start_server
from .deltas import V2Client, open_v2_client
from .test_hidden_information import occurrences, play, states_by_version


async def test_the_server_picks_v2_when_offered_and_v1_otherwise(server: RunningServer) -> None:
    async with trio.open_nursery() as nursery:
        both = await connect(server.url, nursery=nursery, subprotocols=[SUBPROTOCOL_V1, SUBPROTOCOL_V2])
        old = await connect(server.url, nursery=nursery, subprotocols=[SUBPROTOCOL_V1])
        new = await connect(server.url, nursery=nursery, subprotocols=[SUBPROTOCOL_V2])
        assert (both.subprotocol, old.subprotocol, new.subprotocol) == (
            SUBPROTOCOL_V2, SUBPROTOCOL_V1, SUBPROTOCOL_V2,
        )
        for ws in (both, old, new):
            await ws.close()


async def start_room(
    server: RunningServer, nursery: trio.Nursery, game: str
) -> tuple[V2Client, WireClient, V2Client, WireClient, str]:
    """A v2 player (seat 0), a v1 player, a v2 and a v1 spectator in a started room."""
    alice = await open_v2_client(server, nursery, "alice")
    bob = await open_client(server, nursery, "bob")
    room_id = (await alice.call(CreateRoom, JoinResult, game=game, players=2)).room.room_id
    await bob.call(JoinRoom, JoinResult, room_id=room_id)
    new_eyes = await open_v2_client(server, nursery, "new-eyes")
    old_eyes = await open_client(server, nursery, "old-eyes")
    for spectator in (new_eyes, old_eyes):
        await spectator.call(Spectate, JoinResult, room_id=room_id)
    return alice, bob, new_eyes, old_eyes, room_id


async def test_v2_clients_rebuild_the_full_states_v1_clients_get(server: RunningServer) -> None:
    rng = random.Random(4)
    async with trio.open_nursery() as nursery:
        alice, bob, new_eyes, old_eyes, room_id = await start_room(server, nursery, "connect4")
        players = {0: alice, 1: bob}
        version = 0
        while True:
            old = await old_eyes.state(room_id, lambda s, v=version: s.version == v)
            new = await new_eyes.state(room_id, lambda s, v=version: s.version == v)
            assert new == old
            if old.outcome is not None:
                break
            mover = players[old.to_act[0]]
            mine = await mover.state(room_id, lambda s, v=version: s.version == v)
            assert mine.legal_moves is not None
            result = await mover.call(
                Move, MoveResult, room_id=room_id, version=version, move=rng.choice(mine.legal_moves)
            )
            version += 1
            assert result.version == version
        # A full state asked for now shows exactly what the deltas built.
        rebuilt = await alice.state(room_id, lambda s: s.version == version)
        await alice.call(Sync, EmptyResult, room_id=room_id)
        fresh = await alice.state(room_id)
        assert fresh == rebuilt
        nursery.cancel_scope.cancel()
    assert new_eyes.applied == version and alice.applied >= version
    # Every move reached the v2 player as one small delta (its own moves: their reply);
    # the last one also carries the outcome.
    sizes = [len(raw) for raw in alice.raw if is_delta(raw)]
    assert len(sizes) == version and max(sizes[:-1]) < 64, sizes


async def test_a_lost_delta_is_noticed_and_recovered_by_sync(server: RunningServer) -> None:
    rng = random.Random(9)
    async with trio.open_nursery() as nursery:
        alice, bob, new_eyes, old_eyes, room_id = await start_room(server, nursery, "tictactoe")
        players = {0: alice, 1: bob}
        version = 0
        while True:
            old = await old_eyes.state(room_id, lambda s, v=version: s.version == v)
            if version != 3:  # it lost the delta to version 3 and notices at the next one
                new = await new_eyes.state(room_id, lambda s, v=version: s.version == v)
                assert new == old
            if old.outcome is not None:
                break
            if version == 2:
                new_eyes.drop_next_delta = True
            mover = players[old.to_act[0]]
            mine = await mover.state(room_id, lambda s, v=version: s.version == v)
            assert mine.legal_moves is not None
            await mover.call(
                Move, MoveResult, room_id=room_id, version=version, move=rng.choice(mine.legal_moves)
            )
            version += 1
        nursery.cancel_scope.cancel()
    assert version > 4 and new_eyes.syncs == 1


async def test_a_retried_move_gets_the_same_delta_bytes(server: RunningServer) -> None:
    async with trio.open_nursery() as nursery:
        alice, bob, _, _, room_id = await start_room(server, nursery, "connect4")
        await alice.state(room_id)
        move = encode_client_message(Move(id=77, room_id=room_id, version=0, move={"column": 3}))
        await alice.send_raw(move)
        assert (await alice.answer(77)).result == {"version": 1}
        await bob.state(room_id, lambda s: s.version == 1)
        await alice.send_raw(move)  # the same request again: not applied twice
        assert (await alice.answer(77)).result == {"version": 1}
        nursery.cancel_scope.cancel()
    answers = [raw for raw in alice.raw if is_delta(raw) and decode_delta(raw).id == 77]
    assert len(answers) == 2 and answers[0] == answers[1]
    assert decode_delta(answers[0]).cause == [0, {"column": 3}]


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**32), players=st.integers(2, 3))
async def test_no_delta_carries_another_seats_dice(
    tmp_path_factory: object, seed: int, players: int
) -> None:
    """The hidden-information check of ``test_hidden_information`` on v2 frames: every
    rebuilt view is exactly the seat's own view of the replayed state, no op carries a
    value the seat's new document does not hold, and no other seat's hand is in the bytes
    unless something public or the seat's own explains it."""
    tmp_path = Path(str(tmp_path_factory.mktemp("dice")))  # type: ignore[attr-defined]
    rng = random.Random(seed)
    async with trio.open_nursery() as nursery:
        server = await start_server(nursery, make_config(tmp_path))
        clients = [await open_v2_client(server, nursery, f"h{i}") for i in range(players)]
        room_id = (await clients[0].call(
            CreateRoom, JoinResult, game="liarsdice", players=players, options={"dice": 3},
        )).room.room_id
        for client in clients[1:]:
            await client.call(JoinRoom, JoinResult, room_id=room_id)
        spectator = await open_v2_client(server, nursery, "eyes")
        await spectator.call(Spectate, JoinResult, room_id=room_id)
        await play(room_id, dict(enumerate(clients)), rng)
        await spectator.state(room_id, lambda s: s.outcome is not None)
        nursery.cancel_scope.cancel()

    assert server.config.replays_dir is not None
    states, seats = states_by_version(server.config.replays_dir / f"{room_id}-1.gsr")
    game = get_game("liarsdice")
    checked = 0
    for me, client in [*enumerate(clients), (None, spectator)]:
        document, version, seen_deltas = None, 0, 0
        for raw in client.raw:
            if not is_delta(raw):
                message = msgpack.unpackb(raw)
                if message.get("type") == "state":
                    document = delta.document_of(
                        view=message["view"], to_act=message["to_act"],
                        legal=message["legal_moves"], seats=message["seats"],
                        clock=message["clock"], outcome=message["outcome"],
                    )
                    version = message["version"]
                continue
            received = decode_delta(raw)
            if received.base != version:
                continue  # a retried answer (none here) would be ignored
            assert document is not None
            document = delta.apply(document, received.ops)
            version = received.version
            seen_deltas += 1
            assert document["view"] == game.view(states[version], me)
            for op in received.ops:
                assert_op_from_document(op, document)
            state = states[version]
            if game.outcome(state) is not None:
                continue
            public = game.snapshot(state)
            del public["dice"]
            public["bid_pairs"] = [record[1:] for record in public["bids"]]
            for other in range(seats):
                hidden = list(state.dice[other])
                if other == me or len(hidden) < 2:
                    continue
                paths = occurrences(msgpack.unpackb(raw), hidden)  # the cause too
                for _ in paths:
                    explained = (
                        (me is not None and hidden == list(state.dice[me]))
                        or bool(occurrences(document["legal"], hidden))
                        or bool(occurrences(public, hidden))
                    )
                    assert explained, (me, other, hidden, received)
                assert raw.count(msgpack.packb(hidden)) <= len(paths), (me, other, hidden)
                checked += 1
        assert seen_deltas > 0
    assert checked > 0


def assert_op_from_document(op: list[object], document: dict[str, object]) -> None:
    """An op carries only what the new document holds at its path (so nothing more
    than the seat's own state)."""
    *path, value = op
    if len(path) >= 2 and isinstance(path[-1], int) and path[-1] < 0:
        kind = path.pop()
        target = _at(document, path)
        assert isinstance(target, list)
        if kind == delta.APPEND:
            assert isinstance(value, list) and target[len(target) - len(value):] == value
        return
    assert _at(document, path) == value


def _at(document: object, path: list[object]) -> object:
    node = document
    for step in path:
        if isinstance(node, dict):
            node = node[sorted(node)[step]]  # type: ignore[index]
        else:
            node = node[step]  # type: ignore[index]
    return node
