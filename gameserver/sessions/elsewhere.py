"""Rooms held by other processes (cluster mode), as the game service sees them.

The service serves every request for a room of its own lobby itself. In cluster mode a
room may be owned by another node: ``RoomsElsewhere`` (implemented by
``gameserver.cluster``, which this package never imports) forwards such requests to the
owner, whose room then answers the player through this process, and hears when the
player's connection comes and goes. Without cluster mode there is none and every room
is local.
"""

from __future__ import annotations

from typing import Protocol

from gameserver.protocol.messages import ClientMessage
from gameserver.sessions.players import Player


class RoomsElsewhere(Protocol):
    """Requests and connection events for rooms this process does not hold."""

    def forward(self, player: Player, message: ClientMessage) -> bool:
        """Send ``message`` to the node that holds the room it names and return True
        (the reply comes from there, through ``player.send``); False when no other node
        is known to hold it (serve it here)."""

    def seat(self, player: Player, room_id: str) -> int | None:
        """``player``'s seat in ``room_id``, held elsewhere (None: it watches)."""

    def connection(self, player: Player, room_id: str, attached: bool) -> None:
        """``player``, a member of ``room_id`` held elsewhere, connected (``attached``)
        or lost its connection."""
