"""Match logs as Redis streams: the fenced append, its idempotent retry, and reading a
stream back into exactly the records of the ``.gsr`` file it was written from."""

from __future__ import annotations

import pytest
import trio

from gameserver.cluster.coredis_api import CoredisAPI
from gameserver.cluster.errors import LeaseLost, LogConflict, NotDurable, StaleOwner
from gameserver.cluster.leases import Claim, NodeLease
from gameserver.cluster.match_stream import MatchStreams, check_durable
from gameserver.cluster.redis_api import RedisAPI
from gameserver.replays.codec import encode_header, encode_record
from gameserver.replays.errors import CorruptReplay, RecorderError
from gameserver.replays.loader import load_match
from gameserver.replays.records import Disconnected, Reconnected
from gameserver.replays.simulate import resimulate

from .conftest import SAMPLE, UNFINISHED, owner, write_log

async def test_a_stream_holds_the_records_of_the_file(redis_api: RedisAPI) -> None:
    streams = MatchStreams(redis_api)
    _node, claim = await owner(redis_api, "room-1")
    original = load_match(SAMPLE)
    await write_log(streams, claim, original)
    payloads = await streams.payloads(original.header.match_id)
    assert payloads == [encode_header(original.header), *map(encode_record, original.records)]
    loaded = await streams.load(original.header.match_id)
    assert (loaded.header, loaded.records) == (original.header, original.records)
    assert loaded.complete and not loaded.torn_tail
    # The size the same records take in a .gsr file: magic, then 8 bytes of frame head each.
    assert loaded.valid_bytes == 8 + sum(8 + len(payload) for payload in payloads)
    assert resimulate(loaded).outcome == resimulate(original).outcome
    assert await streams.match_ids() == [original.header.match_id]


async def test_a_stale_owner_is_fenced(redis_api: RedisAPI) -> None:
    streams = MatchStreams(redis_api)
    node, first = await owner(redis_api, "room-1")
    original = load_match(UNFINISHED)
    recorder = await streams.create(first, original.header)
    await recorder.append_many(original.records[:2])
    # The room moves on to a newer epoch (here: released and claimed again).
    await node.release(first)
    second = await node.claim("room-1")
    with pytest.raises(StaleOwner) as fenced:
        await recorder.append(original.records[2])
    assert (fenced.value.owner, fenced.value.epoch) == ("node-a", second.epoch)
    # Nothing of the refused append is in the log; the new epoch continues it.
    loaded = await streams.load(original.header.match_id)
    assert loaded.records == original.records[:2]
    continued = await streams.reopen(second, loaded)
    await continued.append(original.records[2])
    assert (await streams.load(original.header.match_id)).records == original.records[:3]


async def test_another_nodes_claim_fences_the_old_owner(redis_api: RedisAPI) -> None:
    streams = MatchStreams(redis_api)
    _node, claim = await owner(redis_api, "room-1")
    forged = Claim("room-1", "node-b", claim.epoch)  # right epoch, not the owner
    original = load_match(UNFINISHED)
    with pytest.raises(StaleOwner):
        await streams.create(forged, original.header)
    with pytest.raises(CorruptReplay, match="no such match log"):
        await streams.load(original.header.match_id)


async def test_an_append_after_the_lease_expired_is_refused(redis_api: RedisAPI) -> None:
    streams = MatchStreams(redis_api)
    node = NodeLease(redis_api, "node-a", lease_time=0.2)
    await node.register()
    claim = await node.claim("room-1")
    original = load_match(UNFINISHED)
    recorder = await streams.create(claim, original.header)
    with trio.fail_after(20):
        while True:  # no heartbeats: the lease runs out on Redis's clock
            try:
                await recorder.append(original.records[0])
            except LeaseLost:
                break
            await trio.sleep(0.05)
    # Registering again does not revive the old claim: the room is claimed anew.
    await node.register()
    with pytest.raises(LeaseLost):
        await recorder.append(original.records[0])
    again = await node.claim("room-1")
    assert again.epoch == claim.epoch + 1
    continued = await streams.reopen(again, await streams.load(original.header.match_id))
    await continued.append(original.records[0])


async def test_a_retried_append_is_applied_once(redis_api: RedisAPI) -> None:
    """A retry after a lost reply finds its own records and writes nothing again."""
    streams = MatchStreams(redis_api)
    _node, claim = await owner(redis_api, "room-1")
    original = load_match(UNFINISHED)
    match_id = original.header.match_id
    header = encode_header(original.header)
    first, second = (encode_record(record) for record in original.records[:2])
    assert await streams.append(claim, match_id, 1, [header, first]) == 2
    assert await streams.append(claim, match_id, 1, [header, first]) == 2  # the retry
    assert await streams.append(claim, match_id, 2, [first]) == 2
    assert await streams.payloads(match_id) == [header, first]
    with pytest.raises(LogConflict):  # different records at a taken position
        await streams.append(claim, match_id, 2, [second])
    with pytest.raises(LogConflict):  # a gap
        await streams.append(claim, match_id, 4, [second])
    assert await streams.append(claim, match_id, 3, [second]) == 3


async def test_the_recorder_counts_hashes_and_stops_after_the_end(redis_api: RedisAPI) -> None:
    streams = MatchStreams(redis_api)
    _node, claim = await owner(redis_api, "room-1")
    original = load_match(SAMPLE)
    await write_log(streams, claim, original)
    loaded = await streams.load(original.header.match_id)
    with pytest.raises(RecorderError, match="already ended"):
        await streams.reopen(claim, loaded)
    unfinished = load_match(UNFINISHED)
    recorder = await streams.create(claim, unfinished.header)
    await recorder.append_many(unfinished.records)
    reopened = await streams.reopen(claim, await streams.load(unfinished.header.match_id))
    assert reopened.next_position == len(unfinished.records) + 2
    assert reopened.hash_due == recorder.hash_due
    seat_events = [Disconnected(at=1, seat=0), Reconnected(at=2, seat=0)]
    assert reopened.hash_due_after(seat_events) == recorder.hash_due


async def test_durability_is_checked(redis_api: RedisAPI) -> None:
    await check_durable(redis_api)  # the fixture's Redis: appendonly yes, appendfsync always
    assert isinstance(redis_api, CoredisAPI)
    await redis_api.client.config_set({"appendfsync": "everysec"})
    with pytest.raises(NotDurable, match="appendfsync is 'everysec'"):
        await check_durable(redis_api)
