"""AsyncMatchRecorder: the same log, written from Trio code through worker threads."""

from __future__ import annotations

from pathlib import Path

import pytest
import trio

from gameserver.replays.async_recorder import AsyncMatchRecorder
from gameserver.replays.loader import load_match
from gameserver.replays.records import Ended, Moved, StateHash
from gameserver.replays.progress import HASH_EVERY
from gameserver.replays.recorder import FsyncPolicy
from gameserver.rooms.recording_match import bot_header


@pytest.mark.parametrize("policy", list(FsyncPolicy))
async def test_async_recorder_writes_a_loadable_log(tmp_path: Path, policy: FsyncPolicy) -> None:
    header = bot_header("tictactoe", ["random", "best"], seed=11, match_id="async")
    recorder = await AsyncMatchRecorder.create(tmp_path, header, fsync=policy)
    for version in range(1, HASH_EVERY + 1):
        await recorder.append(Moved(at=version, seat=0, version=version, move={"cell": 0}))
    assert recorder.hash_due
    await recorder.append_many(
        [
            StateHash(at=99, version=HASH_EVERY, hash="a" * 64),
            Ended(at=99, version=HASH_EVERY, aborted=True),
        ]
    )
    assert not recorder.hash_due
    await recorder.aclose()
    loaded = load_match(tmp_path / "async.gsr")
    assert loaded.header == header
    assert loaded.complete and len(loaded.records) == HASH_EVERY + 2


async def test_an_unsynced_append_is_written_even_when_its_caller_is_cancelled(tmp_path: Path) -> None:
    # Without fsync the write happens inline; the checkpoint after it must not undo the
    # caller's "written before anyone is told" guarantee by raising with nothing written.
    header = bot_header("tictactoe", ["random", "best"], seed=11, match_id="cancelled")
    recorder = await AsyncMatchRecorder.create(tmp_path, header, fsync=FsyncPolicy.NEVER)
    with trio.CancelScope() as scope:
        scope.cancel()
        await recorder.append(Moved(at=1, seat=0, version=1, move={"cell": 4}))
    await recorder.aclose()
    assert [r.version for r in load_match(tmp_path / "cancelled.gsr").records] == [1]
