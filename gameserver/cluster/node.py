"""One node of a cluster: what ``gameserver serve --redis URL`` runs besides the server.

``open_node`` connects to Redis, checks that it is durable, registers this node's lease
(waiting for the lease of a previous process under the same node id to run out), and
keeps the lease alive for the block. The ``ClusterNode`` it yields gives the server:

- ``secret``: the cluster's token secret (in Redis), so a session token issued by one
  process resumes on any later one;
- ``logs``: where rooms write their match logs (``room_logs.StreamLogs``);
- ``registry``: the lobby's ``RoomDirectory`` (``lobby_registry.LobbyRegistry``);
- ``take_over(host)``: rebuild the rooms of nodes that are gone (``takeover.py``), at
  start; ``watch_orphans(host)`` goes on doing it while the node runs;
- ``attach(lobby, players)``: start the bus between nodes (``bus.py``) with both ends of
  a room request from another node: this node's rooms serving players who are
  elsewhere (``remote_members.py``), and this node's players reaching rooms elsewhere
  (``rooms_elsewhere.py``, returned for ``GameService.elsewhere``); and the mirror of
  the other nodes' listed rooms for the lobby.

If the lease is lost (this process stalled longer than the lease), the block raises
``LeaseLost``: every room of this node may already be another node's, so the server
stops; rooms still appending are refused by Redis before that (fencing).
"""

from __future__ import annotations

import contextlib
import logging
import secrets
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import attrs
import trio

from gameserver.rooms.lobby import Lobby
from gameserver.rooms.recovery import RecoveryHost

from .bus import Bus, Message
from .errors import NodeIdInUse, RedisUnavailable
from .leases import NodeLease
from .lobby_registry import LobbyRegistry
from .match_stream import MatchStreams, check_durable
from .redis_api import RedisAPI, open_redis
from .remote_members import RemoteMembers
from .room_logs import StreamLogs
from .rooms_elsewhere import KnownPlayers, Relays, RoomsElsewhere
from .scripts import LIVE_NODES, SECRET
from .takeover import Takeover

log = logging.getLogger(__name__)

#: Bytes of the cluster's token secret (as ``sessions.tokens.SECRET_BYTES``).
SECRET_BYTES = 32


@attrs.frozen(kw_only=True)
class NodeSettings:
    """What ``gameserver serve`` tells its node."""

    redis_url: str
    node_id: str
    lease_time: float = 5.0
    """Seconds the node counts as alive after a heartbeat."""
    retry: float = 1.0
    """Seconds between tries while Redis does not answer."""
    replays_dir: Path
    """Where finished match logs are copied as ``.gsr`` files."""


@attrs.define
class ClusterNode:
    """A registered node and the parts the server plugs in (see the module docstring)."""

    api: RedisAPI
    lease: NodeLease
    secret: bytes
    logs: StreamLogs
    registry: LobbyRegistry
    takeover: Takeover
    retry: float
    nursery: trio.Nursery

    async def take_over(self, host: RecoveryHost) -> int:
        """Rebuild every orphaned room in ``host``'s lobby; return how many."""
        return await self.takeover.run_once(host)

    def watch_orphans(self, host: RecoveryHost) -> None:
        """Take over the rooms of nodes that die from now on, every half lease time."""
        self.nursery.start_soon(self.takeover.watch, host, self.lease.lease_time / 2)

    async def attach(
        self, lobby: Lobby, players: KnownPlayers, relays: Relays
    ) -> RoomsElsewhere:
        """Start the bus and the lobby mirror for ``lobby``, ``players`` and ``relays``
        (the game service's); return the service's ``RoomsElsewhere``. Requests sent to
        this node from now on are served."""
        handlers: dict[str, Callable[[Message], None]] = {}
        bus = Bus(
            self.api, self.lease.keys, self.lease.node_id,
            lambda message: handlers[message[0]](message), retry=self.retry,
        )  # fmt: skip
        members = RemoteMembers(bus, lobby, players, relays)
        elsewhere = RoomsElsewhere(
            bus, lobby, players, self.registry, relays, self._live_nodes
        )
        handlers.update(
            req=members.deliver, conn=members.deliver, here=members.deliver,
            seek=members.deliver, out=elsewhere.deliver, room=elsewhere.deliver,
            ack=elsewhere.deliver,
        )  # fmt: skip
        self.takeover.seek = lambda player_ids: bus.broadcast(
            ["seek", bus.node_id, player_ids]
        )
        await self.nursery.start(bus.run)
        self.nursery.start_soon(self.registry.mirror, lobby)
        self.nursery.start_soon(self._watch_nodes, elsewhere)
        return elsewhere

    async def _live_nodes(self) -> set[str]:
        """The ids of the nodes whose lease is alive (this one too)."""
        keys = self.lease.keys
        reply = await self.api.run_script(LIVE_NODES, [keys.nodes], [keys.prefix])
        return {v.decode() if isinstance(v, bytes) else str(v) for v in reply}

    async def _watch_nodes(self, elsewhere: RoomsElsewhere) -> None:
        """Tell ``elsewhere`` which nodes are alive, every half lease time."""
        while True:
            await trio.sleep(self.lease.lease_time / 2)
            try:
                alive = await self._live_nodes()
            except RedisUnavailable:
                continue  # the lease's keep-alive says so already
            elsewhere.nodes_alive(alive)


async def _register(lease: NodeLease) -> None:
    """Take the lease, waiting out a previous process's under the same node id."""
    while True:
        try:
            await lease.register()
            return
        except NodeIdInUse as exc:
            log.info("%s; waiting for it to expire", exc)
            await trio.sleep(max(exc.retry_after, 0.05))


async def _shared_secret(api: RedisAPI, lease: NodeLease) -> bytes:
    reply = await api.run_script(SECRET, [lease.keys.secret], [secrets.token_hex(SECRET_BYTES)])
    value = reply[0]
    return bytes.fromhex(value.decode() if isinstance(value, bytes) else str(value))


@contextlib.asynccontextmanager
async def open_node(settings: NodeSettings) -> AsyncIterator[ClusterNode]:
    """Join the cluster for the block (see the module docstring). Raises ``NotDurable``
    or ``RedisUnavailable`` before yielding; ``LeaseLost`` after."""
    async with open_redis(settings.redis_url) as api:
        await check_durable(api)
        lease = NodeLease(api, settings.node_id, lease_time=settings.lease_time)
        await _register(lease)
        secret = await _shared_secret(api, lease)
        streams = MatchStreams(api, prefix=lease.keys.prefix)
        logs = StreamLogs(lease, streams, settings.replays_dir, retry=settings.retry)
        registry = LobbyRegistry(api, lease, logs, retry=settings.retry)
        takeover = Takeover(api, lease, streams, logs)
        async with trio.open_nursery() as nursery:
            node = ClusterNode(
                api, lease, secret, logs, registry, takeover, settings.retry, nursery
            )
            nursery.start_soon(lease.keep_alive)
            nursery.start_soon(registry.run)
            log.info("node %s joined the cluster", settings.node_id)
            yield node
            nursery.cancel_scope.cancel()
