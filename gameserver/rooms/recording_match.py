"""Recording matches without a server: sample logs, benchmark logs and test fixtures.

``RecordingMatch`` plays one match on the room's own parts, a ``Match`` (the rules, the
match rng, the version) and ``Clocks`` (banks, increment, per-move limit), and appends
each event to a ``MatchRecorder`` in the order a room does: apply, charge the clock,
append the record (a ``StateHash`` every ``HASH_EVERY`` state changes and before the
end). Only time is simulated: a whole number of milliseconds since the header's
``started_at``, moved on by the caller (``think_ms``, ``away_ms``) or, for a timeout, to
the moment the seat's clock runs out. ``record_bot_match`` plays the header's strategies
to the end.
"""

from __future__ import annotations

import os
import random
from collections.abc import Sequence
from typing import Any

from gameserver import __version__
from gameserver.games.base import state_hash
from gameserver.games.registry import get_game
from gameserver.games.strategy import get_strategy
from gameserver.protocol.messages import ClockSettings
from gameserver.replays.recorder import FsyncPolicy, MatchRecorder
from gameserver.replays.records import (
    Disconnected,
    Ended,
    Header,
    Joined,
    Left,
    Moved,
    Occupant,
    OccupantKind,
    Reconnected,
    Record,
    Resigned,
    StateHash,
    TimedOut,
)
from gameserver.rooms.clock import Clocks
from gameserver.rooms.match import Match

# 2026-01-01T00:00:00Z: a fixed start keeps generated logs byte for byte reproducible.
DEFAULT_STARTED_AT = 1_767_225_600_000


class RecordingMatch:
    """One match being played and recorded on a simulated clock.

    ``move``, ``timeout`` and ``resign`` raise what the room's ``Match`` raises for a
    refused transition (``RequestError`` with the wire error code) and record nothing.
    Call ``finish`` at the end; to leave a log unfinished (a crash), close ``recorder``.
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
        options = self.game.validate_options(header.options)
        #: The match as a room holds it; its rng is the match rng the log's seed gives.
        self.match = Match(self.game, len(header.seats), options, header.seed)
        self.clocks = Clocks(header.clock, len(header.seats))
        # Milliseconds since started_at; the clocks read them as seconds, as trio time.
        self._elapsed_ms = 0
        self.clocks.sync(self.match.to_act(), self._clock_now())
        self.recorder = MatchRecorder.create(directory, header, fsync=fsync)

    @property
    def state(self) -> Any:
        """The current game state."""
        return self.match.state

    @property
    def version(self) -> int:
        """The current state version (0 after setup)."""
        return self.match.version

    @property
    def rng(self) -> random.Random:
        """The match rng, positioned after the last transition."""
        return self.match.rng

    @property
    def now(self) -> int:
        """The simulated wall clock, in milliseconds since the Unix epoch."""
        return self.header.started_at + self._elapsed_ms

    def hash(self) -> str:
        """``state_hash`` of the current state."""
        return state_hash(self.game, self.state)

    def _clock_now(self) -> float:
        return self._elapsed_ms / 1000

    def _record_transition(self, record: Record) -> None:
        """After the match moved: run the clocks of the seats to act, append ``record``,
        then a state hash if one is due (the room's order)."""
        now = self._clock_now()
        if self.match.over:
            self.clocks.stop_all(now)
        else:
            self.clocks.sync(self.match.to_act(), now)
        self.recorder.append(record)
        if self.recorder.hash_due:
            self.recorder.append(StateHash(at=self.now, version=self.version, hash=self.hash()))

    def move(
        self, seat: int, move: Any, think_ms: int = 1500, *, request_id: int | None = None
    ) -> None:
        """``think_ms`` pass, then ``seat`` makes ``move``; its clock is charged for its
        whole turn so far (time away included) and gets the increment. ``request_id``: the
        id of the player's request that made it, if any (recorded for at-most-once)."""
        self._elapsed_ms += think_ms
        now = self._clock_now()
        used = self.clocks.elapsed_ms(seat, now)
        self.match.apply(seat, move)
        self.clocks.charge(seat, now)
        self._record_transition(
            Moved(
                at=self.now,
                seat=seat,
                version=self.version,
                move=move,
                time_used_ms=used,
                clocks=self.clocks.banks_now(now),
                request_id=request_id,
            )
        )

    def timeout(self, seat: int) -> None:
        """Let time run until ``seat``'s clock runs out, then apply the game's timeout rule.

        Raises ``ValueError`` when ``seat``'s clock is not running or has no limit.
        """
        expires = self.clocks.expires_at(seat)
        if expires is None:
            raise ValueError(f"seat {seat}'s clock is not running against a limit")
        self._elapsed_ms = max(self._elapsed_ms, round(expires * 1000))
        now = self._clock_now()
        self.clocks.timed_out(seat, now)
        self.match.timeout(seat)
        banks = self.clocks.banks_now(now)
        self._record_transition(
            TimedOut(at=self.now, seat=seat, version=self.version, clocks=banks)
        )

    def resign(self, seat: int, *, forfeit: bool = False) -> None:
        """``seat`` resigns now (``forfeit``: the room forfeits it)."""
        now = self._clock_now()
        self.match.resign(seat, forfeit=forfeit)
        self._record_transition(
            Resigned(
                at=self.now,
                seat=seat,
                version=self.version,
                clocks=self.clocks.banks_now(now),
                forfeit=forfeit,
            )
        )

    def disconnect(self, seat: int, away_ms: int | None = None) -> None:
        """Record a disconnect, and a reconnect ``away_ms`` later if given (clocks run on)."""
        self.recorder.append(Disconnected(at=self.now, seat=seat))
        if away_ms is not None:
            self._elapsed_ms += away_ms
            self.recorder.append(Reconnected(at=self.now, seat=seat))

    def replace(self, seat: int, occupant: Occupant) -> None:
        """Record the seat's player leaving and ``occupant`` taking the seat over."""
        self.recorder.append(Left(at=self.now, seat=seat, reason="abandoned"))
        self.recorder.append(Joined(at=self.now, seat=seat, occupant=occupant))

    def finish(self, *, aborted: bool = False) -> Ended:
        """Append the final hash and the end record, then close the log."""
        self.clocks.stop_all(self._clock_now())
        final_hash = StateHash(at=self.now, version=self.version, hash=self.hash())
        outcome = self.match.outcome
        if outcome is None or aborted:
            ended = Ended.aborted_match("aborted", at=self.now, version=self.version)
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
    started_at: int = DEFAULT_STARTED_AT,
) -> Header:
    """A header for a match between built-in strategies (seat names ``<strategy>-<seat>``)."""
    seats = tuple(
        Occupant(name=f"{name}-{i}", kind=OccupantKind.BOT, strategy=name)
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


def record_bot_match(
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
    recording = RecordingMatch(directory, header, fsync=fsync)
    bots = [get_strategy(header.game, seat.strategy or "random") for seat in header.seats]
    bot_rng = random.Random(bot_seed)
    match = recording.match
    for _ in range(max_moves):
        acting = sorted(match.to_act())
        if not acting:
            break
        seat = acting[0]
        move = bots[seat].choose(match.view(seat), match.legal_moves(seat), bot_rng)
        recording.move(seat, move, think_ms=bot_rng.randrange(100, 5000))
    recording.finish()
    return recording
