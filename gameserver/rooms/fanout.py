"""What a room tells its members, each distinct message encoded once.

``Fanout`` is the room core's helper that builds the ``sends`` of the effects being
made (``RoomCore.out``): a reply or error for one requester, ``room`` and ``chat`` pushes
encoded once for everyone, each seat's own ``state`` (its own view of the game), and one
shared public ``state`` for all spectators; a (re)connecting member gets a full snapshot
(a newcomer to a finished match's seat gets no ``state`` until the rematch starts: the
finished match was another player's view). Pushes carry coalescing keys, so a client
that is behind only ever receives the newest ``state`` and ``room`` of each room.
``payload_of`` encodes one message for any number of recipients.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from gameserver.games.base import Outcome
from gameserver.protocol.codec import encode
from gameserver.protocol.errors import RequestError
from gameserver.protocol.messages import (
    Error,
    OutcomeInfo,
    Reply,
    Result,
    RoomUpdate,
    ServerMessage,
    State,
)
from gameserver.rooms.members import Member, Payload

if TYPE_CHECKING:
    from gameserver.rooms.core import RoomCore


def payload_of(message: ServerMessage) -> Payload:
    """Encode ``message`` once; the payload can be sent to any number of members."""
    return Payload(encode(message))


def outcome_info(outcome: Outcome) -> OutcomeInfo:
    """An outcome of the rules as the protocol shows it."""
    return OutcomeInfo(
        winners=tuple(outcome.winners),
        draw=outcome.draw,
        scores=None if outcome.scores is None else tuple(outcome.scores),
        reason=outcome.reason,
        termination=outcome.termination,
    )


class Fanout:
    """Builds the messages of one room into its core's current effects (``core.out``)."""

    __slots__ = ("_core",)

    def __init__(self, core: RoomCore) -> None:
        self._core = core

    def reply(self, member: Member, request_id: int, result: Result) -> Payload:
        """Answer ``request_id`` with ``result``; return the payload (kept for retries)."""
        core = self._core
        payload = payload_of(Reply(id=request_id, result=result))
        core.out.send(member, payload)
        return payload

    def error(self, member: Member, request_id: int | None, error: RequestError) -> None:
        """Answer ``request_id`` with ``error`` (counted)."""
        core = self._core
        out = core.out
        out.errors.append(error.code.value)
        out.send(member, payload_of(Error(id=request_id, code=error.code.value, message=error.message)))

    def participants(self) -> list[Member]:
        """Everyone who gets pushes: seated humans, then spectators."""
        core = self._core
        people = [seat.member for seat in core.seats if seat.member is not None]
        return people + list(core.spectators.values())

    def broadcast(self, message: ServerMessage, *, key: str | None = None) -> Payload:
        """Encode ``message`` once and push it to every participant; return the payload."""
        core = self._core
        payload = payload_of(message)
        send = core.out.sends.append
        for member in self.participants():
            send((member, payload, key))
        return payload

    def announce(self) -> None:
        """Push the room summary to its members and the lobby."""
        core = self._core
        self.broadcast(RoomUpdate(room=core.summary()), key=f"room:{core.room_id}")
        core.out.summary_changed = True

    def _state_for(
        self, seat: int | None, now: float, to_act: frozenset[int], outcome: OutcomeInfo | None,
        seats: tuple[Any, ...],
    ) -> State:
        """The ``state`` message for ``seat`` (None: the public view of spectators)."""
        core = self._core
        match = core.match
        assert match is not None
        legal = None
        if seat is not None and seat in to_act:
            legal = tuple(match.legal_moves(seat))
        return State(
            room_id=core.room_id,
            match=core.match_number,
            version=match.version,
            seat=seat,
            view=match.view(seat),
            to_act=tuple(sorted(to_act)),
            legal_moves=legal,
            seats=seats,
            clock=core.clocks.state(now) if core.clock_settings is not None else None,
            outcome=outcome,
        )

    def _state_parts(
        self, outcome: Outcome | None
    ) -> tuple[frozenset[int], OutcomeInfo | None, tuple[Any, ...]]:
        """What every ``state`` of this moment shares: who acts, the outcome, the seats."""
        core = self._core
        match = core.match
        assert match is not None
        # An aborted match has no outcome in the rules, and nobody acts in it any more.
        to_act = frozenset() if core.aborted is not None else match.to_act()
        shown = core.aborted if outcome is None else outcome_info(outcome)
        return to_act, shown, tuple(s.info() for s in core.seats)

    def push_states(self, now: float, outcome: Outcome | None = None, *, known: bool = False) -> None:
        """Send every participant its own view; spectators share one payload.

        ``known``: ``outcome`` is the match's outcome as the caller just learnt it
        (otherwise the rules are asked).
        """
        core = self._core
        match = core.match
        if match is None:
            return
        if not known:
            outcome = match.outcome
        parts = self._state_parts(outcome)
        key = f"state:{core.room_id}"
        send = core.out.sends.append
        for seat in core.seats:
            member = seat.member
            if member is not None and member.connected and not seat.newcomer:
                send((member, payload_of(self._state_for(seat.index, now, *parts)), key))
        if core.spectators:
            shared = payload_of(self._state_for(None, now, *parts))
            for member in core.spectators.values():
                send((member, shared, key))

    def snapshot(self, member: Member, now: float) -> None:
        """Bring one (re)connected participant fully up to date."""
        core = self._core
        out = core.out
        out.send(member, payload_of(RoomUpdate(room=core.summary())), f"room:{core.room_id}")
        seat = core.seat_of(member)
        if core.match is not None and not (seat is not None and seat.newcomer):
            parts = self._state_parts(core.match.outcome)
            state = self._state_for(None if seat is None else seat.index, now, *parts)
            out.send(member, payload_of(state), f"state:{core.room_id}")
        for said in core.chat_log:
            out.send(member, said)
