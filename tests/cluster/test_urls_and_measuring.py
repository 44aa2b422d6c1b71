"""Redis sources as the replay command reads them, and the measuring wrapper."""

from __future__ import annotations

import pytest

from gameserver.cluster.leases import NodeLease
from gameserver.cluster.match_stream import MatchStreams
from gameserver.cluster.redis_api import MeasuredRedis, RedisAPI
from gameserver.cluster.urls import StreamSource, is_redis_url
from gameserver.replays.codec import encode_header
from gameserver.replays.loader import load_match

from .conftest import UNFINISHED


def test_a_source_names_one_match_or_all_and_hides_the_password() -> None:
    one = StreamSource.parse("redis://:secret@10.0.0.5:6380/2#m-42")
    assert one == StreamSource("redis://:secret@10.0.0.5:6380/2", "m-42")
    assert one.label("m-42") == "redis://10.0.0.5:6380/2#m-42"
    assert StreamSource.parse("rediss://db.example:6379/0").match_id is None
    assert is_redis_url("redis://h/0") and not is_redis_url("replays/redis-m.gsr")


@pytest.mark.parametrize("text, says", [
    ("http://h/0#m", "not a Redis URL"),
    ("redis://h:0/0#m", "port 0"),
    ("redis://h:99999/0", "bad port"),
    ("redis:///0#m", "names no host"),
    ("redis://h/db#m", "is not a number"),
    ("redis://h/0#a:b", "cannot be part of a Redis key"),
])  # fmt: skip
def test_a_bad_source_says_what_is_wrong(text: str, says: str) -> None:
    with pytest.raises(ValueError, match=says):
        StreamSource.parse(text)


async def test_measured_redis_counts_every_call_by_name(redis_api: RedisAPI) -> None:
    measured = MeasuredRedis(redis_api)
    node = NodeLease(measured, "node-a", lease_time=30)
    await node.register()
    claim = await node.claim("room-1")
    streams = MatchStreams(measured)
    header = load_match(UNFINISHED).header
    await streams.append(claim, header.match_id, 1, [encode_header(header)])
    await streams.load(header.match_id)
    assert {name: stats.calls for name, stats in measured.stats.items()} == {
        "script:register": 1,
        "script:claim": 1,
        "script:append": 1,
        "stream_range": 1,
    }
    assert all(stats.seconds > 0 for stats in measured.stats.values())
