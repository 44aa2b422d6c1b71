"""Players and their live connections.

A ``Player`` outlives connections: it is who sits in seats (a ``rooms.members.Member``), identified by ``player_id``
and resumable with a token. A ``Client`` is one authenticated connection of that player
with its outbox. Rooms and the lobby only ever ``player.send(...)``: the payload goes to
the player's current connection, or nowhere while the player is disconnected (it gets
a full snapshot when it resumes).
"""

from __future__ import annotations

from collections.abc import Callable

import attrs

from gameserver.protocol.messages import AccountKind
from gameserver.rooms.members import Payload
from gameserver.sessions.outbox import Outbox
from gameserver.store.players import Account


@attrs.define(eq=False)
class Client:
    """One live, authenticated connection."""

    outbox: Outbox
    """Where everything sent to this connection is queued."""
    kicked: tuple[int, str] | None = None
    """Close code and reason once the server decided to end this connection."""
    write_now: Callable[[Payload], bool] | None = None
    """Writes a payload to the socket at once if the connection is idle (True), or
    declines (False) so that it is queued in the outbox instead."""
    wake: Callable[[], None] | None = None
    """Called after the outbox changed (queued, closed or overflowed): the connection
    then starts its writer task, or ends when the outbox overflowed."""
    protocol: int = 1
    """The protocol version negotiated for this connection (1 or 2)."""

    def send(self, payload: Payload, *, key: str | None = None) -> None:
        """Write ``payload`` at once when nothing waits before it, otherwise queue it.

        Writing at once costs one system call and no task switch, which is what makes
        a broadcast to a thousand spectators cheap; a client that is behind keeps
        getting the outbox's coalescing and limit.
        """
        outbox = self.outbox
        write_now = self.write_now
        if (
            write_now is not None
            and not outbox
            and not outbox.closed
            and not outbox.overflowed
            and write_now(payload)
        ):
            return
        outbox.put(payload, key=key)
        if self.wake is not None:
            self.wake()

    def kick(self, code: int, reason: str) -> None:
        """End this connection: its writer flushes what is queued, then closes with ``code``."""
        self.kicked = (code, reason)
        self.outbox.close()
        if self.wake is not None:
            self.wake()


@attrs.define(eq=False)
class Player:
    """A person (or SDK bot) known to this server."""

    player_id: str
    """Stable id; the session token is bound to it."""
    name: str
    """Validated display name."""
    client: Client | None = None
    """The current connection, or None while disconnected."""
    address: str | None = None
    """The client IP address of the latest connection (kept while disconnected), for the
    per-address limits; None for players made without a connection (tests)."""
    rooms: set[str] = attrs.Factory(set)
    """Ids of rooms where this player holds a seat or watches (change it with
    ``entered_room`` and ``left_room``)."""
    on_idle: Callable[[Player], None] | None = attrs.field(default=None, repr=False)
    """Called when the player, offline, leaves its last room: the registry forgets it."""
    account: Account | None = None
    """The player's account (its id is ``player_id``); None while anonymous."""
    ratings: dict[str, float] = attrs.Factory(dict)
    """An account's current rating per pool (as of login and its latest rated matches),
    which rated quick matches pair by; missing pools count as a newcomer's 1500."""

    @property
    def connected(self) -> bool:
        """True while a connection is attached."""
        return self.client is not None

    @property
    def protocol_version(self) -> int:
        """The protocol version of the current connection (1 while disconnected)."""
        client = self.client
        return 1 if client is None else client.protocol

    @property
    def account_kind(self) -> AccountKind | None:
        """The kind of the player's account; None while anonymous."""
        return None if self.account is None else self.account.kind

    @property
    def idle(self) -> bool:
        """True when nothing needs this player kept: no connection and no room."""
        return self.client is None and not self.rooms

    def entered_room(self, room_id: str) -> None:
        """The player took a seat or started watching in ``room_id``."""
        self.rooms.add(room_id)

    def left_room(self, room_id: str) -> None:
        """The player no longer holds a seat or watches in ``room_id``.

        An offline player that leaves its last room this way (its seat was freed after
        the grace period, its room closed) is forgotten at once.
        """
        self.rooms.discard(room_id)
        if self.idle and self.on_idle is not None:
            self.on_idle(self)

    def send(self, payload: Payload, *, key: str | None = None) -> None:
        """Queue ``payload`` on the current connection (dropped while disconnected)."""
        client = self.client
        if client is not None:
            client.send(payload, key=key)


class PlayerRegistry:
    """The players the server needs, by id: those with a connection or a room.

    A player that is offline and in no room is forgotten (by the connection that ends,
    or by ``Player.left_room`` when its last seat is freed later), so the registry does
    not grow with every player ever seen. Nothing is lost: a token names only a player
    id, and a valid token for a forgotten id makes a new ``Player`` with that id.
    """

    def __init__(self) -> None:
        self._players: dict[str, Player] = {}
        self._by_address: dict[str, dict[str, Player]] = {}

    def __len__(self) -> int:
        return len(self._players)

    def get(self, player_id: str) -> Player | None:
        """Return the player with ``player_id`` or None."""
        return self._players.get(player_id)

    def add(self, player: Player) -> Player:
        """Register ``player`` (replacing nothing: ids are unique) and return it; it is
        forgotten by itself once idle (see ``Player.left_room``)."""
        self._players[player.player_id] = player
        player.on_idle = self.discard
        if player.address is not None:
            self._by_address.setdefault(player.address, {})[player.player_id] = player
        return player

    def discard(self, player: Player) -> None:
        """Forget ``player`` (it holds no seat and has no connection); a valid token
        brings it back as the same player id."""
        if self._players.get(player.player_id) is player:
            del self._players[player.player_id]
            player.on_idle = None
            self._unindex(player)

    def move(self, player: Player, address: str) -> None:
        """``player`` (registered) now connects from ``address``."""
        self._unindex(player)
        player.address = address
        self._by_address.setdefault(address, {})[player.player_id] = player

    def at_address(self, address: str) -> list[Player]:
        """The players known here whose latest connection came from ``address``."""
        return list(self._by_address.get(address, {}).values())

    def _unindex(self, player: Player) -> None:
        if player.address is None:
            return
        same = self._by_address.get(player.address)
        if same is not None and same.get(player.player_id) is player:
            del same[player.player_id]
            if not same:
                del self._by_address[player.address]

    def connected_count(self) -> int:
        """Number of players with a live connection."""
        return sum(1 for player in self._players.values() if player.connected)
