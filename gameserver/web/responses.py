"""HTTP responses the web routes share: JSON bodies, and HEAD answered like GET without
the body."""

from __future__ import annotations

import json
from typing import Any

from gameserver.ws.http import HTTPRequest, HTTPResponse


def json_response(status: int, body: Any) -> HTTPResponse:
    """``body`` as compact UTF-8 JSON, never cached (the data changes as matches end)."""
    data = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    headers = (
        ("Content-Type", "application/json; charset=utf-8"),
        ("Cache-Control", "no-store"),
        ("X-Content-Type-Options", "nosniff"),
    )
    return HTTPResponse(status, headers, data)


def head_only(request: HTTPRequest, response: HTTPResponse) -> HTTPResponse:
    """For a HEAD request, ``response`` with its length but without its body."""
    if request.method != "HEAD" or not response.body:
        return response
    length = (("Content-Length", str(len(response.body))),)
    return HTTPResponse(response.status, response.headers + length, b"")
