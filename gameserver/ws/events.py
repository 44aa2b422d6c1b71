"""Events a :class:`~gameserver.ws.connection.Connection` reports to its user.

Only whole messages are reported: reassembled from their fragments, decompressed and,
for text, validated as UTF-8.
"""

from __future__ import annotations

import attrs

__all__ = ["Event", "TextMessage", "BinaryMessage", "Ping", "Pong", "CloseReceived"]


@attrs.frozen
class Event:
    """Base class of every WebSocket event."""


@attrs.frozen
class TextMessage(Event):
    """A whole text message."""

    data: str
    """The decoded text."""


@attrs.frozen
class BinaryMessage(Event):
    """A whole binary message."""

    data: bytes
    """The message payload."""


@attrs.frozen
class Ping(Event):
    """The peer sent a ping; the connection has already queued the matching pong."""

    payload: bytes
    """Application data of the ping (at most 125 bytes)."""


@attrs.frozen
class Pong(Event):
    """The peer sent a pong (solicited or not)."""

    payload: bytes
    """Application data of the pong (at most 125 bytes)."""


@attrs.frozen
class CloseReceived(Event):
    """The peer sent a close frame; the connection has already queued its answer.

    Stop sending; the transport will be closed as ``should_close_transport`` says.
    """

    code: int
    """The peer's close code; 1005 when its close frame had no payload."""

    reason: str
    """The peer's close reason ('' when none)."""
