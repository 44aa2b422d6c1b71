"""What a room needs from the world around it: its members, its metrics, and encoded bytes.

The room domain never imports the per-connection layer (``gameserver.sessions``); it
talks to participants and counters through these small interfaces, which sessions
implements (``sessions.players.Player`` is a ``Member``, ``sessions.metrics.Metrics`` a
``RoomMetrics``). A ``Payload`` is one encoded server message: the room encodes each
distinct message once and hands the same object to every recipient; the transport that
first sends it fills ``frame`` (the WebSocket frame around ``data``) so it is framed
once too.
"""

from __future__ import annotations

from typing import Protocol

from gameserver.protocol.messages import AccountKind


class Payload:
    """One encoded server message, shared by every recipient of identical bytes."""

    __slots__ = ("data", "frame")

    def __init__(self, data: bytes) -> None:
        #: The msgpack message.
        self.data = data
        #: The transport's frame around ``data``, cached by the first sender (None until then).
        self.frame: bytes | None = None


class Member(Protocol):
    """A participant of rooms (a player): seated, watching, or about to be."""

    @property
    def player_id(self) -> str:
        """Stable id, unique on this server."""

    @property
    def name(self) -> str:
        """Display name."""

    @property
    def address(self) -> str | None:
        """Client address of the latest connection (per-address room limits), if known."""

    @property
    def rooms(self) -> set[str]:
        """Ids of the rooms this member is in (changed only by ``entered_room``/``left_room``)."""

    @property
    def account_kind(self) -> AccountKind | None:
        """The kind of the member's registered account (its id is ``player_id``); None
        while anonymous. Rated rooms seat only accounts; the match log records them."""

    @property
    def connected(self) -> bool:
        """True while a connection is attached (pushes to a disconnected member are dropped)."""

    @property
    def protocol_version(self) -> int:
        """The protocol version of the current connection: 2 gets deltas (1 while
        disconnected; pushes to a disconnected member are dropped anyway)."""

    def send(self, payload: Payload, *, key: str | None = None) -> None:
        """Deliver ``payload`` now or queue it; ``key`` lets a newer push with the same key
        replace a queued one. Never blocks."""

    def entered_room(self, room_id: str) -> None:
        """The member took a seat or started watching in ``room_id``."""

    def left_room(self, room_id: str) -> None:
        """The member no longer holds a seat or watches in ``room_id``."""


class RoomMetrics(Protocol):
    """The counters rooms and the lobby update."""

    def error(self, code: str) -> None:
        """Count one error message sent with ``code``."""

    def storage_failed(self, room_id: str, error: str) -> None:
        """Count one refused write of ``room_id``'s match log (the room is paused)."""

    def storage_ok(self, room_id: str) -> None:
        """``room_id`` writes its log again, or is gone."""

    def match_started(self, game: str) -> None:
        """A match of ``game`` started."""

    def match_finished(self, game: str) -> None:
        """A match of ``game`` ended (by its rules or aborted)."""
