"""A room's match log: the replays recorder, driven so that disk trouble never stops play.

The room appends each record and awaits it BEFORE telling anyone about the change
(the log is the source of truth). If the disk fails, the failure is logged and the log
stops there; the match goes on unrecorded.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from gameserver import __version__ as server_version
from gameserver.protocol.messages import ClockSettings
from gameserver.replays import records
from gameserver.replays.async_recorder import AsyncMatchRecorder
from gameserver.replays.recorder import FsyncPolicy
from gameserver.rooms.seats import Seat

log = logging.getLogger(__name__)


def wall_ms() -> int:
    """Wall-clock time in milliseconds since the Unix epoch (record timestamps)."""
    return int(time.time() * 1000)


def match_header(
    *,
    match_id: str,
    room_id: str,
    game: str,
    options: dict[str, Any],
    seed: int,
    seats: Sequence[Seat],
    clock: ClockSettings | None,
    private: bool,
) -> records.Header:
    """The header record of a match that starts now with ``seats``."""
    occupants = []
    for seat in seats:
        if seat.is_bot:
            occupants.append(
                records.Seat(
                    name=seat.name or "bot", kind=records.SeatKind.BOT, strategy=seat.strategy_name
                )
            )
        else:
            occupants.append(
                records.Seat(
                    name=seat.name or "",
                    player_id=None if seat.player is None else seat.player.player_id,
                )
            )
    clock = clock or ClockSettings()
    return records.Header(
        match_id=match_id,
        room_id=room_id,
        game=game,
        options=options,
        seed=seed,
        seats=tuple(occupants),
        clock=records.ClockSettings(
            initial_ms=clock.initial_ms,
            increment_ms=clock.increment_ms,
            per_move_ms=clock.per_move_ms,
        ),
        server_version=server_version,
        started_at=wall_ms(),
        private=private,
    )


class Journal:
    """The log of the room's current match (none while nothing is recorded)."""

    def __init__(self, room_id: str) -> None:
        self.room_id = room_id
        self._recorder: AsyncMatchRecorder | None = None

    async def start(self, directory: Path, header: records.Header, fsync: FsyncPolicy) -> None:
        """Create the log of a new match (closing any earlier one first)."""
        await self.close()
        try:
            self._recorder = await AsyncMatchRecorder.create(directory, header, fsync=fsync)
        except Exception:
            log.exception("room %s: cannot create the match log; not recording", self.room_id)

    def adopt(self, recorder: AsyncMatchRecorder) -> None:
        """Continue a reopened log (crash recovery)."""
        self._recorder = recorder

    async def append(
        self, items: Sequence[records.Record], state_hash: Callable[[], tuple[int, str]]
    ) -> None:
        """Append ``items`` durably, then a state hash when one is due.

        ``state_hash()`` returns ``(version, hash)`` of the current state.
        """
        recorder = self._recorder
        if recorder is None:
            return
        try:
            await recorder.append_many(items)
            if recorder.hash_due:
                version, digest = state_hash()
                await recorder.append(records.StateHash(at=wall_ms(), version=version, hash=digest))
        except Exception:
            log.exception("room %s: match log write failed; recording stops", self.room_id)
            await self.close()

    async def close(self) -> None:
        """Close the log file (without an end record unless one was appended)."""
        recorder, self._recorder = self._recorder, None
        if recorder is not None:
            try:
                await recorder.aclose()
            except Exception:
                log.exception("room %s: closing the match log failed", self.room_id)
