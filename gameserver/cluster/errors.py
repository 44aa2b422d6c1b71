"""Exceptions of cluster mode.

::

    ClusterError               root: anything cluster mode refuses or cannot do
     ├── ExtraMissing          the Redis client (``gameserver[cluster]``) is not installed
     ├── RedisUnavailable      Redis did not answer (down, restarting, unreachable): the
     │                         outcome of the call is unknown; retry the same call later
     ├── NotDurable            Redis is not configured to sync every write before replying
     ├── NodeIdInUse           another live process holds this node id's lease
     ├── RoomHeld              the room is owned by a node whose lease is alive
     ├── Fenced                this node may no longer write for the room: step down
     │    ├── StaleOwner       the room has a newer epoch (claimed again) or was released
     │    └── LeaseLost        this node's lease expired (or was never taken)
     └── LogConflict           the stream does not end where the appender believes it does

``Fenced`` is the one a room task must act on: it owns nothing any more, so it records,
replies and broadcasts nothing further and drops the room (its new owner rebuilds it from
the log). ``RedisUnavailable`` is not fencing: the room pauses and retries the *same*
append, which Redis applies at most once (see ``match_stream.py``).
"""

from __future__ import annotations


class ClusterError(Exception):
    """Root of every cluster-mode error."""


class ExtraMissing(ClusterError):
    """The ``gameserver[cluster]`` extra (the coredis client) is not installed."""


class RedisUnavailable(ClusterError):
    """Redis did not answer: the connection failed or broke, or a call timed out.

    Whether a write went through is unknown; retrying the same call is safe for every
    call of this package (they are idempotent). ``__cause__`` is the client's exception.
    """


class NotDurable(ClusterError):
    """Redis would acknowledge a write before it is on disk (``appendonly`` is not
    ``yes`` or ``appendfsync`` is not ``always``): acknowledged moves could be lost."""


class NodeIdInUse(ClusterError):
    """A live process already holds the lease of this node id.

    ``retry_after`` is how many seconds that lease still runs: a node restarted under
    the same id waits that long (its predecessor's lease must expire first).
    """

    def __init__(self, node_id: str, retry_after: float) -> None:
        super().__init__(
            f"node id {node_id!r} is in use by a live node "
            f"(its lease runs {retry_after:.1f} s more)"
        )
        self.node_id = node_id
        self.retry_after = retry_after


class RoomHeld(ClusterError):
    """The room is owned by ``owner`` at ``epoch`` and that node's lease is alive."""

    def __init__(self, room_id: str, owner: str, epoch: int) -> None:
        super().__init__(f"room {room_id!r} is owned by node {owner!r} (epoch {epoch})")
        self.room_id = room_id
        self.owner = owner
        self.epoch = epoch


class Fenced(ClusterError):
    """This node no longer owns the room: nothing was written. Step down from it."""


class StaleOwner(Fenced):
    """The room's owner or epoch is not the caller's any more.

    ``owner`` is the current owner (``""`` when none) and ``epoch`` the current epoch.
    """

    def __init__(self, room_id: str, owner: str, epoch: int, mine: int) -> None:
        now = f"node {owner!r}" if owner else "no node"
        super().__init__(
            f"room {room_id!r} is owned by {now} at epoch {epoch}, not at this node's epoch {mine}"
        )
        self.room_id = room_id
        self.owner = owner
        self.epoch = epoch


class LeaseLost(Fenced):
    """This node's lease expired (it stalled longer than the lease, or Redis lost it):
    every room it owned may be claimed by another node. Register again to go on."""

    def __init__(self, node_id: str) -> None:
        super().__init__(f"node {node_id!r} has lost its lease")
        self.node_id = node_id


class LogConflict(ClusterError):
    """The stream's length is not where the append expects it (a gap or different
    records at those positions). With fencing this means a bug: do not retry.

    ``length`` is how many records the stream holds.
    """

    def __init__(self, match_id: str, expected: int, length: int) -> None:
        super().__init__(
            f"match log {match_id!r} holds {length} records; an append at position "
            f"{expected} does not continue it"
        )
        self.match_id = match_id
        self.length = length
