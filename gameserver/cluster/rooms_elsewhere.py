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

from typing import Protocol

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
)
from gameserver.rooms.lobby import Lobby
from gameserver.rooms.members import Member, Payload

from .bus import Bus, Message
from .lobby_registry import LobbyRegistry

#: The requests that name one room and can be served by its owner.
FORWARDED = (JoinRoom, Spectate, LeaveRoom, Move, Chat, Resign, Rematch)


class KnownPlayers(Protocol):
    """The players of this node (``sessions.players.PlayerRegistry``)."""

    def get(self, player_id: str) -> Member | None:
        """The player with ``player_id``, or None."""


class RoomsElsewhere:
    """Forwards requests for rooms of other nodes and hands their answers back."""

    def __init__(
        self, bus: Bus, lobby: Lobby, players: KnownPlayers, registry: LobbyRegistry
    ) -> None:
        self.bus = bus
        self.lobby = lobby
        self.players = players
        self.registry = registry
        #: (player id, room id) -> (owner node, seat or None) of memberships elsewhere.
        self._memberships: dict[tuple[str, str], tuple[str, int | None]] = {}

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

    def arrived(self, player: Member) -> None:
        """See ``sessions.elsewhere.RoomsElsewhere.arrived``: ask every node to send what
        their rooms have for the player here."""
        self.bus.broadcast(["here", self.bus.node_id, player.player_id])

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
