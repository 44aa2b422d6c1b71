"""MatchRecorder on a real full disk (a small tmpfs): no partial file, no torn record."""

from __future__ import annotations

import pytest

from conftest import SmallDisk
from gameserver.replays.errors import WriteFailed
from gameserver.replays.loader import load_match
from gameserver.replays.records import Moved
from gameserver.replays.recorder import FsyncPolicy, MatchRecorder

from .test_recorder import make_header, moved


@pytest.mark.parametrize("policy", list(FsyncPolicy))
def test_creating_a_log_on_a_full_disk_leaves_no_file(
    small_disk: SmallDisk, policy: FsyncPolicy
) -> None:
    small_disk.fill()
    with pytest.raises(OSError):
        MatchRecorder.create(small_disk.path, make_header(), fsync=policy)
    assert sorted(p.name for p in small_disk.path.iterdir()) == ["filler.bin"]
    small_disk.free()
    MatchRecorder.create(small_disk.path, make_header(), fsync=policy).close()  # same id: free
    assert load_match(small_disk.path / "m-1.gsr").records == ()


def test_a_torn_append_is_cut_back_and_the_recorder_goes_on_once_there_is_room(
    small_disk: SmallDisk,
) -> None:
    recorder = MatchRecorder.create(small_disk.path, make_header(), fsync=FsyncPolicy.ALWAYS)
    recorder.append(moved(1))
    whole = recorder.path.stat().st_size
    small_disk.fill()
    # Bigger than the rest of the log's last page: part of it fits, then ENOSPC.
    big = Moved(at=2_000, seat=0, version=2, move={"note": "x" * 6000})
    with pytest.raises(WriteFailed, match="No space left"):
        recorder.append(big)
    assert recorder.path.stat().st_size == whole  # the partial record was cut off
    assert not load_match(recorder.path).torn_tail
    with pytest.raises(WriteFailed):
        recorder.append(big)  # still full: refused again, file still whole
    assert recorder.path.stat().st_size == whole
    small_disk.free()
    recorder.append(big)
    recorder.append(moved(3))
    recorder.close()
    loaded = load_match(recorder.path)
    assert not loaded.torn_tail
    assert loaded.records == (moved(1), big, moved(3))
