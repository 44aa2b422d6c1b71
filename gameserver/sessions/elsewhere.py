"""Rooms held by other processes (cluster mode), as the game service sees them.

The service serves every request for a room of its own lobby itself. In cluster mode a
room may be owned by another node: ``RoomsElsewhere`` (implemented by
``gameserver.cluster``, which this package never imports) forwards such requests to the
owner, whose room then answers the player through this process, and hears when the
player's connection comes and goes. Without cluster mode there is none and every room
is local.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from gameserver.protocol.messages import ClientMessage
from gameserver.rooms.members import Member, Payload
from gameserver.sessions.outbox import Outbox
from gameserver.sessions.players import Client, Player


class RoomsElsewhere(Protocol):
    """Requests and connection events for rooms this process does not hold."""

    def forward(self, player: Player, message: ClientMessage) -> bool:
        """Send ``message`` to the node that holds the room it names and return True
        (the reply comes from there, through ``player.send``); False when no other node
        is known to hold it (serve it here)."""

    def seats(self, player: Player) -> dict[str, int]:
        """``player``'s seats in rooms held elsewhere, by room id, as far as this
        process knows them."""

    def connection(self, player: Player, room_id: str, attached: bool) -> None:
        """``player``, a member of ``room_id`` held elsewhere, connected (``attached``)
        or lost its connection."""

    def arrived(self, player: Player) -> None:
        """``player`` said hello here: rooms elsewhere that hold it may send to it here."""


class PlayerRelays:
    """Lets another node carry a player's connection (cluster mode): while attached, a
    relay ``Client`` hands everything sent to the player to ``send`` (which puts it on
    the bus to the node the player is connected to), and the player counts as
    connected here."""

    def __init__(self) -> None:
        self._relays: dict[str, Client] = {}

    def attach(self, member: Member, send: Callable[[Payload, str | None], None]) -> bool:
        """Relay ``member`` (a player of this node without a connection here) to
        ``send``; False (nothing done) when it has a connection of its own here."""
        if not isinstance(member, Player):
            return False
        if member.client is not None and self._relays.get(member.player_id) is not member.client:
            return False

        def write_now(payload: Payload) -> bool:
            send(payload, None)
            return True

        member.client = self._relays[member.player_id] = Client(Outbox(), write_now=write_now)
        return True

    def detach(self, member: Member) -> bool:
        """Stop relaying ``member``; False if it was not relayed."""
        client = self._relays.pop(member.player_id, None)
        if client is None or not isinstance(member, Player) or member.client is not client:
            return False
        member.client = None
        return True

    def relayed(self, member: Member) -> bool:
        """True while ``member``'s connection here is a relay to another node."""
        client = self._relays.get(member.player_id)
        return client is not None and isinstance(member, Player) and member.client is client
