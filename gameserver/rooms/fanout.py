"""What a room tells its members, each distinct message encoded once.

``Fanout`` is the room core's helper that builds the ``sends`` of the effects being
made (``RoomCore.out``): a reply or error for one requester, ``room`` and ``chat`` pushes
encoded once for everyone, each seat's own ``state`` (its own view of the game), and one
shared public ``state`` for all spectators; a (re)connecting member gets a full snapshot
(a newcomer to a finished match's seat gets no ``state`` until the rematch starts: the
finished match was another player's view). Pushes carry coalescing keys, so a client
that is behind only ever receives the newest ``state`` and ``room`` of each room.
``payload_of`` encodes one message for any number of recipients.

Protocol version 2 (docs/protocol.md, "Deltas"). ``held`` keeps, per member of version
2, the *document* (``protocol.delta``) of the last state it was sent, as plain data the
way the client decodes it. Once a member holds one, each push sends it a ``delta``
against it instead of a full ``state``: spectators that hold the same document share
one payload, and the mover's delta answers its ``move`` (it carries the request id).
Documents share their parts (seats, clock, to-act list) by reference; nothing in them
is ever changed in place. When the game gives the seats' views of one
position common objects (connect four's board, liar's dice's public parts), a push
diffs each part its members' documents share once (``delta.Memo``, by identity): those
view parts and the moment's parts.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from gameserver.games.base import Outcome
from gameserver.protocol import delta
from gameserver.protocol.codec import encode, encode_delta
from gameserver.protocol.errors import RequestError
from gameserver.protocol.messages import (
    ClockState,
    Delta,
    Error,
    OutcomeInfo,
    Reply,
    Result,
    RoomUpdate,
    ServerMessage,
    State,
)
from gameserver.protocol.schema import record_to_wire
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


class Held:
    """The document a member of protocol version 2 was last sent, and where it stands."""

    __slots__ = ("match", "version", "document")

    def __init__(self, match: int, version: int, document: dict[str, Any]) -> None:
        #: The room's match number the document belongs to.
        self.match = match
        #: The state version of the document (a delta's ``base``).
        self.version = version
        #: The document itself (``delta.DOCUMENT_KEYS``), never changed in place.
        self.document = document


class _Moment:
    """What every ``state`` of one push shares: who acts, outcome, seats, clocks; and
    their wire forms for the documents, made once on first use."""

    __slots__ = ("to_act", "outcome", "seats", "clock", "_wire", "_previous")

    def __init__(
        self, to_act: frozenset[int], outcome: OutcomeInfo | None, seats: tuple[Any, ...],
        clock: ClockState | None, previous: _Moment | None,
    ) -> None:
        self.to_act = to_act
        self.outcome = outcome
        self.seats = seats
        self.clock = clock
        self._wire: dict[str, Any] | None = None
        # Dropped once ``shared`` ran (and the previous one's own at once), so moments
        # never chain up.
        self._previous = previous
        if previous is not None:
            previous._previous = None

    def shared(self) -> dict[str, Any]:
        """The document parts every participant shares, in plain data (made once; the
        previous moment's objects where the values are equal, without making them
        again)."""
        wire = self._wire
        if wire is not None:
            return wire
        before, self._previous = self._previous, None
        kept = {} if before is None else before.unchanged_wire(self)
        wire = self._wire = {
            "clock": kept["clock"] if "clock" in kept else _wire_of(self.clock),
            "outcome": kept["outcome"] if "outcome" in kept else _wire_of(self.outcome),
            "seats": kept["seats"] if "seats" in kept else [record_to_wire(s) for s in self.seats],
            "to_act": kept["to_act"] if "to_act" in kept else sorted(self.to_act),
        }
        return wire

    def unchanged_wire(self, later: _Moment) -> dict[str, Any]:
        """The wire parts of this moment (if made) whose values ``later`` still has: it
        reuses them instead of making them again."""
        wire = self._wire
        if wire is None:
            return {}
        same = {
            "clock": self.clock == later.clock,
            "outcome": self.outcome == later.outcome,
            "seats": self.seats == later.seats,
            "to_act": self.to_act == later.to_act,
        }
        return {key: wire[key] for key, unchanged in same.items() if unchanged}


def _wire_of(record: ClockState | OutcomeInfo | None) -> dict[str, Any] | None:
    """A record of a moment in plain data (None stays None)."""
    return None if record is None else record_to_wire(record)


class _Push:
    """What the deltas of one push share: one payload per distinct delta, and the diffs
    of view parts made so far when the seats' views share parts."""

    __slots__ = ("payloads", "memo")

    def __init__(self, views: list[Any]) -> None:
        #: One payload per distinct delta, by its bytes.
        self.payloads: dict[bytes, Payload] = {}
        #: For every diff of the push when ``views`` share parts (``delta.Memo``); None
        #: otherwise, as remembering what no other view has would only cost.
        self.memo: delta.Memo | None = {} if _share_parts(views) else None


def _share_parts(views: list[Any]) -> bool:
    """True when the first two of ``views`` hold one container object under one key (a
    game may give every seat the same board): each diff of it is then made once."""
    if len(views) < 2 or type(views[0]) is not dict or type(views[1]) is not dict:
        return False
    other = views[1]
    return any(
        type(value) in (list, dict, tuple) and other.get(key) is value
        for key, value in views[0].items()
    )


class Fanout:
    """Builds the messages of one room into its core's current effects (``core.out``)."""

    __slots__ = ("_core", "held", "cause", "_last")

    def __init__(self, core: RoomCore) -> None:
        self._core = core
        #: The document each member of protocol version 2 holds (see the module
        #: docstring). Replaced, never changed in place, so a checkpoint keeps it by
        #: reference.
        self.held: dict[Member, Held] = {}
        #: What made the next pushed version, as a delta's ``cause``; the core sets it
        #: with each transition and the next push takes it.
        self.cause: list[Any] | None = None
        # The latest push's moment: its wire parts are reused while equal, so documents
        # share them and the diff skips them by identity.
        self._last: _Moment | None = None

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

    # -- states and deltas ------------------------------------------------------------

    def _moment(self, now: float, outcome: Outcome | None) -> _Moment:
        """What every ``state`` of this moment shares: who acts, the outcome, the seats."""
        core = self._core
        match = core.match
        assert match is not None
        # An aborted match has no outcome in the rules, and nobody acts in it any more.
        to_act = frozenset() if core.aborted is not None else match.to_act()
        shown = core.aborted if outcome is None else outcome_info(outcome)
        clock = core.clocks.state(now) if core.clock_settings is not None else None
        moment = _Moment(to_act, shown, tuple(s.info() for s in core.seats), clock, self._last)
        self._last = moment
        return moment

    def _state(self, seat: int | None, view: Any, legal: Any, moment: _Moment) -> State:
        """The full ``state`` message for ``seat`` (None: the public view of spectators)."""
        core = self._core
        match = core.match
        assert match is not None
        return State(
            room_id=core.room_id,
            match=core.match_number,
            version=match.version,
            seat=seat,
            view=view,
            to_act=tuple(sorted(moment.to_act)),
            legal_moves=None if legal is None else tuple(legal),
            seats=moment.seats,
            clock=moment.clock,
            outcome=moment.outcome,
        )

    def _held(self, member: Member) -> Held | None:
        """The document ``member`` holds of the current match, if any."""
        held = self.held.get(member)
        if held is None or held.match != self._core.match_number:
            return None
        return held

    def _document(
        self, view: Any, legal: Any, moment: _Moment, held: Held | None
    ) -> dict[str, Any]:
        """A participant's document: ``legal`` None keeps the held list (the seat may
        not act, so the client shows none anyway and needs no change sent)."""
        if legal is None:
            legal = [] if held is None else held.document["legal"]
        document = dict(moment.shared())
        document["legal"] = legal
        document["view"] = view
        return document

    def holds_document(self, member: Member) -> bool:
        """True when ``member`` speaks version 2 and holds a document of the current
        match: its next push is a delta (and a move of its is answered by that delta)."""
        return member.protocol_version >= 2 and member.connected and self._held(member) is not None

    def push_states(
        self, now: float, outcome: Outcome | None = None, *, known: bool = False,
        reply_to: tuple[Member, int] | None = None,
    ) -> Payload | None:
        """Send every participant its own view: a full ``state``, or (version 2, with a
        document held) a ``delta``; spectators share payloads.

        ``known``: ``outcome`` is the match's outcome as the caller just learnt it
        (otherwise the rules are asked). ``reply_to``: the mover and its request id,
        when the mover holds a document (``holds_document``): its delta answers the
        move and is returned, to be kept for a retried request.
        """
        core = self._core
        match = core.match
        if match is None:
            return None
        if not known:
            outcome = match.outcome
        moment = self._moment(now, outcome)
        cause, self.cause = self.cause, None
        held = self.held
        fresh: dict[Member, Held] = {}
        number, version = core.match_number, match.version
        state_key = f"state:{core.room_id}"
        answer: Payload | None = None
        send = core.out.sends.append
        targets = [
            (seat.index, seat.member, match.view(seat.index))
            for seat in core.seats
            if seat.member is not None and seat.member.connected and not seat.newcomer
        ]
        push = _Push([view for _, _, view in targets])
        for index, member, view in targets:
            legal = match.legal_moves(index) if index in moment.to_act else None
            if member.protocol_version < 2:
                send((member, payload_of(self._state(index, view, legal, moment)), state_key))
                continue
            before = self._held(member)
            document = self._document(view, legal, moment, before)
            fresh[member] = Held(number, version, document)
            if before is None:
                send((member, payload_of(self._state(index, view, legal, moment)), state_key))
                continue
            request_id = reply_to[1] if reply_to is not None and reply_to[0] is member else None
            sent = self._send_delta(member, before, document, cause, request_id, push)
            if request_id is not None:
                answer = sent
        if core.spectators:
            self._push_public(moment, held, fresh, cause, push)
        self.held = fresh
        return answer

    def _push_public(
        self, moment: _Moment, held: dict[Member, Held], fresh: dict[Member, Held],
        cause: list[Any] | None, push: _Push,
    ) -> None:
        """The spectators' part of a push: one full ``state`` payload for those who need
        one, one delta per distinct document held (normally one for all)."""
        core = self._core
        match = core.match
        assert match is not None
        state_key = f"state:{core.room_id}"
        view = match.view(None)
        full: Payload | None = None
        public: Held | None = None
        by_base: dict[int, Payload | None] = {}
        send = core.out.sends.append
        for member in core.spectators.values():
            before = self._held(member) if member.protocol_version >= 2 else None
            if member.protocol_version >= 2:
                if public is None:
                    document = self._document(view, None, moment, None)
                    public = Held(core.match_number, match.version, document)
                fresh[member] = public
            if before is None:
                if full is None:
                    full = payload_of(self._state(None, view, None, moment))
                send((member, full, state_key))
                continue
            assert public is not None
            known = id(before)
            if known in by_base:  # the same document as another spectator's: same delta
                payload = by_base[known]
                if payload is not None:
                    send((member, payload, self._delta_key(before)))
                continue
            by_base[known] = self._send_delta(member, before, public.document, cause, None, push)

    def _send_delta(
        self, member: Member, before: Held, document: dict[str, Any], cause: list[Any] | None,
        request_id: int | None, push: _Push,
    ) -> Payload | None:
        """Send ``member`` the delta from ``before`` to ``document``; identical deltas
        of one ``push`` share one payload. Returns the payload (None: nothing changed, nothing sent).

        Deltas that advance the version coalesce (key ``delta:<room>``: a client that
        is behind sees the gap in versions and asks for a full state). One that does not
        (``base == version``) is never superseded, since its loss could not be seen.
        """
        core = self._core
        match = core.match
        assert match is not None
        version = match.version
        ops = delta.diff(before.document, document, push.memo)
        if not ops and version == before.version and request_id is None:
            return None
        data = encode_delta(
            Delta(
                room_id=core.room_id, base=before.version, version=version, cause=cause,
                ops=ops, id=request_id,
            )
        )
        payloads = push.payloads
        payload = payloads.get(data)
        if payload is None:
            payload = payloads[data] = Payload(data)
        key = None if request_id is not None else self._delta_key(before)
        core.out.sends.append((member, payload, key))
        return payload

    def _delta_key(self, before: Held) -> str | None:
        """The coalescing key of a delta pushed from ``before`` (see ``_send_delta``)."""
        core = self._core
        assert core.match is not None
        return None if core.match.version == before.version else f"delta:{core.room_id}"

    def full_state(self, member: Member, now: float) -> None:
        """Send one participant a full ``state`` of the current match (none before the
        first match, nor to a newcomer seat of a finished one); it resets the document
        ``member`` holds."""
        core = self._core
        match = core.match
        seat = core.seat_of(member)
        if match is None or (seat is not None and seat.newcomer):
            return
        moment = self._moment(now, match.outcome)
        index = None if seat is None else seat.index
        legal = None
        if index is not None and index in moment.to_act:
            legal = match.legal_moves(index)
        view = match.view(index)
        core.out.send(member, payload_of(self._state(index, view, legal, moment)), f"state:{core.room_id}")
        if member.protocol_version >= 2:
            document = self._document(view, legal, moment, None)
            self.held = {**self.held, member: Held(core.match_number, match.version, document)}

    def snapshot(self, member: Member, now: float) -> None:
        """Bring one (re)connected participant fully up to date."""
        core = self._core
        out = core.out
        out.send(member, payload_of(RoomUpdate(room=core.summary())), f"room:{core.room_id}")
        self.full_state(member, now)
        for said in core.chat_log:
            out.send(member, said)
