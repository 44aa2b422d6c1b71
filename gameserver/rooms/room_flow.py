"""The match lifecycle: starting a match, each transition, the end, and recovery.

A transition (move, resignation, timeout) first changes the ``Match``, then
``_after_transition`` syncs the clocks and appends the record, plus the final state
hash and the end when the game is over, to the match log, awaiting durability; only
then does the room answer the requester and ``_publish`` the new states (and
``match_over``). After each transition a bot move is scheduled if a bot is to act.
"""

from __future__ import annotations

import logging
import math
import secrets

import trio

from gameserver.games.base import state_hash
from gameserver.protocol.errors import ErrorCode, RequestError
from gameserver.protocol.messages import ClockSettings, MatchOver, RoomStatus
from gameserver.replays import records
from gameserver.replays.async_recorder import AsyncMatchRecorder
from gameserver.rooms.clock import Clocks
from gameserver.rooms.journal import StorageUnavailable, match_header, wall_ms
from gameserver.rooms.match import Match
from gameserver.rooms.room_fanout import RoomFanout, outcome_info
from gameserver.rooms.seats import Seat

log = logging.getLogger(__name__)

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
        self.clocks.mark()
        for seat in self.seats:
            if seat.player is not None and not seat.player.connected:
                seat.grace_until = now + self.config.grace_period

    async def _start_match(self) -> None:
        """Start a new match (first or rematch): fresh rules state, clocks and log.

        The log's header is made durable first. If the disk refuses, nothing changes but
        the room pauses; ``_retry_storage`` calls this again until the match starts.
        """
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
                seats=self.seats,
                clock=self.clock_settings,
                private=self.private,
            )
            try:
                await self._journal.start(self.config.replays_dir, header, self.config.fsync)
            except StorageUnavailable as error:
                self._pause(error)
                return
        self._end_pause()
        self.match_number = number
        self.match = match
        self.clocks = Clocks(self.clock_settings or ClockSettings(), self.players)
        self._applied.clear()
        for seat in self.seats:
            seat.wants_rematch = False
        self.status = RoomStatus.PLAYING
        self.clocks.sync(match.to_act(), trio.current_time())
        self.clocks.mark()
        self._host.metrics.matches_started[self.game.name] += 1
        self._announce()
        self._push_states()
        self._schedule_bots()

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
        self._schedule_bots()

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
                    outcome=outcome_info(outcome),
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
        """Every seat's remaining clock time at ``now`` for the log (None without a clock)."""
        return self.clocks.banks_now(now)

    def _require_match(self) -> Match:
        """The running match; raise match_over when none is running."""
        if self.match is None:
            raise RequestError(ErrorCode.MATCH_OVER, "no match is running: it has not started yet")
        if self.match.over:
            raise RequestError(ErrorCode.MATCH_OVER, "the match is over")
        return self.match

    async def _resign_seat(self, seat: Seat) -> None:
        """Resign ``seat`` in the match and log it; the caller then answers and publishes."""
        match = self._require_match()
        now = trio.current_time()
        match.resign(seat.index)
        await self._after_transition(
            records.Resigned(
                at=wall_ms(), seat=seat.index, version=match.version, clocks=self._banks(now)
            )
        )

    def _schedule_bots(self) -> None:
        """Set the bot move deadline when a seat the room plays for is to act."""
        match = self.match
        if match is None or match.over or self._bot_due is not None:
            return
        if any(self.seats[seat].bot_controlled for seat in match.to_act()):
            self._bot_due = trio.current_time() + self.config.bot_delay
