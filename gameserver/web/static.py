"""Static files: the browser client under ``/``, resolved strictly inside its directory."""

from __future__ import annotations

import posixpath
from pathlib import Path
from urllib.parse import unquote

import trio

from gameserver.startup import StartupError
from gameserver.ws.http import HTTPResponse

#: The browser client shipped with the project.
DEFAULT_STATIC_DIR = Path(__file__).resolve().parent.parent / "client_web"

# Static files are small; refuse to load anything huge into memory per request.
MAX_STATIC_FILE = 16 * 2**20

CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json; charset=utf-8",
    ".map": "application/json; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".ico": "image/x-icon",
    ".txt": "text/plain; charset=utf-8",
    ".md": "text/markdown; charset=utf-8",
    ".woff2": "font/woff2",
    ".woff": "font/woff",
    ".wasm": "application/wasm",
}


def check_static_dir(static_dir: Path | None) -> None:
    """Raise ``StartupError`` unless ``static_dir`` (when set) is an existing directory:
    a server that answers 404 at ``/`` looks broken to everyone who opens it."""
    if static_dir is None:
        return
    if not static_dir.exists():
        raise StartupError(f"cannot serve {static_dir} at /: no such directory")
    if not static_dir.is_dir():
        raise StartupError(f"cannot serve {static_dir} at /: not a directory")


def static_target(static_dir: Path, request_path: str) -> Path | None:
    """Map a URL path to a file strictly inside ``static_dir``; None if there is none."""
    path = unquote(request_path, errors="strict")
    if "\x00" in path or "\\" in path:
        return None
    if path.endswith("/"):
        path += "index.html"
    parts = [part for part in path.split("/") if part]
    if any(part in (".", "..") or part.startswith(".") for part in parts):
        return None
    normal = posixpath.normpath("/" + "/".join(parts))
    root = static_dir.resolve()
    target = (root / normal.lstrip("/")).resolve()
    if target != root and root not in target.parents:
        return None  # a symlink pointing outside
    return target if target.is_file() else None


def _read(target: Path) -> bytes | None:
    if target.stat().st_size > MAX_STATIC_FILE:
        return None
    return target.read_bytes()


async def serve_static(static_dir: Path | None, path: str) -> HTTPResponse:
    """The file at URL ``path`` (``index.html`` for a directory), or 404 / 400."""
    if static_dir is None or not path.startswith("/"):
        return HTTPResponse.text(404, "not found")
    try:
        target = static_target(static_dir, path)
    except (UnicodeDecodeError, ValueError, OSError):
        return HTTPResponse.text(400, "bad path")
    if target is None:
        return HTTPResponse.text(404, "not found")
    try:
        body = await trio.to_thread.run_sync(_read, target)
    except OSError:
        return HTTPResponse.text(404, "not found")
    if body is None:
        return HTTPResponse.text(404, "not found")
    content_type = CONTENT_TYPES.get(target.suffix.lower(), "application/octet-stream")
    headers = (
        ("Content-Type", content_type),
        ("Cache-Control", "no-cache"),
        ("X-Content-Type-Options", "nosniff"),
    )
    return HTTPResponse(200, headers, body)
