"""Sans-IO opening handshake of RFC 6455 section 4, for both roles.

Server: read a request head with :class:`~gameserver.ws.http.HeadReader`, parse it with
:func:`~gameserver.ws.http.parse_request_head`, then ask :func:`is_websocket_request`.
Plain HTTP requests go to an HTTP handler; upgrade requests go to :func:`accept`, which
returns the 101 response to write or raises HandshakeError, which :func:`reject` turns
into the 400/403/426 response to write before closing the stream.

Client: build a :class:`ClientHandshake`, write :meth:`ClientHandshake.request_bytes`,
feed the server's bytes to :meth:`ClientHandshake.receive_data` until it returns the
negotiated :class:`Accepted` result (or raises HandshakeError).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from collections.abc import Callable, Sequence

import attrs

from gameserver.ws import deflate
from gameserver.ws.deflate import DeflateParams
from gameserver.ws.exceptions import HandshakeError
from gameserver.ws.http import (
    Headers,
    HeadReader,
    HTTPRequest,
    HTTPResponse,
    check_header,
    header_tokens,
    parse_response_head,
)

__all__ = [
    "WS_GUID",
    "WS_VERSION",
    "OriginCheck",
    "Accepted",
    "accept_value",
    "is_websocket_request",
    "accept",
    "reject",
    "ClientHandshake",
]

# RFC 6455 section 1.3: the fixed GUID appended to the key before hashing.
WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
# RFC 6455 section 4.1: the only protocol version this implementation speaks.
WS_VERSION = "13"

OriginCheck = Callable[[str | None], bool]
"""Called with the request's ``Origin`` (None when absent); return False to refuse (403)."""


@attrs.frozen
class Accepted:
    """The outcome of a successful handshake, in either role."""

    response: HTTPResponse
    """The 101 response (server: write it; client: what the server sent)."""

    subprotocol: str | None
    """The negotiated subprotocol, or None."""

    deflate: DeflateParams | None
    """The negotiated permessage-deflate parameters, or None when uncompressed."""


def accept_value(key: str) -> str:
    """Return the ``Sec-WebSocket-Accept`` value for a ``Sec-WebSocket-Key`` (section 4.2.2)."""
    digest = hashlib.sha1((key + WS_GUID).encode("ascii")).digest()
    return base64.b64encode(digest).decode("ascii")


def _valid_key(key: str) -> bool:
    # Section 4.1: a base64-encoded 16-byte value, which is always 24 characters long.
    if len(key) != 24:
        return False
    try:
        return len(base64.b64decode(key.encode("ascii"), validate=True)) == 16
    except (binascii.Error, UnicodeEncodeError):
        return False


def _has_token(request_or_response: HTTPRequest | HTTPResponse, name: str, token: str) -> bool:
    tokens = header_tokens(request_or_response.get_all(name))
    return token in (t.lower() for t in tokens)


def is_websocket_request(request: HTTPRequest) -> bool:
    """True when ``request`` attempts a WebSocket upgrade (even a malformed attempt).

    Such requests must go to :func:`accept`; anything else is plain HTTP.
    """
    return (
        _has_token(request, "Upgrade", "websocket")
        or request.get("Sec-WebSocket-Key") is not None
        or request.get("Sec-WebSocket-Version") is not None
    )


def _single(request: HTTPRequest, name: str) -> str:
    values = request.get_all(name)
    if not values:
        raise HandshakeError(400, f"missing {name} header")
    if len(values) > 1:
        raise HandshakeError(400, f"more than one {name} header")
    return values[0]


def accept(
    request: HTTPRequest,
    *,
    subprotocols: Sequence[str] = (),
    origin_check: OriginCheck | None = None,
    compression: DeflateParams | None = None,
) -> Accepted:
    """Validate an upgrade request and build the 101 response (section 4.2).

    ``subprotocols`` lists the server's subprotocols in preference order; the first one
    the client also offered is chosen (none when there is no overlap). ``compression``
    enables permessage-deflate with those server-side preferences (None: never).

    Write ``result.response.to_bytes()`` and then speak WebSocket on the stream.
    Raises HandshakeError (status 400, 403 or 426); answer with :func:`reject`.
    """
    if request.method != "GET":
        raise HandshakeError(400, f"WebSocket upgrade needs GET, not {request.method}")
    if request.version != "HTTP/1.1":
        raise HandshakeError(400, "WebSocket upgrade needs HTTP/1.1")
    if request.get("Host") is None:
        raise HandshakeError(400, "missing Host header")
    if not _has_token(request, "Upgrade", "websocket"):
        raise HandshakeError(400, "missing 'Upgrade: websocket' header")
    if not _has_token(request, "Connection", "upgrade"):
        raise HandshakeError(400, "missing 'Connection: Upgrade' header")
    versions = header_tokens(request.get_all("Sec-WebSocket-Version"))
    if versions != [WS_VERSION]:
        raise HandshakeError(426, f"unsupported Sec-WebSocket-Version (only {WS_VERSION})")
    key = _single(request, "Sec-WebSocket-Key")
    if not _valid_key(key):
        raise HandshakeError(400, "Sec-WebSocket-Key is not a base64-encoded 16-byte value")
    if origin_check is not None and not origin_check(request.get("Origin")):
        raise HandshakeError(403, "origin not allowed")

    headers: list[tuple[str, str]] = [
        ("Upgrade", "websocket"),
        ("Connection", "Upgrade"),
        ("Sec-WebSocket-Accept", accept_value(key)),
    ]
    offered = header_tokens(request.get_all("Sec-WebSocket-Protocol"))
    subprotocol = next((p for p in subprotocols if p in offered), None)
    if subprotocol is not None:
        headers.append(("Sec-WebSocket-Protocol", subprotocol))
    params: DeflateParams | None = None
    extension_offers = request.get_all("Sec-WebSocket-Extensions")
    if compression is not None and extension_offers:
        agreed = deflate.server_accept(extension_offers, compression)
        if agreed is not None:
            params, response_value = agreed
            headers.append(("Sec-WebSocket-Extensions", response_value))
    return Accepted(HTTPResponse(101, tuple(headers)), subprotocol, params)


def reject(error: HandshakeError) -> HTTPResponse:
    """Build the response for a failed upgrade; write it, then close the stream.

    A 426 carries ``Sec-WebSocket-Version: 13`` so the client can retry (section 4.4).
    """
    headers: Headers = ()
    if error.status == 426:
        headers = (("Sec-WebSocket-Version", WS_VERSION),)
    return HTTPResponse.text(error.status, error.reason, headers)


class ClientHandshake:
    """The client side of the opening handshake (section 4.1).

    Write :meth:`request_bytes` to the stream, then feed everything read to
    :meth:`receive_data` until it returns :class:`Accepted`. Bytes the server sent
    after its head are in :attr:`trailing`: feed them to the WebSocket connection.
    Raises ValueError when an extra header in ``headers`` could not be sent safely.
    """

    def __init__(
        self,
        host: str,
        target: str = "/",
        *,
        subprotocols: Sequence[str] = (),
        compression: DeflateParams | None = None,
        headers: Headers = (),
        origin: str | None = None,
        key: str | None = None,
        max_header_bytes: int = 16384,
        max_headers: int = 100,
    ) -> None:
        self.key = key or base64.b64encode(os.urandom(16)).decode("ascii")
        self.subprotocols = tuple(subprotocols)
        self.compression = compression
        self.max_headers = max_headers
        fields: list[tuple[str, str]] = [
            ("Host", host),
            ("Upgrade", "websocket"),
            ("Connection", "Upgrade"),
            ("Sec-WebSocket-Key", self.key),
            ("Sec-WebSocket-Version", WS_VERSION),
        ]
        if origin is not None:
            fields.append(("Origin", origin))
        if self.subprotocols:
            fields.append(("Sec-WebSocket-Protocol", ", ".join(self.subprotocols)))
        if compression is not None:
            fields.append(("Sec-WebSocket-Extensions", deflate.client_offer(compression)))
        for name, value in headers:
            check_header(name, value)
        fields.extend(headers)
        self.request = HTTPRequest("GET", target, tuple(fields))
        self._reader = HeadReader(max_header_bytes)

    @property
    def trailing(self) -> bytes:
        """Bytes received after the response head (already WebSocket frames)."""
        return self._reader.trailing

    def request_bytes(self) -> bytes:
        """The request to write to the stream."""
        return self.request.to_bytes()

    def receive_data(self, data: bytes) -> Accepted | None:
        """Feed bytes from the server; return the result once the head is complete.

        Returns None when more bytes are needed. Raises HandshakeError when the server
        refused (``status`` is its HTTP status) or answered invalidly (``status`` is
        the one it sent, or 0 when it did not send a readable status line).
        """
        try:
            head = self._reader.feed(data)
        except HandshakeError as exc:
            raise HandshakeError(0, f"invalid response from server: {exc.reason}") from None
        if head is None:
            return None
        response = parse_response_head(head, max_headers=self.max_headers)
        return self._check(response)

    def receive_eof(self) -> None:
        """The stream ended before a complete response: always raises HandshakeError."""
        raise HandshakeError(0, "connection closed during the opening handshake")

    def _check(self, response: HTTPResponse) -> Accepted:
        status = response.status
        if status != 101:
            reason = response.reason or "no reason given"
            raise HandshakeError(status, f"server refused the upgrade: {status} {reason}")
        if not _has_token(response, "Upgrade", "websocket"):
            raise HandshakeError(status, "response lacks 'Upgrade: websocket'")
        if not _has_token(response, "Connection", "upgrade"):
            raise HandshakeError(status, "response lacks 'Connection: Upgrade'")
        if response.get_all("Sec-WebSocket-Accept") != [accept_value(self.key)]:
            raise HandshakeError(status, "wrong or missing Sec-WebSocket-Accept")

        protocols = header_tokens(response.get_all("Sec-WebSocket-Protocol"))
        subprotocol: str | None = None
        if protocols:
            if len(protocols) > 1 or protocols[0] not in self.subprotocols:
                raise HandshakeError(status, f"server chose a subprotocol not offered: {protocols}")
            subprotocol = protocols[0]

        extensions = response.get_all("Sec-WebSocket-Extensions")
        params: DeflateParams | None = None
        if extensions:
            if self.compression is None:
                raise HandshakeError(status, "server accepted an extension that was not offered")
            if len(extensions) > 1:
                raise HandshakeError(status, "server accepted more than one extension")
            params = deflate.client_check_response(extensions[0], self.compression)
        return Accepted(response, subprotocol, params)
