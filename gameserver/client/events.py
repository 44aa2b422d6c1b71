"""What ``GameClient.events()`` yields.

Server pushes arrive as the protocol's own classes (``State``, ``RoomUpdate``,
``ChatMessage``, ``MatchOver``, ``LobbyUpdate``, ``RatingUpdate`` and ``Error`` for errors
that answer no request). The SDK adds two events of its own about the connection.
"""

from __future__ import annotations

import attrs

from gameserver.protocol.messages import (
    ChatMessage,
    Error,
    LobbyUpdate,
    MatchOver,
    RatingUpdate,
    RoomUpdate,
    SeatRef,
    State,
)

__all__ = ["ClientEvent", "Disconnected", "Reconnected"]


@attrs.frozen(kw_only=True)
class Disconnected:
    """The connection dropped. Unless ``final``, the client is reconnecting."""

    code: int | None
    """The WebSocket close code (1006 for an abrupt loss), None when it never opened."""
    reason: str
    """The close reason or a description of the failure."""
    final: bool
    """True when the client will not reconnect (closed, gave up, or reconnect is off)."""


@attrs.frozen(kw_only=True)
class Reconnected:
    """The client is connected again and said hello. States for its rooms follow.

    Events are buffered until read, so a consumer may meet one from before it started
    listening: compare ``number`` with ``client.reconnects`` taken at its start, and let
    only later ones decide anything about seats taken since.
    """

    number: int
    """Which reconnection this is (1 for the first): ``client.reconnects`` right after it."""

    resumed: bool
    """True when the server accepted the token: same player, seats kept."""
    seats: tuple[SeatRef, ...]
    """The seats the player holds after resuming."""
    attempts: int
    """How many connection attempts it took."""


ClientEvent = (
    State | RoomUpdate | ChatMessage | MatchOver | LobbyUpdate | RatingUpdate | Error
    | Disconnected | Reconnected
)
"""Everything ``GameClient.events()`` can yield."""
