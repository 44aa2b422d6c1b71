"""The key layout in Redis: every key cluster mode uses is built here.

::

    {prefix}:nodes              SET     every node id that ever registered (for failover scans)
    {prefix}:node:{node}        STRING  the node's lease: its session token, with PX = lease
                                        time; gone (expired) means the node is dead
    {prefix}:node:{node}:rooms  SET     the room ids the node owns (claimed, not released)
    {prefix}:room:{room}        HASH    ``owner`` (node id), ``token`` (the owner's session
                                        token when it claimed), ``epoch`` (1, 2, ...; never
                                        reset: a released room keeps it and the next claim
                                        continues from it), ``log`` (the key of
                                        its latest match log, set by its header)
    {prefix}:node:{node}:bus    STREAM  messages to the node (``bus.py``), field ``m``
    {prefix}:node:{node}:bus:seen HASH  sender -> number of its last batch added
    {prefix}:secret             STRING  the secret every node signs session tokens with
    {prefix}:lobby              HASH    room id -> the listed public room: ``NODE_ID
                                        LEASE_TOKEN LOBBY_UPDATE`` (space-separated;
                                        the last a msgpack ``LobbyUpdate``)
    {prefix}:invites            HASH    invite code -> ``NODE_ID ROOM_ID`` of a private room
    {prefix}:log:{match}        STREAM  the match log: entry ``0-1`` is the header, entry
                                        ``0-N`` the record at position N, field ``r`` the
                                        record's msgpack bytes (as in a ``.gsr`` frame)

``prefix`` is ``gs`` unless configured otherwise, so several clusters can share a Redis
database. Ids never contain ``:`` (node ids by ``check_node_id``, match ids by the replay
format's rules), so a key names exactly one thing.

The Lua scripts touch the keys of *another* node (a claim checks the old owner's lease),
so these keys are not in one hash slot: the store needs a standalone Redis (a primary,
with replicas and Sentinel if wanted), not Redis Cluster.
"""

from __future__ import annotations

import re

import attrs

DEFAULT_PREFIX = "gs"

# Node ids appear in keys and logs: letters, digits, '_', '-', '.', at most 64.
_NODE_ID = re.compile(r"[A-Za-z0-9_.-]{1,64}")
# Room and match ids come from the server; anything without ':' and control characters
# keeps the layout unambiguous.
_ID = re.compile(r"[^:\x00-\x20\x7f]{1,128}")


def check_node_id(node_id: str) -> str:
    """Return ``node_id``; raise ``ValueError`` unless it is 1-64 of ``A-Za-z0-9_.-``."""
    if not _NODE_ID.fullmatch(node_id):
        raise ValueError(
            f"{node_id!r} is not a node id; allowed: 1 to 64 letters, digits, '_', '-' or '.'"
        )
    return node_id


def _check_id(kind: str, value: str) -> str:
    if not _ID.fullmatch(value):
        raise ValueError(f"{kind} id {value!r} cannot be part of a Redis key")
    return value


@attrs.frozen
class KeyLayout:
    """Builds every key under one ``prefix``."""

    prefix: str = DEFAULT_PREFIX

    @property
    def nodes(self) -> str:
        return f"{self.prefix}:nodes"

    def node(self, node_id: str) -> str:
        return f"{self.prefix}:node:{check_node_id(node_id)}"

    def node_rooms(self, node_id: str) -> str:
        return f"{self.node(node_id)}:rooms"

    def room(self, room_id: str) -> str:
        return f"{self.prefix}:room:{_check_id('room', room_id)}"

    def log(self, match_id: str) -> str:
        return f"{self.prefix}:log:{_check_id('match', match_id)}"

    def bus(self, node_id: str) -> str:
        return f"{self.node(node_id)}:bus"

    def bus_seen(self, node_id: str) -> str:
        return f"{self.node(node_id)}:bus:seen"

    @property
    def secret(self) -> str:
        return f"{self.prefix}:secret"

    @property
    def lobby(self) -> str:
        return f"{self.prefix}:lobby"

    @property
    def invites(self) -> str:
        return f"{self.prefix}:invites"

    @property
    def log_pattern(self) -> str:
        """A ``SCAN MATCH`` pattern for every match log."""
        return f"{self.prefix}:log:*"

    def match_id_of(self, log_key: str) -> str:
        """The match id in a key returned by a scan for ``log_pattern``."""
        return log_key.removeprefix(f"{self.prefix}:log:")
