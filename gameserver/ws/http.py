"""A tiny sans-IO HTTP/1.1 model: request/response values and a bounded head parser.

Only what an upgrade handshake and a few plain GET routes need: a request head
(no body), a response with a body, and a parser that reads a head out of a byte
stream under a byte and header-count limit. Header names keep their spelling but
compare case-insensitively (RFC 9110 section 5.1).
"""

from __future__ import annotations

import sys
from collections.abc import Iterable

import attrs

from gameserver.ws.exceptions import HandshakeError

__all__ = [
    "Headers",
    "HTTPRequest",
    "HTTPResponse",
    "HeadReader",
    "parse_request_head",
    "parse_response_head",
    "header_tokens",
    "check_header",
    "REASONS",
]

Headers = tuple[tuple[str, str], ...]
"""Header fields in wire order as (name, value) pairs; a name may repeat."""

# Reason phrases for the statuses this package produces or commonly receives.
REASONS: dict[int, str] = {
    101: "Switching Protocols",
    200: "OK",
    204: "No Content",
    301: "Moved Permanently",
    302: "Found",
    304: "Not Modified",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    408: "Request Timeout",
    426: "Upgrade Required",
    429: "Too Many Requests",
    431: "Request Header Fields Too Large",
    500: "Internal Server Error",
    503: "Service Unavailable",
}

# RFC 9110 section 5.6.2: token characters, the only ones allowed in a field name.
_TOKEN_CHARS = frozenset(
    "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
)
# Field values may hold visible ASCII, spaces, tabs and obs-text, never other controls.
_BAD_VALUE_CHARS = frozenset(chr(c) for c in range(32) if c != 9) | {"\x7f"}


def _is_token(text: str) -> bool:
    return bool(text) and all(c in _TOKEN_CHARS for c in text)


def _get_all(headers: Headers, name: str) -> list[str]:
    lowered = name.lower()
    return [value for key, value in headers if key.lower() == lowered]


def check_header(name: str, value: str) -> None:
    """Raise ValueError unless ``name: value`` is safe to put on the wire (no injection)."""
    if not _is_token(name):
        raise ValueError(f"invalid header name {name!r}")
    if any(c in _BAD_VALUE_CHARS for c in value):
        raise ValueError(f"invalid character in the value of header {name!r}")


def header_tokens(values: Iterable[str]) -> list[str]:
    """Split comma-separated header values into stripped, non-empty items (RFC 9110 5.6.1)."""
    return [item.strip() for value in values for item in value.split(",") if item.strip()]


@attrs.frozen
class HTTPRequest:
    """The head of an HTTP/1.1 request (this package never reads request bodies)."""

    method: str
    """Request method, e.g. ``"GET"``."""

    target: str
    """Request target as sent, e.g. ``"/ws?room=1"``."""

    headers: Headers = ()
    """Header fields in wire order."""

    version: str = "HTTP/1.1"
    """Protocol version from the request line."""

    @property
    def path(self) -> str:
        """The target without its query string."""
        return self.target.split("?", 1)[0]

    @property
    def query(self) -> str:
        """The query string after ``?`` ('' when none)."""
        return self.target.split("?", 1)[1] if "?" in self.target else ""

    def get(self, name: str, default: str | None = None) -> str | None:
        """Return the first value of header ``name`` (case-insensitive), or ``default``."""
        values = _get_all(self.headers, name)
        return values[0] if values else default

    def get_all(self, name: str) -> list[str]:
        """Return every value of header ``name`` in wire order."""
        return _get_all(self.headers, name)

    def to_bytes(self) -> bytes:
        """Serialise the request head, ready to write to a stream."""
        lines = [f"{self.method} {self.target} {self.version}"]
        lines += [f"{name}: {value}" for name, value in self.headers]
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


@attrs.frozen
class HTTPResponse:
    """An HTTP/1.1 response: status, headers and a (possibly empty) body."""

    status: int
    """Status code, e.g. 200."""

    headers: Headers = ()
    """Header fields in wire order. ``Content-Length`` is added by :meth:`to_bytes`."""

    body: bytes = b""
    """Response body."""

    reason: str = ""
    """Reason phrase ('' picks the standard one for ``status``)."""

    def get(self, name: str, default: str | None = None) -> str | None:
        """Return the first value of header ``name`` (case-insensitive), or ``default``."""
        values = _get_all(self.headers, name)
        return values[0] if values else default

    def get_all(self, name: str) -> list[str]:
        """Return every value of header ``name`` in wire order."""
        return _get_all(self.headers, name)

    @classmethod
    def text(cls, status: int, text: str, headers: Headers = ()) -> HTTPResponse:
        """Build a ``text/plain`` response whose body is ``text`` (plus a newline)."""
        content_type = (("Content-Type", "text/plain; charset=utf-8"),)
        return cls(status, content_type + tuple(headers), (text + "\n").encode("utf-8"))

    def to_bytes(self, *, close: bool = True) -> bytes:
        """Serialise head and body; adds ``Content-Length`` and, if ``close``, ``Connection: close``.

        A 101 response gets neither: after it the stream belongs to the WebSocket.
        """
        reason = self.reason or REASONS.get(self.status, "Unknown")
        lines = [f"HTTP/1.1 {self.status} {reason}"]
        lines += [f"{name}: {value}" for name, value in self.headers]
        if self.status != 101:
            names = {name.lower() for name, _ in self.headers}
            if "content-length" not in names:
                lines.append(f"Content-Length: {len(self.body)}")
            if close and "connection" not in names:
                lines.append("Connection: close")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        return head + self.body


def _split_head(head: bytes, max_headers: int) -> tuple[str, Headers]:
    """Split a head (without the final blank line) into its start line and header fields."""
    # latin-1 maps every byte to one character, so no input can fail to decode here.
    lines = head.decode("latin-1").split("\r\n")
    start, fields = lines[0], lines[1:]
    if len(fields) > max_headers:
        raise HandshakeError(431, f"too many header fields (limit {max_headers})")
    headers: list[tuple[str, str]] = []
    for line in fields:
        if line[:1] in (" ", "\t"):
            raise HandshakeError(400, "obsolete header line folding is not allowed")
        name, colon, value = line.partition(":")
        if not colon:
            raise HandshakeError(400, f"malformed header line {line[:40]!r}")
        if not _is_token(name):
            raise HandshakeError(400, f"invalid header name {name[:40]!r}")
        value = value.strip(" \t")
        if any(c in _BAD_VALUE_CHARS for c in value):
            raise HandshakeError(400, f"invalid character in header {name!r}")
        # Interned: a server keeps each WebSocket's opening request, and apart from
        # the key (unique by design), its names and values are the same strings on
        # every connection.
        if name.lower() != "sec-websocket-key":
            value = sys.intern(value)
        headers.append((sys.intern(name), value))
    return start, tuple(headers)


def parse_request_head(head: bytes, *, max_headers: int = 100) -> HTTPRequest:
    """Parse a request head (the bytes before the blank line); raise HandshakeError if bad."""
    start, headers = _split_head(head, max_headers)
    parts = start.split(" ")
    if len(parts) != 3:
        raise HandshakeError(400, "malformed request line")
    method, target, version = (sys.intern(part) for part in parts)
    if not _is_token(method):
        raise HandshakeError(400, "malformed request method")
    if version not in ("HTTP/1.1", "HTTP/1.0"):
        raise HandshakeError(400, f"unsupported HTTP version {version[:20]!r}")
    if not target or any(c in _BAD_VALUE_CHARS or c == " " for c in target):
        raise HandshakeError(400, "malformed request target")
    return HTTPRequest(method, target, headers, version)


def parse_response_head(head: bytes, *, max_headers: int = 100) -> HTTPResponse:
    """Parse a response head (no body); raise HandshakeError with status 0 if it is malformed.

    Client-side failures carry status 0 when the server's answer could not be read at all.
    """
    try:
        start, headers = _split_head(head, max_headers)
    except HandshakeError as exc:
        raise HandshakeError(0, f"invalid response from server: {exc.reason}") from None
    version, _, rest = start.partition(" ")
    status_text, _, reason = rest.partition(" ")
    if version not in ("HTTP/1.1", "HTTP/1.0") or not (
        len(status_text) == 3 and status_text.isdigit()
    ):
        raise HandshakeError(0, f"invalid status line from server {start[:60]!r}")
    return HTTPResponse(int(status_text), headers, b"", reason)


class HeadReader:
    """Accumulate bytes until an HTTP head is complete, under a size limit.

    Feed every chunk read from the stream to :meth:`feed`. It returns ``None`` while
    more bytes are needed, then the head (without the blank line). Bytes after the
    head stay in :attr:`trailing` (e.g. the first WebSocket frames sent by an eager
    server); hand them to the WebSocket connection. Raises HandshakeError(431) when
    the head exceeds ``max_bytes``.
    """

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._buffer = bytearray()
        self.trailing = b""

    def feed(self, data: bytes) -> bytes | None:
        """Add ``data``; return the complete head, or None if more bytes are needed."""
        searched = max(0, len(self._buffer) - 3)
        self._buffer += data
        end = self._buffer.find(b"\r\n\r\n", searched)
        if end < 0:
            if len(self._buffer) > self.max_bytes:
                raise HandshakeError(431, f"HTTP head larger than {self.max_bytes} bytes")
            return None
        if end + 4 > self.max_bytes:
            raise HandshakeError(431, f"HTTP head larger than {self.max_bytes} bytes")
        head = bytes(self._buffer[:end])
        self.trailing = bytes(self._buffer[end + 4 :])
        self._buffer.clear()
        return head
