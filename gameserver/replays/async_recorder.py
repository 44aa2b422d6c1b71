"""``AsyncMatchRecorder``: ``MatchRecorder`` for Trio code, with the disk work in a thread."""

from __future__ import annotations

import functools
import os
from collections.abc import Iterable

import trio

from .records import Header, Record
from .recorder import FsyncPolicy, MatchRecorder


class AsyncMatchRecorder:
    """Awaitable wrapper: each call runs the blocking ``MatchRecorder`` call in a worker thread.

    Calls must not overlap (a room task awaits each append before broadcasting, so they
    never do); the underlying recorder is thread-safe regardless.
    """

    def __init__(self, recorder: MatchRecorder) -> None:
        self.recorder = recorder

    @classmethod
    async def create(
        cls,
        directory: str | os.PathLike[str],
        header: Header,
        *,
        fsync: FsyncPolicy = FsyncPolicy.ALWAYS,
    ) -> AsyncMatchRecorder:
        """See ``MatchRecorder.create``."""
        make = functools.partial(MatchRecorder.create, directory, header, fsync=fsync)
        return cls(await trio.to_thread.run_sync(make))

    @property
    def hash_due(self) -> bool:
        """See ``MatchRecorder.hash_due``."""
        return self.recorder.hash_due

    async def append(self, record: Record) -> None:
        """See ``MatchRecorder.append``; returns once the record is written (and synced)."""
        await trio.to_thread.run_sync(self.recorder.append, record)

    async def append_many(self, records: Iterable[Record]) -> None:
        """See ``MatchRecorder.append_many``."""
        await trio.to_thread.run_sync(self.recorder.append_many, tuple(records))

    async def aclose(self) -> None:
        """Close the file (in a thread: the last flush may block)."""
        await trio.to_thread.run_sync(self.recorder.close)
