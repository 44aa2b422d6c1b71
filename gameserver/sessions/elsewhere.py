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
from gameserver.ws.codes import CloseCode


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

    async def settle(self, player: Player) -> None:
        """``player`` is resuming here: have every room elsewhere that holds it send to it
        here, and learn its seats there (for the hello's reply), before returning."""

    def arrived(self, player: Player) -> None:
        """``player`` is connected here now (after its hello's reply): rooms elsewhere
        that hold it (one taken over while it said hello, too) send to it here."""


# A room of the player's moved to another node (its node died): connect again (any code
# but 1000 makes the SDK and the browser client reconnect and resume).
CLOSE_ROOM_MOVED = (CloseCode.SERVICE_RESTART, "a room moved to another node; reconnect")


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

    def reconnect(self, member: Member) -> None:
        """Close ``member``'s connection here (not a relay) so that its client connects
        again, resumes and sends its pending requests again: a request of it went to a
        node that died and will never be answered."""
        if isinstance(member, Player) and member.client is not None and not self.relayed(member):
            member.client.kick(*CLOSE_ROOM_MOVED)
