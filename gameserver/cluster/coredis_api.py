"""``RedisAPI`` on coredis: the only module of gameserver that imports the Redis client.

coredis is built on anyio, so it runs natively under Trio (no asyncio bridge, no
threads): its sockets are Trio sockets and its waits are Trio checkpoints, so a Trio
cancel scope cancels a call like any other.

Measured with ``bench/cluster_calls.py`` (coredis 6.9.0 under Trio 0.35, Redis 7.0.15 on
loopback with ``appendfsync always`` on ext4, Python 3.11; one task, sequential calls;
the 2-core machine and its disk were shared with other jobs, so these are ranges over
five runs). Client CPU per call, user + kernel time of this process:

- ``CONFIG GET``, the cheapest round trip: 0.25-0.39 ms (wall p50 0.24-0.52 ms);
- a claim that finds the room already ours (one ``EVALSHA``, no write): 0.26-0.39 ms;
- the fenced append of one 80-byte record (one ``EVALSHA``, fdatasync'ed by Redis before
  it replies): 0.47-0.70 ms, wall p50 0.70-1.9 ms. The longer wait costs the client
  extra wake-ups: with Redis's files on tmpfs the same append costs 0.35 ms (p50 0.42).

Nearly all of it is user time in coredis's request machinery and anyio's task plumbing
(the kernel's loopback work is 0.02-0.08 ms); a 4 KB record costs about what an 80-byte
one does. docs/cluster.md keeps these figures with the conditions.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterator, Sequence

import coredis
import coredis.exceptions
import coredis.response.types

from .errors import ClusterError, RedisUnavailable
from .redis_api import Arg, Reply, Script, StreamEntry

# What a call that got no answer raises; everything else is an answer (an error reply).
_NO_ANSWER = (coredis.exceptions.ConnectionError, TimeoutError, OSError)


@contextlib.asynccontextmanager
async def open_coredis(
    url: str, *, connect_timeout: float, reply_timeout: float
) -> AsyncIterator[CoredisAPI]:
    """A ``CoredisAPI`` on a connection pool to ``url`` for the block."""
    client: coredis.Redis[bytes] = coredis.Redis.from_url(
        url, connect_timeout=connect_timeout, stream_timeout=reply_timeout
    )
    try:
        async with client:
            yield CoredisAPI(client)
    except BaseExceptionGroup as group:
        # The client runs its pool in a task group, which wraps whatever leaves the
        # block in a group: hand the one exception on as it was raised.
        if len(group.exceptions) != 1:
            raise
        inner = group.exceptions[0]
        raise inner from inner.__cause__


def _raw(value: str | bytes) -> bytes:
    # A client made without decode_responses answers bytes; its types allow str too.
    return value if isinstance(value, bytes) else value.encode()


def _text(value: str | bytes) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _entry(entry: coredis.response.types.StreamEntry) -> StreamEntry:
    return StreamEntry(
        id=_text(entry.identifier),
        fields={_raw(name): _raw(value) for name, value in entry.field_values.items()},
    )


@contextlib.contextmanager
def _answered(what: str) -> Iterator[None]:
    """Turn the client's exceptions into ours: no answer, or an error reply."""
    try:
        yield
    except _NO_ANSWER as exc:
        raise RedisUnavailable(f"Redis did not answer {what}: {exc}") from exc
    except coredis.exceptions.RedisError as exc:
        raise ClusterError(f"Redis refused {what}: {exc}") from exc


class CoredisAPI:
    """``RedisAPI`` over one ``coredis.Redis`` client (its own connection pool)."""

    def __init__(self, client: coredis.Redis[bytes]) -> None:
        self.client = client

    async def run_script(self, script: Script, keys: Sequence[str], args: Sequence[Arg]) -> Reply:
        with _answered(f"script {script.name}"):
            try:
                return await self.client.evalsha(script.sha, keys=keys, args=args)
            except coredis.exceptions.NoScriptError:
                # A restarted Redis has an empty script cache: load it and run it again.
                await self.client.script_load(script.source)
                return await self.client.evalsha(script.sha, keys=keys, args=args)

    async def stream_range(self, key: str, first: str, count: int) -> list[StreamEntry]:
        with _answered(f"XRANGE {key}"):
            entries = await self.client.xrange(key, first, "+", count=count)
        return [_entry(entry) for entry in entries]

    async def stream_read(
        self, key: str, after: str, count: int, block: float
    ) -> list[StreamEntry]:
        with _answered(f"XREAD {key}"):
            found = await self.client.xread(
                {key: after}, count=count, block=max(1, round(block * 1000))
            )
        if not found:
            return []
        return [_entry(entry) for entries in found.values() for entry in entries]

    async def scan(self, pattern: str) -> list[str]:
        with _answered("SCAN"):
            return [key.decode() async for key in self.client.scan_iter(match=pattern)]

    async def config(self, names: Sequence[str]) -> dict[str, str]:
        with _answered("CONFIG GET"):
            values = await self.client.config_get(names)
        return {name.decode(): value.decode() for name, value in values.items()}
