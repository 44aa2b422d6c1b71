"""The match lifecycle: starting a match, each transition, the end, and recovery.

A transition (move, resignation, timeout) first changes the ``Match``, then
``_after_transition`` syncs the clocks and appends the record, plus the final state
hash and the end when the game is over, to the match log, awaiting durability; only
then does the room answer the requester and ``_publish`` the new states (and
``match_over``). After each transition a bot move is scheduled if a bot is to act.
"""

from __future__ import annotations

import logging
import secrets

import trio

from gameserver.games.base import state_hash
from gameserver.protocol.errors import ErrorCode, RequestError
from gameserver.protocol.messages import ClockSettings, MatchOver, RoomStatus
from gameserver.replays import records
from gameserver.replays.async_recorder import AsyncMatchRecorder
from gameserver.rooms.clock import Clocks
from gameserver.rooms.journal import match_header, wall_ms
from gameserver.rooms.match import Match
from gameserver.rooms.room_fanout import RoomFanout, outcome_info
from gameserver.rooms.seats import Seat

log = logging.getLogger(__name__)


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
        for seat in self.seats:
            if seat.player is not None and not seat.player.connected:
                seat.grace_until = now + self.config.grace_period

    async def _start_match(self) -> None:
        """Start a new match (first or rematch): fresh rules state, clocks and log."""
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
                private=self.private,
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
