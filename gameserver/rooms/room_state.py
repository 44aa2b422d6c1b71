"""What a room knows: its settings, seats, spectators, match, inbox and match log.

``RoomState`` holds every field of a room and the few operations on them that need
nothing else: the summary, who is a member, queueing a command, the state hash for
the match log, and the closing rule. The other parts of ``Room`` (see ``room.py``) build on it.
"""

from __future__ import annotations

import math
import random
import time
from collections import OrderedDict, deque
from typing import Any, Protocol

import trio

from gameserver.games.base import AnyGame, state_hash
from gameserver.games.strategy import get_strategy
from gameserver.protocol.errors import ErrorCode, RequestError
from gameserver.protocol.messages import ClockSettings, OutcomeInfo, RoomStatus, RoomSummary
from gameserver.rooms.clock import Clocks
from gameserver.rooms.commands import Request, RoomCommand
from gameserver.rooms.config import RoomConfig
from gameserver.rooms.journal import Journal
from gameserver.rooms.match import Match
from gameserver.sessions.metrics import Metrics
from gameserver.sessions.outbox import Payload
from gameserver.sessions.players import Player
from gameserver.rooms.seats import Seat

#: ``RoomSummary.paused`` while the room waits for its match log to take writes again.
STORAGE_PAUSE = ErrorCode.STORAGE_UNAVAILABLE.value


class RoomHost(Protocol):
    """What a room reports to (the lobby)."""

    metrics: Metrics

    def room_changed(self, room: RoomState) -> None:
        """The room's public summary changed."""

    def room_closed(self, room: RoomState) -> None:
        """The room's task ended; forget it."""

    def match_finished(self, room: RoomState, match_id: str) -> None:
        """A recorded match ended and its log is closed (ratings read it)."""


class RoomState:
    """The fields of a room and the operations that only read or queue; see ``Room``."""

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
        self.room_id = room_id
        self.game = game
        self.players = players
        self.options = options
        self.private = private
        self.invite_code = invite_code
        self.clock_settings = clock
        self.quick = quick
        self.rated = rated
        """Whether matches here are rated (issue 18): only accounts sit."""
        self.config = config
        self._host = host
        self.seats = [Seat(index) for index in range(players)]
        for number, (index, strategy_name) in enumerate(sorted((bots or {}).items()), start=1):
            seat = self.seats[index]
            seat.strategy_name = strategy_name
            seat.strategy = get_strategy(game.name, strategy_name)
            seat.name = bot_name(number, strategy_name)
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
        #: True while the match log cannot be written: no transition happens, clocks are
        #: stopped, and the room retries the log at ``_retry_at`` (see ``MatchFlow``).
        self.paused = False
        self._retry_at = math.inf
        self._bot_rng = random.Random()
        self._bot_due: float | None = None
        self._applied: OrderedDict[tuple[str, int], Payload] = OrderedDict()
        # Seats that moved in the current match, and the first-move deadline (trio time)
        # of each human seat to act that has not (``config.first_move_timeout``).
        self._moved: set[int] = set()
        self._first_move_due: dict[int, float] = {}
        # When a finished room is released (``config.finished_room_ttl``); None otherwise.
        self._release_at: float | None = None
        # The outcome shown for a match the room aborted (the rules have none for it).
        self._aborted: OutcomeInfo | None = None
        # Set when the room closed because nobody was left in it (see ``_maybe_close``).
        self._emptied = False
        # The latest chat messages, encoded, for members who (re)join; not recorded in
        # the match log, so a restarted server starts them afresh.
        self._chat_log: deque[Payload] = deque(maxlen=max(0, config.chat_history))
        # Chat seq counts up from the wall clock in microseconds when the room object was
        # made, so a room recovered after a restart numbers above all it sent before
        # and clients that skip seen seqs do not drop new messages.
        self._chat_seq = time.time_ns() // 1000

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

    def _current_hash(self) -> tuple[int, str]:
        """``(version, state hash)`` of the running match, for the match log."""
        assert self.match is not None
        return self.match.version, state_hash(self.game, self.match.state)

    def _maybe_close(self) -> None:
        """Close the room once no human holds a seat and nobody watches; ``Room.run``
        then ends a match still running (bots only) before the task ends."""
        if any(seat.player is not None for seat in self.seats) or self.spectators:
            return
        self.closed = True
        self._emptied = True


def bot_name(number: int, strategy: str) -> str:
    """The display name of the ``number``-th (from 1) server-filled seat of a room:
    "Computer (best)", then "Computer 2 (random)", ... so no two seats share a name."""
    if number == 1:
        return f"Computer ({strategy})"
    return f"Computer {number} ({strategy})"
