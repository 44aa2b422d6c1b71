"""The replay HTTP API the browser's replay viewer reads.

Routes (GET or HEAD only; everything is JSON, ``Cache-Control: no-store``):

* ``/api/replays?offset=N&limit=M&game=G``: a page of the finished matches of public
  rooms, newest first, and how many there are;
* ``/api/replays/<id>?seat=K|all``: one finished match, a step per move, each with the
  view of seat K (or every view, with ``all``).

The JSON layout, pagination and status codes are specified in docs/replays.md ("The HTTP
replay API"); tests/replays/test_api_doc.py checks that page against a running server,
so change both together.

Only finished matches are served: during a match its hidden information stays hidden,
and an unknown id and a running match look the same (404). Ids must match a strict
pattern (the recorder's file-name rule), so a request can never name a path outside the
directory. Errors are ``{"error": "<code>", "message": "<text>"}`` with status 400
(``invalid_field``), 404 (``not_found``), 405 (``method_not_allowed``) or 500
(``corrupt_replay``).

Loading and re-simulating read files, so both run in a worker thread; summaries are
cached per file by (size, mtime) to keep listing cheap.
"""

from __future__ import annotations

import datetime
import logging
import os
import re
import threading
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import trio

from gameserver.games.registry import GAMES
from gameserver.replays.errors import ReplayError
from gameserver.replays.loader import SUFFIX, LoadedMatch, load_match
from gameserver.replays.records import STATE_EVENTS, Moved, Resigned, TimedOut
from gameserver.replays.simulate import iter_positions
from gameserver.web.responses import head_only, json_response
from gameserver.ws.http import HTTPRequest, HTTPResponse

__all__ = ["PREFIX", "handle_replay_request", "list_replays", "replay_document"]

logger = logging.getLogger(__name__)

#: Every route of this module lives under this path.
PREFIX = "/api/replays"

#: Matches listed per page unless the request asks for another ``limit``.
DEFAULT_LIMIT = 100
# A page is built in memory and sent whole; this bounds its size.
MAX_LIMIT = 1000

# The recorder's rule for match ids (they are file names): no separators, no dot files,
# bounded length. Anything else is rejected before the file system is touched.
_ID = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9_.-]{0,127}")

# A path of (size, mtime_ns) -> summary; a file rewritten since is summarised again.
_summary_cache: dict[str, tuple[tuple[int, int], dict[str, Any] | None]] = {}
_cache_lock = threading.Lock()


class _HTTPError(Exception):
    """A request we answer with a JSON error."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


async def handle_replay_request(
    request: HTTPRequest, replays_dir: str | os.PathLike[str] | None
) -> HTTPResponse | None:
    """Answer a request under ``/api/replays``; return None for any other path.

    The caller writes the returned response and closes the connection. ``replays_dir``
    None (or missing on disk) means no replays are kept: the list is empty.
    """
    path = request.path
    if path != PREFIX and not path.startswith(PREFIX + "/"):
        return None
    try:
        if request.method not in ("GET", "HEAD"):
            raise _HTTPError(405, "method_not_allowed", "only GET and HEAD are allowed here")
        rest = path[len(PREFIX) :].strip("/")
        if not rest:
            offset, limit, game = _parse_list_query(request.query)
            replays = await trio.to_thread.run_sync(list_replays, replays_dir)
            if game is not None:
                replays = [summary for summary in replays if summary["game"] == game]
            body: Any = {
                "replays": replays[offset : offset + limit],
                "total": len(replays),
                "offset": offset,
            }
        else:
            if not _ID.fullmatch(rest):
                raise _HTTPError(404, "not_found", "no such replay (malformed id)")
            seat = _parse_seat(request.query)
            body = await trio.to_thread.run_sync(replay_document, replays_dir, rest, seat)
    except _HTTPError as exc:
        response = json_response(exc.status, {"error": exc.code, "message": exc.message})
        if exc.status == 405:
            response = HTTPResponse(
                405, response.headers + (("Allow", "GET, HEAD"),), response.body
            )
        return head_only(request, response)
    return head_only(request, json_response(200, body))


def _query(query: str) -> list[tuple[str, str]]:
    try:
        return parse_qsl(query, keep_blank_values=True, strict_parsing=bool(query))
    except ValueError:
        raise _HTTPError(400, "invalid_field", "malformed query string") from None


def _int_param(pairs: list[tuple[str, str]], name: str, default: int, top: int) -> int:
    values = [value for key, value in pairs if key == name]
    if not values:
        return default
    if len(values) > 1:
        raise _HTTPError(400, "invalid_field", f"{name!r} given more than once")
    value = values[0]
    # The length check first keeps int() cheap on a hostile query.
    digits = len(str(top))
    if not (value.isascii() and value.isdigit() and len(value) <= digits and int(value) <= top):
        raise _HTTPError(400, "invalid_field", f"{name!r} must be an integer from 0 to {top}")
    return int(value)


def _parse_list_query(query: str) -> tuple[int, int, str | None]:
    """Return (offset, limit, game or None) for the list."""
    pairs = _query(query)
    offset = _int_param(pairs, "offset", 0, 10**9)
    limit = _int_param(pairs, "limit", DEFAULT_LIMIT, MAX_LIMIT)
    games = [value for key, value in pairs if key == "game"]
    if len(games) > 1:
        raise _HTTPError(400, "invalid_field", "'game' given more than once")
    if games and games[0] not in GAMES:
        known = ", ".join(sorted(GAMES))
        raise _HTTPError(400, "invalid_field", f"'game' must be one of: {known}")
    return offset, limit, games[0] if games else None


def _parse_seat(query: str) -> int | None:
    """Return the seat asked for, or None for "all" (also the default)."""
    pairs = _query(query)
    seats = [value for key, value in pairs if key == "seat"]
    if len(seats) > 1:
        raise _HTTPError(400, "invalid_field", "'seat' given more than once")
    if not seats or seats[0] == "all":
        return None
    value = seats[0]
    if not (value.isascii() and value.isdigit() and len(value) <= 3):
        raise _HTTPError(400, "invalid_field", "'seat' must be a seat number or 'all'")
    return int(value)


def _iso(ms: int) -> str:
    moment = datetime.datetime.fromtimestamp(ms / 1000, tz=datetime.timezone.utc)
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


def _summary(loaded: LoadedMatch) -> dict[str, Any] | None:
    """The list entry for a log, or None when the match has not finished."""
    end = loaded.end
    if end is None:
        return None
    header = loaded.header
    game = GAMES.get(header.game)
    return {
        "id": header.match_id,
        "game": header.game,
        "title": game.title if game is not None else header.game,
        "players": [
            {"seat": seat, "name": occupant.name, "kind": occupant.kind.value}
            for seat, occupant in enumerate(header.seats)
        ],
        "result": {
            "winners": list(end.winners),
            "draw": end.draw,
            "scores": None if end.scores is None else list(end.scores),
            "reason": end.reason,
            "aborted": end.aborted,
            "termination": None if end.termination is None else end.termination.value,
        },
        "length": loaded.moves,
        "date": _iso(header.started_at),
        "started_at": header.started_at,
        "ended_at": end.at,
    }


def _listed_summary(path: Path) -> dict[str, Any] | None:
    """The list entry for the log at ``path``; None for a running match or one played
    in a private room (served by its id, never listed)."""
    stat = path.stat()
    key = (stat.st_size, stat.st_mtime_ns)
    with _cache_lock:
        hit = _summary_cache.get(str(path))
    if hit is not None and hit[0] == key:
        return hit[1]
    loaded = load_match(path)
    summary = None if loaded.header.private else _summary(loaded)
    with _cache_lock:
        _summary_cache[str(path)] = (key, summary)
    return summary


def list_replays(replays_dir: str | os.PathLike[str] | None) -> list[dict[str, Any]]:
    """Summaries of every finished, readable match of a public room in ``replays_dir``,
    newest first.

    Blocking (reads files): call it from a worker thread in async code.
    """
    if replays_dir is None:
        return []
    directory = Path(replays_dir)
    try:
        paths = [p for p in directory.iterdir() if p.suffix == SUFFIX and p.is_file()]
    except OSError:
        return []
    summaries = []
    for path in paths:
        try:
            summary = _listed_summary(path)
        except (ReplayError, OSError) as exc:
            logger.warning("replay list: skipping %s: %s", path.name, exc)
            continue
        if summary is not None:
            summaries.append(summary)
    summaries.sort(key=lambda s: (s["started_at"], s["id"]), reverse=True)
    return summaries


def replay_document(
    replays_dir: str | os.PathLike[str] | None, match_id: str, seat: int | None
) -> dict[str, Any]:
    """The whole finished match ``match_id`` seen from ``seat`` (None: everything revealed).

    Blocking (reads and re-simulates): call it from a worker thread in async code.
    Raises the module's internal HTTP error for unknown ids, running matches, bad seats
    and logs that cannot be re-simulated.
    """
    if replays_dir is None or not _ID.fullmatch(match_id):
        raise _HTTPError(404, "not_found", f"no finished match {match_id!r}")
    path = Path(replays_dir) / f"{match_id}{SUFFIX}"
    if not path.is_file():
        raise _HTTPError(404, "not_found", f"no finished match {match_id!r}")
    try:
        loaded = load_match(path)
    except ReplayError as exc:
        logger.warning("replay %s cannot be read: %s", match_id, exc)
        raise _HTTPError(500, "corrupt_replay", "this replay file cannot be read") from None
    summary = _summary(loaded)
    if summary is None:
        raise _HTTPError(404, "not_found", f"no finished match {match_id!r}")
    players = len(loaded.header.seats)
    if seat is not None and not 0 <= seat < players:
        raise _HTTPError(
            400, "invalid_field", f"'seat' must be between 0 and {players - 1} or 'all'"
        )
    steps: list[dict[str, Any]] = []
    try:
        for position in iter_positions(loaded, views=True):
            record = position.record
            if record is not None and not isinstance(record, STATE_EVENTS):
                continue
            step: dict[str, Any] = {
                "index": len(steps),
                "version": position.version,
                "kind": _kind(record),
                "seat": getattr(record, "seat", None),
                "move": record.move if isinstance(record, Moved) else None,
                "at": getattr(record, "at", loaded.header.started_at),
                "clocks": _clocks(record),
                "view": position.views[seat],
            }
            if seat is None:
                step["views"] = [position.views[s] for s in range(players)]
            steps.append(step)
    except ReplayError as exc:
        logger.warning("replay %s does not re-simulate: %s", match_id, exc)
        raise _HTTPError(500, "corrupt_replay", "this replay does not re-simulate") from None
    header = dict(summary)
    header["options"] = dict(loaded.header.options)
    clock = loaded.header.clock
    header["clock"] = {
        "initial_ms": clock.initial_ms,
        "increment_ms": clock.increment_ms,
        "per_move_ms": clock.per_move_ms,
    }
    return {"header": header, "seat": "all" if seat is None else seat, "steps": steps}


def _kind(record: object) -> str:
    if isinstance(record, Moved):
        return "move"
    if isinstance(record, TimedOut):
        return "timeout"
    if isinstance(record, Resigned):
        return "resign"
    return "start"


def _clocks(record: object) -> list[int] | None:
    clocks = getattr(record, "clocks", None)
    return None if clocks is None else list(clocks)
