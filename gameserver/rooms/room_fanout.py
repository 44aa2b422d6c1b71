"""Fan-out: what a room tells its members, and the bytes it takes.

Replies and errors go to one requester; ``room`` and ``chat`` pushes are encoded once
and the same payload goes to everyone; each seat gets its own ``state`` (its own view
of the game), spectators share one encoded public ``state``; a (re)connecting member
gets a full snapshot (a newcomer to a finished match's seat gets no ``state`` until
the rematch starts: the finished match was another player's view). Pushes carry
coalescing keys, so a client that is behind only ever receives the newest ``state``
and ``room`` of each room.
"""

from __future__ import annotations

import trio

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
from gameserver.sessions.outbox import Payload
from gameserver.sessions.players import Player
from gameserver.rooms.room_state import RoomState


def payload_of(message: ServerMessage) -> Payload:
    """Encode ``message`` once; the payload can be sent to any number of players."""
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


class RoomFanout(RoomState):
    """Building each participant's messages and pushing them; part of ``Room``."""

    def _reply(self, player: Player, request_id: int, result: Result) -> Payload:
        """Answer ``request_id`` with ``result``; return the payload (kept for move retries)."""
        payload = payload_of(Reply(id=request_id, result=result))
        player.send(payload)
        return payload

    def _send_error(self, player: Player, request_id: int, error: RequestError) -> None:
        """Answer ``request_id`` with ``error`` and count it."""
        self._host.metrics.error(error.code.value)
        message = Error(id=request_id, code=error.code.value, message=error.message)
        player.send(payload_of(message))

    def _participants(self) -> list[Player]:
        """Everyone who gets pushes: seated humans, then spectators."""
        people = [seat.player for seat in self.seats if seat.player is not None]
        return people + list(self.spectators.values())

    def _broadcast(self, message: ServerMessage, *, key: str | None = None) -> Payload:
        """Encode ``message`` once and push it to every participant; return the payload."""
        payload = payload_of(message)
        for player in self._participants():
            player.send(payload, key=key)
        return payload

    def _announce(self) -> None:
        """Push the room summary to its members and the lobby."""
        self._broadcast(RoomUpdate(room=self.summary()), key=f"room:{self.room_id}")
        self._host.room_changed(self)

    def _state_for(self, seat: int | None, now: float) -> State:
        """The ``state`` message for ``seat`` (None: the public view of spectators)."""
        match = self.match
        assert match is not None
        outcome = match.outcome
        # An aborted match has no outcome in the rules, and nobody acts in it any more.
        to_act = frozenset() if self._aborted is not None else match.to_act()
        legal = None
        if seat is not None and seat in to_act:
            legal = tuple(match.legal_moves(seat))
        return State(
            room_id=self.room_id,
            match=self.match_number,
            version=match.version,
            seat=seat,
            view=match.view(seat),
            to_act=tuple(sorted(to_act)),
            legal_moves=legal,
            seats=tuple(s.info() for s in self.seats),
            clock=self.clocks.state(now) if self.clock_settings is not None else None,
            outcome=self._aborted if outcome is None else outcome_info(outcome),
        )

    def _push_states(self) -> None:
        """Send every participant its own view; spectators share one payload."""
        if self.match is None:
            return
        now = trio.current_time()
        key = f"state:{self.room_id}"
        for seat in self.seats:
            if seat.player is not None and seat.player.connected and not seat.newcomer:
                seat.player.send(payload_of(self._state_for(seat.index, now)), key=key)
        if self.spectators:
            shared = payload_of(self._state_for(None, now))
            for player in self.spectators.values():
                player.send(shared, key=key)

    def _send_snapshot(self, player: Player) -> None:
        """Bring one (re)connected participant fully up to date."""
        player.send(payload_of(RoomUpdate(room=self.summary())), key=f"room:{self.room_id}")
        seat = self.seat_of(player)
        if self.match is not None and not (seat is not None and seat.newcomer):
            state = self._state_for(None if seat is None else seat.index, trio.current_time())
            player.send(payload_of(state), key=f"state:{self.room_id}")
        for said in self._chat_log:
            player.send(said)
