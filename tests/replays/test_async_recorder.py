"""AsyncMatchRecorder: the same log, written from Trio code through worker threads."""

from __future__ import annotations

from pathlib import Path

from gameserver.replays.async_recorder import AsyncMatchRecorder
from gameserver.replays.loader import load_match
from gameserver.replays.records import Ended, Moved, StateHash
from gameserver.replays.recorder import HASH_EVERY, FsyncPolicy
from gameserver.replays.selfplay import bot_header


async def test_async_recorder_writes_a_loadable_log(tmp_path: Path) -> None:
    header = bot_header("tictactoe", ["random", "best"], seed=11, match_id="async")
    recorder = await AsyncMatchRecorder.create(tmp_path, header, fsync=FsyncPolicy.ALWAYS)
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
