"""The bus between nodes, on a real Redis: order, both directions, a Redis restart."""

from __future__ import annotations

from typing import Any

import trio

from gameserver.cluster.bus import Bus, Message
from gameserver.cluster.errors import RedisUnavailable
from gameserver.cluster.keys import KeyLayout
from gameserver.cluster.redis_api import RedisAPI, open_redis

from .conftest import RedisServer


class Inbox:
    """What a node's bus delivered, and a way to wait for a number of messages."""

    def __init__(self) -> None:
        self.messages: list[Message] = []
        self._changed = trio.Event()

    def deliver(self, message: Message) -> None:
        self.messages.append(message)
        self._changed.set()

    async def wait_for(self, count: int) -> list[Message]:
        with trio.fail_after(30):
            while len(self.messages) < count:
                await self._changed.wait()
                self._changed = trio.Event()
        return self.messages


async def _start(nursery: trio.Nursery, api: RedisAPI, node_id: str) -> tuple[Bus, Inbox]:
    inbox = Inbox()
    bus = Bus(api, KeyLayout(), node_id, inbox.deliver, retry=0.05)
    await nursery.start(bus.run)
    return bus, inbox


async def test_messages_arrive_in_order_in_both_directions(redis_api: RedisAPI) -> None:
    async with trio.open_nursery() as nursery:
        bus_a, inbox_a = await _start(nursery, redis_api, "node-a")
        bus_b, inbox_b = await _start(nursery, redis_api, "node-b")
        for number in range(2500):  # more than one read's worth
            bus_a.send("node-b", ["req", number, b"\x00\xff"])
            if number % 100 == 0:
                await trio.sleep(0)  # let the sender go on while more are queued
        bus_b.send("node-a", ["out", "done"])
        got = await inbox_b.wait_for(2500)
        assert got == [["req", number, b"\x00\xff"] for number in range(2500)]
        assert await inbox_a.wait_for(1) == [["out", "done"]]
        nursery.cancel_scope.cancel()


async def test_a_new_process_of_a_node_gets_only_what_is_sent_after_it_started(
    redis_api: RedisAPI,
) -> None:
    async with trio.open_nursery() as nursery:
        sender, _ = await _start(nursery, redis_api, "node-a")
        sender.send("node-b", ["to an earlier node-b"])
        with trio.fail_after(10):
            while not await redis_api.stream_range(KeyLayout().bus("node-b"), "-", 10):
                await trio.sleep(0.01)
        _, inbox = await _start(nursery, redis_api, "node-b")
        sender.send("node-b", ["to this one"])
        assert await inbox.wait_for(1) == [["to this one"]]
        await trio.sleep(0.2)
        assert inbox.messages == [["to this one"]]
        nursery.cancel_scope.cancel()


async def test_messages_sent_while_redis_is_down_arrive_after_it_is_back(
    redis_server: RedisServer,
) -> None:
    sent: list[Any] = []
    async with open_redis(redis_server.url, connect_timeout=0.5, reply_timeout=2.0) as api:
        async with trio.open_nursery() as nursery:
            bus_a, _ = await _start(nursery, api, "node-a")
            _, inbox_b = await _start(nursery, api, "node-b")
            for number in range(10):
                bus_a.send("node-b", [number])
                sent.append([number])
            await inbox_b.wait_for(10)
            redis_server.kill()
            for number in range(10, 20):
                bus_a.send("node-b", [number])
                sent.append([number])
            await trio.sleep(0.3)  # the sender and the reader meet a dead Redis
            redis_server.start()
            assert await inbox_b.wait_for(20) == sent
            nursery.cancel_scope.cancel()


class LosesFirstReply:
    """The real Redis, except that the first bus write's reply is lost on its way back
    (the write happened; the caller cannot know), as when a connection breaks."""

    def __init__(self, api: RedisAPI) -> None:
        self.api = api
        self.lost = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.api, name)

    async def run_script(self, script: Any, keys: Any, args: Any) -> Any:
        reply = await self.api.run_script(script, keys, args)
        if script.name == "bus_send" and not self.lost:
            self.lost += 1
            raise RedisUnavailable("reply lost (test)")
        return reply


async def test_a_batch_whose_reply_was_lost_is_sent_again_and_added_once(
    redis_api: RedisAPI,
) -> None:
    flaky = LosesFirstReply(redis_api)
    async with trio.open_nursery() as nursery:
        inbox = Inbox()
        await nursery.start(Bus(redis_api, KeyLayout(), "node-b", inbox.deliver).run)
        sender = Bus(flaky, KeyLayout(), "node-a", lambda m: None, retry=0.01)  # type: ignore[arg-type]
        await nursery.start(sender.run)
        sender.send("node-b", ["once"])
        assert await inbox.wait_for(1) == [["once"]]
        sender.send("node-b", ["then this"])
        assert await inbox.wait_for(2) == [["once"], ["then this"]]
        assert flaky.lost == 1
        nursery.cancel_scope.cancel()
