"""Recording matches without a server: built-in strategies play, every event is logged.

``RecordingMatch`` keeps a game state and a ``MatchRecorder`` in step exactly the way a
room must (apply, then append the record, a ``StateHash`` every ``HASH_EVERY`` state
changes and before the end). It makes sample logs, benchmark logs and test fixtures;
``play_match`` drives one with strategies from ``games.strategy``.
"""

from __future__ import annotations

import os
import random
from collections.abc import Sequence
from typing import Any

from gameserver import __version__
from gameserver.games.base import State, state_hash
from gameserver.games.registry import get_game
from gameserver.games.strategy import get_strategy

from .records import (
    ClockSettings,
    Disconnected,
    Ended,
    Header,
    Joined,
    Left,
    Moved,
    Reconnected,
    Resigned,
    Seat,
    SeatKind,
    StateHash,
    TimedOut,
)
from .recorder import FsyncPolicy, MatchRecorder


class RecordingMatch:
    """One match being played and recorded. Wall times come from a simulated clock.

    Each event advances the simulated wall clock by the time it took; clocks are
    charged as a room would (bank minus time used, plus the increment after a move).
    """

    def __init__(
        self,
        directory: str | os.PathLike[str],
        header: Header,
        *,
        fsync: FsyncPolicy = FsyncPolicy.NEVER,
    ) -> None:
        self.header = header
        self.game = get_game(header.game)
        self.options = self.game.validate_options(header.options)
        self.rng = random.Random(header.seed)
        self.state: State = self.game.setup(len(header.seats), self.rng, self.options)
        self.version = 0
        self.now = header.started_at
        initial = header.clock.initial_ms
        self.clocks: list[int] | None = (
            None if initial is None else [initial] * len(header.seats)
        )
        self.recorder = MatchRecorder.create(directory, header, fsync=fsync)

    def _clock_tuple(self) -> tuple[int, ...] | None:
        return None if self.clocks is None else tuple(self.clocks)

    def _after_change(self) -> None:
        if self.recorder.hash_due:
            self.recorder.append(StateHash(at=self.now, version=self.version, hash=self.hash()))

    def hash(self) -> str:
        """``state_hash`` of the current state."""
        return state_hash(self.game, self.state)

    def move(
        self, seat: int, move: Any, time_used_ms: int = 1500, *, request_id: int | None = None
    ) -> None:
        """Apply and record ``seat``'s move (raises the game's MoveError if refused);
        ``request_id``: the id of the player's request that made it, if any."""
        state = self.game.apply(self.state, seat, move, self.rng)
        self.now += time_used_ms
        if self.clocks is not None:
            bank = max(0, self.clocks[seat] - time_used_ms)
            self.clocks[seat] = bank + self.header.clock.increment_ms
        self.state, self.version = state, self.version + 1
        self.recorder.append(
            Moved(
                at=self.now,
                seat=seat,
                version=self.version,
                move=move,
                time_used_ms=time_used_ms,
                clocks=self._clock_tuple(),
                request_id=request_id,
            )
        )
        self._after_change()

    def timeout(self, seat: int) -> None:
        """Run out ``seat``'s clock and record the game's timeout rule."""
        state = self.game.on_timeout(self.state, seat, self.rng)
        if self.clocks is not None:
            self.now += self.clocks[seat]
            self.clocks[seat] = 0
        self.state, self.version = state, self.version + 1
        self.recorder.append(
            TimedOut(at=self.now, seat=seat, version=self.version, clocks=self._clock_tuple())
        )
        self._after_change()

    def resign(self, seat: int) -> None:
        """Record ``seat`` resigning."""
        self.state = self.game.resign(self.state, seat)
        self.version += 1
        self.recorder.append(
            Resigned(at=self.now, seat=seat, version=self.version, clocks=self._clock_tuple())
        )
        self._after_change()

    def disconnect(self, seat: int, away_ms: int | None = None) -> None:
        """Record a disconnect, and a reconnect ``away_ms`` later if given."""
        self.recorder.append(Disconnected(at=self.now, seat=seat))
        if away_ms is not None:
            self.now += away_ms
            self.recorder.append(Reconnected(at=self.now, seat=seat))

    def replace(self, seat: int, occupant: Seat) -> None:
        """Record the seat's player leaving and ``occupant`` taking the seat over."""
        self.recorder.append(Left(at=self.now, seat=seat, reason="abandoned"))
        self.recorder.append(Joined(at=self.now, seat=seat, occupant=occupant))

    def finish(self, *, aborted: bool = False) -> Ended:
        """Append the final hash and the end record, then close the log."""
        final_hash = StateHash(at=self.now, version=self.version, hash=self.hash())
        outcome = self.game.outcome(self.state)
        if outcome is None or aborted:
            ended = Ended(at=self.now, version=self.version, reason="aborted", aborted=True)
        else:
            ended = Ended.from_outcome(outcome, at=self.now, version=self.version)
        self.recorder.append_many((final_hash, ended))
        self.recorder.close()
        return ended


def bot_header(
    game: str,
    strategies: Sequence[str],
    *,
    seed: int,
    match_id: str,
    options: dict[str, Any] | None = None,
    clock: ClockSettings | None = None,
    started_at: int = 1_767_225_600_000,  # 2026-01-01T00:00:00Z
) -> Header:
    """A header for a match between built-in strategies (seat names ``<strategy>-<seat>``)."""
    seats = tuple(
        Seat(name=f"{name}-{i}", kind=SeatKind.BOT, strategy=name)
        for i, name in enumerate(strategies)
    )
    return Header(
        match_id=match_id,
        room_id=f"room-{match_id}",
        game=game,
        options=get_game(game).validate_options(options or {}),
        seed=seed,
        seats=seats,
        clock=clock or ClockSettings(),
        server_version=__version__,
        started_at=started_at,
    )


def play_match(
    directory: str | os.PathLike[str],
    header: Header,
    *,
    bot_seed: int = 0,
    max_moves: int = 10_000,
    fsync: FsyncPolicy = FsyncPolicy.NEVER,
) -> RecordingMatch:
    """Play the header's seats with their strategies to the end and record it all.

    Bots draw from their own ``random.Random(bot_seed)``, never from the match rng.
    Stops (aborting the match) after ``max_moves`` moves. Returns the finished match.
    """
    match = RecordingMatch(directory, header, fsync=fsync)
    bots = [get_strategy(header.game, seat.strategy or "random") for seat in header.seats]
    bot_rng = random.Random(bot_seed)
    game = match.game
    for _ in range(max_moves):
        acting = sorted(game.to_act(match.state))
        if not acting:
            break
        seat = acting[0]
        view = game.view(match.state, seat)
        move = bots[seat].choose(view, game.legal_moves(match.state, seat), bot_rng)
        match.move(seat, move, time_used_ms=bot_rng.randrange(100, 5000))
    match.finish()
    return match
