"""The match lifecycle: starting a match, each transition, the end, and recovery.

A transition (move, resignation, timeout) first changes the ``Match``, then
``_after_transition`` syncs the clocks and appends the record, plus the final state
hash and the end when the game is over, to the match log, awaiting durability; only
then does the room answer the requester and ``_publish`` the new states (and
``match_over``). After each transition ``_schedule`` sets the next bot move and the
first-move deadlines. A match ends by its rules (``_publish`` then calls ``_finish_match``) or is
aborted by the room (``_abort_match``: nobody left to play, or no first move); either
way the log gets its ``Ended`` record, so a finished match is never recovered.

A rematch rotates the seats by one (two seats swap), so the first mover changes.
"""

from __future__ import annotations

import logging
import math
import secrets

import trio

from gameserver.games.base import Termination, state_hash
from gameserver.protocol.errors import ErrorCode, RequestError
from gameserver.protocol.messages import (
    ClockSettings,
    MatchOver,
    MoveResult,
    OutcomeInfo,
    Reply,
    RoomStatus,
)
from gameserver.replays import records
from gameserver.replays.applied import AppliedRequests
from gameserver.replays.async_recorder import AsyncMatchRecorder
from gameserver.rooms.clock import Clocks
from gameserver.rooms.journal import StorageUnavailable, match_header, wall_ms
from gameserver.rooms.match import Match
from gameserver.rooms.room_fanout import RoomFanout, outcome_info, payload_of
from gameserver.rooms.seats import Seat

log = logging.getLogger(__name__)

#: The reason of the end record when the last human left a match only bots still play.
ABORT_NO_PLAYERS = "no players left"

# Records of a seat's connection coming and going: they change nothing a client is told
# or relies on, so when they cannot be written the room pauses but the caller goes on.
_PRESENCE = (records.Disconnected, records.Reconnected)


class MatchFlow(RoomFanout):
    """Starting, advancing, ending and resuming the match; part of ``Room``."""

    def resume(
        self,
        match: Match,
        *,
        match_number: int,
        banks: tuple[int, ...] | None,
        recorder: AsyncMatchRecorder | None,
        applied: AppliedRequests,
    ) -> None:
        """Continue a recovered match (before ``run``): its seated players get a grace
        period from now to resume with their tokens. ``applied`` (from the log, see
        ``replays.applied``): moves resent with these ids get their original reply."""
        for (player_id, request_id), version in applied.items():
            reply = Reply(id=request_id, result=MoveResult(version=version))
            self._applied[(player_id, request_id)] = payload_of(reply)
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
        self.clocks.mark()
        for seat in self.seats:
            if seat.player is not None and not seat.player.connected:
                seat.grace_until = now + self.config.grace_period
        if match.version > 0:
            # The log does not say which seats moved: spare them all the first-move deadline.
            self._moved.update(range(self.players))

    async def _start_match(self) -> None:
        """Start a new match (first or rematch): fresh rules state, clocks and log.

        A rematch rotates the seats. The log's header is made durable first. If the disk
        refuses, nothing changes but the room pauses; ``_retry_storage`` calls this again
        until the match starts.
        """
        rotate = self.match_number > 0
        seating = self.seats[-1:] + self.seats[:-1] if rotate else self.seats
        number = self.match_number + 1
        seed = secrets.randbits(63)
        match = Match(self.game, self.players, self.options, seed)
        if self.config.replays_dir is not None:
            header = match_header(
                match_id=f"{self.room_id}-{number}",
                room_id=self.room_id,
                game=self.game.name,
                options=self.options,
                seed=seed,
                seats=seating,
                clock=self.clock_settings,
                private=self.private,
                rated=self.rated,
            )
            try:
                await self._journal.start(self.config.replays_dir, header, self.config.fsync)
            except StorageUnavailable as error:
                self._pause(error)
                return
        self._end_pause()
        if rotate:
            self._rotate_seats()
        self.match_number = number
        self.match = match
        self.clocks = Clocks(self.clock_settings or ClockSettings(), self.players)
        self._applied.clear()
        self._moved.clear()
        self._first_move_due.clear()
        self._release_at = None
        self._aborted = None
        for seat in self.seats:
            seat.wants_rematch = False
            seat.newcomer = False
        self.status = RoomStatus.PLAYING
        self.clocks.sync(match.to_act(), trio.current_time())
        self.clocks.mark()
        self._host.metrics.matches_started[self.game.name] += 1
        self._announce()
        self._push_states()
        self._schedule()

    def _rotate_seats(self) -> None:
        """Move every occupant one seat on (the last to seat 0): two seats swap, so the
        player who moved second moves first in the rematch."""
        self.seats = self.seats[-1:] + self.seats[:-1]
        for index, seat in enumerate(self.seats):
            seat.index = index

    async def _after_transition(self, record: records.Record) -> None:
        """Log a transition (and the end), then update everyone. Call after ``Match`` moved.

        Raises ``StorageUnavailable`` when the log refuses it: the transition is undone
        and the caller must neither answer success nor publish (``_record``).
        """
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

    async def _record(self, *items: records.Record) -> None:
        """Append ``items`` to the match log; returns once they are durable.

        When they cannot be made durable (and at once while the room is paused) the room
        pauses and ``StorageUnavailable`` is raised: a transition among ``items`` (always
        the match's latest) is undone first, on the match and on the clocks, so nobody is
        ever told about it. Only presence records are dropped quietly instead.
        """
        transition = any(isinstance(item, records.STATE_EVENTS) for item in items)
        try:
            if self.paused:
                raise StorageUnavailable("the room is paused until its match log takes writes")
            await self._journal.append(items, self._current_hash)
        except StorageUnavailable as error:
            if transition:
                assert self.match is not None
                self.match.undo()
                self.clocks.rewind()
            if not self.paused:
                self._pause(error)
            if all(isinstance(item, _PRESENCE) for item in items):
                return
            raise
        if transition:
            self.clocks.mark()

    def _pause(self, error: StorageUnavailable) -> None:
        """The match log refused a write: stop play (clocks, bots, timers) and tell everyone.

        Counts the failure; the room retries at ``_retry_at`` (``_retry_storage``).
        """
        self._host.metrics.storage_failed(self.room_id, str(error))
        if self.paused:
            return
        log.warning("room %s paused: %s; retrying every %g s", self.room_id, error, self.config.storage_retry)
        now = trio.current_time()
        self.paused = True
        self._retry_at = now + self.config.storage_retry
        self.clocks.stop_all(now)
        self._bot_due = None
        self._announce()
        self._push_states()

    def _end_pause(self) -> None:
        """Forget the pause (the log took a write); the caller tells everyone."""
        if self.paused:
            log.warning("room %s: the match log takes writes again; play resumes", self.room_id)
        self.paused = False
        self._retry_at = math.inf
        self._host.metrics.storage_ok(self.room_id)

    async def _retry_storage(self) -> None:
        """Paused: write again what must be written; play on once it is durable.

        A running match appends a state hash (the refused move is for its client to send
        again); a match that could not start tries its header again.
        """
        self._retry_at = trio.current_time() + self.config.storage_retry
        if self.status is not RoomStatus.PLAYING and self._ready_to_start():
            await self._start_match()  # starts (and ends the pause) or stays paused
            return
        if self.status is RoomStatus.PLAYING:
            try:
                await self._journal.probe(self._current_hash)
            except StorageUnavailable as error:
                self._host.metrics.storage_failed(self.room_id, str(error))
                return
        self._resume_play()

    def _ready_to_start(self) -> bool:
        """Whether the next match is due: every seat taken (waiting) or every vote in (over)."""
        if self.status is RoomStatus.WAITING:
            return not any(seat.is_open for seat in self.seats)
        return all(s.is_bot or (s.player is not None and s.wants_rematch) for s in self.seats)

    def _resume_play(self) -> None:
        """End the pause of a running match: clocks restart, absent players get a fresh grace
        period (the pause was not theirs), bots move again, everyone gets a ``state``."""
        self._end_pause()
        match = self.match
        if self.status is RoomStatus.PLAYING and match is not None:
            now = trio.current_time()
            self.clocks.sync(match.to_act(), now)
            self.clocks.mark()
            for seat in self.seats:
                if seat.player is not None and not seat.player.connected and not seat.takeover:
                    seat.grace_until = max(seat.grace_until or now, now + self.config.grace_period)
        self._announce()
        self._push_states()
        # The pause was not the players' fault: first-move deadlines start again from now.
        self._first_move_due.clear()
        self._schedule()

    def _publish(self) -> None:
        """Push states (and the end of the match) after a transition has been logged."""
        match = self.match
        assert match is not None
        self._push_states()
        outcome = match.outcome
        if outcome is not None and self.status is RoomStatus.PLAYING:
            self._finish_match(outcome_info(outcome))
        else:
            self._schedule()

    def _finish_match(self, outcome: OutcomeInfo) -> None:
        """The match is over and its end is logged: tell everyone, free the seats of
        players who left it, and give the room ``finished_room_ttl`` to rematch. (A
        player still within its grace period keeps the seat until the period ends.)"""
        match = self.match
        assert match is not None
        self.status = RoomStatus.OVER
        self._bot_due = None
        self._first_move_due.clear()
        self._release_at = trio.current_time() + self.config.finished_room_ttl
        self._host.metrics.matches_finished[self.game.name] += 1
        self._broadcast(
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
            if seat.departed:
                self._free_seat(seat)
        self._announce()
        if self.config.replays_dir is not None:  # ratings read the closed log (issue 18)
            self._host.match_finished(self, f"{self.room_id}-{self.match_number}")
        self._maybe_close()  # e.g. a recovered match nobody came back to

    async def _abort_match(self, reason: str) -> None:
        """End the running match without a result (``Ended`` with ``aborted``), e.g.
        when no human is left to play it; the room then goes on as after any end."""
        match = self.match
        assert match is not None and not match.over
        self.clocks.stop_all(trio.current_time())
        await self._record(
            records.Ended.aborted_match(reason, at=wall_ms(), version=match.version)
        )
        await self._journal.close()
        self._aborted = OutcomeInfo(
            winners=(), draw=False, scores=None, reason=reason, termination=Termination.ABORTED
        )
        self._push_states()
        self._finish_match(self._aborted)

    async def _end_if_nobody_plays(self) -> None:
        """Abort the running match once no human holds a seat of it and at least one
        human left it (a match of bots only, from the start, plays on for its watchers)."""
        match = self.match
        if self.status is not RoomStatus.PLAYING or match is None or match.over:
            return
        if any(seat.player is not None for seat in self.seats):
            return
        if any(seat.departed for seat in self.seats):
            await self._abort_match(ABORT_NO_PLAYERS)

    def _free_seat(self, seat: Seat) -> None:
        """Make ``seat`` open (after the match): its player, if any, leaves the room."""
        if seat.player is not None:
            seat.player.left_room(self.room_id)
        seat.player = None
        seat.name = None
        seat.grace_until = None
        seat.takeover = False
        seat.strategy = None
        seat.strategy_name = None
        seat.departed = False
        seat.wants_rematch = False

    def _banks(self, now: float) -> tuple[int, ...] | None:
        """Every seat's remaining clock time at ``now`` for the log (None without a clock)."""
        return self.clocks.banks_now(now)

    def _require_match(self) -> Match:
        """The running match; raise match_over when none is running."""
        if self.match is None:
            raise RequestError(ErrorCode.MATCH_OVER, "no match is running: it has not started yet")
        if self.match.over:
            raise RequestError(ErrorCode.MATCH_OVER, "the match is over")
        return self.match

    async def _resign_seat(self, seat: Seat, *, forfeit: bool = False) -> None:
        """Resign ``seat`` (``forfeit``: the room forfeits it) in the match and log it;
        the caller then answers and publishes."""
        match = self._require_match()
        now = trio.current_time()
        match.resign(seat.index, forfeit=forfeit)
        await self._after_transition(
            records.Resigned(
                at=wall_ms(),
                seat=seat.index,
                version=match.version,
                clocks=self._banks(now),
                forfeit=forfeit,
            )
        )

    def _schedule(self) -> None:
        """After a transition: set the next bot move and the first-move deadlines."""
        self._schedule_bots()
        self._schedule_first_moves()

    def _schedule_bots(self) -> None:
        """Set the bot move deadline when a seat the room plays for is to act."""
        match = self.match
        if match is None or match.over or self._bot_due is not None:
            return
        if any(self.seats[seat].bot_controlled for seat in match.to_act()):
            self._bot_due = trio.current_time() + self.config.bot_delay

    def _schedule_first_moves(self) -> None:
        """Give each human seat that is to act, and has not moved yet in this untimed
        match, ``first_move_timeout`` seconds from when it first had to act."""
        match = self.match
        timeout = self.config.first_move_timeout
        if match is None or match.over or timeout is None or self.clock_settings is not None:
            self._first_move_due.clear()
            return
        now = trio.current_time()
        self._first_move_due = {
            index: self._first_move_due.get(index, now + timeout)
            for index in match.to_act()
            if index not in self._moved and not self.seats[index].bot_controlled
        }
