"""Run a ``PlayerStore``'s blocking calls off the Trio thread, one at a time."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

import trio

from gameserver.store.players import PlayerStore

__all__ = ["AsyncPlayerStore"]

P = ParamSpec("P")
T = TypeVar("T")


class AsyncPlayerStore:
    """A ``PlayerStore`` used from Trio: ``await store.call(store.sync.method, ...)``.

    Calls run in worker threads (``trio.to_thread``) through a limiter of one, so the
    backend's single connection is never used by two threads at once and calls run in
    the order they were made. A call cancelled while it runs still finishes in its
    thread (its transaction commits or rolls back whole); the caller just stops waiting.
    """

    def __init__(self, sync: PlayerStore) -> None:
        self.sync = sync
        """The blocking store (use only through ``call``, or before Trio runs)."""
        self._limiter = trio.CapacityLimiter(1)

    async def call(self, method: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run ``method(*args, **kwargs)`` (a method of ``sync``) in a worker thread."""
        return await trio.to_thread.run_sync(
            functools.partial(method, *args, **kwargs), limiter=self._limiter
        )

    async def aclose(self) -> None:
        """Close the backend once every pending call is done."""
        await self.call(self.sync.close)
