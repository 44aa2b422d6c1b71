"""The player's side of a room held by another node: ``sessions.elsewhere.RoomsElsewhere``.

A request naming a room that this node does not hold goes on the bus to the node that
does: the node it learnt from a membership message (the player's seat or watch there)
or, for joining and watching a public room, the owner the lobby lists; for joining by
invite code, the node of the room the code opens. An unrated quick
match that finds no room here goes to a node that lists a room it could join; that
node's lobby seats the player (or opens a room there, if its room filled meanwhile), so
a room is never over-filled. The owner's room
answers the player through the bus (``["out", ...]`` messages, handed to the player's
connection here) and tells this node when the player enters or leaves one of its rooms
(``["room", ...]``), which keeps ``player.rooms`` right: the hello of a player who
reconnects here lists its seats elsewhere, and its connection's end reaches the room
(``["conn", ...]``). The messages are described in ``remote_members.py``.
"""

from __future__ import annotations

import itertools
from collections.abc import Awaitable, Callable
from typing import Protocol

import trio

from gameserver.protocol.codec import encode_client_message
from gameserver.games.registry import get_game
from gameserver.protocol.errors import RequestError
from gameserver.protocol.messages import (
    Chat,
    ClientMessage,
    JoinRoom,
    LeaveRoom,
    Move,
    QuickMatch,
    Rematch,
    Resign,
    Spectate,
    Sync,
)
from gameserver.rooms.lobby import Lobby
from gameserver.rooms.members import Member, Payload

from .bus import Bus, Message
from .errors import RedisUnavailable
from .lobby_registry import LobbyRegistry

# A hello waits this long at most for every node to say where the player sits; a node
# that does not answer in time (Redis slow, the node dying) is not waited for.
SETTLE_TIMEOUT = 2.0

#: The requests that name one room and can be served by its owner.
FORWARDED = (JoinRoom, Spectate, LeaveRoom, Move, Chat, Resign, Rematch, Sync)


class KnownPlayers(Protocol):
    """The players of this node (``sessions.players.PlayerRegistry``)."""

    def get(self, player_id: str) -> Member | None:
        """The player with ``player_id``, or None."""


class Relays(Protocol):
    """Relay connections for players of this node (``sessions.elsewhere.PlayerRelays``)."""

    def attach(self, member: Member, send: Callable[[Payload, str | None], None]) -> bool:
        """Send what ``member`` is sent to ``send``; False if it is connected here."""

    def detach(self, member: Member) -> bool:
        """Stop relaying ``member``; False if it was not relayed."""

    def relayed(self, member: Member) -> bool:
        """True while ``member`` is relayed."""

    def reconnect(self, member: Member) -> None:
        """Close ``member``'s own connection here: its client reconnects and resumes."""


class RoomsElsewhere:
    """Forwards requests for rooms of other nodes and hands their answers back."""

    def __init__(
        self,
        bus: Bus,
        lobby: Lobby,
        players: KnownPlayers,
        registry: LobbyRegistry,
        relays: Relays,
        live_nodes: Callable[[], Awaitable[set[str]]],
    ) -> None:
        self.bus = bus
        self.lobby = lobby
        self.players = players
        self.registry = registry
        self.relays = relays
        #: (player id, room id) -> (owner node, seat or None) of memberships elsewhere.
        self._memberships: dict[tuple[str, str], tuple[str, int | None]] = {}
        #: node -> the players who sent requests there (since it was last found gone).
        self._sent: dict[str, set[str]] = {}
        #: Nodes found gone (their lease ran out) and not back since.
        self._gone: set[str] = set()
        self._live_nodes = live_nodes
        #: settle number -> (nodes that have not answered yet, set when none is left).
        self._settling: dict[int, tuple[set[str], trio.Event]] = {}
        self._settles = itertools.count(1)

    def forward(self, player: Member, message: ClientMessage) -> bool:
        """See ``sessions.elsewhere.RoomsElsewhere.forward``."""
        if isinstance(message, QuickMatch):
            node = self._quick_match_node(player, message)
        elif isinstance(message, JoinRoom) and message.invite_code is not None:
            node = self.registry.invite_node(message.invite_code)
            if node == self.bus.node_id:
                return False
        elif isinstance(message, FORWARDED):
            node = self._room_node(player, message.room_id)
        else:
            return False
        if node is None or (node == self.bus.node_id and not isinstance(message, FORWARDED)):
            return False
        if node in self._gone:
            # Its rooms are being taken over: the client comes back in a moment and
            # finds them at their new owner.
            self.relays.reconnect(player)
            return True
        self._sent.setdefault(node, set()).add(player.player_id)
        kind = None if player.account_kind is None else player.account_kind.value
        request = encode_client_message(message)
        self.bus.send(
            node,
            ["req", self.bus.node_id, player.player_id, player.name, player.address, kind, request],
        )
        return True

    def _room_node(self, player: Member, room_id: str | None) -> str | None:
        """The node to send a request for ``room_id`` to, None to serve it here: the
        node the player's membership was reported from (this one too, when the room
        seats the player as a ``RemoteMember`` of an earlier connection; not a node the
        room has moved away from to here), else the node listing it unless it is here."""
        if room_id is None:
            return None
        key = (player.player_id, room_id)
        membership = self._memberships.get(key)
        here = room_id in self.lobby.rooms
        if membership is not None and here and membership[0] != self.bus.node_id:
            del self._memberships[key]  # the room moved here (a takeover)
            membership = None
        if membership is not None:
            return membership[0]
        return None if here else self.registry.owner_of(room_id)

    def _quick_match_node(self, player: Member, request: QuickMatch) -> str | None:
        """Another node with a room for an unrated quick match that none here fits."""
        if request.rated:
            return None  # rated matches are paired by this node's matchmaker
        try:
            self.lobby.check_quick_match(request)
        except RequestError:
            return None  # refused here, with the reason
        if self.lobby.quick_room(player, request) is not None:
            return None
        defaults = get_game(request.game).validate_options({})
        return self.registry.quick_room_elsewhere(
            player.player_id, request.game, request.players, defaults
        )

    def seats(self, player: Member) -> dict[str, int]:
        """See ``sessions.elsewhere.RoomsElsewhere.seats``: the seats reported by the
        rooms' nodes, and those the lobby shows in other nodes' public rooms (a player
        who comes back through another node is known there only that way)."""
        found = self.registry.seats_elsewhere(player.player_id)
        for (player_id, room_id), (_node, seat) in self._memberships.items():
            if player_id == player.player_id and seat is not None:
                found[room_id] = seat
        return found

    def connection(self, player: Member, room_id: str, attached: bool) -> None:
        """See ``sessions.elsewhere.RoomsElsewhere.connection``."""
        membership = self._memberships.get((player.player_id, room_id))
        if membership is not None:
            self.bus.send(
                membership[0], ["conn", self.bus.node_id, player.player_id, room_id, attached]
            )

    def nodes_alive(self, alive: set[str]) -> None:
        """The nodes whose lease is alive now: the players who sent requests to a node
        that is gone reconnect (those requests will never be answered; the SDK sends
        them again after resuming, and a move is applied at most once)."""
        known = set(self._sent) | self._gone
        self._gone = {node for node in known if node not in alive}
        for node in self._gone:
            for player_id in self._sent.pop(node, set()):
                player = self.players.get(player_id)
                if player is not None:
                    self.relays.reconnect(player)

    async def settle(self, player: Member) -> None:
        """See ``sessions.elsewhere.RoomsElsewhere.settle``: tell every live node that
        the player is here (``here``) and wait until each has answered (``ack``, after
        the ``room`` messages of its rooms that hold the player), at most
        ``SETTLE_TIMEOUT`` seconds."""
        try:
            nodes = await self._live_nodes()
        except RedisUnavailable:
            return  # the hello goes on with what this node knows
        number = next(self._settles)
        done = trio.Event()
        self._settling[number] = (set(nodes), done)
        for node in sorted(nodes):
            self.bus.send(node, ["here", self.bus.node_id, player.player_id, number])
        with trio.move_on_after(SETTLE_TIMEOUT):
            await done.wait()
        del self._settling[number]

    def arrived(self, player: Member) -> None:
        """See ``sessions.elsewhere.RoomsElsewhere.arrived``: ``here`` to every node once
        more, now that the player is connected (a node that took over a room of the
        player while its hello settled asked for it (``seek``) too early, or will get
        this after its takeover)."""
        self.bus.broadcast(["here", self.bus.node_id, player.player_id, None])

    def deliver(self, message: Message) -> None:
        """Hand an ``out`` message to its player; apply a ``room`` message."""
        if message[0] == "out":
            _kind, player_id, key, data = message
            player = self.players.get(player_id)
            if player is not None:
                player.send(Payload(data), key=key)
        elif message[0] == "room":
            _kind, player_id, room_id, node, seat, entered = message
            self._membership(player_id, room_id, node, seat, entered)
        elif message[0] == "ack":
            _kind, number, node = message
            settling = self._settling.get(number)
            if settling is not None:
                settling[0].discard(node)
                if not settling[0]:
                    settling[1].set()

    def _membership(
        self, player_id: str, room_id: str, node: str, seat: int | None, entered: bool
    ) -> None:
        player = self.players.get(player_id)
        if entered:
            self._memberships[(player_id, room_id)] = (node, seat)
            if player is not None:
                player.entered_room(room_id)
            return
        if self._memberships.get((player_id, room_id), (None,))[0] == node:
            del self._memberships[(player_id, room_id)]
            if player is not None:
                player.left_room(room_id)
