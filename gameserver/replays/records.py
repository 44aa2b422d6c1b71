"""The records of a match log: one header, then one record per event.

These classes are the model only; ``codec.py`` maps them to and from msgpack maps and
``framing.py`` puts them on disk. Every event record carries ``at``: the wall-clock time
it was recorded, in milliseconds since the Unix epoch.

Versions: the state after ``Game.setup`` is version 0; every record that changes the
game state (``Moved``, ``TimedOut``, ``Resigned``) carries the version *after* it, so
they count 1, 2, 3, ... with no gaps. ``StateHash`` and ``Ended`` carry the version of
the state they describe. Seat events (join, leave, disconnect, reconnect) do not change
the state and carry no version.

Chat is not recorded: it is not part of the game, it would make logs grow with idle
talk, and players should not find their chat in replays shared later.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Any

import attrs

from gameserver.games.base import Outcome, Termination
from gameserver.protocol.messages import ClockSettings

#: The format name written in every header; a file with another name is not ours.
FORMAT_NAME = "gameserver-replay"
#: The format version this code writes. Older versions keep loading (see codec.py).
#: Version 2 added ``Moved.request_id``.
FORMAT_VERSION = 2


class OccupantKind(enum.Enum):
    """Who occupies a seat. Unlike the protocol's ``SeatKind`` there is no "open": every
    seat of a recorded match has an occupant."""

    HUMAN = "human"
    BOT = "bot"


def _tuple_of_ints(value: Any) -> tuple[int, ...]:
    return tuple(value)


def _optional_tuple_of_ints(value: Any) -> tuple[int, ...] | None:
    return None if value is None else tuple(value)


@attrs.frozen(kw_only=True)
class Occupant:
    """Who sits in one seat, as the log records it (a "seat map" in docs/replays.md)."""

    #: Display name.
    name: str
    #: Human or bot.
    kind: OccupantKind = OccupantKind.HUMAN
    #: For bots: the strategy name (``games.strategy.get_strategy``); None for humans.
    strategy: str | None = None
    #: A stable, non-secret player identifier, if the server has one (never a token).
    player_id: str | None = None
    #: The account id of a registered occupant (its ``player_id``); None when anonymous
    #: and in logs written before accounts existed.
    account_id: str | None = None
    #: The account's kind, "human" or "bot" (a registered bot program); None when anonymous.
    account_kind: str | None = None


@attrs.frozen(kw_only=True)
class Header:
    """The first record of every log: everything needed to set the match up again."""

    #: Unique match id; also the file name stem (``<match_id>.gsr``).
    match_id: str
    #: The room that hosted the match.
    room_id: str
    #: Game name in ``games.registry``.
    game: str
    #: The options the match was set up with (already validated and merged with defaults).
    options: Mapping[str, Any] = attrs.field(factory=dict)
    #: The seed of the match's ``random.Random``; 0 <= seed < 2**64.
    seed: int
    #: The seats at the start of the match, in seat order; ``len(seats)`` is the player count.
    seats: tuple[Occupant, ...]
    #: The room's time control (the protocol's ``ClockSettings``; all None: untimed).
    clock: ClockSettings = attrs.field(factory=ClockSettings)
    #: ``gameserver.__version__`` of the server that recorded the match.
    server_version: str
    #: When the match started, in milliseconds since the Unix epoch.
    started_at: int
    #: Whether the room was private (invite only): its match is not listed publicly.
    #: None in logs written before the field existed.
    private: bool | None = None
    #: Whether the match was played for ratings (False in logs written before the field).
    rated: bool = False
    #: The format version the file was written with (set by the loader; new files get the current).
    format_version: int = FORMAT_VERSION


@attrs.frozen(kw_only=True)
class Joined:
    """A new occupant took a seat during the match (e.g. a bot takes over an abandoned seat)."""

    at: int
    #: The seat taken.
    seat: int
    #: Its new occupant.
    occupant: Occupant


@attrs.frozen(kw_only=True)
class Left:
    """A seat's occupant left the match for good (the seat may be resigned or taken over next)."""

    at: int
    seat: int
    #: Why, in words (e.g. "left", "abandoned").
    reason: str = "left"


@attrs.frozen(kw_only=True)
class Disconnected:
    """A seat's connection dropped; the player may still come back."""

    at: int
    seat: int


@attrs.frozen(kw_only=True)
class Reconnected:
    """A seat's player came back after a disconnect."""

    at: int
    seat: int


@attrs.frozen(kw_only=True)
class Moved:
    """A seat made a move, and the game accepted it."""

    at: int
    #: The seat that moved.
    seat: int
    #: The state version after the move.
    version: int
    #: The move exactly as given to ``Game.apply`` (plain msgpack data).
    move: Any
    #: Time the seat's clock ran for this move.
    time_used_ms: int = 0
    #: Every seat's remaining bank after the move (increment included); None if untimed.
    clocks: tuple[int, ...] | None = attrs.field(default=None, converter=_optional_tuple_of_ints)
    #: The id of the player's ``move`` request that made it, so a restarted server can
    #: answer a resent request with its original reply. The sender is the seat's player
    #: (see ``applied.seat_players``). None for a move no request caused (a bot's, a
    #: strategy's during a takeover) and in logs older than format version 2.
    request_id: int | None = None


@attrs.frozen(kw_only=True)
class TimedOut:
    """A seat's clock ran out; ``Game.on_timeout`` was applied."""

    at: int
    seat: int
    #: The state version after the game's timeout rule.
    version: int
    #: Every seat's remaining bank after the timeout; None if untimed.
    clocks: tuple[int, ...] | None = attrs.field(default=None, converter=_optional_tuple_of_ints)


@attrs.frozen(kw_only=True)
class Resigned:
    """A seat resigned (``Game.resign``) or the room forfeited it (``Game.forfeit``)."""

    at: int
    seat: int
    #: The state version after the resignation.
    version: int
    #: Every seat's remaining bank at the resignation; None if untimed.
    clocks: tuple[int, ...] | None = attrs.field(default=None, converter=_optional_tuple_of_ints)
    #: True when the room forfeited the seat (absent past its grace period, or no first
    #: move in time): ``Game.forfeit`` was applied. False (and absent in older logs): resigned.
    forfeit: bool = False


@attrs.frozen(kw_only=True)
class StateHash:
    """``games.base.state_hash`` of the state at ``version``; re-simulation must match it."""

    at: int
    version: int
    #: Lower-case hex sha256.
    hash: str


@attrs.frozen(kw_only=True)
class Ended:
    """The last record: the match is over.

    ``aborted`` marks a match stopped before the game reached an outcome (e.g. the room
    was shut down); then ``winners`` is empty, ``draw`` is False and ``termination`` is
    ``ABORTED``.
    """

    at: int
    #: The version of the final state.
    version: int
    #: Winning seats.
    winners: tuple[int, ...] = attrs.field(default=(), converter=_tuple_of_ints)
    draw: bool = False
    #: Per-seat scores, if the game keeps any.
    scores: tuple[int, ...] | None = attrs.field(default=None, converter=_optional_tuple_of_ints)
    #: In words, e.g. "three in a row", "timeout", "aborted".
    reason: str = ""
    aborted: bool = False
    #: How the match ended, for programs (``games.base.Termination``). None only in logs
    #: written before the field existed: nothing is derived for them.
    termination: Termination | None = None

    @classmethod
    def from_outcome(cls, outcome: Outcome, *, at: int, version: int) -> Ended:
        """Build the end record from a ``games.base.Outcome``."""
        return cls(
            at=at,
            version=version,
            winners=tuple(outcome.winners),
            draw=outcome.draw,
            scores=None if outcome.scores is None else tuple(outcome.scores),
            reason=outcome.reason,
            termination=outcome.termination,
        )

    @classmethod
    def aborted_match(cls, reason: str, *, at: int, version: int) -> Ended:
        """Build the end record of a match the room stopped without a result."""
        return cls(
            at=at, version=version, reason=reason, aborted=True, termination=Termination.ABORTED
        )


#: A record after the header.
Record = (
    Joined | Left | Disconnected | Reconnected | Moved | TimedOut | Resigned | StateHash | Ended
)

#: Records that change the game state (and so the version).
STATE_EVENTS = (Moved, TimedOut, Resigned)
#: Records that carry a clock state.
CLOCK_EVENTS = (Moved, TimedOut, Resigned)
