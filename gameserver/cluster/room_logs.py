"""The rooms' match logs in cluster mode: Redis streams behind ``rooms.journal.MatchLogs``.

A room starting a match asks ``StreamLogs.create``: this node claims the room (or finds
it already claimed, at the same epoch) and writes the header through the fenced append.
Every later append of the room goes through its ``StreamLog``:

- Redis does not answer (``RedisUnavailable``): the outcome is unknown, so the room
  cannot undo the change and go on. The log retries the *same* records at the same
  position every ``retry`` seconds until Redis answers; the fenced append applies them
  at most once. Meanwhile the room waits: nothing is replied or broadcast, so nothing a
  player sees can be missing from the log.
- The append is fenced (another node claimed the room, or this node's lease ran out):
  ``StepDown``, and the room stops without sending anything.

When a finished match's log closes, a copy is written to the local replays directory as
a ``.gsr`` file, so the ratings and the replay pages of this node read it as they read
any log.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path
from typing import TypeVar

import trio

from gameserver.replays import framing
from gameserver.replays.recorder import log_path
from gameserver.replays.records import Header, Record
from gameserver.rooms.journal import StepDown

from .errors import Fenced, RedisUnavailable, RoomHeld
from .leases import Claim, NodeLease
from .match_stream import MatchStreams, StreamRecorder

log = logging.getLogger(__name__)

_T = TypeVar("_T")


async def until_answered(call: Callable[[], Awaitable[_T]], retry: float, what: str) -> _T:
    """``await call()`` again every ``retry`` seconds while Redis does not answer.

    Only for calls that are safe to repeat (every call of this package is).
    """
    while True:
        try:
            return await call()
        except RedisUnavailable as exc:
            log.warning("%s: Redis does not answer; retrying in %g s: %s", what, retry, exc)
            await trio.sleep(retry)


class StreamLogs:
    """``MatchLogs`` on Redis streams, for the rooms of one node.

    ``claims`` holds the claim of every room this node writes for (read by the lobby
    registry to release a room that closed).
    """

    def __init__(
        self, lease: NodeLease, streams: MatchStreams, replays_dir: Path, *, retry: float
    ) -> None:
        self.lease = lease
        self.streams = streams
        self.replays_dir = replays_dir
        self.retry = retry
        self.claims: dict[str, Claim] = {}

    async def create(self, header: Header) -> StreamLog:
        """Claim the room (``StepDown`` if another live node owns it) and start the
        log of ``header.match_id`` with its header."""
        room_id = header.room_id
        what = f"room {room_id}"
        try:
            claim = await until_answered(lambda: self.lease.claim(room_id), self.retry, what)
            self.claims[room_id] = claim
            recorder = await until_answered(
                lambda: self.streams.create(claim, header), self.retry, what
            )
        except (Fenced, RoomHeld) as exc:
            raise StepDown(str(exc)) from exc
        return self.adopt(recorder)

    def adopt(self, recorder: StreamRecorder) -> StreamLog:
        """The ``StreamLog`` of a log reopened after a takeover."""
        self.claims[recorder.claim.room_id] = recorder.claim
        return StreamLog(recorder, self.replays_dir, retry=self.retry)

    async def check_resume(self) -> None:
        """Nothing to check: a stream log never pauses a room (it waits for Redis)."""


class StreamLog:
    """One match's stream, appended through the fenced append (a ``MatchLog``)."""

    def __init__(self, recorder: StreamRecorder, replays_dir: Path, *, retry: float) -> None:
        self.recorder = recorder
        self.replays_dir = replays_dir
        self.retry = retry

    def hash_due_after(self, records: Iterable[Record]) -> bool:
        return self.recorder.hash_due_after(records)

    async def append_many(self, records: Iterable[Record]) -> None:
        """Append durably; wait while Redis does not answer; ``StepDown`` when fenced."""
        batch = tuple(records)
        what = f"match {self.recorder.match_id}"
        try:
            await until_answered(lambda: self.recorder.append_many(batch), self.retry, what)
        except Fenced as exc:
            raise StepDown(str(exc)) from exc

    async def aclose(self) -> None:
        """Copy a finished log to the replays directory; an unfinished one stays as it is
        (in Redis) for whoever recovers it."""
        if not self.recorder.progress.ended:
            return
        match_id = self.recorder.match_id
        try:
            payloads = await until_answered(
                lambda: self.recorder.streams.payloads(match_id), self.retry, f"match {match_id}"
            )
            await trio.to_thread.run_sync(write_gsr, log_path(self.replays_dir, match_id), payloads)
        except (OSError, ValueError) as exc:
            # The log itself is safe in Redis; only the local copy is missing.
            log.error("cannot copy the log of %s to %s: %s", match_id, self.replays_dir, exc)


def write_gsr(path: Path, payloads: list[bytes]) -> None:
    """Write ``payloads`` (header first) as the ``.gsr`` file ``path``, whole or not at
    all (a temporary file renamed into place)."""
    partial = path.with_name(f".{path.name}.partial")
    with open(partial, "wb") as file:
        file.write(framing.MAGIC + b"".join(map(framing.frame, payloads)))
        file.flush()
        os.fsync(file.fileno())
    os.replace(partial, path)
