"""The seats of a room as an explicit state machine.

A seat is an immutable value; it changes only by ``Seat.to(trigger, ...)``, which looks
the move up in ``_TRANSITIONS`` and raises ``IllegalSeatTransition`` for any other. The
fields each state requires (and forbids) are checked when a seat is made, so an
impossible combination (a bot seat with a player, a grace period without an absent
player, ...) cannot exist.

States (``SeatState``)::

    OPEN        nobody; anyone may join (before the first match, or after a match)
    BOT         a built-in strategy the room was created with (or recovered with)
    PRESENT     a player holds it (its connection may just have dropped: ``connected``
                tells; the grace period starts when the room hears of it)
    AWAY        the player's connection dropped; it keeps the seat until ``grace_until``
    TAKEN_OVER  the grace period ran out under the "bot" policy: a strategy plays for
                the absent player, who gets the seat back by reconnecting
    DEPARTED    the player left (or forfeited) the running match; the seat stays taken,
                shown with its name, until the match ends

Transitions (``Trigger``: from -> to)::

    SIT            OPEN -> PRESENT                  a player joins (or is recovered)
    FILL_BOT       OPEN -> BOT                      a server-filled seat
    RECOVER_GONE   OPEN -> DEPARTED                 recovery: the log says the player left
    DISCONNECT     PRESENT -> AWAY                  the grace period starts
                   AWAY -> AWAY                     a fresh grace period (the room resumed)
    RECONNECT      AWAY, TAKEN_OVER -> PRESENT      the player is back
    TAKE_OVER      AWAY -> TAKEN_OVER               the "bot" abandon policy
    DEPART         PRESENT, AWAY, TAKEN_OVER -> DEPARTED   left a running match
    FREE           every state but OPEN -> OPEN     the seat is free again

Besides the state a seat carries two flags that are not states: ``wants_rematch`` (the
occupant voted) and ``newcomer`` (took the seat after the match ended, so it gets no
``state`` of the finished match); ``voted`` and ``settled`` change them, ``moved_to``
renumbers a seat when a rematch rotates them.
"""

from __future__ import annotations

import enum
from typing import Any

import attrs

from gameserver.games.strategy import Strategy
from gameserver.protocol.messages import SeatInfo, SeatKind
from gameserver.rooms.members import Member


class SeatState(enum.Enum):
    """Who has a seat and who plays for it; see the module docstring."""

    OPEN = "open"
    BOT = "bot"
    PRESENT = "present"
    AWAY = "away"
    TAKEN_OVER = "taken over"
    DEPARTED = "departed"


class Trigger(enum.Enum):
    """What happened to a seat; see the module docstring."""

    SIT = "sit"
    FILL_BOT = "fill with a bot"
    RECOVER_GONE = "recovered as departed"
    DISCONNECT = "disconnect"
    RECONNECT = "reconnect"
    TAKE_OVER = "take over"
    DEPART = "depart"
    FREE = "free"


class IllegalSeatTransition(Exception):
    """A seat was asked to make a move its state machine does not have (a bug)."""


_S, _T = SeatState, Trigger

_TRANSITIONS: dict[tuple[SeatState, Trigger], SeatState] = {
    (_S.OPEN, _T.SIT): _S.PRESENT,
    (_S.OPEN, _T.FILL_BOT): _S.BOT,
    (_S.OPEN, _T.RECOVER_GONE): _S.DEPARTED,
    (_S.PRESENT, _T.DISCONNECT): _S.AWAY,
    (_S.AWAY, _T.DISCONNECT): _S.AWAY,
    (_S.AWAY, _T.RECONNECT): _S.PRESENT,
    (_S.TAKEN_OVER, _T.RECONNECT): _S.PRESENT,
    (_S.AWAY, _T.TAKE_OVER): _S.TAKEN_OVER,
    (_S.PRESENT, _T.DEPART): _S.DEPARTED,
    (_S.AWAY, _T.DEPART): _S.DEPARTED,
    (_S.TAKEN_OVER, _T.DEPART): _S.DEPARTED,
    **{(state, _T.FREE): _S.OPEN for state in SeatState if state is not _S.OPEN},
}

# Per state: (has a member, has a strategy, has a grace deadline).
_SHAPE: dict[SeatState, tuple[bool, bool, bool]] = {
    _S.OPEN: (False, False, False),
    _S.BOT: (False, True, False),
    _S.PRESENT: (True, False, False),
    _S.AWAY: (True, False, True),
    _S.TAKEN_OVER: (True, True, False),
    _S.DEPARTED: (False, False, False),
}

# States a human holds the seat in (it may vote for a rematch).
_HELD = frozenset({_S.PRESENT, _S.AWAY, _S.TAKEN_OVER})


@attrs.frozen(slots=True)
class Seat:
    """One seat of a room (immutable: ``to`` returns the seat after a transition)."""

    index: int
    """Seat number, 0-based."""
    state: SeatState = SeatState.OPEN
    """See the module docstring."""
    member: Member | None = None
    """The player holding the seat (PRESENT, AWAY, TAKEN_OVER)."""
    name: str | None = None
    """Display name (kept for a DEPARTED seat; None for an OPEN one)."""
    strategy_name: str | None = None
    """Built-in strategy of a BOT or TAKEN_OVER seat."""
    strategy: Strategy | None = attrs.field(default=None, eq=False)
    """The strategy instance (fresh per seat)."""
    grace_until: float | None = None
    """Room time at which an AWAY seat's grace period ends."""
    wants_rematch: bool = False
    """The occupant voted for a rematch after the match ended."""
    newcomer: bool = False
    """The player took the seat after the match ended (gets no ``state`` until the rematch)."""

    def __attrs_post_init__(self) -> None:
        member, strategy, grace = _SHAPE[self.state]
        if (
            (self.member is not None) != member
            or (self.strategy is not None) != strategy
            or (self.strategy_name is not None) != strategy
            or (self.grace_until is not None) != grace
            or ((self.wants_rematch or self.newcomer) and self.state not in _HELD)
            or (self.name is None and self.state not in (_S.OPEN, _S.DEPARTED))
            or (self.name is not None and self.state is _S.OPEN)
        ):
            raise IllegalSeatTransition(f"a seat cannot be {self.state.value} with {self!r}")

    def to(
        self,
        trigger: Trigger,
        *,
        member: Member | None = None,
        name: str | None = None,
        strategy: tuple[str, Strategy] | None = None,
        grace_until: float | None = None,
    ) -> Seat:
        """The seat after ``trigger``; raise ``IllegalSeatTransition`` if it has no such move.

        Give what the new state needs: ``member`` and ``name`` to SIT, ``name`` and
        ``strategy`` (name, instance) to FILL_BOT, ``strategy`` to TAKE_OVER,
        ``grace_until`` to DISCONNECT, ``name`` to RECOVER_GONE.
        """
        target = _TRANSITIONS.get((self.state, trigger))
        if target is None:
            raise IllegalSeatTransition(f"seat {self.index}: no {trigger.value} from {self.state.value}")
        changes: dict[str, Any] = {"state": target}
        if target is _S.OPEN:
            changes.update(
                member=None, name=None, strategy_name=None, strategy=None, grace_until=None,
                wants_rematch=False, newcomer=False,
            )
        elif target is _S.DEPARTED:
            changes.update(
                member=None, strategy_name=None, strategy=None, grace_until=None,
                wants_rematch=False, newcomer=False,
            )
            if name is not None:
                changes["name"] = name
        elif target is _S.PRESENT:
            changes.update(strategy_name=None, strategy=None, grace_until=None)
            if member is not None:
                changes.update(member=member, name=name)
        elif target is _S.AWAY:
            changes["grace_until"] = grace_until
        elif target in (_S.BOT, _S.TAKEN_OVER):
            assert strategy is not None
            changes.update(strategy_name=strategy[0], strategy=strategy[1], grace_until=None)
            if name is not None:
                changes["name"] = name
        return attrs.evolve(self, **changes)

    def voted(self, wants_rematch: bool = True) -> Seat:
        """The seat with its occupant's rematch vote set (or cleared)."""
        return attrs.evolve(self, wants_rematch=wants_rematch)

    def joined_late(self) -> Seat:
        """The seat of a player who joined a finished match (a newcomer, who voted)."""
        return attrs.evolve(self, newcomer=True, wants_rematch=True)

    def settled(self) -> Seat:
        """The seat at the start of a match: no vote, no newcomer."""
        if not (self.wants_rematch or self.newcomer):
            return self
        return attrs.evolve(self, wants_rematch=False, newcomer=False)

    def moved_to(self, index: int) -> Seat:
        """The same occupant at seat ``index`` (a rematch rotates the seats)."""
        return attrs.evolve(self, index=index)

    @property
    def is_open(self) -> bool:
        """True when anyone may still join this seat."""
        return self.state is _S.OPEN

    @property
    def is_bot(self) -> bool:
        """True for a seat the server fills with a built-in strategy."""
        return self.state is _S.BOT

    @property
    def bot_controlled(self) -> bool:
        """True when the room chooses this seat's moves itself (BOT or TAKEN_OVER)."""
        return self.strategy is not None

    @property
    def connected(self) -> bool:
        """True for bots and for players with a live connection."""
        if self.state is _S.BOT:
            return True
        return self.member is not None and self.member.connected

    def info(self) -> SeatInfo:
        """The seat as the protocol shows it."""
        state = self.state
        if state is _S.BOT or state is _S.TAKEN_OVER:
            # docs/protocol.md: a seat played by a strategy is shown as a bot
            return SeatInfo(seat=self.index, kind=SeatKind.BOT, name=self.name, connected=True)
        if state is _S.OPEN:
            return SeatInfo(seat=self.index, kind=SeatKind.OPEN)
        member = self.member
        return SeatInfo(
            seat=self.index,
            kind=SeatKind.HUMAN,
            name=self.name,
            player_id=None if member is None else member.player_id,
            connected=member is not None and member.connected,
            wants_rematch=self.wants_rematch,
            account=None if member is None else member.account_kind,
        )
