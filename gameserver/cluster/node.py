"""One node of a cluster: what ``gameserver serve --redis URL`` runs besides the server.

``open_node`` connects to Redis, checks that it is durable, registers this node's lease
(waiting for the lease of a previous process under the same node id to run out), and
keeps the lease alive for the block. The ``ClusterNode`` it yields gives the server:

- ``secret``: the cluster's token secret (in Redis), so a session token issued by one
  process resumes on any later one;
- ``logs``: where rooms write their match logs (``room_logs.StreamLogs``);
- ``registry``: the lobby's ``RoomDirectory`` (``lobby_registry.LobbyRegistry``);
- ``take_over(host)``: rebuild the rooms of nodes that are gone (``takeover.py``).

Clusters of one node only, for now: another live node on the same Redis is refused
(``TopologyRefused``) until the bus between nodes exists.

If the lease is lost (this process stalled longer than the lease), the block raises
``LeaseLost``: every room of this node may already be another node's, so the server
stops; rooms still appending are refused by Redis before that (fencing).
"""

from __future__ import annotations

import contextlib
import logging
import secrets
from collections.abc import AsyncIterator
from pathlib import Path

import attrs
import trio

from gameserver.rooms.recovery import RecoveryHost

from .errors import NodeIdInUse, TopologyRefused
from .leases import NodeLease
from .lobby_registry import LobbyRegistry
from .match_stream import MatchStreams, check_durable
from .redis_api import RedisAPI, open_redis
from .room_logs import StreamLogs
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

    lease: NodeLease
    secret: bytes
    logs: StreamLogs
    registry: LobbyRegistry
    takeover: Takeover

    async def take_over(self, host: RecoveryHost) -> int:
        """Rebuild every orphaned room in ``host``'s lobby; return how many."""
        return await self.takeover.run_once(host)


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


async def _refuse_other_nodes(api: RedisAPI, lease: NodeLease) -> None:
    reply = await api.run_script(LIVE_NODES, [lease.keys.nodes], [lease.keys.prefix])
    others = sorted(
        node for node in (v.decode() if isinstance(v, bytes) else str(v) for v in reply)
        if node != lease.node_id
    )
    if others:
        raise TopologyRefused(
            f"node {others[0]!r} is alive on this Redis; clusters of several nodes are "
            "not supported yet (see docs/cluster.md)"
        )


@contextlib.asynccontextmanager
async def open_node(settings: NodeSettings) -> AsyncIterator[ClusterNode]:
    """Join the cluster for the block (see the module docstring). Raises ``NotDurable``,
    ``TopologyRefused``, ``RedisUnavailable`` before yielding; ``LeaseLost`` after."""
    async with open_redis(settings.redis_url) as api:
        await check_durable(api)
        lease = NodeLease(api, settings.node_id, lease_time=settings.lease_time)
        await _register(lease)
        await _refuse_other_nodes(api, lease)
        secret = await _shared_secret(api, lease)
        streams = MatchStreams(api, prefix=lease.keys.prefix)
        logs = StreamLogs(lease, streams, settings.replays_dir, retry=settings.retry)
        registry = LobbyRegistry(api, lease, logs, retry=settings.retry)
        node = ClusterNode(lease, secret, logs, registry, Takeover(api, lease, streams, logs))
        async with trio.open_nursery() as nursery:
            nursery.start_soon(lease.keep_alive)
            nursery.start_soon(registry.run)
            log.info("node %s joined the cluster", settings.node_id)
            yield node
            nursery.cancel_scope.cancel()
