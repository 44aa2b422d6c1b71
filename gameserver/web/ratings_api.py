"""The ratings HTTP API: leaderboards and player profiles as JSON, for pages and tools
that hold no game connection.

Routes (GET or HEAD only; JSON, ``Cache-Control: no-store``), specified in
docs/protocol.md section 18 ("Over HTTP"):

* ``/api/leaderboard?game=G&players=N&board=all|humans|bots&limit=L``: the body of a
  ``LeaderboardResult``;
* ``/api/players/<player_id>``: the body of a ``ProfileResult``.

Errors are ``{"error": "<code>", "message": "<text>"}`` with the protocol's error codes:
400 ``invalid_field``, 404 ``unknown_account``, 405 ``method_not_allowed``.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

from gameserver.protocol.errors import ErrorCode, RequestError
from gameserver.protocol.messages import Board
from gameserver.protocol.schema import record_to_wire
from gameserver.sessions.standings import leaderboard, profile
from gameserver.store.async_store import AsyncPlayerStore
from gameserver.web.responses import head_only, json_response
from gameserver.ws.http import HTTPRequest, HTTPResponse

__all__ = ["handle_ratings_request"]

LEADERBOARD = "/api/leaderboard"
PLAYERS = "/api/players/"
# Player ids are short tokens; anything longer is not one (and not worth a query).
_MAX_ID = 64

_STATUS = {ErrorCode.UNKNOWN_ACCOUNT: 404}


async def handle_ratings_request(
    request: HTTPRequest, store: AsyncPlayerStore | None
) -> HTTPResponse | None:
    """Answer a request for a leaderboard or a profile; None for any other path."""
    path = request.path
    if path != LEADERBOARD and not path.startswith(PLAYERS):
        return None
    if request.method not in ("GET", "HEAD"):
        response = json_response(405, {"error": "method_not_allowed", "message": "only GET and HEAD"})
        return HTTPResponse(405, response.headers + (("Allow", "GET, HEAD"),), response.body)
    try:
        if store is None:
            raise RequestError(ErrorCode.UNKNOWN_ACCOUNT, "this server keeps no accounts")
        if path == LEADERBOARD:
            game, players, board, limit = _leaderboard_query(request.query)
            result: Any = await store.call(leaderboard, store.sync, game, players, board, limit)
        else:
            player_id = path[len(PLAYERS) :]
            if not player_id or len(player_id) > _MAX_ID or "/" in player_id:
                raise RequestError(ErrorCode.UNKNOWN_ACCOUNT, "no such player")
            result = await store.call(profile, store.sync, player_id)
    except RequestError as error:
        status = _STATUS.get(error.code, 400)
        return head_only(request, json_response(status, {"error": error.code.value, "message": error.message}))
    return head_only(request, json_response(200, record_to_wire(result)))


def _leaderboard_query(query: str) -> tuple[str, int, Board, int]:
    """``game``, ``players``, ``board`` and ``limit`` of a leaderboard query string."""
    values = {key: items[-1] for key, items in parse_qs(query).items()}
    game = values.get("game")
    if not game:
        raise RequestError(ErrorCode.INVALID_FIELD, "'game' is required")
    try:
        players = int(values.get("players", "2"))
        limit = int(values.get("limit", "20"))
    except ValueError:
        raise RequestError(ErrorCode.INVALID_FIELD, "'players' and 'limit' are whole numbers") from None
    try:
        board = Board(values.get("board", "all"))
    except ValueError:
        raise RequestError(ErrorCode.INVALID_FIELD, "'board' is all, humans or bots") from None
    return game, players, board, limit


