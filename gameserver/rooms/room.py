"""One room: a trio task that alone owns its match.

Seating (``join``, ``spectate``) is synchronous and called by the lobby, so quick match
never races; everything that touches the match goes through the room's inbox and is
handled in order by ``run``. For each transition the room: applies it through the rules,
appends the record to the match log (awaited: durable BEFORE anything is sent), answers
the requester, then pushes every participant its own ``state`` (spectators share one
encoded payload). Timers (clocks, grace periods, bot moves) are deadlines the inbox wait
is cut at; all times come from ``trio.current_time()``.
"""

from __future__ import annotations

import functools
import logging
import math
import random
import secrets
from collections import OrderedDict
from typing import Any, Protocol

import trio

from gameserver.games.base import Game, MoveError, Outcome, state_hash
from gameserver.games.strategy import get_strategy
from gameserver.protocol.codec import encode
from gameserver.protocol.errors import ErrorCode, RequestError
from gameserver.protocol.messages import (
    ChatMessage,
    ClockSettings,
    EmptyResult,
    Error,
    MatchOver,
    MoveResult,
    OutcomeInfo,
    Reply,
    Result,
    RoomStatus,
    RoomSummary,
    RoomUpdate,
    ServerMessage,
    State,
)
from gameserver.replays import records
from gameserver.replays.async_recorder import AsyncMatchRecorder
from gameserver.rooms.clock import Clocks
from gameserver.rooms.journal import Journal, match_header, wall_ms
from gameserver.rooms.commands import (
    Attached,
    ChatRequest,
    Detached,
    LeaveRequest,
    MoveRequest,
    RematchRequest,
    Request,
    ResignRequest,
    RoomCommand,
    SeatsChanged,
)
from gameserver.rooms.config import AbandonPolicy, RoomConfig
from gameserver.rooms.match import Match
from gameserver.rooms.metrics import Metrics
from gameserver.rooms.outbox import Payload
from gameserver.rooms.players import Player
from gameserver.rooms.seats import Seat

log = logging.getLogger(__name__)


class RoomHost(Protocol):
    """What a room reports to (the lobby)."""

    metrics: Metrics

    def room_changed(self, room: Room) -> None:
        """The room's public summary changed."""

    def room_closed(self, room: Room) -> None:
        """The room's task ended; forget it."""


def _payload(message: ServerMessage) -> Payload:
    return Payload(encode(message))


def _outcome_info(outcome: Outcome) -> OutcomeInfo:
    return OutcomeInfo(
        winners=tuple(outcome.winners),
        draw=outcome.draw,
        scores=None if outcome.scores is None else tuple(outcome.scores),
        reason=outcome.reason,
    )



class Room:
    """A room hosting matches of one game; run it with ``await room.run()`` in a nursery."""

    def __init__(
        self,
        room_id: str,
        game: Game,
        *,
        players: int,
        options: dict[str, Any],
        host: RoomHost,
        config: RoomConfig,
        private: bool = False,
        invite_code: str | None = None,
        bots: dict[int, str] | None = None,
        clock: ClockSettings | None = None,
        quick: bool = False,
    ) -> None:
        self.room_id = room_id
        self.game = game
        self.players = players
        self.options = options
        self.private = private
        self.invite_code = invite_code
        self.clock_settings = clock
        self.quick = quick
        self.config = config
        self._host = host
        self.seats = [Seat(index) for index in range(players)]
        for index, strategy_name in (bots or {}).items():
            seat = self.seats[index]
            seat.strategy_name = strategy_name
            seat.strategy = get_strategy(game.name, strategy_name)
            seat.name = f"{strategy_name} bot"
        self.spectators: dict[str, Player] = {}
        self.status = RoomStatus.WAITING
        self.match: Match | None = None
        self.match_number = 0
        self.clocks = Clocks(clock or ClockSettings(), players)
        self.closed = False
        # Unbounded for connection events, which must never be lost; requests are
        # bounded by ``config.inbox_size`` in ``submit``.
        self._inbox_send, self._inbox = trio.open_memory_channel[RoomCommand](math.inf)
        self._pending_requests = 0
        self._journal = Journal(room_id)
        self._bot_rng = random.Random()
        self._bot_due: float | None = None
        self._applied: OrderedDict[tuple[str, int], Payload] = OrderedDict()

    # -- synchronous API for the lobby --------------------------------------------------

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
        )

    @property
    def open_seats(self) -> int:
        """How many seats can still be joined."""
        if self.status is not RoomStatus.WAITING:
            return 0
        return sum(1 for seat in self.seats if seat.is_open)

    def seat_of(self, player: Player) -> Seat | None:
        """The seat ``player`` holds here, if any."""
        for seat in self.seats:
            if seat.player is player:
                return seat
        return None

    def is_member(self, player: Player) -> bool:
        """True if ``player`` holds a seat or watches."""
        return self.seat_of(player) is not None or player.player_id in self.spectators

    def submit(self, command: RoomCommand) -> None:
        """Queue ``command`` for the room task; raise ``RequestError`` when it cannot."""
        if self.closed:
            raise RequestError(ErrorCode.ROOM_NOT_FOUND, f"room {self.room_id} is closed")
        if isinstance(command, Request):
            if self._pending_requests >= self.config.inbox_size:
                raise RequestError(ErrorCode.RATE_LIMITED, "the room is busy; retry in a moment")
            self._pending_requests += 1
        self._inbox_send.send_nowait(command)

    def join(self, player: Player, seat: int | None = None) -> int:
        """Seat ``player`` (at ``seat`` or the lowest open one) and return the seat index.

        Raises ``RequestError`` (room_full, already_in_room, invalid_field). The room
        announces the change and starts the match once every seat is filled.
        """
        if self.closed:
            raise RequestError(ErrorCode.ROOM_NOT_FOUND, f"room {self.room_id} is closed")
        if self.is_member(player):
            raise RequestError(ErrorCode.ALREADY_IN_ROOM, "you are already in this room")
        if self.status is not RoomStatus.WAITING:
            raise RequestError(ErrorCode.ROOM_FULL, "the match in this room has already started")
        if seat is None:
            chosen = next((s for s in self.seats if s.is_open), None)
            if chosen is None:
                raise RequestError(ErrorCode.ROOM_FULL, "every seat is taken")
        else:
            if not 0 <= seat < self.players:
                raise RequestError(
                    ErrorCode.INVALID_FIELD, f"seat must be between 0 and {self.players - 1}"
                )
            chosen = self.seats[seat]
            if not chosen.is_open:
                raise RequestError(ErrorCode.ROOM_FULL, f"seat {seat} is taken")
        self.submit(SeatsChanged())
        chosen.player = player
        chosen.name = player.name
        player.entered_room(self.room_id)
        return chosen.index

    def spectate(self, player: Player) -> None:
        """Add ``player`` as a spectator (public view only)."""
        if self.closed:
            raise RequestError(ErrorCode.ROOM_NOT_FOUND, f"room {self.room_id} is closed")
        if self.is_member(player):
            raise RequestError(ErrorCode.ALREADY_IN_ROOM, "you are already in this room")
        self.submit(Attached(player))
        self.spectators[player.player_id] = player
        player.entered_room(self.room_id)

    def resume(
        self,
        match: Match,
        *,
        match_number: int,
        banks: tuple[int, ...] | None,
        recorder: AsyncMatchRecorder | None,
    ) -> None:
        """Continue a recovered match (before ``run``): its seated players get a grace
        period from now to resume with their tokens."""
        self.match = match
        self.match_number = match_number
        self.status = RoomStatus.PLAYING
        if recorder is not None:
            self._journal.adopt(recorder)
        self.clocks = Clocks(self.clock_settings or ClockSettings(), self.players)
        if banks is not None:
            self.clocks.restore(list(banks))
        now = trio.current_time()
        self.clocks.sync(match.to_act(), now)
        for seat in self.seats:
            if seat.player is not None and not seat.player.connected:
                seat.grace_until = now + self.config.grace_period

    # -- the task ---------------------------------------------------------------------

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Serve the room until it empties or is cancelled (server shutdown).

        On cancellation the match log is closed without an end record, so the match can
        be recovered after a restart.
        """
        task_status.started()
        try:
            if self.status is RoomStatus.WAITING and not any(s.is_open for s in self.seats):
                await self._start_match()  # every seat is a bot
            self._schedule_bots()
            while not self.closed:
                try:
                    await self._fire_timers()
                except Exception:
                    await self._fail("a timer", None)
                if self.closed:
                    break
                with trio.move_on_at(self._next_deadline()):
                    command = await self._inbox.receive()
                    await self._handle(command)
        finally:
            self.closed = True
            self._refuse_pending()
            with trio.CancelScope(shield=True):
                await self._journal.close()
            for seat in self.seats:
                if seat.player is not None:
                    seat.player.left_room(self.room_id)
            for player in self.spectators.values():
                player.left_room(self.room_id)
            self._host.room_closed(self)

    def _refuse_pending(self) -> None:
        """Answer requests still queued when the room closes, so no client waits forever."""
        while True:
            try:
                command = self._inbox.receive_nowait()
            except (trio.WouldBlock, trio.EndOfChannel, trio.ClosedResourceError):
                return
            if isinstance(command, Request):
                self._send_error(
                    command.player,
                    command.request_id,
                    RequestError(ErrorCode.ROOM_NOT_FOUND, f"room {self.room_id} is closed"),
                )

    def _next_deadline(self) -> float:
        deadlines: list[float] = [math.inf]
        if self.match is not None and not self.match.over:
            expiry = self.clocks.expiry()
            if expiry is not None:
                deadlines.append(expiry[0])
            if self._bot_due is not None:
                deadlines.append(self._bot_due)
        deadlines.extend(s.grace_until for s in self.seats if s.grace_until is not None)
        return min(deadlines)

    async def _handle(self, command: RoomCommand) -> None:
        if isinstance(command, Request):
            self._pending_requests -= 1
        try:
            if isinstance(command, MoveRequest):
                await self._on_move(command)
            elif isinstance(command, SeatsChanged):
                await self._on_seats_changed()
            elif isinstance(command, Attached):
                await self._on_attached(command.player)
            elif isinstance(command, Detached):
                await self._on_detached(command.player)
            elif isinstance(command, ChatRequest):
                self._on_chat(command)
            elif isinstance(command, ResignRequest):
                await self._on_resign(command)
            elif isinstance(command, RematchRequest):
                await self._on_rematch(command)
            elif isinstance(command, LeaveRequest):
                await self._on_leave(command)
        except RequestError as error:
            if isinstance(command, Request):
                self._send_error(command.player, command.request_id, error)
        except Exception:
            await self._fail(type(command).__name__, command)

    async def _fail(self, during: str, command: RoomCommand | None) -> None:
        """A bug (e.g. in the rules) hit this room: its match state can no longer be
        trusted. Tell everyone, end the log as aborted and close the room; the rest of
        the server goes on."""
        log.exception("room %s: handling %s failed; the room is closed", self.room_id, during)
        notice = f"room {self.room_id} hit a server error and is closed"
        self.closed = True  # refuse new requests at once
        requester = command.player if isinstance(command, Request) else None
        if isinstance(command, Request):
            self._send_error(
                command.player,
                command.request_id,
                RequestError(ErrorCode.INTERNAL_ERROR, f"the server failed this request; {notice}"),
            )
        for player in self._participants():
            if player is not requester:
                self._host.metrics.error(ErrorCode.INTERNAL_ERROR.value)
                error = Error(id=None, code=ErrorCode.INTERNAL_ERROR.value, message=notice)
                player.send(_payload(error))
        match = self.match
        if match is not None and not match.over and self.status is RoomStatus.PLAYING:
            try:
                ended = records.Ended(
                    at=wall_ms(), version=match.version, reason="server error", aborted=True
                )
                await self._record(ended)
            except Exception:
                log.exception("room %s: cannot end the match log", self.room_id)
        self.closed = True

    # -- answering --------------------------------------------------------------------

    def _reply(self, player: Player, request_id: int, result: Result) -> Payload:
        payload = _payload(Reply(id=request_id, result=result))
        player.send(payload)
        return payload

    def _send_error(self, player: Player, request_id: int, error: RequestError) -> None:
        self._host.metrics.error(error.code.value)
        player.send(_payload(Error(id=request_id, code=error.code.value, message=error.message)))

    def _participants(self) -> list[Player]:
        people = [seat.player for seat in self.seats if seat.player is not None]
        return people + list(self.spectators.values())

    def _broadcast(self, message: ServerMessage, *, key: str | None = None) -> None:
        payload = _payload(message)
        for player in self._participants():
            player.send(payload, key=key)

    def _announce(self) -> None:
        """Push the room summary to its members and the lobby."""
        self._broadcast(RoomUpdate(room=self.summary()), key=f"room:{self.room_id}")
        self._host.room_changed(self)

    def _state_for(self, seat: int | None, now: float) -> State:
        match = self.match
        assert match is not None
        outcome = match.outcome
        to_act = match.to_act()
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
            outcome=None if outcome is None else _outcome_info(outcome),
        )

    def _push_states(self) -> None:
        """Send every participant its own view; spectators share one payload."""
        if self.match is None:
            return
        now = trio.current_time()
        key = f"state:{self.room_id}"
        for seat in self.seats:
            if seat.player is not None and seat.player.connected:
                seat.player.send(_payload(self._state_for(seat.index, now)), key=key)
        if self.spectators:
            shared = _payload(self._state_for(None, now))
            for player in self.spectators.values():
                player.send(shared, key=key)

    def _send_snapshot(self, player: Player) -> None:
        """Bring one (re)connected participant fully up to date."""
        player.send(_payload(RoomUpdate(room=self.summary())), key=f"room:{self.room_id}")
        if self.match is not None:
            seat = self.seat_of(player)
            state = self._state_for(None if seat is None else seat.index, trio.current_time())
            player.send(_payload(state), key=f"state:{self.room_id}")

    # -- the match log ----------------------------------------------------------------

    async def _record(self, *items: records.Record) -> None:
        """Append ``items`` to the match log; returns once they are durable."""

        def current_hash() -> tuple[int, str]:
            assert self.match is not None
            return self.match.version, state_hash(self.game, self.match.state)

        await self._journal.append(items, current_hash)

    # -- match lifecycle ----------------------------------------------------------------

    async def _start_match(self) -> None:
        self.match_number += 1
        seed = secrets.randbits(63)
        self.match = Match(self.game, self.players, self.options, seed)
        self.clocks = Clocks(self.clock_settings or ClockSettings(), self.players)
        self._applied.clear()
        for seat in self.seats:
            seat.wants_rematch = False
        if self.config.replays_dir is not None:
            header = match_header(
                match_id=f"{self.room_id}-{self.match_number}",
                room_id=self.room_id,
                game=self.game.name,
                options=self.options,
                seed=seed,
                seats=self.seats,
                clock=self.clock_settings,
            )
            await self._journal.start(self.config.replays_dir, header, self.config.fsync)
        self.status = RoomStatus.PLAYING
        self.clocks.sync(self.match.to_act(), trio.current_time())
        self._host.metrics.matches_started[self.game.name] += 1
        self._announce()
        self._push_states()
        self._schedule_bots()

    async def _after_transition(self, record: records.Record) -> None:
        """Log a transition (and the end), then update everyone. Call after ``Match`` moved."""
        match = self.match
        assert match is not None
        now = trio.current_time()
        outcome = match.outcome
        if outcome is not None:
            self.clocks.stop_all(now)
        else:
            self.clocks.sync(match.to_act(), now)
        items: list[records.Record] = [record]
        if outcome is not None:
            items.append(
                records.StateHash(
                    at=wall_ms(), version=match.version, hash=state_hash(self.game, match.state)
                )
            )
            items.append(records.Ended.from_outcome(outcome, at=wall_ms(), version=match.version))
        await self._record(*items)
        if outcome is not None:
            await self._journal.close()

    def _publish(self) -> None:
        """Push states (and the end of the match) after a transition has been logged."""
        match = self.match
        assert match is not None
        self._push_states()
        outcome = match.outcome
        if outcome is not None and self.status is RoomStatus.PLAYING:
            self.status = RoomStatus.OVER
            self._bot_due = None
            self._host.metrics.matches_finished[self.game.name] += 1
            self._broadcast(
                MatchOver(
                    room_id=self.room_id,
                    match=self.match_number,
                    version=match.version,
                    outcome=_outcome_info(outcome),
                    replay_id=(
                        f"{self.room_id}-{self.match_number}"
                        if self.config.replays_dir is not None
                        else None
                    ),
                )
            )
            self._announce()
            self._maybe_close()  # e.g. a recovered match nobody came back to
        else:
            self._schedule_bots()

    def _banks(self, now: float) -> tuple[int, ...] | None:
        return self.clocks.banks_now(now)

    # -- requests ---------------------------------------------------------------------

    def _require_seat(self, player: Player) -> Seat:
        seat = self.seat_of(player)
        if seat is None:
            if player.player_id in self.spectators:
                raise RequestError(ErrorCode.NOT_IN_ROOM, "spectators cannot play in this room")
            raise RequestError(ErrorCode.NOT_IN_ROOM, "you hold no seat in this room")
        return seat

    def _require_match(self) -> Match:
        if self.match is None:
            raise RequestError(ErrorCode.MATCH_OVER, "no match is running: it has not started yet")
        if self.match.over:
            raise RequestError(ErrorCode.MATCH_OVER, "the match is over")
        return self.match

    async def _on_move(self, command: MoveRequest) -> None:
        key = (command.player.player_id, command.request_id)
        previous = self._applied.get(key)
        if previous is not None:
            command.player.send(previous)
            return
        seat = self._require_seat(command.player)
        match = self._require_match()
        if command.version != match.version:
            raise RequestError(
                ErrorCode.STALE_VERSION,
                f"the state is at version {match.version}, the move was for {command.version}",
            )
        now = trio.current_time()
        used = self.clocks.elapsed_ms(seat.index, now)
        match.apply(seat.index, command.move)
        self.clocks.charge(seat.index, now)
        await self._after_transition(
            records.Moved(
                at=wall_ms(),
                seat=seat.index,
                version=match.version,
                move=command.move,
                time_used_ms=used,
                clocks=self._banks(now),
            )
        )
        payload = self._reply(command.player, command.request_id, MoveResult(version=match.version))
        self._applied[key] = payload
        while len(self._applied) > self.config.dedupe_window:
            self._applied.popitem(last=False)
        self._publish()

    def _on_chat(self, command: ChatRequest) -> None:
        seat = self.seat_of(command.player)
        if seat is None and command.player.player_id not in self.spectators:
            raise RequestError(ErrorCode.NOT_IN_ROOM, "you are not in this room")
        text = command.text.strip()
        if not text or len(text) > self.config.chat_max_length:
            raise RequestError(
                ErrorCode.CHAT_TOO_LONG,
                f"chat text must be 1 to {self.config.chat_max_length} characters",
            )
        self._reply(command.player, command.request_id, EmptyResult())
        self._broadcast(
            ChatMessage(
                room_id=self.room_id,
                player_id=command.player.player_id,
                name=command.player.name,
                seat=None if seat is None else seat.index,
                text=text,
            )
        )

    async def _resign_seat(self, seat: Seat) -> None:
        match = self._require_match()
        now = trio.current_time()
        match.resign(seat.index)
        await self._after_transition(
            records.Resigned(
                at=wall_ms(), seat=seat.index, version=match.version, clocks=self._banks(now)
            )
        )

    async def _on_resign(self, command: ResignRequest) -> None:
        seat = self._require_seat(command.player)
        await self._resign_seat(seat)
        self._reply(command.player, command.request_id, EmptyResult())
        self._publish()

    async def _on_rematch(self, command: RematchRequest) -> None:
        seat = self._require_seat(command.player)
        if self.status is not RoomStatus.OVER:
            raise RequestError(ErrorCode.MATCH_NOT_OVER, "the match is still being played")
        seat.wants_rematch = True
        self._reply(command.player, command.request_id, EmptyResult())
        if all(s.is_bot or (s.player is not None and s.wants_rematch) for s in self.seats):
            await self._start_match()

    async def _on_leave(self, command: LeaveRequest) -> None:
        player = command.player
        if self.spectators.pop(player.player_id, None) is not None:
            player.left_room(self.room_id)
            self._reply(player, command.request_id, EmptyResult())
            self._announce()
            self._maybe_close()
            return
        seat = self._require_seat(player)
        resigned = False
        if self.status is RoomStatus.PLAYING and self.match is not None and not self.match.over:
            try:
                await self._resign_seat(seat)
                resigned = True
            except RequestError:
                pass  # already out of the match (e.g. eliminated): just leave
            await self._record(records.Left(at=wall_ms(), seat=seat.index))
        self._vacate(seat)
        self._reply(player, command.request_id, EmptyResult())
        if resigned:
            self._publish()
        self._announce()
        self._maybe_close()

    def _vacate(self, seat: Seat) -> None:
        """Remove a seat's player; during a match the seat stays taken (``departed``)."""
        player = seat.player
        if player is None:
            return
        player.left_room(self.room_id)
        seat.player = None
        seat.grace_until = None
        seat.wants_rematch = False
        if self.status is RoomStatus.WAITING:
            seat.name = None
            seat.takeover = False
        else:
            seat.departed = True
            seat.takeover = False
            seat.strategy = None
            seat.strategy_name = None

    def _maybe_close(self) -> None:
        """Close the room once no human holds a seat and nobody watches."""
        if any(seat.player is not None for seat in self.seats) or self.spectators:
            return
        self.closed = True

    # -- connection events ------------------------------------------------------------

    async def _on_seats_changed(self) -> None:
        self._announce()
        if self.status is RoomStatus.WAITING and not any(s.is_open for s in self.seats):
            await self._start_match()

    async def _on_attached(self, player: Player) -> None:
        seat = self.seat_of(player)
        if seat is None:
            if player.player_id in self.spectators:
                self._announce()
        elif seat.grace_until is not None or seat.takeover:
            seat.grace_until = None
            if seat.takeover:
                seat.takeover = False
                seat.strategy = None
                seat.strategy_name = None
            if self.status is RoomStatus.PLAYING:
                await self._record(records.Reconnected(at=wall_ms(), seat=seat.index))
            self._announce()
            self._push_states()
        if self.is_member(player):
            self._send_snapshot(player)

    async def _on_detached(self, player: Player) -> None:
        # By identity: a forgotten player's id may be watching again as a new Player.
        if self.spectators.get(player.player_id) is player:
            del self.spectators[player.player_id]
            player.left_room(self.room_id)
            self._announce()
            self._maybe_close()
            return
        seat = self.seat_of(player)
        if seat is None or player.connected:
            return  # not seated, or already back on a new connection
        if self.status is RoomStatus.OVER:
            # No match to protect: free the seat now, so finished rooms do not linger.
            self._vacate(seat)
            self._announce()
            self._maybe_close()
            return
        seat.grace_until = trio.current_time() + self.config.grace_period
        if self.status is RoomStatus.PLAYING:
            await self._record(records.Disconnected(at=wall_ms(), seat=seat.index))
        self._announce()
        self._push_states()

    # -- timers -------------------------------------------------------------------------

    async def _fire_timers(self) -> None:
        now = trio.current_time()
        for seat in self.seats:
            if seat.grace_until is not None and seat.grace_until <= now:
                seat.grace_until = None
                await self._grace_expired(seat)
        match = self.match
        if match is None or match.over or self.status is not RoomStatus.PLAYING:
            return
        expiry = self.clocks.expiry()
        if expiry is not None and expiry[0] <= now:
            await self._time_out(expiry[1], now)
            return
        if self._bot_due is not None and self._bot_due <= now:
            self._bot_due = None
            await self._bot_move()

    async def _grace_expired(self, seat: Seat) -> None:
        if seat.player is None or seat.player.connected:
            return
        if self.status is RoomStatus.PLAYING and self.match is not None and not self.match.over:
            if self.config.abandon_policy is AbandonPolicy.BOT:
                seat.takeover = True
                seat.strategy_name = self.config.takeover_strategy
                seat.strategy = get_strategy(self.game.name, self.config.takeover_strategy)
                await self._record(
                    records.Joined(
                        at=wall_ms(),
                        seat=seat.index,
                        occupant=records.Seat(
                            name=seat.name or "",
                            kind=records.SeatKind.BOT,
                            strategy=seat.strategy_name,
                        ),
                    )
                )
                self._announce()
                self._push_states()
                self._schedule_bots()
                return
            try:
                await self._resign_seat(seat)
            except RequestError:
                pass
            await self._record(records.Left(at=wall_ms(), seat=seat.index, reason="abandoned"))
            self._vacate(seat)
            self._publish()
        else:
            self._vacate(seat)
        self._announce()
        self._maybe_close()

    async def _time_out(self, seat: int, now: float) -> None:
        match = self.match
        assert match is not None
        self.clocks.timed_out(seat, now)
        try:
            match.timeout(seat)
        except MoveError:
            log.exception("room %s: on_timeout refused seat %d", self.room_id, seat)
            self.clocks.stop_all(now)
            return
        await self._after_transition(
            records.TimedOut(
                at=wall_ms(), seat=seat, version=match.version, clocks=self._banks(now)
            )
        )
        self._publish()

    def _schedule_bots(self) -> None:
        match = self.match
        if match is None or match.over or self._bot_due is not None:
            return
        if any(self.seats[seat].bot_controlled for seat in match.to_act()):
            self._bot_due = trio.current_time() + self.config.bot_delay

    async def _bot_move(self) -> None:
        match = self.match
        assert match is not None
        for index in sorted(match.to_act()):
            seat = self.seats[index]
            if not seat.bot_controlled or seat.strategy is None:
                continue
            legal = match.legal_moves(index)
            if not legal:
                continue
            # Strategies may think for tens of milliseconds: keep the event loop free.
            choose = functools.partial(
                seat.strategy.choose, match.view(index), legal, self._bot_rng
            )
            try:
                if self.config.bots_in_thread:
                    move = await trio.to_thread.run_sync(choose)
                else:
                    move = choose()
            except Exception:
                # A broken strategy must not stall the match: play any legal move.
                log.exception("room %s: strategy %s failed", self.room_id, seat.strategy_name)
                move = self._bot_rng.choice(legal)
            now = trio.current_time()
            used = self.clocks.elapsed_ms(index, now)
            try:
                match.apply(index, move)
            except RequestError:
                log.error("room %s: strategy %s chose an illegal move", self.room_id, seat.strategy_name)
                move = legal[0]
                match.apply(index, move)
            self.clocks.charge(index, now)
            await self._after_transition(
                records.Moved(
                    at=wall_ms(),
                    seat=index,
                    version=match.version,
                    move=move,
                    time_used_ms=used,
                    clocks=self._banks(now),
                )
            )
            self._publish()
            return
