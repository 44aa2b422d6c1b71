"""What a room's inbox carries: requests and connection events, handled in order."""

from __future__ import annotations

from typing import Any

import attrs

from gameserver.sessions.players import Player


@attrs.frozen
class RoomCommand:
    """Base of every inbox item."""


@attrs.frozen
class SeatsChanged(RoomCommand):
    """Someone took a seat or started watching: announce it, start the match when full."""


@attrs.frozen
class Attached(RoomCommand):
    """``player`` has a live connection again: send it a full snapshot."""

    player: Player


@attrs.frozen
class Detached(RoomCommand):
    """``player``'s connection dropped: its grace period starts."""

    player: Player


@attrs.frozen
class Request(RoomCommand):
    """A client request for this room; answered with one reply or error."""

    player: Player
    """Who asked."""
    request_id: int
    """The request's ``id``, echoed by the answer."""


@attrs.frozen
class MoveRequest(Request):
    """Make ``move`` from state ``version``."""

    version: int
    move: Any


@attrs.frozen
class ChatRequest(Request):
    """Say ``text`` to the room."""

    text: str


@attrs.frozen
class ResignRequest(Request):
    """Give up the current match."""


@attrs.frozen
class RematchRequest(Request):
    """Vote for a new match."""


@attrs.frozen
class LeaveRequest(Request):
    """Leave the room (resigning a running match)."""
