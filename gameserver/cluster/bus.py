"""The bus between nodes: each node reads its own Redis stream, ``{prefix}:node:{node}:bus``.

A node sends a message to another with ``send(node_id, message)``: a list of msgpack
values, queued at once (``send`` never blocks) and added to the other node's stream by
the bus's sender task, which writes everything queued for one node in one script call.
Each node's receiver task reads its stream with ``XREAD BLOCK`` and hands every
message, in the order it was sent, to the ``deliver`` callback.

Order: the messages one node sends to another arrive in the order they were sent (one
sender task, one stream per receiver). Delivery: once each, to a receiver that is
running when they are added; Redis not answering delays them (they wait in the queue
and are retried) and never reorders or repeats them: every batch carries the sender's
id and a number, and Redis adds a batch only once. Messages for a process that is gone
are never delivered: the bus carries requests and pushes of live connections, worth
nothing after a restart (a client that reconnects gets a full snapshot). A stream
keeps its last ``STREAM_LENGTH`` messages (Redis trims older ones).
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from typing import Any

import msgpack
import trio

from .errors import RedisUnavailable
from .keys import KeyLayout
from .redis_api import RedisAPI
from .scripts import BUS_LAST_ID, BUS_SEND, LIVE_NODES

log = logging.getLogger(__name__)

#: Messages a node's stream keeps (about: Redis trims whole blocks of entries).
STREAM_LENGTH = 100_000
#: Messages read per ``XREAD``.
READ_COUNT = 1000
#: Seconds one ``XREAD`` waits for a message (well under the client's reply timeout).
READ_BLOCK = 1.0
#: The stream field that holds a message.
FIELD = b"m"

#: One message: a list of msgpack values, the first naming its kind.
Message = list[Any]
# Not a node id (node ids never hold '*'): where ``broadcast`` queues.
_EVERY_NODE = "*"


class Bus:
    """This node's end of the bus; run ``run`` in a nursery for as long as it is used."""

    def __init__(
        self,
        api: RedisAPI,
        keys: KeyLayout,
        node_id: str,
        deliver: Callable[[Message], None],
        *,
        retry: float = 1.0,
    ) -> None:
        """``deliver`` is called with each message for this node, in order; it must not
        block (queue any slow work) and should not raise (what it raises is logged)."""
        self.api = api
        self.keys = keys
        self.node_id = node_id
        self.deliver = deliver
        self.retry = retry
        self._outgoing: dict[str, list[bytes]] = {}
        self._wake = trio.Event()
        # Tells this process's batches from those of any other sender, and numbers them.
        self._sender = f"{node_id}:{secrets.token_hex(8)}"
        self._batches = 0

    def send(self, node_id: str, message: Message) -> None:
        """Queue ``message`` for ``node_id``; never blocks."""
        self._outgoing.setdefault(node_id, []).append(msgpack.packb(message))
        self._wake.set()

    def broadcast(self, message: Message) -> None:
        """Queue ``message`` for every node whose lease is alive when it is sent, this
        one included."""
        self.send(_EVERY_NODE, message)

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Send and receive until cancelled; reports started once the receiver listens
        (messages sent to this node from then on are delivered)."""
        async with trio.open_nursery() as nursery:
            await nursery.start(self._receive)
            nursery.start_soon(self._send)
            task_status.started()

    async def _send(self) -> None:
        while True:
            await self._wake.wait()
            self._wake = trio.Event()
            while self._outgoing:
                node_id = next(iter(self._outgoing))
                batch = self._outgoing.pop(node_id)
                for node in await self._nodes(node_id):
                    self._batches += 1
                    await self._add(node, self._batches, batch)

    async def _nodes(self, node_id: str) -> list[str]:
        """``[node_id]``, or the live nodes for a broadcast."""
        if node_id != _EVERY_NODE:
            return [node_id]
        while True:
            try:
                reply = await self.api.run_script(
                    LIVE_NODES, [self.keys.nodes], [self.keys.prefix]
                )
            except RedisUnavailable as exc:
                log.warning("bus: Redis does not answer; retrying: %s", exc)
                await trio.sleep(self.retry)
                continue
            nodes = (n.decode() if isinstance(n, bytes) else str(n) for n in reply)
            return sorted(nodes)

    async def _add(self, node_id: str, number: int, batch: list[bytes]) -> None:
        """Add batch ``number`` to ``node_id``'s stream, retrying the same batch (added
        once whatever happens) until Redis answers."""
        keys = [self.keys.bus(node_id), self.keys.bus_seen(node_id)]
        while True:
            try:
                await self.api.run_script(
                    BUS_SEND, keys, [STREAM_LENGTH, self._sender, number, *batch]
                )
                return
            except RedisUnavailable as exc:
                log.warning("bus: Redis does not answer; retrying: %s", exc)
                await trio.sleep(self.retry)

    async def _receive(self, *, task_status: trio.TaskStatus[None]) -> None:
        key = self.keys.bus(self.node_id)
        after = await self._last_id(key)
        task_status.started()
        while True:
            try:
                entries = await self.api.stream_read(key, after, READ_COUNT, READ_BLOCK)
            except RedisUnavailable as exc:
                log.warning("bus: Redis does not answer; retrying: %s", exc)
                await trio.sleep(self.retry)
                continue
            for entry in entries:
                after = entry.id
                try:
                    self.deliver(msgpack.unpackb(entry.fields[FIELD]))
                except Exception:
                    log.exception("bus: a message to node %s failed", self.node_id)

    async def _last_id(self, key: str) -> str:
        """The id of the newest message already in the stream: the receiver reads after
        it (messages to an earlier process of this node are not delivered)."""
        while True:
            try:
                reply = await self.api.run_script(BUS_LAST_ID, [key], [])
            except RedisUnavailable as exc:
                log.warning("bus: Redis does not answer; retrying: %s", exc)
                await trio.sleep(self.retry)
                continue
            return reply.decode() if isinstance(reply, bytes) else str(reply)
