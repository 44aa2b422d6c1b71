"""The player's side of a room held by another node: ``sessions.elsewhere.RoomsElsewhere``.

A request naming a room that this node does not hold goes on the bus to the node that
does: the node it learnt from a membership message (the player's seat or watch there)
or, for joining and watching a public room, the owner the lobby lists. The owner's room
answers the player through the bus (``["out", ...]`` messages, handed to the player's
connection here) and tells this node when the player enters or leaves one of its rooms
(``["room", ...]``), which keeps ``player.rooms`` right: the hello of a player who
reconnects here lists its seats elsewhere, and its connection's end reaches the room
(``["conn", ...]``). The messages are described in ``remote_members.py``.
"""

from __future__ import annotations

from typing import Protocol

from gameserver.protocol.codec import encode_client_message
from gameserver.protocol.messages import (
    Chat,
    ClientMessage,
    JoinRoom,
    LeaveRoom,
    Move,
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
        if not isinstance(message, FORWARDED):
            return False
        room_id = message.room_id
        if room_id is None or room_id in self.lobby.rooms:
            return False
        membership = self._memberships.get((player.player_id, room_id))
        node = membership[0] if membership is not None else self.registry.owner_of(room_id)
        if node is None or node == self.bus.node_id:
            return False
        kind = None if player.account_kind is None else player.account_kind.value
        request = encode_client_message(message)
        self.bus.send(
            node,
            ["req", self.bus.node_id, player.player_id, player.name, player.address, kind, request],
        )
        return True

    def seat(self, player: Member, room_id: str) -> int | None:
        """See ``sessions.elsewhere.RoomsElsewhere.seat``."""
        membership = self._memberships.get((player.player_id, room_id))
        return None if membership is None else membership[1]

    def connection(self, player: Member, room_id: str, attached: bool) -> None:
        """See ``sessions.elsewhere.RoomsElsewhere.connection``."""
        membership = self._memberships.get((player.player_id, room_id))
        if membership is not None:
            self.bus.send(
                membership[0], ["conn", self.bus.node_id, player.player_id, room_id, attached]
            )

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
