"""A room's match log: the replays recorder, and the one error a room sees when it fails.

The room appends each record and awaits it BEFORE telling anyone about the change
(the log is the source of truth). When the disk refuses a write (full, I/O error) the
journal raises ``StorageUnavailable``: nothing of that append is in the file (the
recorder cuts a partial write back), and the room must undo the change and tell no one
about it (``MatchFlow._record`` does, and pauses the room until a write succeeds again).
"""

from __future__ import annotations

import logging
import shutil
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import trio
from gameserver import __version__ as server_version
from gameserver.protocol.messages import ClockSettings
from gameserver.replays import records
from gameserver.replays.async_recorder import AsyncMatchRecorder
from gameserver.replays.errors import WriteFailed
from gameserver.replays.recorder import FsyncPolicy
from gameserver.rooms.seats import Seat

log = logging.getLogger(__name__)

# A paused room resumes only with this much free space: a write that just fits in the
# slack of a file's last block would otherwise resume play that the next move pauses again.
RESUME_MIN_FREE = 64 * 1024


class StorageUnavailable(Exception):
    """The match log cannot be written now (disk full, I/O error); nothing was recorded.

    ``str(error)`` names the file and the operating system's reason. The change the
    records described must not be acknowledged or published.
    """


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
    rated: bool = False,
) -> records.Header:
    """The header record of a match that starts now with ``seats``."""
    occupants = []
    for seat in seats:
        if seat.is_bot:
            occupants.append(
                records.Occupant(
                    name=seat.name or "bot",
                    kind=records.OccupantKind.BOT,
                    strategy=seat.strategy_name,
                )
            )
        else:
            account = None if seat.player is None else seat.player.account
            occupants.append(
                records.Occupant(
                    name=seat.name or "",
                    player_id=None if seat.player is None else seat.player.player_id,
                    account_id=None if account is None else account.account_id,
                    account_kind=None if account is None else account.kind.value,
                )
            )
    return records.Header(
        match_id=match_id,
        room_id=room_id,
        game=game,
        options=options,
        seed=seed,
        seats=tuple(occupants),
        clock=clock or ClockSettings(),
        server_version=server_version,
        started_at=wall_ms(),
        private=private,
        rated=rated,
    )


class Journal:
    """The log of the room's current match (none while nothing is recorded)."""

    def __init__(self, room_id: str) -> None:
        self.room_id = room_id
        self._recorder: AsyncMatchRecorder | None = None

    async def start(self, directory: Path, header: records.Header, fsync: FsyncPolicy) -> None:
        """Create the log of a new match durably (closing any earlier one first).

        Raises ``StorageUnavailable`` when the disk refuses: no file is left behind, and
        the match must not start (call again later with the same header). A match id
        that already has a log (``FileExistsError``) or a header that would not load
        back are bugs and raise as they are.
        """
        await self.close()
        try:
            self._recorder = await AsyncMatchRecorder.create(directory, header, fsync=fsync)
        except FileExistsError:
            raise
        except OSError as exc:
            raise StorageUnavailable(f"cannot create the log of {header.match_id}: {exc}") from exc

    def adopt(self, recorder: AsyncMatchRecorder) -> None:
        """Continue a reopened log (crash recovery)."""
        self._recorder = recorder

    async def append(
        self, items: Sequence[records.Record], state_hash: Callable[[], tuple[int, str]]
    ) -> None:
        """Append ``items`` durably, with a state hash after them when one is due.

        ``state_hash()`` returns ``(version, hash)`` of the state after ``items``. All
        of it goes in one write: either everything is durable or, with
        ``StorageUnavailable``, none of it is in the log.
        """
        recorder = self._recorder
        if recorder is None:
            return
        batch = list(items)
        if recorder.hash_due_after(batch):
            version, digest = state_hash()
            batch.append(records.StateHash(at=wall_ms(), version=version, hash=digest))
        await self._write(recorder, batch)

    async def probe(self, state_hash: Callable[[], tuple[int, str]]) -> None:
        """Append a state hash of the current state: proof that the log takes writes again.

        Raises ``StorageUnavailable`` while the disk still refuses, or has less than
        ``RESUME_MIN_FREE`` bytes free. Without a log it returns at once.
        """
        recorder = self._recorder
        if recorder is None:
            return
        directory = recorder.recorder.path.parent
        try:
            free = (await trio.to_thread.run_sync(shutil.disk_usage, directory)).free
        except OSError as exc:
            raise StorageUnavailable(f"cannot check the free space in {directory}: {exc}") from exc
        if free < RESUME_MIN_FREE:
            raise StorageUnavailable(f"only {free} bytes free in {directory}")
        version, digest = state_hash()
        await self._write(recorder, [records.StateHash(at=wall_ms(), version=version, hash=digest)])

    async def _write(self, recorder: AsyncMatchRecorder, batch: list[records.Record]) -> None:
        try:
            await recorder.append_many(batch)
        except WriteFailed as exc:
            raise StorageUnavailable(str(exc)) from exc

    async def close(self) -> None:
        """Close the log file (without an end record unless one was appended)."""
        recorder, self._recorder = self._recorder, None
        if recorder is not None:
            try:
                await recorder.aclose()
            except Exception:
                log.exception("room %s: closing the match log failed", self.room_id)
