"""Applying rated matches to a ``PlayerStore``: one match, the missed ones, all of them.

Every function here blocks (disk): the server calls them through ``AsyncPlayerStore``;
``gameserver ratings rebuild`` calls them directly.
"""

from __future__ import annotations

import logging
from pathlib import Path

from gameserver.ratings.matches import RatedResult, rate, rated_result, rebuild_order
from gameserver.replays.errors import ReplayError
from gameserver.replays.loader import load_match, match_paths
from gameserver.replays.recorder import log_path
from gameserver.store.players import MatchRecord, PlayerStore

__all__ = ["apply_result", "catch_up", "rated_results", "rate_logged_match", "rebuild"]

log = logging.getLogger(__name__)

# Matches that end at nearly the same time may be rated in either order.
CATCH_UP_MARGIN = 60.0


def apply_result(store: PlayerStore, result: RatedResult) -> MatchRecord | None:
    """Rate ``result`` against the stored ratings and store it in one transaction;
    None when it was stored already (nothing changes)."""
    current = store.ratings(result.accounts, result.pool)
    record = rate(result, current)
    return record if store.record_match(record) else None


def rate_logged_match(store: PlayerStore, replays_dir: Path, match_id: str) -> MatchRecord | None:
    """Rate the finished match logged as ``match_id``; None when it does not count or
    was rated already. Raises ``ReplayError`` when its log cannot be read."""
    loaded = load_match(log_path(replays_dir, match_id))
    result = rated_result(loaded.header, loaded.records)
    return None if result is None else apply_result(store, result)


def rated_results(replays_dir: Path, *, changed_since: float = 0.0) -> list[RatedResult]:
    """Every rated result logged in ``replays_dir`` (in files modified at or after
    ``changed_since``, a Unix time), in rebuild order; unreadable logs are skipped with
    a warning."""
    results = []
    for path in match_paths(replays_dir):
        try:
            if path.stat().st_mtime < changed_since:
                continue
            loaded = load_match(path)
        except (OSError, ReplayError) as exc:
            log.warning("skipping %s: %s", path, exc)
            continue
        result = rated_result(loaded.header, loaded.records)
        if result is not None:
            results.append(result)
    return sorted(results, key=rebuild_order)


def catch_up(store: PlayerStore, replays_dir: Path) -> int:
    """Rate the logged rated matches the store lacks (a crash came between a match's
    end and its rating update); return how many.

    Only logs written to since ``CATCH_UP_MARGIN`` seconds before the latest stored
    match ended are read: the server rates matches in the order they end, so older
    ones were rated (or failed, logged, and wait for ``rebuild``).
    """
    known = store.rated_match_ids()
    latest = store.latest_rated_end()
    since = 0.0 if latest is None else latest / 1000 - CATCH_UP_MARGIN
    missing = [
        r for r in rated_results(replays_dir, changed_since=since) if r.match_id not in known
    ]
    for result in missing:
        apply_result(store, result)
    if missing:
        log.info("rated %d matches that ended before the last stop", len(missing))
    return len(missing)


def rebuild(store: PlayerStore, replays_dir: Path) -> int:
    """Forget every rating and recompute them all from the logs; return the number of
    rated matches. Accounts and API keys stay."""
    results = rated_results(replays_dir)
    store.clear_ratings()
    for result in results:
        apply_result(store, result)
    return len(results)
