"""``MatchRecorder``: appends one match's records durably to its log file.

The API is synchronous so a room can run it in a worker thread without blocking the
event loop::

    recorder = await trio.to_thread.run_sync(
        functools.partial(MatchRecorder.create, directory, header))
    ...
    await trio.to_thread.run_sync(recorder.append, moved)
    if recorder.hash_due:
        await trio.to_thread.run_sync(recorder.append, StateHash(...))
    ...  # broadcast only after append returned (the log is the source of truth)
    await trio.to_thread.run_sync(recorder.append_many, [final_hash, ended])
    recorder.close()

``AsyncMatchRecorder`` in ``async_recorder.py`` does exactly this for you.
"""

from __future__ import annotations

import contextlib
import enum
import errno
import os
import io
import re
import threading
from collections.abc import Iterable
from pathlib import Path

from . import framing
from .codec import encode_checked
from .errors import InvalidRecord, RecorderError, WriteFailed
from .loader import SUFFIX, LoadedMatch, load_match
from .progress import HASH_EVERY, LogProgress
from .records import Ended, Header, Record

# The file object: raw, unbuffered (every write is one system call, nothing is held back).
_File = io.FileIO

# Match ids become file names: no separators, no dot files, bounded length.
_MATCH_ID = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9_.-]{0,127}")


class FsyncPolicy(enum.Enum):
    """When the recorder forces written records to stable storage."""

    #: After every append: a move is durable before its result is broadcast.
    ALWAYS = "always"
    #: Only at creation and at the end record (faster; a crash may lose recent moves).
    END = "end"
    #: Never (tests and benchmarks; the OS flushes eventually).
    NEVER = "never"


def log_path(directory: str | os.PathLike[str], match_id: str) -> Path:
    """The file a match's log lives in; raise ``ValueError`` for an unusable match id."""
    if not _MATCH_ID.fullmatch(match_id):
        raise ValueError(f"match id {match_id!r} is not usable as a file name")
    return Path(directory) / f"{match_id}{SUFFIX}"


def _fsync_directory(directory: Path) -> None:
    # Make the new directory entry itself durable; not every platform allows it.
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _write_all(file: _File, data: bytes) -> None:
    """Write all of ``data``: a raw write may take only part of it (a disk filling up)."""
    rest: bytes | memoryview = data
    while True:
        written = file.write(rest)  # usually all of it, the first time
        if written == len(rest):
            return
        if not written:  # None (non-blocking) or 0: no progress is possible
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        rest = memoryview(rest)[written:]


def _frame(item: Header | Record) -> bytes:
    payload = encode_checked(item)
    if len(payload) > framing.MAX_PAYLOAD:
        raise InvalidRecord(f"{type(item).__name__} of {len(payload)} bytes is too large")
    return framing.frame(payload)


class MatchRecorder:
    """Writes one match log. Use ``create`` for a new match or ``reopen`` after a restart.

    Thread-safe; every method may block on disk I/O, so call them from a worker thread
    inside async code.
    """

    def __init__(self, path: Path, file: _File, fsync: FsyncPolicy, *, end: int) -> None:
        """Internal: use ``create`` or ``reopen``. ``end`` is where the next record goes."""
        self.path = path
        self.fsync = fsync
        self._file: _File | None = file
        self._lock = threading.Lock()
        #: Offset just past the last whole record: everything after it is to be cut off.
        self._end = end
        #: A failed write could not be cut back yet: cut before writing anything else.
        self._torn = False
        self._progress = LogProgress()
        #: Where to roll back to if the sync of a ``write_unsynced`` fails.
        self._unsynced: tuple[int, LogProgress] | None = None
        self._device = os.fstat(file.fileno()).st_dev

    @classmethod
    def create(
        cls,
        directory: str | os.PathLike[str],
        header: Header,
        *,
        fsync: FsyncPolicy = FsyncPolicy.ALWAYS,
    ) -> MatchRecorder:
        """Create ``<directory>/<match_id>.gsr`` and write the header durably.

        Raises ``FileExistsError`` if the match already has a log, ``ValueError`` for an
        unusable match id, ``InvalidRecord`` for a header that would not load back and
        ``OSError`` if the file cannot be written. Then ``append``.
        """
        path = log_path(directory, header.match_id)
        data = framing.MAGIC + _frame(header)
        # Unbuffered: a failed write leaves no bytes in a buffer for a later flush to retry.
        file = open(path, "xb", buffering=0)
        try:
            _write_all(file, data)
            if fsync is not FsyncPolicy.NEVER:
                os.fsync(file.fileno())
                _fsync_directory(path.parent)
        except BaseException:
            # A full disk: the file is empty or partial. Remove it whatever close says.
            with contextlib.suppress(OSError):
                file.close()
            path.unlink(missing_ok=True)
            raise
        return cls(path, file, fsync, end=len(data))

    @classmethod
    def reopen(
        cls,
        loaded: LoadedMatch | str | os.PathLike[str],
        *,
        fsync: FsyncPolicy = FsyncPolicy.ALWAYS,
    ) -> MatchRecorder:
        """Continue an existing log: cut off any torn tail, then append after the last record.

        Raises ``CorruptReplay`` if the file has no valid header, ``RecorderError`` if the
        match already ended.
        """
        if not isinstance(loaded, LoadedMatch):
            loaded = load_match(loaded)
        if loaded.path is None:
            raise RecorderError("cannot reopen a log that was not loaded from a file")
        if loaded.complete:
            raise RecorderError(f"{loaded.path}: the match has already ended")
        file = open(loaded.path, "r+b", buffering=0)
        try:
            file.truncate(loaded.valid_bytes)
            file.seek(loaded.valid_bytes)
            if fsync is not FsyncPolicy.NEVER:
                os.fsync(file.fileno())
        except BaseException:
            file.close()
            raise
        recorder = cls(loaded.path, file, fsync, end=loaded.valid_bytes)
        recorder._progress = LogProgress().after(loaded.records)
        return recorder

    @property
    def closed(self) -> bool:
        return self._file is None

    @property
    def hash_due(self) -> bool:
        """True once ``HASH_EVERY`` state-changing events were appended since the last hash.

        Append a ``StateHash`` of the current state when this is true.
        """
        return self._progress.hash_due

    def append(self, record: Record) -> None:
        """Write one record and flush it (and fsync, per policy). Then broadcast the update.

        Raises ``InvalidRecord`` (a ``ValueError``; nothing written) for a record that
        would not load back, e.g. a float ``at``; ``RecorderError`` if closed or after
        the end record; ``WriteFailed`` if the disk refuses the write or the sync (full,
        I/O error): the file is cut back to its last whole record, the recorder stays
        open, and the caller must not tell anyone about the record. Append again later.
        """
        self.append_many((record,))

    def append_many(self, records: Iterable[Record]) -> None:
        """Write several records with one write (and at most one fsync), in order.

        All or nothing: on ``WriteFailed`` none of them is in the file.
        """
        records = tuple(records)
        ends = any(isinstance(record, Ended) for record in records)
        sync = self.fsync is FsyncPolicy.ALWAYS or (ends and self.fsync is FsyncPolicy.END)
        with self._lock:
            self._write(records, sync=sync)

    def write_unsynced(self, records: Iterable[Record]) -> None:
        """Write records like ``append_many`` but leave the sync to the caller (group commit).

        Then make the file durable (``fileno``, ``device``: see ``group_sync``) and call
        ``synced()``, or ``sync_failed(error)`` if that sync failed; nothing else may be
        written in between. Raises like ``append_many``.
        """
        with self._lock:
            if self._unsynced is not None:
                raise RecorderError(f"{self.path}: the previous write is not synced yet")
            rollback = (self._end, self._progress)
            self._write(tuple(records), sync=False)
            self._unsynced = rollback

    def synced(self) -> None:
        """The records of ``write_unsynced`` are durable: they count as recorded."""
        with self._lock:
            self._unsynced = None

    def sync_failed(self, error: OSError) -> WriteFailed:
        """The sync after ``write_unsynced`` failed: cut those records off again and
        return the ``WriteFailed`` to raise (nothing of them may be acknowledged)."""
        with self._lock:
            rollback, self._unsynced = self._unsynced, None
            if rollback is not None:
                self._end, self._progress = rollback
                self._torn = True
                file = self._file
                if file is not None:
                    with contextlib.suppress(OSError):
                        self._cut_back(file)
        return WriteFailed(f"{self.path}: sync failed: {error}")

    @property
    def fileno(self) -> int:
        """The log file's descriptor (for syncing it); raises ``RecorderError`` if closed."""
        file = self._file
        if file is None:
            raise RecorderError(f"{self.path}: the recorder is closed")
        return file.fileno()

    @property
    def device(self) -> int:
        """The filesystem the log lives on (``st_dev``): files on one sync together."""
        return self._device

    def _write(self, records: tuple[Record, ...], *, sync: bool) -> None:
        data = _frame(records[0]) if len(records) == 1 else b"".join(map(_frame, records))
        file = self._file
        if file is None:
            raise RecorderError(f"{self.path}: the recorder is closed")
        if self._progress.ended:
            raise RecorderError(f"{self.path}: the match has already ended")
        try:
            if self._torn:
                self._cut_back(file)
            _write_all(file, data)
            if sync:
                os.fsync(file.fileno())
        except OSError as exc:
            self._torn = True
            with contextlib.suppress(OSError):
                self._cut_back(file)
            raise WriteFailed(f"{self.path}: write failed: {exc}") from exc
        self._end += len(data)
        self._progress = self._progress.after(records)

    def hash_due_after(self, records: Iterable[Record]) -> bool:
        """Whether ``hash_due`` will be true once ``records`` are appended.

        Lets a caller append a transition and its state hash in one ``append_many``.
        """
        return self._progress.after(records).hash_due

    def _cut_back(self, file: _File) -> None:
        # Drop whatever part of a failed write reached the file, so the next record
        # follows the last whole one instead of a torn one. Shrinking needs no space.
        file.truncate(self._end)
        file.seek(self._end)
        if self.fsync is not FsyncPolicy.NEVER:
            os.fsync(file.fileno())
        self._torn = False

    def close(self) -> None:
        """Flush and close the file. Safe to call twice."""
        with self._lock:
            file, self._file = self._file, None
            if file is None:
                return
            try:
                if self._torn:
                    self._cut_back(file)
                if self.fsync is FsyncPolicy.ALWAYS:
                    os.fsync(file.fileno())
            finally:
                file.close()

    def __enter__(self) -> MatchRecorder:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
