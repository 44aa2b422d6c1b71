"""Redis killed (SIGKILL) and started again on the same directory and port: every
append it acknowledged is still there, and the same client goes on once it is back."""

from __future__ import annotations

import pytest
import trio

from gameserver.cluster.errors import RedisUnavailable
from gameserver.cluster.leases import NodeLease
from gameserver.cluster.match_stream import MatchStreams
from gameserver.cluster.redis_api import open_redis
from gameserver.replays.loader import load_match

from .conftest import SAMPLE, RedisServer


async def test_acknowledged_appends_survive_a_redis_crash(redis_server: RedisServer) -> None:
    original = load_match(SAMPLE)
    records = list(original.records)
    half = len(records) // 2
    async with open_redis(redis_server.url, connect_timeout=1.0, reply_timeout=2.0) as api:
        node = NodeLease(api, "node-a", lease_time=60)
        await node.register()
        claim = await node.claim("room-1")
        streams = MatchStreams(api)
        recorder = await streams.create(claim, original.header)
        acknowledged = 0
        for record in records[:half]:  # one append per record, as moves arrive
            await recorder.append(record)
            acknowledged += 1

        redis_server.kill()  # no shutdown: only what reached the append-only file counts
        with pytest.raises(RedisUnavailable):
            await recorder.append(records[half])
        redis_server.start()

        # The same client, connections and claim go on: the lease and the epoch were
        # on disk too, and the script cache is reloaded on the first NOSCRIPT.
        with trio.fail_after(60):
            while True:
                try:
                    await recorder.append_many(records[half:])
                    break
                except RedisUnavailable:
                    await trio.sleep(0.1)
        loaded = await streams.load(original.header.match_id)
    assert acknowledged == half
    assert loaded.records == original.records
    assert loaded.complete
