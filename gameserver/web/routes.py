"""The plain-HTTP side of the server port (GET and HEAD).

* ``/healthz`` — ``ok`` while the server runs; 503 with a one-line reason while any
  room is paused because its match log cannot be written (a full or failing disk);
* ``/metrics`` — Prometheus text format (connections, rooms, matches by game, messages
  in/out, errors by code);
* ``/api/replays...`` — the replay API (``gameserver.web.replay_api``);
* ``/api/leaderboard``, ``/api/players/<id>`` — ratings (``gameserver.web.ratings_api``);
* ``/ws`` without an upgrade — 426, naming the subprotocols to offer;
* everything else — files under the static directory (``gameserver.web.static``).
"""

from __future__ import annotations

from pathlib import Path

from gameserver.protocol.version import SUBPROTOCOL_V1, SUBPROTOCOL_V2, WS_PATH
from gameserver.sessions.metrics import CONTENT_TYPE as METRICS_CONTENT_TYPE
from gameserver.sessions.metrics import Metrics
from gameserver.store.async_store import AsyncPlayerStore
from gameserver.web.ratings_api import handle_ratings_request
from gameserver.web.replay_api import handle_replay_request
from gameserver.web.responses import head_only
from gameserver.web.static import serve_static
from gameserver.ws.http import HTTPRequest, HTTPResponse


class HTTPRoutes:
    """Answers every plain-HTTP request; give it to ``serve_websocket`` as its handler."""

    def __init__(
        self,
        replays_dir: Path | None,
        static_dir: Path | None,
        metrics: Metrics,
        store: AsyncPlayerStore | None = None,
    ) -> None:
        self.replays_dir = replays_dir
        self.static_dir = static_dir
        self.metrics = metrics
        self.store = store

    async def __call__(self, request: HTTPRequest) -> HTTPResponse:
        """Answer one request (the server closes the connection afterwards)."""
        return head_only(request, await self._route(request))

    async def _route(self, request: HTTPRequest) -> HTTPResponse:
        replay = await handle_replay_request(request, self.replays_dir)
        if replay is not None:
            return replay
        ratings = await handle_ratings_request(request, self.store)
        if ratings is not None:
            return ratings
        if request.method not in ("GET", "HEAD"):
            return HTTPResponse.text(405, "only GET and HEAD", (("Allow", "GET, HEAD"),))
        path = request.path
        if path == "/healthz":
            return self._health()
        if path == "/metrics":
            body = self.metrics.render().encode("utf-8")
            headers = (("Content-Type", METRICS_CONTENT_TYPE), ("Cache-Control", "no-store"))
            return HTTPResponse(200, headers, body)
        if path == WS_PATH:
            return HTTPResponse.text(
                426,
                f"this is the WebSocket endpoint; connect with subprotocol {SUBPROTOCOL_V2} "
                f"(or {SUBPROTOCOL_V1})",
                (("Upgrade", "websocket"), ("Sec-WebSocket-Version", "13")),
            )
        return await serve_static(self.static_dir, path)

    def _health(self) -> HTTPResponse:
        """200 ``ok``, or 503 naming the failing storage while rooms are paused on it."""
        no_store = (("Cache-Control", "no-store"),)
        metrics = self.metrics
        if not metrics.storage_failing:
            return HTTPResponse.text(200, "ok", no_store)
        rooms = len(metrics.storage_paused)
        return HTTPResponse.text(
            503,
            f"storage failing: cannot write match logs in {self.replays_dir} "
            f"({metrics.storage_error}); {rooms} room{'s' if rooms != 1 else ''} paused",
            no_store,
        )
