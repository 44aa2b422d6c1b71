"""A room's match log: the replays recorder, and the one error a room sees when it fails.

The room task appends each command's records and awaits them BEFORE telling anyone
about the change (the log is the source of truth). When the disk refuses a write (full,
I/O error) the journal raises ``StorageUnavailable``: nothing of that append is in the
file (the recorder cuts a partial write back), and the task must feed ``StorageFailed``
to the room core, which undoes the change and pauses the room until a write succeeds
again; nobody is told about the undone change.

Where logs go is a ``MatchLogs`` (``RoomConfig.match_logs``): files in the replays
directory by default (``FileLogs``), Redis streams in cluster mode (``gameserver.cluster``
implements it without this package knowing). A log that finds its room owned by another
node raises ``StepDown``: the room must send nothing more and stop.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Protocol

import trio
from gameserver.replays import records
from gameserver.replays.async_recorder import AsyncMatchRecorder
from gameserver.replays.errors import WriteFailed
from gameserver.replays.recorder import FsyncPolicy
from gameserver.rooms.core import wall_ms

log = logging.getLogger(__name__)

# A paused room resumes only with this much free space: a write that just fits in the
# slack of a file's last block would otherwise resume play that the next move pauses again.
RESUME_MIN_FREE = 64 * 1024


class StorageUnavailable(Exception):
    """The match log cannot be written now (disk full, I/O error); nothing was recorded.

    ``str(error)`` names the file and the operating system's reason. The change the
    records described must not be acknowledged or published.
    """


class StepDown(Exception):
    """This node no longer owns the room (another node took it over, or this node's
    lease ran out): nothing was recorded. The room must record, reply and broadcast
    nothing more and stop; its new owner rebuilds it from the log."""


class MatchLog(Protocol):
    """One match's log, open for appending (``AsyncMatchRecorder`` is one)."""

    def hash_due_after(self, records: Iterable[records.Record]) -> bool:
        """Whether a state hash is due once ``records`` are appended."""

    async def append_many(self, records: Iterable[records.Record]) -> None:
        """Append ``records`` durably, all or none; raise ``WriteFailed`` (none is in the
        log: pause the room) or ``StepDown``."""

    async def aclose(self) -> None:
        """Close the log (without an end record unless one was appended)."""


class MatchLogs(Protocol):
    """Where the rooms' match logs go."""

    async def create(self, header: records.Header) -> MatchLog:
        """Start the log of ``header.match_id`` durably; raise ``StorageUnavailable``
        (nothing left behind: try again later) or ``StepDown``."""

    async def check_resume(self) -> None:
        """Raise ``StorageUnavailable`` while a paused room should not try to resume."""


class FileLogs:
    """Match logs as ``.gsr`` files in one directory (the default)."""

    def __init__(self, directory: Path, fsync: FsyncPolicy) -> None:
        self.directory = directory
        self.fsync = fsync

    async def create(self, header: records.Header) -> MatchLog:
        """See ``MatchLogs.create``. A match id that already has a log
        (``FileExistsError``) or a header that would not load back are bugs and raise
        as they are."""
        try:
            return await AsyncMatchRecorder.create(self.directory, header, fsync=self.fsync)
        except FileExistsError:
            raise
        except OSError as exc:
            raise StorageUnavailable(f"cannot create the log of {header.match_id}: {exc}") from exc

    async def check_resume(self) -> None:
        """Refuse while the directory has less than ``RESUME_MIN_FREE`` bytes free."""
        directory = self.directory
        try:
            free = (await trio.to_thread.run_sync(shutil.disk_usage, directory)).free
        except OSError as exc:
            raise StorageUnavailable(f"cannot check the free space in {directory}: {exc}") from exc
        if free < RESUME_MIN_FREE:
            raise StorageUnavailable(f"only {free} bytes free in {directory}")


class Journal:
    """The log of the room's current match (none while nothing is recorded)."""

    def __init__(self, room_id: str, logs: Callable[[], MatchLogs]) -> None:
        """``logs`` gives where the room's logs go (called when a match starts)."""
        self.room_id = room_id
        self._logs = logs
        self._recorder: MatchLog | None = None

    async def start(self, header: records.Header) -> None:
        """Create the log of a new match durably (closing any earlier one first).

        Raises ``StorageUnavailable`` when the log refuses: nothing is left behind, and
        the match must not start (call again later with the same header); ``StepDown``.
        """
        await self.close()
        self._recorder = await self._logs().create(header)

    def adopt(self, recorder: MatchLog) -> None:
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
        await self._logs().check_resume()
        version, digest = state_hash()
        await self._write(recorder, [records.StateHash(at=wall_ms(), version=version, hash=digest)])

    async def _write(self, recorder: MatchLog, batch: list[records.Record]) -> None:
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
