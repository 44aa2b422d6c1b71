"""What a room core handles: requests, seating, connection events, timers and the log.

Every change of a room is one of these, handed to ``RoomCore.handle(command, now)``.
``Join`` and ``Spectate`` are handled synchronously by the lobby's call (through the same
``handle``); the rest reach the room task's inbox or come from the task itself (``Tick``,
``BotMoved``, ``StorageFailed``, ``LogReady``, ``Start``, ``Closing``, ``Crashed``).
"""

from __future__ import annotations

from typing import Any

import attrs

from gameserver.games.strategy import Strategy
from gameserver.replays.applied import AppliedRequests
from gameserver.rooms.match import Match
from gameserver.rooms.members import Member


@attrs.frozen
class RoomCommand:
    """Base of every command."""


@attrs.frozen
class Join(RoomCommand):
    """Seat ``member`` at ``seat`` (None: the lowest open one); raises ``RequestError``."""

    member: Member
    seat: int | None = None


@attrs.frozen
class Spectate(RoomCommand):
    """Let ``member`` watch (public view only); raises ``RequestError``."""

    member: Member


@attrs.frozen
class SeatsChanged(RoomCommand):
    """Someone took a seat: announce it, start the match when every seat is filled."""


@attrs.frozen
class Attached(RoomCommand):
    """``player`` has a live connection again (or started watching): send it a snapshot."""

    player: Member


@attrs.frozen
class Detached(RoomCommand):
    """``player``'s connection dropped: its grace period starts."""

    player: Member


@attrs.frozen
class Request(RoomCommand):
    """A client request for this room; answered with one reply or error."""

    player: Member
    """Who asked."""
    request_id: int
    """The request's ``id``, echoed by the answer."""


@attrs.frozen
class MoveRequest(Request):
    """Make ``move`` from state ``version``."""

    version: int
    move: Any


@attrs.frozen
class SyncRequest(Request):
    """Send the requester a full ``state`` again (its delta did not fit what it held)."""


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


@attrs.frozen
class Start(RoomCommand):
    """The room task started: a room of bots only starts its match, a recovered match
    nobody plays any more ends, timers are set."""


@attrs.frozen
class Tick(RoomCommand):
    """A deadline passed (``RoomCore.next_deadline``): act on the earliest due timer."""


@attrs.frozen
class BotMoved(RoomCommand):
    """The strategy of ``seat`` chose ``move`` for the state at ``version`` (``BotTurn``)."""

    seat: int
    version: int
    move: Any


@attrs.frozen
class StorageFailed(RoomCommand):
    """The log refused the last effects' write: undo that transition and pause."""

    error: str


@attrs.frozen
class LogReady(RoomCommand):
    """The log took the write the effects asked for besides records: the new match's
    header (``Effects.open_log``: the match begins) or a paused room's ``probe`` (play
    resumes)."""


@attrs.frozen
class Closing(RoomCommand):
    """The room task is ending because the room closed: a match of bots that nobody
    watches any more is ended in the log."""


@attrs.frozen
class Crashed(RoomCommand):
    """The room task failed carrying out effects (a bug): close the room as after any
    bug (everyone is told, the log gets an aborted end)."""


@attrs.frozen
class RecoveredSeat:
    """A seat as the log of an unfinished match left it (neither a member, a strategy
    nor departed: nobody holds it, it stays open)."""

    name: str
    member: Member | None = None
    """The player holding it (None for a bot or a departed player)."""
    strategy: tuple[str, Strategy] | None = None
    """A bot seat's strategy (name, instance)."""
    departed: bool = False
    """The player left the match."""


@attrs.frozen
class Recover(RoomCommand):
    """Continue ``match`` from its log (before ``Start``): seats as the log left them;
    absent players get a grace period from now to resume with their tokens."""

    match: Match
    match_number: int
    banks: tuple[int, ...] | None
    seats: tuple[RecoveredSeat, ...]
    applied: AppliedRequests = attrs.field(factory=dict)
    """Moves the log says were applied, by (player id, request id): a resent one gets its
    original reply (``replays.applied``)."""
