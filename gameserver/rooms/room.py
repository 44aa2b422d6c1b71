"""One room: a thin trio task around its ``RoomCore`` (``rooms/core.py``).

The task owns the core and feeds it one command at a time: commands from its inbox
(requests and connection events, queued by ``submit``), ``Tick`` when
``core.next_deadline()`` passes, ``BotMoved`` once a strategy chose, ``StorageFailed``
when the log refuses a write. For each command's ``Effects`` it appends the records to
the match log and awaits them (durable BEFORE anything is sent), then tells members
they entered or left, sends the replies and pushes, counts the metrics and tells the
lobby. All times come from ``trio.current_time()``.

Requests run inline. When the task waits on an empty inbox and no deadline has passed,
``submit`` feeds a request to the core in the caller's task (the connection that read
it) instead of waking the room's task: that is what the task would do next anyway. If
the effects need nothing awaited (no log to write or close, no bot to ask, the room
stays open) the caller delivers them too and moves the task's wake-up to the core's
new deadline; otherwise it hands the effects to the task, which carries them out as if
it had handled the request itself. Either way the core sees the same commands in the
same order, and nothing is sent before its records are durable.

The lobby calls ``join`` and ``spectate``: they run through the core synchronously (see
``rooms/core.py`` on quick match) and queue the announcement for the task. Recovery
calls ``recover`` before ``run``.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from typing import Any, Protocol

import attrs
import trio

from gameserver.games.base import AnyGame
from gameserver.protocol.errors import ErrorCode, RequestError
from gameserver.protocol.messages import ClockSettings, Error, RoomStatus, RoomSummary
from gameserver.rooms.commands import (
    Attached,
    BotMoved,
    Closing,
    Crashed,
    Join,
    LogReady,
    Recover,
    Request,
    RoomCommand,
    SeatsChanged,
    Spectate,
    Start,
    StorageFailed,
    Tick,
)
from gameserver.rooms.config import RoomConfig
from gameserver.rooms.core import RoomCore
from gameserver.rooms.effects import BotTurn, Effects
from gameserver.rooms.fanout import payload_of
from gameserver.rooms.journal import (
    FileLogs,
    Journal,
    MatchLog,
    MatchLogs,
    StepDown,
    StorageUnavailable,
)
from gameserver.rooms.match import Match
from gameserver.rooms.members import Member, RoomMetrics
from gameserver.rooms.seat_states import Seat

log = logging.getLogger(__name__)


class RoomHost(Protocol):
    """What a room reports to (the lobby)."""

    @property
    def metrics(self) -> RoomMetrics:
        """Where the room counts errors, matches and storage failures."""

    def room_changed(self, room: Room) -> None:
        """The room's public summary changed."""

    def room_closed(self, room: Room) -> None:
        """The room's task ended; forget it."""

    def match_finished(self, room: Room, match_id: str) -> None:
        """A recorded match ended and its log is closed (ratings read it)."""


class Room:
    """A room hosting matches of one game; run it with ``await room.run()`` in a nursery.

    Construct it with ``RoomCore``'s arguments and the ``host``; the lobby then calls
    ``join`` and ``spectate`` and queues commands with ``submit``; recovery calls
    ``recover`` first. The read-only attributes mirror the core's.
    """

    def __init__(
        self,
        room_id: str,
        game: AnyGame,
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
        rated: bool = False,
    ) -> None:
        self.core = RoomCore(
            room_id, game, players=players, options=options, config=config, private=private,
            invite_code=invite_code, bots=bots, clock=clock, quick=quick, rated=rated,
        )
        self.room_id = room_id
        self.game = game
        self.players = players
        self.options = options
        self.private = private
        self.invite_code = invite_code
        self.clock_settings = clock
        self.quick = quick
        self.rated = rated
        self.config = config
        self._host = host
        self._metrics = host.metrics
        # Unbounded for connection events, which must never be lost; requests are
        # bounded by ``config.inbox_size`` in ``submit``.
        self._inbox_send, self._inbox = trio.open_memory_channel[RoomCommand](math.inf)
        self._pending_requests = 0
        # The task's wait while its inbox is empty (None while it works or has commands
        # queued): a request may then run inline, and the wait's deadline follows the core.
        self._idle: trio.CancelScope | None = None
        # With no log to write, records need no waiting (see ``_must_wait``).
        self._recording = config.replays_dir is not None
        self._journal = Journal(room_id, self._match_logs)
        self._stopped = False

    # -- what the lobby and the sessions read --------------------------------------------

    @property
    def closed(self) -> bool:
        """True once the room takes no more commands."""
        return self._stopped or self.core.closed

    @property
    def status(self) -> RoomStatus:
        return self.core.status

    @property
    def match(self) -> Match | None:
        return self.core.match

    @property
    def match_number(self) -> int:
        return self.core.match_number

    @property
    def paused(self) -> bool:
        return self.core.paused

    @property
    def seats(self) -> Sequence[Seat]:
        return tuple(self.core.seats)

    @property
    def spectators(self) -> dict[str, Member]:
        return self.core.spectators

    @property
    def open_seats(self) -> int:
        """How many seats can be joined before the first match (what quick match fills)."""
        return self.core.open_seats

    def summary(self) -> RoomSummary:
        """The room as the lobby and ``room`` pushes show it."""
        return self.core.summary()

    def seat_of(self, member: Member) -> Seat | None:
        """The seat ``member`` holds here, if any."""
        return self.core.seat_of(member)

    def is_member(self, member: Member) -> bool:
        """True if ``member`` holds a seat or watches."""
        return self.core.is_member(member)

    # -- what the lobby, the sessions and recovery call ----------------------------------

    def submit(self, command: RoomCommand) -> None:
        """Run ``command`` (a request, when the room is idle: see the module docstring)
        or queue it for the room task; raise ``RequestError`` when it cannot."""
        if self.closed:
            raise RequestError(ErrorCode.ROOM_NOT_FOUND, f"room {self.room_id} is closed")
        if isinstance(command, Request):
            idle = self._idle
            if idle is not None:
                now = trio.current_time()
                if now < idle.deadline:
                    self._run_inline(command, idle, now)
                    return
            if self._pending_requests >= self.config.inbox_size:
                raise RequestError(ErrorCode.RATE_LIMITED, "the room is busy; retry in a moment")
            self._pending_requests += 1
        self._queue(command)

    def _queue(self, command: RoomCommand) -> None:
        """Put ``command`` in the inbox; the task is no longer idle."""
        self._idle = None
        self._inbox_send.send_nowait(command)

    def join(self, member: Member, seat: int | None = None) -> int:
        """Seat ``member`` (at ``seat`` or the lowest open one) and return the seat index.

        Raises ``RequestError`` (room_full, already_in_room, invalid_field, room_not_found).
        The room task then announces the change and starts the match once every seat is
        filled.
        """
        effects = self.core.handle(Join(member, seat), trio.current_time())
        self._deliver(effects)
        self.submit(SeatsChanged())
        assert effects.seated is not None
        return effects.seated

    def spectate(self, member: Member) -> None:
        """Add ``member`` as a spectator (public view only); raise ``RequestError``."""
        effects = self.core.handle(Spectate(member), trio.current_time())
        self._deliver(effects)
        self.submit(Attached(member))

    def recover(self, command: Recover, recorder: MatchLog | None) -> None:
        """Continue a recovered match (before ``run``), appending to its reopened log."""
        effects = self.core.handle(command, trio.current_time())
        if recorder is not None:
            self._journal.adopt(recorder)
        self._deliver(effects)

    # -- the task ------------------------------------------------------------------------

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Serve the room until it empties, is released or is cancelled (server shutdown).

        On cancellation the match log is closed without an end record, so the match can
        be recovered after a restart; a room that emptied ends a running match first.
        """
        task_status.started()
        core = self.core
        try:
            await self._feed(Start())
            while not core.closed:
                deadline = core.next_deadline()
                if deadline <= trio.current_time():
                    await self._feed(Tick())
                    continue
                command = await self._next_command(deadline)
                if isinstance(command, _HandledRequest):
                    if command.effects is None:
                        await self._crash()
                    else:
                        await self._feed(command.request, command.effects)
                elif command is not None:
                    if isinstance(command, Request):
                        self._pending_requests -= 1
                    await self._feed(command)
            await self._feed(Closing())
        except StepDown as exc:
            # Fenced: another node owns the room now. Send nothing, just forget it.
            log.warning("room %s: stepping down: %s", self.room_id, exc)
        finally:
            self._stopped = True
            self._metrics.storage_ok(self.room_id)
            self._refuse_pending()
            with trio.CancelScope(shield=True):
                await self._journal.close()
            for seat in core.seats:
                if seat.member is not None:
                    seat.member.left_room(self.room_id)
            for member in core.spectators.values():
                member.left_room(self.room_id)
            self._host.room_closed(self)

    async def _feed(self, command: RoomCommand, effects: Effects | None = None) -> None:
        """Hand ``command`` to the core (unless ``effects`` are its effects already) and
        carry out its effects; a failure of our own while doing so (a bug) closes the
        room."""
        try:
            if effects is None:
                effects = self.core.handle(command, trio.current_time())
            await self._carry_out(effects)
        except StepDown:
            raise
        except Exception:
            log.exception("room %s: carrying out %s failed", self.room_id, type(command).__name__)
            await self._crash()

    async def _crash(self) -> None:
        """Close the room after a bug (``Crashed``)."""
        try:
            await self._carry_out(self.core.handle(Crashed(), trio.current_time()))
        except Exception:
            log.exception("room %s: cannot end the match log", self.room_id)

    def _run_inline(self, command: Request, idle: trio.CancelScope, now: float) -> None:
        """Feed ``command`` to the core in the caller's task while the room task is idle;
        deliver its effects when nothing needs awaiting, else hand them to the task."""
        core = self.core
        effects = core.handle(command, now)
        if self._must_wait(effects):
            self._queue(_HandledRequest(command, effects))
            return
        try:
            self._deliver(effects)
        except Exception:
            log.exception("room %s: carrying out %s failed", self.room_id, type(command).__name__)
            self._queue(_HandledRequest(command, None))
            return
        deadline = core.next_deadline()
        if deadline != idle.deadline:
            idle.deadline = deadline

    def _must_wait(self, effects: Effects) -> bool:
        """True when carrying out ``effects`` awaits something (only the task may)."""
        if self._recording and (effects.durable_work or effects.close_log):
            return True
        return effects.bot_turn is not None or effects.probe or self.core.closed

    async def _next_command(self, deadline: float) -> RoomCommand | None:
        """The next command from the inbox; None once ``deadline`` passed first. While
        the inbox is empty the room is idle: requests may run inline meanwhile."""
        if self._inbox.statistics().current_buffer_used:
            return await self._inbox.receive()
        with trio.move_on_at(deadline) as idle:
            self._idle = idle
            try:
                return await self._inbox.receive()
            finally:
                self._idle = None
        return None

    async def _carry_out(self, effects: Effects) -> None:
        """Make the effects' log work durable, then do the rest (see ``rooms/effects.py``)."""
        ready = False
        if effects.durable_work:
            try:
                await self._write(effects)
                ready = effects.open_log is not None or effects.probe
            except StorageUnavailable as error:
                effects = self.core.handle(StorageFailed(str(error)), trio.current_time())
        if effects.close_log:
            await self._journal.close()
        self._deliver(effects)
        if ready:
            await self._feed(LogReady())
        if effects.bot_turn is not None:
            move = await self._choose(effects.bot_turn)
            await self._feed(BotMoved(effects.bot_turn.seat, effects.bot_turn.version, move))

    def _match_logs(self) -> MatchLogs:
        """Where this room's match logs go (files in ``replays_dir`` unless configured)."""
        config = self.config
        if config.match_logs is not None:
            return config.match_logs
        assert config.replays_dir is not None
        return FileLogs(config.replays_dir, config.fsync)

    async def _write(self, effects: Effects) -> None:
        """Create the new match's log, append the records, or probe a paused log."""
        if effects.open_log is not None:
            await self._journal.start(effects.open_log)
        elif effects.records:
            await self._journal.append(effects.records, self.core.current_hash)
        elif effects.probe:
            await self._journal.probe(self.core.current_hash)

    def _deliver(self, effects: Effects) -> None:
        """Membership, then the sends in order, then the counters and the lobby."""
        room_id = self.room_id
        for member in effects.left:
            member.left_room(room_id)
        for member in effects.entered:
            member.entered_room(room_id)
        for member, payload, key in effects.sends:
            member.send(payload, key=key)
        metrics = self._metrics
        for code in effects.errors:
            metrics.error(code)
        if effects.matches_started:
            metrics.match_started(self.game.name)
        if effects.matches_finished:
            metrics.match_finished(self.game.name)
        if effects.storage_error is not None:
            metrics.storage_failed(room_id, effects.storage_error)
        elif effects.storage_ok:
            metrics.storage_ok(room_id)
        if effects.summary_changed:
            self._host.room_changed(self)
        if effects.finished_log is not None:
            self._host.match_finished(self, effects.finished_log)

    async def _choose(self, turn: BotTurn) -> Any:
        """The move of a bot's strategy; any legal move when the strategy fails."""
        try:
            # Strategies may think for tens of milliseconds: keep the event loop free.
            if self.config.bots_in_thread:
                return await trio.to_thread.run_sync(turn.choose)
            return turn.choose()
        except Exception:
            # A broken strategy must not stall the match.
            log.exception("room %s: strategy %s failed", self.room_id, turn.strategy_name)
            return turn.rng.choice(turn.legal)

    def _refuse_pending(self) -> None:
        """Answer requests still queued when the room closes, so no client waits forever."""
        while True:
            try:
                command = self._inbox.receive_nowait()
            except (trio.WouldBlock, trio.EndOfChannel, trio.ClosedResourceError):
                return
            if isinstance(command, _HandledRequest):
                command = command.request  # not carried out: it counts as refused
            if isinstance(command, Request):
                code = ErrorCode.ROOM_NOT_FOUND.value
                self._metrics.error(code)
                message = Error(id=command.request_id, code=code, message=f"room {self.room_id} is closed")
                command.player.send(payload_of(message))


@attrs.frozen
class _HandledRequest(RoomCommand):
    """A request the core handled inline (``Room.submit``) whose effects the task must
    carry out (None: delivering them failed, a bug; the room closes)."""

    request: Request
    effects: Effects | None


__all__ = ["Room", "RoomHost"]
