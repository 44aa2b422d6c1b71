"""Node leases and room ownership: which node may write for which room.

A node registers under its node id with a lease (a key that expires unless heartbeated)
holding a random session token. It claims rooms: a claim succeeds when the room has no
owner, or its owner's lease is gone (the node died, stalled past its lease, or restarted
under a new token); it sets the owner to this node and the room's epoch to epoch + 1.
Redis runs each claim as one script, so of any number of concurrent claimers exactly
one wins and the others get ``RoomHeld``.

The epoch is the fencing token: every append names the epoch it was claimed at and
Redis refuses it once the room has a newer epoch (``StaleOwner``) or once the appending
node's lease has expired (``LeaseLost``). So a node that lost a room, even one that
stalled, woke up and does not know yet, cannot record anything for it.

One lease per node, not per room: a node heartbeats once per period whatever its number
of rooms, and all its rooms become claimable together when it stops.

Usage::

    lease = NodeLease(api, "node-a", lease_time=5.0)
    await lease.register()                       # NodeIdInUse: wait .retry_after, retry
    nursery.start_soon(lease.keep_alive)         # raises LeaseLost if the lease is lost
    claim = await lease.claim(room_id)           # RoomHeld: another live node owns it
    ...  # append with claim (match_stream.py)
    await lease.release(claim)                   # the room closed
"""

from __future__ import annotations

import logging
import secrets

import attrs
import trio

from .errors import ClusterError, LeaseLost, NodeIdInUse, RedisUnavailable, RoomHeld, StaleOwner
from .keys import DEFAULT_PREFIX, KeyLayout, check_node_id
from .redis_api import RedisAPI, Reply, Script
from .scripts import CLAIM, HEARTBEAT, ORPHANS, REGISTER, RELEASE

log = logging.getLogger(__name__)

#: Heartbeats per lease time: two may be lost (or slow) before the lease runs out.
HEARTBEATS_PER_LEASE = 3


@attrs.frozen
class Claim:
    """The right to write for one room: its owner node and the epoch it claimed at."""

    room_id: str
    node_id: str
    epoch: int


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


class NodeLease:
    """One node's lease in Redis, and the claims it makes under it."""

    def __init__(
        self,
        api: RedisAPI,
        node_id: str,
        *,
        lease_time: float = 5.0,
        prefix: str = DEFAULT_PREFIX,
    ) -> None:
        """``lease_time`` (seconds): how long the node counts as alive after a heartbeat."""
        self.api = api
        self.node_id = check_node_id(node_id)
        self.lease_time = lease_time
        self.keys = KeyLayout(prefix)
        #: Tells this registration's lease from any earlier one under the same node id.
        self.token = ""

    @property
    def _lease_ms(self) -> int:
        return max(1, round(self.lease_time * 1000))

    async def _run(
        self, script: Script, keys: list[str], args: list[str | int]
    ) -> tuple[str, list[Reply]]:
        """Run ``script``; return its status (``"ok"`` or why not) and the rest of its reply."""
        reply = await self.api.run_script(script, keys, args)
        if not isinstance(reply, list) or not reply:
            raise ClusterError(f"unexpected reply to {script.name}: {reply!r}")
        return _text(reply[0]), reply[1:]

    async def register(self) -> None:
        """Take this node id's lease; raise ``NodeIdInUse`` if a live process holds it.

        Each registration has a new token, so after ``LeaseLost`` registering again
        does not revive the old claims: every room is claimed anew, at a new epoch.
        """
        self.token = secrets.token_hex(16)
        keys = [self.keys.node(self.node_id), self.keys.nodes]
        status, rest = await self._run(REGISTER, keys, [self.token, self._lease_ms, self.node_id])
        if status == "in_use":
            raise NodeIdInUse(self.node_id, max(0, int(rest[0])) / 1000)

    async def heartbeat(self) -> None:
        """Extend the lease to ``lease_time`` from now; raise ``LeaseLost`` if it expired."""
        keys = [self.keys.node(self.node_id)]
        status, _rest = await self._run(HEARTBEAT, keys, [self.token, self._lease_ms])
        if status != "ok":
            raise LeaseLost(self.node_id)

    async def keep_alive(self) -> None:
        """Heartbeat ``HEARTBEATS_PER_LEASE`` times per lease time, forever.

        Redis being unreachable is logged and retried at the same pace (the lease may run
        out meanwhile). Raises ``LeaseLost`` once Redis says the lease is gone: the node
        owns nothing any more and must step down from every room.
        """
        while True:
            await trio.sleep(self.lease_time / HEARTBEATS_PER_LEASE)
            try:
                await self.heartbeat()
            except RedisUnavailable as exc:
                log.warning("node %s: heartbeat failed, retrying: %s", self.node_id, exc)

    async def claim(self, room_id: str) -> Claim:
        """Own ``room_id`` at a new epoch (or at the current one if this node already
        owns it). Raise ``RoomHeld`` if a live node owns it, ``LeaseLost`` if this node's
        own lease is gone."""
        keys = [
            self.keys.room(room_id),
            self.keys.node(self.node_id),
            self.keys.node_rooms(self.node_id),
        ]
        args: list[str | int] = [self.node_id, self.token, room_id, self.keys.prefix]
        status, rest = await self._run(CLAIM, keys, args)
        if status == "lost":
            raise LeaseLost(self.node_id)
        if status == "held":
            raise RoomHeld(room_id, _text(rest[0]), int(rest[1]))
        return Claim(room_id, self.node_id, int(rest[0]))

    async def release(self, claim: Claim) -> None:
        """Give up the room (it closed). The epoch stays: a later claim continues from
        it. Raise ``StaleOwner`` if the claim is no longer the room's."""
        keys = [self.keys.room(claim.room_id), self.keys.node_rooms(self.node_id)]
        status, rest = await self._run(RELEASE, keys, [self.node_id, claim.epoch, claim.room_id])
        if status == "stale":
            raise StaleOwner(claim.room_id, _text(rest[0]), int(rest[1]), claim.epoch)

    async def orphaned_rooms(self) -> list[str]:
        """The rooms whose owners' leases are gone: claim each to take it over.

        Forgets nodes that are gone and own nothing, so the node list does not grow.
        """
        reply = await self.api.run_script(ORPHANS, [self.keys.nodes], [self.keys.prefix])
        return sorted(_text(room) for room in reply)
