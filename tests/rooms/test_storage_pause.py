"""A room whose match log cannot be written pauses: no clock, timer or bot acts until
the disk takes writes again, and then play resumes by itself (a real, filled tmpfs)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import trio

from conftest import SmallDisk
from gameserver.protocol.messages import (
    BotSeat,
    ClockSettings,
    CreateRoom,
    Error,
    JoinRoom,
    MatchOver,
    RoomStatus,
    RoomUpdate,
)
from gameserver.replays.loader import load_match
from gameserver.replays.recorder import FsyncPolicy
from gameserver.replays.records import Moved, TimedOut
from gameserver.rooms.commands import MoveRequest
from gameserver.rooms.config import RoomConfig
from gameserver.rooms.lobby import Lobby
from gameserver.sessions.metrics import Metrics

from .conftest import FakeClient, settle


@pytest.fixture
async def lobby(small_disk: SmallDisk) -> AsyncIterator[Lobby]:
    # fsync never and bots inline: every append is written inline, so the virtual clock
    # (autojump) only moves when the room really waits.
    config = RoomConfig(
        bot_delay=0.5, grace_period=30.0, replays_dir=small_disk.path, fsync=FsyncPolicy.NEVER,
        bots_in_thread=False, storage_retry=1.0,
    )
    async with trio.open_nursery() as nursery:
        yield Lobby(nursery, config, Metrics())
        nursery.cancel_scope.cancel()


async def test_clocks_stop_while_paused_and_nobody_loses_on_time(
    autojump_clock: trio.abc.Clock, lobby: Lobby, small_disk: SmallDisk
) -> None:
    alice, bob = FakeClient("alice"), FakeClient("bob")
    clock = ClockSettings(initial_ms=60_000, per_move_ms=20_000)
    room_id = lobby.create_room(
        alice.player,
        CreateRoom(id=1, game="liarsdice", players=2, options={"dice": 10}, clock=clock),
    ).room.room_id
    lobby.join_room(bob.player, JoinRoom(id=1, room_id=room_id))
    room = lobby.rooms[room_id]
    while room.match is None:  # the log is created in a worker thread
        await trio.sleep(0.001)
    await settle()
    small_disk.fill()
    clients = (alice, bob)
    request_id = 10
    while not room.paused:  # the smallest bids until the log's last page is full
        assert room.match is not None and request_id < 400
        seat = min(room.match.to_act())
        move = room.match.legal_moves(seat)[0]
        request_id += 1
        room.submit(MoveRequest(clients[seat].player, request_id, room.match.version, move))
        await settle()
    mover = clients[seat]
    assert mover.error_code(request_id) == "storage_unavailable"
    version = room.match.version
    held = mover.last_state()
    assert held.version == version and held.clock is not None and held.clock.running == ()
    banks = held.clock.banks_ms
    assert any(isinstance(m, RoomUpdate) and m.room.paused == "storage_unavailable" for m in mover.drain() + mover.received)
    assert lobby.metrics.storage_failing

    await trio.sleep(300)  # far past every bank and the per-move limit
    assert room.paused and room.match.version == version and not room.match.over
    assert not alice.of_type(MatchOver)
    records = load_match(small_disk.path / f"{room_id}-1.gsr").records
    assert not any(isinstance(r, TimedOut) for r in records)

    small_disk.free()
    with trio.fail_after(5):  # the next retry (it checks the free space in a thread)
        while room.paused:
            await trio.sleep(0.01)
    assert not room.paused and not lobby.metrics.storage_failing
    resumed = mover.last_state()
    assert resumed.version == version and resumed.clock is not None
    assert resumed.clock.running == (seat,) and resumed.clock.banks_ms == banks
    room.submit(MoveRequest(mover.player, request_id, version, move))  # the same request again
    await settle()
    assert room.match.version == version + 1
    moved = [r for r in load_match(small_disk.path / f"{room_id}-1.gsr").records if isinstance(r, Moved)]
    assert len(moved) == version + 1 and moved[-1].move == move


async def test_a_match_that_cannot_create_its_log_waits_then_starts(
    autojump_clock: trio.abc.Clock, lobby: Lobby, small_disk: SmallDisk
) -> None:
    small_disk.fill()
    watcher = FakeClient("watcher")
    bots = (BotSeat(seat=0, strategy="random"), BotSeat(seat=1, strategy="random"))
    room_id = lobby.create_room(
        watcher.player, CreateRoom(id=1, game="tictactoe", players=2, bots=bots)
    ).room.room_id
    room = lobby.rooms[room_id]
    with trio.fail_after(5):  # the log is created in a worker thread
        while not room.paused:
            await trio.sleep(0.01)
    await trio.sleep(10)  # retries fail; bots never move: there is no match
    assert (room.paused, room.status, room.match, room.closed) == (True, RoomStatus.WAITING, None, False)
    assert not any(isinstance(m, Error) for m in watcher.drain())
    small_disk.free()
    with trio.fail_after(30):
        while not watcher.of_type(MatchOver):
            await trio.sleep(0.01)
    over = watcher.of_type(MatchOver)
    assert len(over) == 1 and over[0].match == 1
    assert load_match(small_disk.path / f"{room_id}-1.gsr").complete
    assert [p.name for p in small_disk.path.iterdir()] == [f"{room_id}-1.gsr"]
