"""coredis runs natively under Trio: a Redis that never answers gives RedisUnavailable
after the configured timeouts, a Trio cancel scope cancels a call, and the client goes on
working afterwards."""

from __future__ import annotations

import pytest
import trio

from gameserver.cluster.errors import LeaseLost, RedisUnavailable
from gameserver.cluster.leases import NodeLease
from gameserver.cluster.redis_api import RedisAPI, open_redis


async def silent_server(task_status: trio.TaskStatus[int]) -> None:
    """Accept connections on a free loopback port and never answer a byte."""
    listeners = await trio.open_tcp_listeners(0, host="127.0.0.1")
    task_status.started(listeners[0].socket.getsockname()[1])
    held = []
    while True:
        held.append(await listeners[0].accept())  # kept open, never read


async def test_a_redis_that_never_answers_is_unavailable_not_a_hang() -> None:
    async with trio.open_nursery() as nursery:
        port = await nursery.start(silent_server)
        url = f"redis://127.0.0.1:{port}/0"
        with trio.fail_after(30):  # a hang guard: the timeouts below end it far sooner
            async with open_redis(url, connect_timeout=0.3, reply_timeout=0.3) as api:
                with pytest.raises(RedisUnavailable):
                    await api.config(["appendfsync"])
        nursery.cancel_scope.cancel()


async def test_calls_cancelled_midway_never_mix_up_later_replies(redis_api: RedisAPI) -> None:
    """Cancel calls at every point of their flight (before sending, while Redis works,
    with the reply on its way); every later call still gets its own reply."""
    node = NodeLease(redis_api, "node-a", lease_time=30)
    await node.register()
    cancelled = 0
    for step in range(300):
        with trio.move_on_after(step * 2e-6) as scope:
            await node.claim(f"room-{step % 3}")
        cancelled += scope.cancelled_caught
    assert cancelled > 0
    for step in range(30):
        assert await redis_api.config(["appendfsync"]) == {"appendfsync": "always"}
        claim = await node.claim(f"room-{step % 3}")
        assert (claim.room_id, claim.node_id, claim.epoch) == (f"room-{step % 3}", "node-a", 1)


async def test_keep_alive_raises_once_the_lease_is_lost(redis_api: RedisAPI) -> None:
    node = NodeLease(redis_api, "node-a", lease_time=0.2)
    await node.register()
    with trio.fail_after(20):
        while True:  # a stall longer than the lease: Redis expires it on its own clock
            try:
                await node.heartbeat()
            except LeaseLost:
                break
            await trio.sleep(0.5)
    with trio.fail_after(20), pytest.raises(LeaseLost):
        await node.keep_alive()
