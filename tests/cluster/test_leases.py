"""Node leases and room ownership against a real redis-server: one owner per room,
whatever the concurrency, and a room whose owner's lease expired goes to one claimer."""

from __future__ import annotations

import contextlib

import pytest
import trio

from gameserver.cluster.errors import LeaseLost, NodeIdInUse, RoomHeld, StaleOwner
from gameserver.cluster.leases import Claim, NodeLease
from gameserver.cluster.redis_api import RedisAPI, open_redis

from .conftest import RedisServer

#: Short leases, so expiry tests wait well under a second per lease.
LEASE = 0.3
#: Hang guard for waits on Redis's own expiry clock (never asserted on).
EXPIRY_GUARD = 20.0


async def wait_until_claimed(lease: NodeLease, room_id: str) -> Claim:
    """Claim ``room_id`` as soon as the old owner's lease has expired."""
    with trio.fail_after(EXPIRY_GUARD):
        while True:
            try:
                return await lease.claim(room_id)
            except RoomHeld:
                await trio.sleep(LEASE / 5)


async def test_a_node_id_has_one_live_process(redis_api: RedisAPI) -> None:
    first = NodeLease(redis_api, "node-a", lease_time=30)
    await first.register()
    second = NodeLease(redis_api, "node-a", lease_time=30)
    with pytest.raises(NodeIdInUse) as refused:
        await second.register()
    assert 0 < refused.value.retry_after <= 30
    await first.heartbeat()  # the first process keeps its lease


async def test_claims_bump_the_epoch_and_release_keeps_it(redis_api: RedisAPI) -> None:
    node = NodeLease(redis_api, "node-a", lease_time=30)
    await node.register()
    claim = await node.claim("room-1")
    assert claim == Claim("room-1", "node-a", 1)
    assert await node.claim("room-1") == claim  # already ours: same epoch
    await node.release(claim)
    again = await node.claim("room-1")
    assert again.epoch == 2  # a released room's epoch is never reused
    with pytest.raises(StaleOwner):
        await node.release(claim)


async def test_a_node_without_a_lease_claims_nothing(redis_api: RedisAPI) -> None:
    node = NodeLease(redis_api, "node-a", lease_time=30)
    with pytest.raises(LeaseLost):
        await node.claim("room-1")


async def test_fifty_concurrent_claimers_yield_exactly_one_owner(
    redis_server: RedisServer,
) -> None:
    """50 Trio tasks, each a node with its own connection, claim one room at once."""
    claimers = 50
    results: dict[str, Claim | RoomHeld] = {}
    ready = trio.Semaphore(0)
    go = trio.Event()

    async def claimer(index: int) -> None:
        async with open_redis(redis_server.url) as api:
            node = NodeLease(api, f"node-{index}", lease_time=30)
            await node.register()
            await node.heartbeat()  # the connection is open before the race starts
            ready.release()
            await go.wait()
            try:
                results[node.node_id] = await node.claim("contested")
            except RoomHeld as held:
                results[node.node_id] = held

    with trio.fail_after(60):
        async with trio.open_nursery() as nursery:
            for index in range(claimers):
                nursery.start_soon(claimer, index)
            for _ in range(claimers):
                await ready.acquire()
            go.set()

    winners = [result for result in results.values() if isinstance(result, Claim)]
    assert len(results) == claimers
    assert len(winners) == 1
    [winner] = winners
    assert winner.epoch == 1
    refusals = [result for result in results.values() if isinstance(result, RoomHeld)]
    assert {(held.owner, held.epoch) for held in refusals} == {(winner.node_id, 1)}


async def test_an_expired_lease_lets_exactly_one_other_node_claim(
    redis_server: RedisServer,
) -> None:
    claimers = 5
    async with contextlib.AsyncExitStack() as stack:
        apis = [
            await stack.enter_async_context(open_redis(redis_server.url))
            for _ in range(claimers + 1)
        ]
        old = NodeLease(apis[0], "old", lease_time=LEASE)
        await old.register()
        await old.claim("room-1")
        others = [NodeLease(api, f"new-{i}", lease_time=30) for i, api in enumerate(apis[1:])]
        for node in others:
            await node.register()
        # The old node stops heartbeating (it died or stalled): wait for Redis to expire it.
        with trio.fail_after(EXPIRY_GUARD):
            while await others[0].orphaned_rooms() != ["room-1"]:
                await trio.sleep(LEASE / 5)
        results: list[Claim | RoomHeld] = []

        async def claim(node: NodeLease) -> None:
            try:
                results.append(await node.claim("room-1"))
            except RoomHeld as held:
                results.append(held)

        async with trio.open_nursery() as nursery:
            for node in others:
                nursery.start_soon(claim, node)
        winners = [result for result in results if isinstance(result, Claim)]
        assert len(winners) == 1 and winners[0].epoch == 2
        assert await others[0].orphaned_rooms() == []
        with pytest.raises(LeaseLost):
            await old.heartbeat()
        with pytest.raises(LeaseLost):
            await old.claim("room-2")


async def test_a_restarted_node_does_not_inherit_its_predecessors_claims(
    redis_api: RedisAPI,
) -> None:
    """Same node id, new process: the old process's claims are fenced, and the room is
    claimed again at a new epoch."""
    before = NodeLease(redis_api, "node-a", lease_time=LEASE)
    await before.register()
    old = await before.claim("room-1")
    after = NodeLease(redis_api, "node-a", lease_time=30)
    with trio.fail_after(EXPIRY_GUARD):
        while True:
            try:
                await after.register()
                break
            except NodeIdInUse as busy:
                await trio.sleep(busy.retry_after)
    assert await after.orphaned_rooms() == ["room-1"]
    new = await wait_until_claimed(after, "room-1")
    assert (new.node_id, new.epoch) == ("node-a", old.epoch + 1)


async def test_keep_alive_holds_the_lease_past_its_time(redis_api: RedisAPI) -> None:
    node = NodeLease(redis_api, "node-a", lease_time=LEASE)
    other = NodeLease(redis_api, "node-b", lease_time=30)
    await node.register()
    await other.register()
    await node.claim("room-1")
    async with trio.open_nursery() as nursery:
        nursery.start_soon(node.keep_alive)
        await trio.sleep(LEASE * 4)
        with pytest.raises(RoomHeld):
            await other.claim("room-1")
        nursery.cancel_scope.cancel()
    await node.heartbeat()
