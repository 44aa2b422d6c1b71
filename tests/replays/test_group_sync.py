"""Group commit: concurrent ``--fsync always`` appends share syncs and still lose nothing."""

from __future__ import annotations

import errno
import os
import threading
from collections.abc import Sequence
from pathlib import Path

import pytest
import trio

from gameserver.replays import group_sync
from gameserver.replays.async_recorder import AsyncMatchRecorder
from gameserver.replays.errors import WriteFailed
from gameserver.replays.group_sync import GroupSync, sync_files
from gameserver.replays.loader import load_match
from gameserver.replays.records import Moved
from gameserver.replays.recorder import FsyncPolicy, MatchRecorder
from gameserver.rooms.recording_match import bot_header


class Syncs:
    """The real ``sync_files``, counted, and able to fail or to wait for a signal."""

    def __init__(self) -> None:
        self.rounds: list[int] = []
        self.fail: Exception | None = None
        self.gate = threading.Event()
        self.gate.set()

    def __call__(self, fds: Sequence[int]) -> None:
        self.gate.wait(10)
        self.rounds.append(len(fds))
        if self.fail is not None:
            raise self.fail
        sync_files(fds)


async def recorders(directory: Path, count: int, group: GroupSync) -> list[AsyncMatchRecorder]:
    made = []
    for i in range(count):
        header = bot_header("tictactoe", ["random", "random"], seed=i, match_id=f"m{i}")
        recorder = MatchRecorder.create(directory, header, fsync=FsyncPolicy.ALWAYS)
        made.append(AsyncMatchRecorder(recorder, group))
    return made


def move(version: int) -> Moved:
    return Moved(at=version, seat=version % 2, version=version, move={"cell": version})


async def test_concurrent_appends_share_rounds_and_all_reach_the_file(tmp_path: Path) -> None:
    syncs = Syncs()
    group = GroupSync(syncs)
    logs = await recorders(tmp_path, 20, group)

    async def play(recorder: AsyncMatchRecorder) -> None:
        for version in range(1, 6):
            await recorder.append(move(version))

    async with trio.open_nursery() as nursery:
        for recorder in logs:
            nursery.start_soon(play, recorder)
    for recorder in logs:
        await recorder.aclose()

    assert sum(syncs.rounds) == 20 * 5  # every append was covered by a sync
    assert group.rounds == len(syncs.rounds) < 20 * 5 / 4  # ... shared by many appends
    for i in range(20):
        assert [r.version for r in load_match(tmp_path / f"m{i}.gsr").records] == [1, 2, 3, 4, 5]


async def test_a_failed_sync_fails_every_append_of_its_round_and_keeps_none(tmp_path: Path) -> None:
    syncs = Syncs()
    group = GroupSync(syncs)
    logs = await recorders(tmp_path, 3, group)
    for recorder in logs:
        await recorder.append(move(1))
    syncs.fail = OSError(errno.EIO, "Input/output error")
    failures: list[str] = []

    async def append_second(recorder: AsyncMatchRecorder) -> None:
        with pytest.raises(WriteFailed) as caught:
            await recorder.append(move(2))
        failures.append(str(caught.value))

    async with trio.open_nursery() as nursery:
        for recorder in logs:
            nursery.start_soon(append_second, recorder)
    assert len(failures) == 3 and all("sync failed" in text for text in failures)

    # The disk recovers: the next append goes after the last durable record.
    syncs.fail = None
    for recorder in logs:
        await recorder.append(move(2))
        await recorder.aclose()
    for i in range(3):
        assert [r.version for r in load_match(tmp_path / f"m{i}.gsr").records] == [1, 2]


async def test_writers_arriving_during_a_sync_wait_for_the_next_round(tmp_path: Path) -> None:
    # A sync that began before a write cannot cover it: the write needs a round of its own.
    syncs = Syncs()
    group = GroupSync(syncs)
    first, second = await recorders(tmp_path, 2, group)
    syncs.gate.clear()
    async with trio.open_nursery() as nursery:
        nursery.start_soon(first.append, move(1))
        await trio.testing.wait_all_tasks_blocked()  # first's round is syncing, held
        nursery.start_soon(second.append, move(1))
        await trio.testing.wait_all_tasks_blocked()
        syncs.gate.set()
    assert syncs.rounds == [1, 1]
    for recorder in (first, second):
        await recorder.aclose()


async def test_an_append_being_synced_completes_though_its_caller_is_cancelled(tmp_path: Path) -> None:
    syncs = Syncs()
    (recorder,) = await recorders(tmp_path, 1, GroupSync(syncs))
    syncs.gate.clear()
    with trio.CancelScope() as scope:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(recorder.append, move(1))
            await trio.testing.wait_all_tasks_blocked()
            scope.cancel()
            syncs.gate.set()
    await recorder.append(move(2))  # the first append finished: no "not synced yet"
    await recorder.aclose()
    assert [r.version for r in load_match(tmp_path / "m0.gsr").records] == [1, 2]


async def test_an_append_made_with_a_cancellation_pending_is_still_synced(tmp_path: Path) -> None:
    # The write happens before any checkpoint, so the sync must follow it whatever:
    # cancellation reaches the caller only after the append has finished.
    syncs = Syncs()
    (recorder,) = await recorders(tmp_path, 1, GroupSync(syncs))
    with trio.CancelScope() as scope:
        scope.cancel()
        await recorder.append(move(1))
        reached = True
        await trio.lowlevel.checkpoint()
    assert reached and scope.cancelled_caught
    assert syncs.rounds == [1]
    await recorder.append(move(2))  # no "not synced yet": the first append completed
    await recorder.aclose()
    assert [r.version for r in load_match(tmp_path / "m0.gsr").records] == [1, 2]


async def test_a_sync_that_raises_a_bug_fails_its_whole_round(tmp_path: Path) -> None:
    # Not an OSError, but the files were not synced: no writer of the round may go on.
    syncs = Syncs()
    group = GroupSync(syncs)
    logs = await recorders(tmp_path, 3, group)
    for recorder in logs:
        await recorder.append(move(1))

    syncs.fail = RuntimeError("a bug in the sync")
    failures: list[str] = []

    async def append_second(recorder: AsyncMatchRecorder) -> None:
        with pytest.raises(WriteFailed) as caught:
            await recorder.append(move(2))
        failures.append(str(caught.value))

    async with trio.open_nursery() as nursery:
        for recorder in logs:
            nursery.start_soon(append_second, recorder)
    assert len(failures) == 3 and all("a bug in the sync" in text for text in failures)
    syncs.fail = None
    for recorder in logs:
        await recorder.append(move(2))
        await recorder.aclose()
    for i in range(3):
        assert [r.version for r in load_match(tmp_path / f"m{i}.gsr").records] == [1, 2]


def test_sync_files_syncs_one_file_or_a_whole_filesystem(tmp_path: Path) -> None:
    fds = [os.open(tmp_path / f"f{i}", os.O_WRONLY | os.O_CREAT) for i in range(3)]
    try:
        for fd in fds:
            os.write(fd, b"data")
        sync_files(fds[:1])
        sync_files(fds)
        os.close(fds[0])
        with pytest.raises(OSError):  # a closed descriptor is an error, not a silent pass
            sync_files(fds[:1])
    finally:
        for fd in fds[1:]:
            os.close(fd)


async def test_every_recorder_of_a_run_shares_one_group() -> None:
    assert group_sync.for_this_run() is group_sync.for_this_run()
