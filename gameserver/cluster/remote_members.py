"""The owner's side of a room request from another node: players who are elsewhere.

A player connected to node A who joins, watches or plays in a room of this node (B) is
a ``RemoteMember`` here: a ``rooms.members.Member`` like a local player, whose ``send``
puts the payload on the bus to A (which hands it to the player's connection) and whose
``entered_room``/``left_room`` tell A, with the seat, so that A keeps the player's rooms
(its hello lists the seat; its disconnect reaches the room). One ``RemoteMember`` per
player id, for as long as it is in a room here: rooms find a member by identity.

A player of this node's own (a local ``Player``, seated while it was connected here,
or by a takeover) who connects to another node is *relayed* there: told by that node's
``here`` message, this node gives the player a relay connection (``Relays``, which
``sessions.elsewhere.PlayerRelays`` implements) that puts everything sent to it on the
bus to that node, and the room sends a snapshot. A node that took rooms over asks every
node which of their players sit in them (``seek``); a node with such a player connected
answers ``here``.

Bus messages served here (sent by ``rooms_elsewhere.py`` on the player's node)::

    ["req", node, player_id, name, address, account_kind, request]   a client request
    ["conn", node, player_id, room_id, attached]                    connection came/went
    ["here", node, player_id, number]    the player is connected to that node now;
                                         answer ["ack", number, node] unless nil
    ["seek", node, [player_id, ...]]     which of these players are connected here?

and sent from here to the player's node::

    ["out", player_id, key, payload]                   one message for the player
    ["room", player_id, room_id, node, seat, entered]  membership (seat None: watching)
"""

from __future__ import annotations

import logging
from typing import Any

from gameserver.protocol.codec import decode_client_message, encode
from gameserver.protocol.errors import ErrorCode, RequestError
from gameserver.protocol.messages import (
    AccountKind,
    Chat,
    ClientMessage,
    Error,
    JoinRoom,
    LeaveRoom,
    Move,
    QuickMatch,
    Rematch,
    Reply,
    Resign,
    Result,
    Spectate,
)
from gameserver.rooms.commands import (
    Attached,
    ChatRequest,
    Detached,
    LeaveRequest,
    MoveRequest,
    RematchRequest,
    ResignRequest,
)
from gameserver.rooms.lobby import Lobby
from gameserver.rooms.members import Member, Payload
from gameserver.rooms.room import Room

from .bus import Bus, Message
from .rooms_elsewhere import KnownPlayers, Relays

log = logging.getLogger(__name__)


class RemoteMember:
    """A player whose connection is on another node (a ``Member`` of rooms here)."""

    def __init__(
        self,
        members: RemoteMembers,
        player_id: str,
        name: str,
        node: str,
        address: str | None,
        account_kind: AccountKind | None,
    ) -> None:
        self._members = members
        self._player_id = player_id
        self.name = name
        #: The node the player's connection is on (the latest that sent its request).
        self.node = node
        self.address = address
        self.account_kind = account_kind
        self.connected = True
        self.rooms: set[str] = set()

    @property
    def player_id(self) -> str:
        return self._player_id

    @property
    def protocol_version(self) -> int:
        # Full states only: the bus does not carry the version of the player's connection
        # yet, and a full state is a valid push on every version.
        return 1

    def send(self, payload: Payload, *, key: str | None = None) -> None:
        self._members.bus.send(self.node, ["out", self._player_id, key, payload.data])

    def entered_room(self, room_id: str) -> None:
        self.rooms.add(room_id)
        self._members.tell_room(self, room_id, entered=True)

    def left_room(self, room_id: str) -> None:
        self.rooms.discard(room_id)
        self._members.tell_room(self, room_id, entered=False)


class RemoteMembers:
    """Serves the requests that other nodes forward to this node's rooms."""

    def __init__(self, bus: Bus, lobby: Lobby, players: KnownPlayers, relays: Relays) -> None:
        self.bus = bus
        self.lobby = lobby
        self.players = players
        self.relays = relays
        self._members: dict[str, RemoteMember] = {}

    def tell_room(self, member: RemoteMember, room_id: str, *, entered: bool) -> None:
        """Tell the member's node that it entered or left ``room_id`` (and its seat)."""
        seat = None
        room = self.lobby.rooms.get(room_id)
        if entered and room is not None:
            found = room.seat_of(member)
            seat = None if found is None else found.index
        self.bus.send(
            member.node,
            ["room", member.player_id, room_id, self.bus.node_id, seat, entered],
        )
        if not member.rooms and self._members.get(member.player_id) is member:
            del self._members[member.player_id]

    def _seated(self, node: str, player_id: str, request: ClientMessage) -> Member | None:
        """The player of this node's own that the request's room holds (seated while
        connected here, or by a takeover), relayed to ``node`` if it was not yet; None
        when the room holds no such player."""
        room_id = getattr(request, "room_id", None)
        room = None if room_id is None else self.lobby.rooms.get(room_id)
        player = self.players.get(player_id)
        if room is None or player is None or not room.is_member(player):
            return None
        if not player.connected:
            self._here(node, player_id)
        return player

    def _member(
        self, node: str, player_id: str, name: str, address: str | None, kind: str | None
    ) -> RemoteMember:
        """The player's ``RemoteMember`` (made if it has none)."""
        member = self._members.get(player_id)
        if member is None:
            account_kind = None if kind is None else AccountKind(kind)
            member = RemoteMember(self, player_id, name, node, address, account_kind)
            self._members[player_id] = member
        member.node, member.name, member.address = node, name, address
        member.connected = True
        return member

    def deliver(self, message: Message) -> None:
        """Serve one ``req`` or ``conn`` message from the bus."""
        if message[0] == "req":
            _kind, node, player_id, name, address, account_kind, data = message
            request = decode_client_message(data)
            member = self._seated(node, player_id, request) or self._member(
                node, player_id, name, address, account_kind
            )
            self._serve(member, request)
        elif message[0] == "conn":
            _kind, node, player_id, room_id, attached = message
            self._connection(node, player_id, room_id, attached)
        elif message[0] == "here":
            _kind, node, player_id, number = message
            self._here(node, player_id)
            if number is not None:
                self.bus.send(node, ["ack", number, self.bus.node_id])
        elif message[0] == "seek":
            _kind, node, player_ids = message
            for player_id in player_ids:
                player = self.players.get(player_id)
                if player is not None and player.connected and not self.relays.relayed(player):
                    self.bus.send(node, ["here", self.bus.node_id, player_id, None])

    def _connection(self, node: str, player_id: str, room_id: str, attached: bool) -> None:
        member = self._members.get(player_id)
        if member is None:
            player = self.players.get(player_id)
            if player is not None and not attached and self.relays.detach(player):
                for held in self._rooms_of(player):
                    held.submit(Detached(player))
            return
        room = self.lobby.rooms.get(room_id)
        if room is None or room.closed or not room.is_member(member):
            return
        member.node = node
        member.connected = attached
        room.submit(Attached(member) if attached else Detached(member))

    def _rooms_of(self, member: Member) -> list[Room]:
        """The open rooms of this node that ``member`` sits or watches in."""
        found = []
        for room_id in sorted(member.rooms):
            room = self.lobby.rooms.get(room_id)
            if room is not None and not room.closed and room.is_member(member):
                found.append(room)
        return found

    def _here(self, node: str, player_id: str) -> None:
        """The player is connected to ``node`` now: what this node's rooms send it goes
        there, and they send it a snapshot. (A player seated here as a ``RemoteMember``
        who connects to this very node goes on through the bus to itself: the seat holds
        that member.)"""
        member = self._members.get(player_id)
        if member is not None:
            member.node = node
            member.connected = True
            for room in self._rooms_of(member):
                self.tell_room(member, room.room_id, entered=True)
                room.submit(Attached(member))
        player = self.players.get(player_id)
        if node == self.bus.node_id or player is None:
            return
        if player.connected and not self.relays.relayed(player):
            return  # unknown here, or connected here too (the newer hello wins there)
        rooms = self._rooms_of(player)
        if not rooms:
            return
        self.relays.detach(player)  # relayed to an earlier node before

        def send(payload: Payload, key: str | None) -> None:
            self.bus.send(node, ["out", player_id, key, payload.data])

        if not self.relays.attach(player, send):
            return
        for room in rooms:
            seat = room.seat_of(player)
            index = None if seat is None else seat.index
            self.bus.send(node, ["room", player_id, room.room_id, self.bus.node_id, index, True])
            room.submit(Attached(player))

    def _serve(self, member: Member, message: ClientMessage) -> None:
        """Answer ``message`` as the player's own node would (or let the room answer)."""
        reply: Any
        try:
            result = self._dispatch(member, message)
        except RequestError as error:
            error = error.with_request_id(message.id)
            reply = Error(id=error.request_id, code=error.code.value, message=error.message)
        else:
            reply = None if result is None else Reply(id=message.id, result=result)
        if reply is not None:
            member.send(Payload(encode(reply)))
        if not member.rooms and self._members.get(member.player_id) is member:
            del self._members[member.player_id]  # in no room here: nothing to keep

    def _dispatch(self, member: Member, message: ClientMessage) -> Result | None:
        lobby = self.lobby
        if isinstance(message, JoinRoom):
            return lobby.join_room(member, message)
        if isinstance(message, Spectate):
            return lobby.spectate(member, message.room_id)
        if isinstance(message, QuickMatch) and not message.rated:
            return lobby.quick_match(member, message)
        if isinstance(message, (LeaveRoom, Move, Chat, Resign, Rematch)):
            room = lobby.room(message.room_id)
            if not room.is_member(member):
                raise RequestError(ErrorCode.NOT_IN_ROOM, "you are not in this room")
            if isinstance(message, Move):
                room.submit(MoveRequest(member, message.id, message.version, message.move))
            elif isinstance(message, Chat):
                room.submit(ChatRequest(member, message.id, message.text))
            elif isinstance(message, Resign):
                room.submit(ResignRequest(member, message.id))
            elif isinstance(message, Rematch):
                room.submit(RematchRequest(member, message.id))
            else:
                room.submit(LeaveRequest(member, message.id))
            return None
        raise RequestError(
            ErrorCode.UNKNOWN_TYPE, f"{message.TYPE!r} is not served for another node"
        )
