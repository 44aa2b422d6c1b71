"""Timers: clocks running out, grace periods ending, bots moving.

A room has no timer tasks: ``_next_deadline`` is the earliest of the to-act seat's clock
expiry, the scheduled bot move, the first-move deadlines, every grace period and the
release of a finished room, and ``Room.run`` cuts its inbox wait there and calls
``_fire_timers``. All times are ``trio.current_time()``.
"""

from __future__ import annotations

import functools
import logging
import math

import trio

from gameserver.games.base import MoveError
from gameserver.games.strategy import get_strategy
from gameserver.protocol.errors import RequestError
from gameserver.protocol.messages import RoomStatus
from gameserver.replays import records
from gameserver.rooms.config import AbandonPolicy
from gameserver.rooms.journal import wall_ms
from gameserver.rooms.room_seating import RoomSeating
from gameserver.rooms.seats import Seat

log = logging.getLogger(__name__)

#: The reason of the end record when no seat made its first move in time.
ABORT_NO_FIRST_MOVE = "no first move"


class RoomTimers(RoomSeating):
    """Deadlines and what happens when they pass; part of ``Room``."""

    def _next_deadline(self) -> float:
        """When the inbox wait must be cut to fire a timer (inf: no timer pending)."""
        deadlines: list[float] = [math.inf]
        if self.match is not None and not self.match.over:
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

    async def _fire_timers(self) -> None:
        """Act on every deadline that has passed: grace periods, the release of a finished
        room, then a clock, a first move, a bot."""
        now = trio.current_time()
        for seat in self.seats:
            if seat.grace_until is not None and seat.grace_until <= now:
                seat.grace_until = None
                await self._grace_expired(seat)
        if self.status is RoomStatus.OVER and self._release_at is not None:
            if self._release_at <= now:
                self._release()
            return
        match = self.match
        if match is None or match.over or self.status is not RoomStatus.PLAYING:
            return
        expiry = self.clocks.expiry()
        if expiry is not None and expiry[0] <= now:
            await self._time_out(expiry[1], now)
            return
        stalled = sorted(seat for seat, due in self._first_move_due.items() if due <= now)
        if stalled:
            await self._first_move_missed(stalled[0])
            return
        if self._bot_due is not None and self._bot_due <= now:
            self._bot_due = None
            await self._bot_move()

    def _release(self) -> None:
        """The finished room's time is up: tell its members it is closed and close it
        (``Room.run`` then takes it out of everyone's rooms and the lobby)."""
        self.status = RoomStatus.CLOSED
        self._release_at = None
        self._announce()
        self.closed = True

    async def _first_move_missed(self, index: int) -> None:
        """A human seat to act made no first move in time: abort the match if nobody has
        moved yet (no game took place), else forfeit that seat, which leaves the match."""
        del self._first_move_due[index]
        if not self._moved:
            await self._abort_match(ABORT_NO_FIRST_MOVE)
            return
        seat = self.seats[index]
        await self._resign_seat(seat, forfeit=True)
        await self._record(records.Left(at=wall_ms(), seat=index, reason="no first move"))
        self._vacate(seat)
        self._publish()
        await self._end_if_nobody_plays()
        self._announce()
        self._maybe_close()

    async def _grace_expired(self, seat: Seat) -> None:
        """An absent player's grace period ran out: apply the abandon policy to its seat."""
        if seat.player is None or seat.player.connected:
            return
        if self.status is RoomStatus.PLAYING and self.match is not None and not self.match.over:
            if self.config.abandon_policy is AbandonPolicy.BOT:
                strategy = self.config.takeover_strategy
                # Recorded first: if the disk refuses, the seat stays its player's, and
                # the player gets a fresh grace period when the room resumes.
                await self._record(
                    records.Joined(
                        at=wall_ms(),
                        seat=seat.index,
                        occupant=records.Occupant(
                            name=seat.name or "", kind=records.OccupantKind.BOT, strategy=strategy
                        ),
                    )
                )
                seat.takeover = True
                seat.strategy_name = strategy
                seat.strategy = get_strategy(self.game.name, strategy)
                self._announce()
                self._push_states()
                self._schedule()
                return
            try:
                await self._resign_seat(seat, forfeit=True)
            except RequestError:
                pass  # already out of the match (e.g. eliminated)
            await self._record(records.Left(at=wall_ms(), seat=seat.index, reason="abandoned"))
            self._vacate(seat)
            self._publish()
            await self._end_if_nobody_plays()
        else:
            self._vacate(seat)
        self._announce()
        self._maybe_close()

    async def _time_out(self, seat: int, now: float) -> None:
        """The clock of ``seat`` ran out: the rules decide what that means; log and publish."""
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

    async def _bot_move(self) -> None:
        """Play one move for the lowest to-act seat the room plays for."""
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
            self._moved.add(index)
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
