"""The one small interface every Redis call of cluster mode goes through.

``RedisAPI`` has only the calls we need: run a Lua script (every check-and-write is one
script, so it is atomic in Redis), read a stream, scan keys, read configuration. Keeping
the client behind it means the client can be swapped (valkey-glide also runs under Trio)
by writing one more implementation, and ``MeasuredRedis`` can wrap any implementation to
count and time each call, so a cross-node move can be measured part by part.

Every implementation raises ``RedisUnavailable`` (never the client's own exceptions) when
Redis does not answer, and ``ClusterError`` for an error reply; scripts return their
replies as nested lists of ``bytes`` and ``int``.

Open one with ``open_redis(url)``; the coredis implementation is imported only then.
"""

from __future__ import annotations

import contextlib
import hashlib
import time
from collections.abc import AsyncIterator, Sequence
from typing import Any, Protocol

import attrs

from .extra import require_extra

#: A script argument: Redis receives every one as a string of bytes.
Arg = str | bytes | int
#: A script's reply: ``bytes``, ``int``, ``None`` or (nested) lists of them.
Reply = Any


@attrs.frozen
class Script:
    """A Lua script, run by its SHA1 (loaded into Redis again whenever Redis lost it)."""

    #: Short name, for measurements and error messages.
    name: str
    source: str

    @property
    def sha(self) -> str:
        return hashlib.sha1(self.source.encode()).hexdigest()


@attrs.frozen
class StreamEntry:
    """One stream entry: its id (e.g. ``"0-3"``) and its fields."""

    id: str
    fields: dict[bytes, bytes]


class RedisAPI(Protocol):
    """The Redis calls of cluster mode. Each raises ``RedisUnavailable`` when Redis does
    not answer (the outcome is unknown: retry the same call)."""

    async def run_script(self, script: Script, keys: Sequence[str], args: Sequence[Arg]) -> Reply:
        """Run ``script`` atomically with ``KEYS`` and ``ARGV``; return its reply."""
        ...

    async def stream_range(self, key: str, first: str, count: int) -> list[StreamEntry]:
        """Up to ``count`` entries of stream ``key`` from id ``first`` on (``XRANGE``)."""
        ...

    async def stream_read(
        self, key: str, after: str, count: int, block: float
    ) -> list[StreamEntry]:
        """Up to ``count`` entries of stream ``key`` after id ``after`` (``$``: only
        entries added from now on), waiting up to ``block`` seconds for the first one
        (``XREAD BLOCK``); ``[]`` if none came."""
        ...

    async def scan(self, pattern: str) -> list[str]:
        """Every key matching ``pattern`` (``SCAN MATCH``), in no particular order."""
        ...

    async def config(self, names: Sequence[str]) -> dict[str, str]:
        """Redis configuration values (``CONFIG GET``) by name."""
        ...


@contextlib.asynccontextmanager
async def open_redis(
    url: str, *, connect_timeout: float = 5.0, reply_timeout: float = 10.0
) -> AsyncIterator[RedisAPI]:
    """Connect to ``redis://[:PASSWORD@]HOST:PORT/DB`` (or ``rediss://`` for TLS) for the
    block; raise ``ExtraMissing`` if the client is not installed. Connections are opened
    on first use, so a Redis that is down shows as ``RedisUnavailable`` on the first call.
    """
    require_extra()
    from .coredis_api import open_coredis

    async with open_coredis(
        url, connect_timeout=connect_timeout, reply_timeout=reply_timeout
    ) as api:
        yield api


@attrs.define
class CallStats:
    """How often one call was made and the wall time it took in total."""

    calls: int = 0
    seconds: float = 0.0


@attrs.define
class MeasuredRedis:
    """A ``RedisAPI`` that times every call of the one it wraps, by call (scripts by name)."""

    inner: RedisAPI
    stats: dict[str, CallStats] = attrs.field(factory=dict)

    @contextlib.contextmanager
    def _timed(self, name: str) -> Any:
        start = time.perf_counter()
        try:
            yield
        finally:
            entry = self.stats.setdefault(name, CallStats())
            entry.calls += 1
            entry.seconds += time.perf_counter() - start

    async def run_script(self, script: Script, keys: Sequence[str], args: Sequence[Arg]) -> Reply:
        with self._timed(f"script:{script.name}"):
            return await self.inner.run_script(script, keys, args)

    async def stream_range(self, key: str, first: str, count: int) -> list[StreamEntry]:
        with self._timed("stream_range"):
            return await self.inner.stream_range(key, first, count)

    async def stream_read(
        self, key: str, after: str, count: int, block: float
    ) -> list[StreamEntry]:
        with self._timed("stream_read"):
            return await self.inner.stream_read(key, after, count, block)

    async def scan(self, pattern: str) -> list[str]:
        with self._timed("scan"):
            return await self.inner.scan(pattern)

    async def config(self, names: Sequence[str]) -> dict[str, str]:
        with self._timed("config"):
            return await self.inner.config(names)
