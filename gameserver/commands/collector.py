"""Garbage-collector settings for the long-running commands (``serve`` and ``bot``).

Both hold thousands of connections, each keeping a few hundred small objects alive
(tasks, events, buffers, states). With CPython's default thresholds (700, 10, 10) the
collector runs every couple of handshakes and rescans everything that survived: 40 % of
the server's CPU while accepting connections, and in a bot process with 2,000 clients
full collections of 200-350 ms that stall every bot at once. Rarer young collections
keep cycles bounded all the same, and freezing what lives as long as the process keeps
the collector from scanning it again and again.
"""

from __future__ import annotations

import gc

__all__ = ["GC_THRESHOLDS", "freeze_long_lived", "tune_collector"]

GC_THRESHOLDS = (20_000, 20, 10)


def tune_collector() -> None:
    """Collect young objects less often (call once, at the start of the command)."""
    gc.set_threshold(*GC_THRESHOLDS)


def freeze_long_lived() -> None:
    """Exempt every object alive now from later collections: call it once what lives
    as long as the process exists (modules, games, open connections)."""
    gc.freeze()
