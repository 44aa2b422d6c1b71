"""A full disk under a real server: nothing acknowledged is lost, no result changes.

The replays directory lives on a real 256 KiB tmpfs. Matches are played over real
WebSocket connections; the disk is filled with a filler file, then emptied again.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import attrs
import trio

from conftest import SmallDisk
from gameserver.protocol.messages import (
    CreateRoom,
    EmptyResult,
    Error,
    JoinResult,
    JoinRoom,
    MatchOver,
    Move,
    MoveResult,
    Reply,
    Resign,
    RoomUpdate,
)
from gameserver.replays.loader import load_match
from gameserver.replays.records import Moved
from gameserver.replays.simulate import resimulate

from .conftest import RunningServer, WireClient, make_config, open_client, start_server
from .test_http import http_get

# The acknowledged moves of each room: (room id, version after the move, move).
Acked = list[tuple[str, int, Any]]


async def play(mover: WireClient, room_id: str, version: int, move: Any, acked: Acked) -> int:
    """One move that must be accepted; remember it as acknowledged."""
    result = await mover.call(Move, MoveResult, room_id=room_id, version=version, move=move)
    acked.append((room_id, result.version, move))
    return result.version


def forget_room_updates(client: WireClient, room_id: str) -> None:
    """Drop buffered ``room`` pushes of ``room_id``: the next one waited for is newer."""
    client.buffer = [
        m for m in client.buffer if not (isinstance(m, RoomUpdate) and m.room.room_id == room_id)
    ]


async def healthz(server: RunningServer) -> tuple[int, str]:
    status, _, body = await http_get(server.port, "/healthz")
    return status, body.decode()


async def metric(server: RunningServer, name: str) -> float:
    _, _, body = await http_get(server.port, "/metrics")
    line = next(line for line in body.decode().splitlines() if line.startswith(name + " "))
    return float(line.split()[1])


async def test_a_full_disk_pauses_rooms_and_loses_nothing_acknowledged(
    tmp_path: Path, small_disk: SmallDisk
) -> None:
    replays = small_disk.path / "replays"
    config = attrs.evolve(make_config(tmp_path, storage_retry=0.05), replays_dir=replays)
    acked: Acked = []
    async with trio.open_nursery() as nursery:
        server = await start_server(nursery, config)
        alice = await open_client(server, nursery, "alice")
        bob = await open_client(server, nursery, "bob")
        carol = await open_client(server, nursery, "carol")
        dave = await open_client(server, nursery, "dave")

        # Room A: a whole connect-four match while the disk has room (alice wins).
        room_a = (await alice.call(CreateRoom, JoinResult, game="connect4", players=2)).room.room_id
        await bob.call(JoinRoom, JoinResult, room_id=room_a)
        version = 0
        for column in (0, 1, 0, 1, 0, 1, 0):
            version = await play(alice if version % 2 == 0 else bob, room_a, version, {"column": column}, acked)
        over_a = await bob.wait_for(MatchOver, lambda m: m.room_id == room_a)
        assert over_a.outcome.winners == (0,)

        # Room B: liar's dice with 20 dice, so the smallest raises make many moves.
        room_b = (
            await alice.call(CreateRoom, JoinResult, game="liarsdice", players=2, options={"dice": 10})
        ).room.room_id
        await bob.call(JoinRoom, JoinResult, room_id=room_b)
        players = {0: alice, 1: bob}
        seen = {alice: await alice.state(room_b, lambda s: s.version == 0)}
        state = seen[alice]
        small_disk.fill()
        assert (await healthz(server))[0] == 200  # nothing failed yet: the log's page has room

        # Play the smallest legal move until the disk refuses one (the log's last page fills).
        refused: tuple[WireClient, int, Any] | None = None
        for _ in range(400):
            mover = players[state.to_act[0]]
            if mover not in seen or seen[mover].version != state.version:
                seen[mover] = await mover.state(room_b, lambda s, v=state.version: s.version == v)
            state = seen[mover]
            assert state.legal_moves is not None
            move = state.legal_moves[0]
            request_id = await mover.send(Move, room_id=room_b, version=state.version, move=move)
            answer = await mover.answer(request_id)
            if isinstance(answer, Error):
                assert answer.code == "storage_unavailable", answer
                refused = (mover, request_id, move)
                break
            acked.append((room_b, state.version + 1, move))
            seen[mover] = await mover.state(room_b, lambda s, v=state.version + 1: s.version == v)
            state = seen[mover]
        assert refused is not None, "the disk never filled up"
        mover, request_id, move = refused
        paused = await mover.wait_for(RoomUpdate, lambda m: m.room.room_id == room_b and m.room.paused is not None)
        assert paused.room.paused == "storage_unavailable" and paused.room.status.value == "playing"
        forget_room_updates(mover, room_b)
        held = await mover.state(room_b)
        assert held.version == state.version  # the refused move did not happen
        assert held.clock is None or held.clock.running == ()
        # Paused: a further move is refused at once, without touching the disk.
        assert await mover.fail(Move, room_id=room_b, version=state.version, move=move) == "storage_unavailable"
        status, body = await healthz(server)
        assert status == 503 and "storage failing" in body and str(replays) in body, body
        assert "No space left" in body
        assert await metric(server, "gameserver_storage_failing") == 1
        assert await metric(server, "gameserver_storage_failures_total") >= 1

        # Room C: filled while the disk is full: its log cannot be created, so it does not start.
        room_c = (await carol.call(CreateRoom, JoinResult, game="connect4", players=2)).room.room_id
        await dave.call(JoinRoom, JoinResult, room_id=room_c)
        waiting = await carol.wait_for(RoomUpdate, lambda m: m.room.room_id == room_c and m.room.paused is not None)
        assert waiting.room.status.value == "waiting" and waiting.room.match == 0
        forget_room_updates(carol, room_c)
        assert await metric(server, "gameserver_rooms_paused_storage") == 2

        # Space comes back: both rooms go on by themselves.
        small_disk.free()
        await mover.wait_for(RoomUpdate, lambda m: m.room.room_id == room_b and m.room.paused is None)
        started = await carol.wait_for(RoomUpdate, lambda m: m.room.room_id == room_c and m.room.paused is None)
        assert started.room.status.value == "playing" and started.room.match == 1
        assert (await carol.state(room_c)).version == 0
        assert await healthz(server) == (200, "ok\n")
        assert await metric(server, "gameserver_storage_failing") == 0

        # The refused move, sent again with the same id, is applied now.
        answer = await mover.answer(await mover.send(Move, id=request_id, room_id=room_b, version=state.version, move=move))
        assert isinstance(answer, Reply), answer
        acked.append((room_b, state.version + 1, move))
        # Room B ends by resignation; room C gets two moves and stays unfinished.
        loser = players[0]
        await loser.call(Resign, EmptyResult, room_id=room_b)
        over_b = await players[1].wait_for(MatchOver, lambda m: m.room_id == room_b)
        assert over_b.outcome.winners == (1,)
        version = await play(carol, room_c, 0, {"column": 3}, acked)
        version = await play(dave, room_c, version, {"column": 3}, acked)
        nursery.cancel_scope.cancel()

    finished = {room_a: (0,), room_b: (1,)}
    before_restart = {room: (replays / f"{room}-1.gsr").read_bytes() for room in finished}
    async with trio.open_nursery() as nursery:  # restart: recover from the logs
        server = await start_server(nursery, config)
        carol2 = await open_client(server, nursery)
        resumed = await carol2.hello("carol", carol.token)
        assert [(s.room_id, s.seat) for s in resumed.seats] == [(room_c, 0)]
        assert (await carol2.state(room_c)).version == 2
        assert await healthz(server) == (200, "ok\n")
        nursery.cancel_scope.cancel()

    logs = sorted(replays.glob("*.gsr"))
    assert [p.name for p in logs] == sorted(f"{room}-1.gsr" for room in (room_a, room_b, room_c))
    for path in logs:
        assert path.stat().st_size > 0
        loaded = load_match(path)
        assert not loaded.torn_tail, path
        resimulate(loaded)  # every state hash agrees
        room = loaded.header.room_id
        recorded = [(room, r.version, r.move) for r in loaded.records if isinstance(r, Moved)]
        assert recorded == [entry for entry in acked if entry[0] == room]
        if room in finished:
            end = loaded.end
            assert end is not None and tuple(end.winners) == finished[room]
            assert path.read_bytes() == before_restart[room]  # recovery left it alone
        else:
            assert not loaded.complete
