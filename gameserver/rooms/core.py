"""The room core (sans-IO): every change of a room, as ``handle(command, now) -> Effects``.

Nothing here does I/O or imports trio. The owner (``rooms/room.py``) feeds each command
with the current room time ``now`` (seconds) and then does the returned ``Effects`` in
their order: the log first (durable BEFORE anything is sent), then membership, sends,
the lobby, a bot's turn (see ``rooms/effects.py``). The owner must also wake up at
``next_deadline`` and feed ``Tick``, and stop once ``closed`` is True (after ``Closing``).

One transition path. ``handle`` is the only entry; it saves a checkpoint of the room,
runs the command's handler, and returns what the handler asked for. A handler changes
the match only through ``_transition`` (apply a move, a timeout, a resignation; sync the
clocks), every record goes through ``_record`` (the one place records are built into
the effects; the end of a match is added there), and ``_publish`` tells everyone. When
the log refuses the write, the owner feeds ``StorageFailed``: the room goes back to the
checkpoint (match, clocks, seats, status ... as before the command; a retried move gets
``storage_unavailable``, not a reply), pauses, and tells everyone. Records of a seat's
connection coming and going (``Disconnected``/``Reconnected``) are the exception: they
change nothing a client relies on, so their loss only pauses the room.

Seating and quick match. The lobby calls ``Room.join``/``Room.spectate``, which run
``Join``/``Spectate`` through ``handle`` synchronously: the seat is taken (or refused
with a ``RequestError``) before the lobby's call returns, so two quick matches never
race for one seat. These commands only seat or add a watcher (no record, no send); the
announcement and the start of the match follow as ``SeatsChanged``/``Attached`` in the
room's inbox, after the joiner's reply.

Seats change only through ``rooms/seat_states.py``. A rematch rotates the seats by one
(two seats swap), so the first mover changes.
"""

from __future__ import annotations

import enum
import logging
import math
import random
import secrets
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Sequence
from typing import Any

import attrs

from gameserver import __version__ as server_version
from gameserver.games.base import AnyGame, MoveError, Outcome, Termination, state_hash
from gameserver.games.strategy import get_strategy
from gameserver.protocol.errors import ErrorCode, RequestError
from gameserver.protocol.messages import (
    ChatMessage,
    ClockSettings,
    EmptyResult,
    MatchOver,
    MoveResult,
    OutcomeInfo,
    Reply,
    RoomStatus,
    RoomSummary,
)
from gameserver.replays import records
from gameserver.rooms.clock import Clocks
from gameserver.rooms.commands import (
    Attached,
    BotMoved,
    ChatRequest,
    Closing,
    Crashed,
    Detached,
    Join,
    LeaveRequest,
    LogReady,
    MoveRequest,
    RematchRequest,
    Recover,
    Request,
    ResignRequest,
    RoomCommand,
    SeatsChanged,
    Spectate,
    Start,
    StorageFailed,
    SyncRequest,
    Tick,
)
from gameserver.rooms.config import AbandonPolicy, RoomConfig
from gameserver.rooms.effects import BotTurn, Effects
from gameserver.rooms.fanout import Fanout, outcome_info, payload_of
from gameserver.rooms.match import Match
from gameserver.rooms.members import Member, Payload
from gameserver.rooms.seat_states import Seat, SeatState, Trigger

log = logging.getLogger(__name__)

#: ``RoomSummary.paused`` while the room waits for its match log to take writes again.
STORAGE_PAUSE = ErrorCode.STORAGE_UNAVAILABLE.value
#: The reason of the end record when the last human left a match only bots still play.
ABORT_NO_PLAYERS = "no players left"
#: The reason of the end record when the last spectator of a bots-only match left.
ABORT_NOBODY_WATCHING = "nobody watching"
#: The reason of the end record when no seat made its first move in time.
ABORT_NO_FIRST_MOVE = "no first move"

# No file name or system error: those are for the operator (logs, /healthz), not players.
STORAGE_ERROR = RequestError(
    ErrorCode.STORAGE_UNAVAILABLE,
    "the server cannot record moves right now, so this request was not applied; "
    "the room is paused and resumes by itself: send the request again then",
)

# Records of a seat's connection coming and going: they change nothing a client is told
# or relies on, so when they cannot be written the room pauses but the change stands.
_PRESENCE = (records.Disconnected, records.Reconnected)


def wall_ms() -> int:
    """Wall-clock time in milliseconds since the Unix epoch (record timestamps)."""
    return int(time.time() * 1000)


def bot_name(number: int, strategy: str) -> str:
    """The display name of the ``number``-th (from 1) server-filled seat of a room:
    "Computer (best)", then "Computer 2 (random)", ... so no two seats share a name."""
    if number == 1:
        return f"Computer ({strategy})"
    return f"Computer {number} ({strategy})"


# Commands whose caller awaits no reply: their refusal is raised to it.
_RAISING = (Join, Spectate, Recover)


class _Paused(Exception):
    """A transition needs the log while the room is paused: it is refused, undone."""


@attrs.frozen
class _Starting:
    """A match whose log is being created: it begins on ``LogReady``."""

    match: Match
    seats: list[Seat]


# A move's answer as first sent (kept for retries): the payload, the version after the
# move, and whether the payload is the mover's delta (protocol version 2).
_Answer = tuple[Payload, int, bool]


class _Action(enum.Enum):
    """What ``_transition`` applies to the match."""

    MOVE = "move"
    TIMEOUT = "timeout"
    RESIGN = "resign"
    FORFEIT = "forfeit"


class RoomCore:
    """One room's state and every transition of it; see the module docstring."""

    def __init__(
        self,
        room_id: str,
        game: AnyGame,
        *,
        players: int,
        options: dict[str, Any],
        config: RoomConfig,
        private: bool = False,
        invite_code: str | None = None,
        bots: dict[int, str] | None = None,
        clock: ClockSettings | None = None,
        quick: bool = False,
        rated: bool = False,
        wall: Callable[[], int] = wall_ms,
        new_seed: Callable[[], int] = lambda: secrets.randbits(63),
        bot_rng: random.Random | None = None,
    ) -> None:
        self.room_id = room_id
        self.game = game
        self.players = players
        self.options = options
        self.private = private
        self.invite_code = invite_code
        self.clock_settings = clock
        self.quick = quick
        #: Whether matches here are rated: only accounts sit (the lobby checks).
        self.rated = rated
        self.config = config
        self._wall = wall
        self._new_seed = new_seed
        self.seats = [Seat(index) for index in range(players)]
        for number, (index, strategy_name) in enumerate(sorted((bots or {}).items()), start=1):
            strategy = (strategy_name, get_strategy(game.name, strategy_name))
            self.seats[index] = self.seats[index].to(
                Trigger.FILL_BOT, name=bot_name(number, strategy_name), strategy=strategy
            )
        # Replaced (never changed in place) when someone starts or stops watching, so a
        # checkpoint holds it by reference.
        self.spectators: dict[str, Member] = {}
        self.status = RoomStatus.WAITING
        self.match: Match | None = None
        self.match_number = 0
        self.clocks = Clocks(clock or ClockSettings(), players)
        #: True once the room is closed: the owner stops it (after ``Closing``).
        self.closed = False
        #: True while the match log cannot be written: no transition happens, clocks are
        #: stopped, and a ``Tick`` at ``retry_at`` tries the log again.
        self.paused = False
        self.retry_at = math.inf
        self._bot_rng = bot_rng or random.Random()
        self._bot_due: float | None = None
        self._applied: OrderedDict[tuple[str, int], _Answer] = OrderedDict()
        self._applied_key: tuple[str, int] | None = None
        # Seats that moved in the current match, and the first-move deadline of each
        # human seat to act that has not (``config.first_move_timeout``).
        self._moved: set[int] = set()
        self._first_move_due: dict[int, float] = {}
        # When a finished room is released (``config.finished_room_ttl``); None otherwise.
        self._release_at: float | None = None
        #: The outcome shown for a match the room aborted (the rules have none for it).
        self.aborted: OutcomeInfo | None = None
        # Set when the room closed because nobody was left in it.
        self._emptied = False
        self._failing = False
        #: The latest chat messages, encoded, for members who (re)join; not recorded in
        #: the match log, so a restarted server starts them afresh.
        self.chat_log: deque[Payload] = deque(maxlen=max(0, config.chat_history))
        # Chat seq counts up from the wall clock in microseconds when the room was made,
        # so a room recovered after a restart numbers above all it sent before.
        self._chat_seq = wall() * 1000
        #: The effects of the command being handled (``fanout`` adds the sends to them).
        self.out = Effects()
        self._pending = self.out
        self.fanout = Fanout(self)
        self._command: RoomCommand | None = None
        self._checkpoint: tuple[Any, ...] | None = None
        self._starting: _Starting | None = None
        self._transitioned = False
        self._handlers: dict[type[RoomCommand], Callable[[Any, float], None]] = {
            MoveRequest: self._on_move,
            BotMoved: self._on_bot_moved,
            Tick: self._on_tick,
            Join: self._on_join,
            Spectate: self._on_spectate,
            SeatsChanged: self._on_seats_changed,
            Attached: self._on_attached,
            Detached: self._on_detached,
            ChatRequest: self._on_chat,
            ResignRequest: self._on_resign,
            SyncRequest: self._on_sync,
            RematchRequest: self._on_rematch,
            LeaveRequest: self._on_leave,
            Start: self._on_start,
            Closing: self._on_closing,
            Recover: self._on_recover,
            Crashed: self._on_crashed,
            LogReady: self._on_log_ready,
        }

    # -- reading ----------------------------------------------------------------------

    def summary(self) -> RoomSummary:
        """The room as the lobby and ``room`` pushes show it."""
        return RoomSummary(
            room_id=self.room_id,
            game=self.game.name,
            players=self.players,
            seats=tuple(seat.info() for seat in self.seats),
            status=self.status,
            private=self.private,
            spectators=len(self.spectators),
            options=self.options,
            clock=self.clock_settings,
            match=self.match_number,
            paused=STORAGE_PAUSE if self.paused else None,
            rated=self.rated,
        )

    def seat_of(self, member: Member) -> Seat | None:
        """The seat ``member`` holds here, if any."""
        for seat in self.seats:
            if seat.member is member:
                return seat
        return None

    def is_member(self, member: Member) -> bool:
        """True if ``member`` holds a seat or watches."""
        return self.seat_of(member) is not None or member.player_id in self.spectators

    @property
    def open_seats(self) -> int:
        """How many seats can be joined before the first match (what quick match fills)."""
        if self.status is not RoomStatus.WAITING:
            return 0
        return sum(1 for seat in self.seats if seat.is_open)

    def current_hash(self) -> tuple[int, str]:
        """``(version, state hash)`` of the running match, for the match log."""
        assert self.match is not None
        return self.match.version, state_hash(self.game, self.match.state)

    def next_deadline(self) -> float:
        """When the owner must feed ``Tick`` (inf: no timer pending)."""
        if self.closed:
            return math.inf
        if self.paused:
            return self.retry_at
        deadlines: list[float] = [math.inf]
        match = self.match
        if match is not None and self.status is RoomStatus.PLAYING and not match.over:
            expiry = self.clocks.expiry()
            if expiry is not None:
                deadlines.append(expiry[0])
            if self._bot_due is not None:
                deadlines.append(self._bot_due)
            deadlines.extend(self._first_move_due.values())
        deadlines.extend(s.grace_until for s in self.seats if s.grace_until is not None)
        if self._release_at is not None and self.status is RoomStatus.OVER:
            deadlines.append(self._release_at)
        return min(deadlines)

    # -- the one entry ----------------------------------------------------------------

    def handle(self, command: RoomCommand, now: float) -> Effects:
        """Run ``command`` at room time ``now``; return what the owner must do, in order.

        ``Join``, ``Spectate`` and ``Recover`` raise ``RequestError`` when refused; a
        request's refusal is an error reply in the effects. A bug (any other exception)
        closes the room: everyone is told and the match log gets an aborted end.
        """
        out = self.out = Effects()
        if isinstance(command, StorageFailed):
            self._storage_failed(command.error, now)
            self._pending = out
            return out
        self._command = command
        self.fanout.cause = None
        self._transitioned = False
        self._applied_key = None
        self._save()
        try:
            self._handlers[type(command)](command, now)
        except RequestError as error:
            if isinstance(command, _RAISING):
                self._undo_command()
                raise
            if not isinstance(command, Request):
                self._fail(command)  # a timer or event the room cannot refuse: a bug
                return self.out
            self._undo_command()
            self.fanout.error(command.player, command.request_id, error)
        except _Paused:
            self._undo_command()
            if isinstance(command, Request):
                self.fanout.error(command.player, command.request_id, STORAGE_ERROR)
        except Exception:
            self._fail(command)
        self._pending = self.out
        return self.out

    def _undo_command(self) -> None:
        """Forget a refused command: the room as before it, nothing to do."""
        self._restore()
        self.out = Effects()

    # -- checkpoints ------------------------------------------------------------------

    def _save(self) -> None:
        """Remember the room as it is before a command, for ``StorageFailed``."""
        self.clocks.mark()
        self._checkpoint = (
            self.status, self.match_number, self.match, self.clocks, list(self.seats),
            self.spectators, set(self._moved), dict(self._first_move_due), self._bot_due,
            self._release_at, self.aborted, self.closed, self._emptied, self.paused,
            self.fanout.held,
        )

    def _restore(self) -> None:
        """Put the room back as it was before the command."""
        checkpoint = self._checkpoint
        assert checkpoint is not None
        (
            self.status, self.match_number, match, clocks, seats, self.spectators,
            self._moved, self._first_move_due, self._bot_due, self._release_at,
            self.aborted, self.closed, self._emptied, self.paused, self.fanout.held,
        ) = checkpoint
        if self._transitioned and match is self.match and match is not None:
            match.undo()
        self.match = match
        if clocks is self.clocks:
            self.clocks.rewind()
        self.clocks = clocks
        self.seats = seats
        if self._applied_key is not None:
            self._applied.pop(self._applied_key, None)
        self._transitioned = False
        self._applied_key = None

    def _storage_failed(self, error: str, now: float) -> None:
        """The log refused the last effects: undo them (presence records excepted),
        pause, and tell the requester it may send the request again."""
        out, failed = self.out, self._pending
        out.storage_error = error
        if self._failing or isinstance(self._command, Closing):
            self.closed = True  # the log stays without an end: recovered after a restart
            return
        # A match whose header was refused did not start, a refused probe changed
        # nothing, and lost presence records change nothing a client relies on: what
        # the command did besides stands. Anything else is undone.
        undo = failed.open_log is None and not failed.probe and not (
            failed.records and all(isinstance(item, _PRESENCE) for item in failed.records)
        )
        self._starting = None
        if undo:
            self._restore()
        else:
            out.sends.extend(failed.sends)
            out.errors.extend(failed.errors)
            out.summary_changed = failed.summary_changed
        self._pause(now, error)
        command = self._command
        if undo and isinstance(command, Request):
            self.fanout.error(command.player, command.request_id, STORAGE_ERROR)

    # -- recording: the one place records are made ------------------------------------

    def _record(self, *items: records.Record) -> None:
        """Append ``items`` to this command's records (durable before anything is sent).

        While paused a transition is refused (``_Paused``: nothing of the command takes
        effect) and presence records are dropped. Nothing follows a match's end.
        """
        out = self.out
        if self.paused:
            if all(isinstance(item, _PRESENCE) for item in items):
                return
            raise _Paused
        if out.close_log:
            return  # the log of this match is complete
        out.records.extend(items)
        if any(isinstance(item, records.Ended) for item in items):
            out.close_log = True

    def _header(self, number: int, seed: int, seats: Sequence[Seat]) -> records.Header:
        """The header record of match ``number`` starting now with ``seats``."""
        occupants = []
        for seat in seats:
            if seat.is_bot:
                occupants.append(
                    records.Occupant(
                        name=seat.name or "bot",
                        kind=records.OccupantKind.BOT,
                        strategy=seat.strategy_name,
                    )
                )
            else:
                member = seat.member
                account = None if member is None else member.account_kind
                occupants.append(
                    records.Occupant(
                        name=seat.name or "",
                        player_id=None if member is None else member.player_id,
                        account_id=None if member is None or account is None else member.player_id,
                        account_kind=None if account is None else account.value,
                    )
                )
        clock = self.clock_settings or ClockSettings()
        return records.Header(
            match_id=f"{self.room_id}-{number}",
            room_id=self.room_id,
            game=self.game.name,
            options=self.options,
            seed=seed,
            seats=tuple(occupants),
            clock=clock,
            server_version=server_version,
            started_at=self._wall(),
            private=self.private,
            rated=self.rated,
        )

    # -- the match: the one transition path -------------------------------------------

    def _require_match(self) -> Match:
        """The running match; raise match_over when none is running."""
        if self.match is None:
            raise RequestError(ErrorCode.MATCH_OVER, "no match is running: it has not started yet")
        if self.match.over:
            raise RequestError(ErrorCode.MATCH_OVER, "the match is over")
        return self.match

    def _transition(
        self, seat: int, action: _Action, now: float, move: Any = None, request_id: int | None = None
    ) -> Outcome | None:
        """Apply ``action`` for ``seat`` to the match, sync the clocks and record it
        (with the end, when the match is over); return the outcome (None: it goes on).
        ``request_id``: the player's request that made a move (logged for at-most-once).

        Raises ``RequestError`` (nothing changed) when the rules refuse. The caller then
        answers its requester, if any, and calls ``_publish``.
        """
        match = self._require_match()
        clocks = self.clocks
        at = self._wall()
        record: records.Record
        if action is _Action.MOVE:
            used = clocks.elapsed_ms(seat, now)
            match.apply(seat, move)
            self._moved.add(seat)
            clocks.charge(seat, now)
            record = records.Moved(
                at=at, seat=seat, version=match.version, move=move, time_used_ms=used,
                clocks=clocks.banks_now(now), request_id=request_id,
            )
        elif action is _Action.TIMEOUT:
            clocks.timed_out(seat, now)
            match.timeout(seat)
            record = records.TimedOut(
                at=at, seat=seat, version=match.version, clocks=clocks.banks_now(now)
            )
        else:
            forfeit = action is _Action.FORFEIT
            match.resign(seat, forfeit=forfeit)
            record = records.Resigned(
                at=at, seat=seat, version=match.version, clocks=clocks.banks_now(now),
                forfeit=forfeit,
            )
        self._transitioned = True
        self.fanout.cause = [seat, move if action is _Action.MOVE else action.value]
        outcome = match.outcome
        if outcome is None:
            clocks.sync(match.to_act(), now)
            self._record(record)
            return None
        clocks.stop_all(now)
        self._record(
            record,
            records.StateHash(at=at, version=match.version, hash=state_hash(self.game, match.state)),
            records.Ended.from_outcome(outcome, at=at, version=match.version),
        )
        return outcome

    def _publish(
        self, outcome: Outcome | None, now: float, reply_to: tuple[Member, int] | None = None
    ) -> Payload | None:
        """After a transition: push everyone its state, then end the match or set timers.
        ``reply_to``: the mover whose delta answers its move (returned; see
        ``Fanout.push_states``)."""
        answer = self.fanout.push_states(now, outcome, known=True, reply_to=reply_to)
        if outcome is not None and self.status is RoomStatus.PLAYING:
            self._finish_match(outcome_info(outcome), now)
        else:
            self._schedule(now)
        return answer

    def _start_match(self, now: float) -> None:
        """Start a new match (first or rematch): fresh rules state, clocks and log.

        A rematch rotates the seats. With a log, its header is made durable first: the
        effects carry ``open_log`` and the match begins when the owner feeds
        ``LogReady``; if the disk refuses, nothing changes but the room pauses, and a
        ``Tick`` at ``retry_at`` tries to start it again.
        """
        seats = self.seats[-1:] + self.seats[:-1] if self.match_number > 0 else self.seats
        seed = self._new_seed()
        starting = _Starting(
            Match(self.game, self.players, self.options, seed),
            [seat.moved_to(index).settled() for index, seat in enumerate(seats)],
        )
        if self.config.replays_dir is None:
            self._begin_match(starting, now)
            return
        self._starting = starting
        self.out.open_log = self._header(self.match_number + 1, seed, seats)

    def _on_log_ready(self, command: LogReady, now: float) -> None:
        """The log took the write asked for: a new match's header (the match begins) or
        a paused room's probe (play resumes)."""
        starting, self._starting = self._starting, None
        if starting is not None:
            self._begin_match(starting, now)
        elif self.paused:
            self._resume_play(now)

    def _begin_match(self, starting: _Starting, now: float) -> None:
        """The new match runs from now: tell everyone, set its timers."""
        match = starting.match
        self._end_pause()
        self.seats = starting.seats
        self.match_number += 1
        self.match = match
        self.clocks = Clocks(self.clock_settings or ClockSettings(), self.players)
        self._applied.clear()
        self._moved = set()
        self._first_move_due = {}
        self._release_at = None
        self.aborted = None
        self.status = RoomStatus.PLAYING
        self.clocks.sync(match.to_act(), now)
        self.out.matches_started += 1
        self.fanout.announce()
        self.fanout.push_states(now)
        self._schedule(now)

    def _finish_match(self, outcome: OutcomeInfo, now: float) -> None:
        """The match is over (its end recorded): tell everyone, free the seats of players
        who left it, and give the room ``finished_room_ttl`` to rematch. (A player still
        within its grace period keeps the seat until the period ends.)"""
        match = self.match
        assert match is not None
        self.status = RoomStatus.OVER
        self._bot_due = None
        self._first_move_due = {}
        self._release_at = now + self.config.finished_room_ttl
        self.out.matches_finished += 1
        if self.config.replays_dir is not None:
            self.out.finished_log = f"{self.room_id}-{self.match_number}"
        self.fanout.broadcast(
            MatchOver(
                room_id=self.room_id,
                match=self.match_number,
                version=match.version,
                outcome=outcome,
                replay_id=(
                    f"{self.room_id}-{self.match_number}"
                    if self.config.replays_dir is not None
                    else None
                ),
            )
        )
        for seat in self.seats:
            if seat.state is SeatState.DEPARTED:
                self._free_seat(seat)
        self.fanout.announce()
        self._maybe_close()  # e.g. a recovered match nobody came back to

    def _abort_match(self, reason: str, now: float) -> None:
        """End the running match without a result (``Ended`` with ``aborted``), e.g.
        when no human is left to play it; the room then goes on as after any end."""
        match = self.match
        assert match is not None and not match.over
        self.clocks.stop_all(now)
        self._record(records.Ended.aborted_match(reason, at=self._wall(), version=match.version))
        self.aborted = OutcomeInfo(
            winners=(), draw=False, scores=None, reason=reason, termination=Termination.ABORTED
        )
        self.fanout.push_states(now)
        self._finish_match(self.aborted, now)

    def _end_if_nobody_plays(self, now: float) -> None:
        """Abort the running match once no human holds a seat of it and at least one
        human left it (a match of bots only, from the start, plays on for its watchers)."""
        match = self.match
        if self.status is not RoomStatus.PLAYING or match is None or match.over:
            return
        if any(seat.member is not None for seat in self.seats):
            return
        if any(seat.state is SeatState.DEPARTED for seat in self.seats):
            self._abort_match(ABORT_NO_PLAYERS, now)

    def _schedule(self, now: float) -> None:
        """After a transition: set the next bot move and the first-move deadlines."""
        match = self.match
        if match is None or match.over:
            self._first_move_due = {}
            return
        to_act = match.to_act()
        if self._bot_due is None and any(self.seats[seat].bot_controlled for seat in to_act):
            self._bot_due = now + self.config.bot_delay
        timeout = self.config.first_move_timeout
        if timeout is None or self.clock_settings is not None:
            self._first_move_due = {}
            return
        due = self._first_move_due
        self._first_move_due = {
            index: due.get(index, now + timeout)
            for index in to_act
            if index not in self._moved and not self.seats[index].bot_controlled
        }

    # -- seats ------------------------------------------------------------------------

    def _set_seat(self, seat: Seat) -> Seat:
        self.seats[seat.index] = seat
        return seat

    def _free_seat(self, seat: Seat) -> None:
        """Make ``seat`` open: its player, if any, leaves the room."""
        if seat.member is not None:
            self.out.left.append(seat.member)
        self._set_seat(seat.to(Trigger.FREE))

    def _vacate(self, seat: Seat) -> None:
        """Remove a seat's player: the seat is open again, except during a match, where
        it stays taken (DEPARTED) until the match ends."""
        member = seat.member
        if member is None:
            return
        if self.status is not RoomStatus.PLAYING:
            self._free_seat(seat)
            return
        self.out.left.append(member)
        self._set_seat(seat.to(Trigger.DEPART))

    def _maybe_close(self) -> None:
        """Close the room once no human holds a seat and nobody watches (the owner then
        feeds ``Closing``, which ends a match still running for bots only)."""
        if any(seat.member is not None for seat in self.seats) or self.spectators:
            return
        self.closed = True
        self._emptied = True

    # -- storage pauses ---------------------------------------------------------------

    def _pause(self, now: float, error: str) -> None:
        """The match log refused a write: stop play (clocks, bots, timers), tell everyone;
        a ``Tick`` at ``retry_at`` tries again."""
        self.retry_at = now + self.config.storage_retry
        if self.paused:
            return
        log.warning(
            "room %s paused: %s; retrying every %g s", self.room_id, error, self.config.storage_retry
        )
        self.paused = True
        self.clocks.stop_all(now)
        self._bot_due = None
        self.fanout.announce()
        self.fanout.push_states(now)

    def _end_pause(self) -> None:
        """Forget the pause (the log takes writes); the caller tells everyone."""
        if self.paused:
            log.warning("room %s: the match log takes writes again; play resumes", self.room_id)
        self.paused = False
        self.retry_at = math.inf
        self.out.storage_ok = True

    def _retry_storage(self, now: float) -> None:
        """Paused: write again what must be written; play on once it is durable.

        A running match appends a state hash (``probe``; the refused move is for its
        client to send again) and resumes on ``LogReady``; a match that could not start
        tries its header again.
        """
        self.retry_at = now + self.config.storage_retry
        if self.status is not RoomStatus.PLAYING and self._ready_to_start():
            self._start_match(now)
            return
        if self.status is RoomStatus.PLAYING:
            self.out.probe = True  # play resumes on ``LogReady``
            return
        self._resume_play(now)

    def _ready_to_start(self) -> bool:
        """Whether the next match is due: every seat taken (waiting) or every vote in (over)."""
        if self.status is RoomStatus.WAITING:
            return not any(seat.is_open for seat in self.seats)
        return all(s.is_bot or (s.member is not None and s.wants_rematch) for s in self.seats)

    def _resume_play(self, now: float) -> None:
        """End the pause of a running match: clocks restart, absent players get a fresh
        grace period (the pause was not theirs), bots move again, everyone gets a state."""
        self._end_pause()
        match = self.match
        if self.status is RoomStatus.PLAYING and match is not None:
            self.clocks.sync(match.to_act(), now)
            grace = now + self.config.grace_period
            for seat in self.seats:
                member = seat.member
                if member is None or member.connected or seat.bot_controlled:
                    continue
                until = max(seat.grace_until or now, grace)
                self._set_seat(seat.to(Trigger.DISCONNECT, grace_until=until))
        self.fanout.announce()
        self.fanout.push_states(now)
        # The pause was not the players' fault: first-move deadlines start again from now.
        self._first_move_due = {}
        self._schedule(now)

    # -- failing safely ---------------------------------------------------------------

    def _fail(self, command: RoomCommand) -> None:
        """A bug (e.g. in the rules) hit this room: its state can no longer be trusted.
        Tell everyone, end the log as aborted and close the room."""
        log.error(
            "room %s: handling %s failed; the room is closed",
            self.room_id,
            type(command).__name__,
            exc_info=not isinstance(command, Crashed),
        )
        self._failing = True
        self.closed = True
        self.out = Effects()
        notice = f"room {self.room_id} hit a server error and is closed"
        requester = command.player if isinstance(command, Request) else None
        if isinstance(command, Request):
            self.fanout.error(
                command.player,
                command.request_id,
                RequestError(ErrorCode.INTERNAL_ERROR, f"the server failed this request; {notice}"),
            )
        for member in self.fanout.participants():
            if member is not requester:
                self.fanout.error(member, None, RequestError(ErrorCode.INTERNAL_ERROR, notice))
        match = self.match
        try:
            if match is not None and not match.over and self.status is RoomStatus.PLAYING:
                self._record(
                    records.Ended.aborted_match("server error", at=self._wall(), version=match.version)
                )
        except _Paused:
            pass  # the log takes no writes: it stays without an end (recovered after a restart)
        except Exception:
            log.exception("room %s: cannot end the match log", self.room_id)

    # -- handlers: requests -----------------------------------------------------------

    def _require_seat(self, member: Member) -> Seat:
        """The seat ``member`` holds; raise not_in_room otherwise."""
        seat = self.seat_of(member)
        if seat is None:
            if member.player_id in self.spectators:
                raise RequestError(ErrorCode.NOT_IN_ROOM, "spectators cannot play in this room")
            raise RequestError(ErrorCode.NOT_IN_ROOM, "you hold no seat in this room")
        return seat

    def _on_move(self, command: MoveRequest, now: float) -> None:
        """Apply a move (or answer a retried one as before), record, answer, publish."""
        key = (command.player.player_id, command.request_id)
        # The oldest answer beyond the window goes once the move that pushed it out is
        # durable (here, at the next move), so an undone move forgets nothing.
        while len(self._applied) > self.config.dedupe_window:
            self._applied.popitem(last=False)
        previous = self._applied.get(key)
        if previous is not None:
            self._answer_again(command, *previous)
            return
        seat = self._require_seat(command.player)
        match = self._require_match()
        if command.version != match.version:
            raise RequestError(
                ErrorCode.STALE_VERSION,
                f"the state is at version {match.version}, the move was for {command.version}",
            )
        outcome = self._transition(seat.index, _Action.MOVE, now, command.move, command.request_id)
        member, request_id, version = command.player, command.request_id, match.version
        # Protocol version 2: the mover's delta is its reply (when it holds a document).
        by_delta = self.fanout.holds_document(member)
        payload = None if by_delta else self.fanout.reply(member, request_id, MoveResult(version=version))
        answer = self._publish(outcome, now, (member, request_id) if by_delta else None)
        if payload is None:
            payload = answer or self.fanout.reply(member, request_id, MoveResult(version=version))
        self._applied[key] = (payload, version, answer is not None)
        self._applied_key = key

    def _answer_again(
        self, command: MoveRequest, payload: Payload, version: int, is_delta: bool
    ) -> None:
        """A retried move (at most once): the same bytes as the first answer, unless that
        was a delta and the connection now speaks protocol version 1."""
        member = command.player
        if is_delta and member.protocol_version < 2:
            self.fanout.reply(member, command.request_id, MoveResult(version=version))
            return
        self.out.send(member, payload)

    def _on_sync(self, command: SyncRequest, now: float) -> None:
        """Send the requester a full state of the room again, then answer."""
        if not self.is_member(command.player):
            raise RequestError(ErrorCode.NOT_IN_ROOM, "you are not in this room")
        self.fanout.full_state(command.player, now)
        self.fanout.reply(command.player, command.request_id, EmptyResult())

    def _on_chat(self, command: ChatRequest, now: float) -> None:
        """Check the text and push it to everyone in the room (not recorded)."""
        seat = self.seat_of(command.player)
        if seat is None and command.player.player_id not in self.spectators:
            raise RequestError(ErrorCode.NOT_IN_ROOM, "you are not in this room")
        text = command.text.strip()
        if not text or len(text) > self.config.chat_max_length:
            raise RequestError(
                ErrorCode.CHAT_TOO_LONG,
                f"chat text must be 1 to {self.config.chat_max_length} characters",
            )
        self.fanout.reply(command.player, command.request_id, EmptyResult())
        self._chat_seq += 1
        said = self.fanout.broadcast(
            ChatMessage(
                room_id=self.room_id,
                player_id=command.player.player_id,
                name=command.player.name,
                seat=None if seat is None else seat.index,
                text=text,
                seq=self._chat_seq,
            )
        )
        self.chat_log.append(said)

    def _on_resign(self, command: ResignRequest, now: float) -> None:
        """Resign the requester's seat, record, answer, publish."""
        seat = self._require_seat(command.player)
        outcome = self._transition(seat.index, _Action.RESIGN, now)
        self.fanout.reply(command.player, command.request_id, EmptyResult())
        self._publish(outcome, now)

    def _on_rematch(self, command: RematchRequest, now: float) -> None:
        """Record the vote; start the next match once every seat is filled and every
        human voted."""
        seat = self._require_seat(command.player)
        if self.status is not RoomStatus.OVER:
            raise RequestError(ErrorCode.MATCH_NOT_OVER, "the match is still being played")
        self._set_seat(seat.voted())
        self.fanout.reply(command.player, command.request_id, EmptyResult())
        self._rematch_if_ready(now)  # the others see the vote in ``wants_rematch``

    def _on_leave(self, command: LeaveRequest, now: float) -> None:
        """Leave the room: a spectator just goes; a seated player resigns a running match
        first (both are recorded together)."""
        member = command.player
        if member.player_id in self.spectators:
            self._unwatch(member)
            self.fanout.reply(member, command.request_id, EmptyResult())
            self.fanout.announce()
            self._maybe_close()
            return
        seat = self._require_seat(member)
        outcome = None
        resigned = False
        if self.status is RoomStatus.PLAYING and self.match is not None and not self.match.over:
            try:
                outcome = self._transition(seat.index, _Action.RESIGN, now)
                resigned = True
            except RequestError:
                pass  # already out of the match (e.g. eliminated): just leave
            self._record(records.Left(at=self._wall(), seat=seat.index))
        self._vacate(seat)
        self.fanout.reply(member, command.request_id, EmptyResult())
        if resigned:
            self._publish(outcome, now)
        self._end_if_nobody_plays(now)
        self.fanout.announce()
        self._maybe_close()

    # -- handlers: seating and connections --------------------------------------------

    def _on_join(self, command: Join, now: float) -> None:
        """Seat a member (synchronously, for the lobby); ``SeatsChanged`` follows."""
        member, index = command.member, command.seat
        self._check_open(member)
        if self.status is RoomStatus.PLAYING:
            raise RequestError(ErrorCode.ROOM_FULL, "the match in this room has already started")
        if index is None:
            chosen = next((s for s in self.seats if s.is_open), None)
            if chosen is None:
                raise RequestError(ErrorCode.ROOM_FULL, "every seat is taken")
        else:
            if not 0 <= index < self.players:
                raise RequestError(
                    ErrorCode.INVALID_FIELD, f"seat must be between 0 and {self.players - 1}"
                )
            chosen = self.seats[index]
            if not chosen.is_open:
                raise RequestError(ErrorCode.ROOM_FULL, f"seat {index} is taken")
        seat = chosen.to(Trigger.SIT, member=member, name=member.name)
        if self.status is RoomStatus.OVER:
            # Joining a finished match's freed seat is joining its rematch.
            seat = seat.joined_late()
        self._set_seat(seat)
        self.out.entered.append(member)
        self.out.seated = seat.index

    def _on_spectate(self, command: Spectate, now: float) -> None:
        """Add a watcher (synchronously, for the lobby); ``Attached`` follows."""
        member = command.member
        self._check_open(member)
        self.spectators = {**self.spectators, member.player_id: member}
        self.out.entered.append(member)

    def _check_open(self, member: Member) -> None:
        if self.closed:
            raise RequestError(ErrorCode.ROOM_NOT_FOUND, f"room {self.room_id} is closed")
        if self.is_member(member):
            raise RequestError(ErrorCode.ALREADY_IN_ROOM, "you are already in this room")

    def _unwatch(self, member: Member) -> None:
        spectators = dict(self.spectators)
        del spectators[member.player_id]
        self.spectators = spectators
        self.out.left.append(member)

    def _on_seats_changed(self, command: SeatsChanged, now: float) -> None:
        """A seat was taken: announce it, and start the match (or the rematch) once every
        seat is filled and, after a match, every human voted."""
        if self.status is RoomStatus.OVER:
            self._rematch_if_ready(now)
            return
        self.fanout.announce()
        if self.status is RoomStatus.WAITING and not any(s.is_open for s in self.seats):
            self._start_match(now)

    def _rematch_if_ready(self, now: float) -> None:
        """After a match: start the next one if every seat is filled and every human voted
        (bots always agree); else show the votes and keep the room longer."""
        if self._ready_to_start():
            self._start_match(now)
            return
        self._release_at = now + self.config.finished_room_ttl
        self.fanout.announce()

    def _on_attached(self, command: Attached, now: float) -> None:
        """A member's new connection (or a new spectator): end its grace, send a snapshot."""
        member = command.player
        seat = self.seat_of(member)
        if seat is None:
            if member.player_id in self.spectators:
                self.fanout.announce()
        elif seat.state in (SeatState.AWAY, SeatState.TAKEN_OVER):
            self._set_seat(seat.to(Trigger.RECONNECT))
            if self.status is RoomStatus.PLAYING:
                self._record(records.Reconnected(at=self._wall(), seat=seat.index))
            self.fanout.announce()
            self.fanout.push_states(now)
        if self.is_member(member):
            self.fanout.snapshot(member, now)

    def _on_detached(self, command: Detached, now: float) -> None:
        """A member's connection ended: drop a spectator, start a seat's grace period."""
        member = command.player
        # By identity: a forgotten player's id may be watching again as a new member.
        if self.spectators.get(member.player_id) is member:
            self._unwatch(member)
            self.fanout.announce()
            self._maybe_close()
            return
        seat = self.seat_of(member)
        if seat is None or member.connected:
            return  # not seated, or already back on a new connection
        if self.status is RoomStatus.OVER:
            # No match to protect: free the seat now, so finished rooms do not linger.
            self._vacate(seat)
            self.fanout.announce()
            self._maybe_close()
            return
        if seat.state is SeatState.TAKEN_OVER:
            return  # already played for (a stale event)
        self._set_seat(seat.to(Trigger.DISCONNECT, grace_until=now + self.config.grace_period))
        if self.status is RoomStatus.PLAYING:
            self._record(records.Disconnected(at=self._wall(), seat=seat.index))
        self.fanout.announce()
        self.fanout.push_states(now)

    # -- handlers: the room task ------------------------------------------------------

    def _on_start(self, command: Start, now: float) -> None:
        """The task started: bots only start at once; a recovered match nobody plays ends."""
        if self.status is RoomStatus.WAITING and not any(s.is_open for s in self.seats):
            self._start_match(now)  # every seat is a bot
        # A recovered match whose humans had all left ends now rather than being played
        # out by its bots.
        self._end_if_nobody_plays(now)
        self._schedule(now)

    def _on_closing(self, command: Closing, now: float) -> None:
        """The room closed: end the match of bots nobody watches any more."""
        if self._emptied and self.status is RoomStatus.PLAYING:
            self._abort_match(ABORT_NOBODY_WATCHING, now)

    def _on_recover(self, command: Recover, now: float) -> None:
        """Continue a recovered match: seats as logged, absent players get a grace period."""
        if self.match is not None:
            raise RequestError(ErrorCode.INTERNAL_ERROR, "the room already has a match")
        grace = now + self.config.grace_period
        for seat, recovered in zip(list(self.seats), command.seats):
            if recovered.departed:
                seat = seat.to(Trigger.RECOVER_GONE, name=recovered.name)
            elif recovered.strategy is not None:
                seat = seat.to(Trigger.FILL_BOT, name=recovered.name, strategy=recovered.strategy)
            elif recovered.member is not None:
                seat = seat.to(Trigger.SIT, member=recovered.member, name=recovered.name)
                self.out.entered.append(recovered.member)
                if not recovered.member.connected:
                    seat = seat.to(Trigger.DISCONNECT, grace_until=grace)
            self._set_seat(seat)
        match = command.match
        self.match = match
        self.match_number = command.match_number
        self.status = RoomStatus.PLAYING
        for (player_id, request_id), version in command.applied.items():
            reply = Reply(id=request_id, result=MoveResult(version=version))
            self._applied[(player_id, request_id)] = (payload_of(reply), version, False)
        self.clocks = Clocks(self.clock_settings or ClockSettings(), self.players)
        if command.banks is not None:
            self.clocks.restore(list(command.banks))
        self.clocks.sync(match.to_act(), now)
        if match.version > 0:
            # The log does not say which seats moved: spare them all the first-move deadline.
            self._moved.update(range(self.players))

    def _on_crashed(self, command: Crashed, now: float) -> None:
        """The owner failed carrying out effects (a bug; it logged it): close the room."""
        self._fail(command)

    # -- handlers: timers -------------------------------------------------------------

    def _on_tick(self, command: Tick, now: float) -> None:
        """Act on the earliest due timer: a storage retry, a grace period, the release
        of a finished room, a clock, a first move, a bot (one per tick)."""
        if self.paused:
            if now >= self.retry_at:
                self._retry_storage(now)
            return
        for seat in self.seats:
            if seat.grace_until is not None and seat.grace_until <= now:
                self._grace_expired(seat, now)
                return
        if self.status is RoomStatus.OVER:
            if self._release_at is not None and self._release_at <= now:
                self._release()
            return
        match = self.match
        if match is None or match.over or self.status is not RoomStatus.PLAYING:
            return
        expiry = self.clocks.expiry()
        if expiry is not None and expiry[0] <= now:
            self._time_out(expiry[1], now)
            return
        stalled = sorted(seat for seat, due in self._first_move_due.items() if due <= now)
        if stalled:
            self._first_move_missed(stalled[0], now)
            return
        if self._bot_due is not None and self._bot_due <= now:
            self._bot_due = None
            self._bot_turn(match)

    def _release(self) -> None:
        """The finished room's time is up: tell its members it is closed and close it."""
        self.status = RoomStatus.CLOSED
        self._release_at = None
        self.fanout.announce()
        self.closed = True

    def _grace_expired(self, seat: Seat, now: float) -> None:
        """An absent player's grace period ran out: apply the abandon policy to its seat."""
        member = seat.member
        assert member is not None
        if member.connected:
            # Back already (its ``Attached`` is on the way): the seat is its again.
            self._set_seat(seat.to(Trigger.RECONNECT))
            return
        match = self.match
        if self.status is RoomStatus.PLAYING and match is not None and not match.over:
            if self.config.abandon_policy is AbandonPolicy.BOT:
                name = self.config.takeover_strategy
                self._record(
                    records.Joined(
                        at=self._wall(),
                        seat=seat.index,
                        occupant=records.Occupant(
                            name=seat.name or "", kind=records.OccupantKind.BOT, strategy=name
                        ),
                    )
                )
                strategy = (name, get_strategy(self.game.name, name))
                self._set_seat(seat.to(Trigger.TAKE_OVER, strategy=strategy))
                self.fanout.announce()
                self.fanout.push_states(now)
                self._schedule(now)
                return
            outcome = None
            try:
                outcome = self._transition(seat.index, _Action.FORFEIT, now)
            except RequestError:
                pass  # already out of the match (e.g. eliminated)
            self._record(records.Left(at=self._wall(), seat=seat.index, reason="abandoned"))
            self._vacate(self.seats[seat.index])
            self._publish(outcome, now)
            self._end_if_nobody_plays(now)
        else:
            self._vacate(seat)
        self.fanout.announce()
        self._maybe_close()

    def _first_move_missed(self, index: int, now: float) -> None:
        """A human seat to act made no first move in time: abort the match if nobody has
        moved yet (no game took place), else forfeit that seat, which leaves the match."""
        del self._first_move_due[index]
        if not self._moved:
            self._abort_match(ABORT_NO_FIRST_MOVE, now)
            return
        outcome = self._transition(index, _Action.FORFEIT, now)
        self._record(records.Left(at=self._wall(), seat=index, reason="no first move"))
        self._vacate(self.seats[index])
        self._publish(outcome, now)
        self._end_if_nobody_plays(now)
        self.fanout.announce()
        self._maybe_close()

    def _time_out(self, seat: int, now: float) -> None:
        """The clock of ``seat`` ran out: the rules decide what that means; record, publish."""
        try:
            outcome = self._transition(seat, _Action.TIMEOUT, now)
        except MoveError:
            log.exception("room %s: on_timeout refused seat %d", self.room_id, seat)
            self.clocks.stop_all(now)
            return
        self._publish(outcome, now)

    def _bot_turn(self, match: Match) -> None:
        """Ask the owner to choose a move for the lowest to-act seat the room plays for."""
        for index in sorted(match.to_act()):
            seat = self.seats[index]
            if seat.strategy is None or seat.strategy_name is None:
                continue
            legal = match.legal_moves(index)
            if not legal:
                continue
            self.out.bot_turn = BotTurn(
                seat=index,
                version=match.version,
                strategy=seat.strategy,
                strategy_name=seat.strategy_name,
                view=match.view(index),
                legal=legal,
                rng=self._bot_rng,
            )
            return

    def _on_bot_moved(self, command: BotMoved, now: float) -> None:
        """Play the move a strategy chose (any legal one if it chose an illegal move)."""
        match = self.match
        seat = command.seat
        if (
            match is None
            or match.over
            or match.version != command.version
            or self.status is not RoomStatus.PLAYING
            or not self.seats[seat].bot_controlled
        ):
            return  # the match moved on while the strategy thought
        try:
            outcome = self._transition(seat, _Action.MOVE, now, command.move)
        except RequestError:
            log.error("room %s: strategy %s chose an illegal move", self.room_id, self.seats[seat].strategy_name)
            outcome = self._transition(seat, _Action.MOVE, now, match.legal_moves(seat)[0])
        self._publish(outcome, now)
