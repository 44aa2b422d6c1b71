"""The WebSocket client: ``ws://`` and ``wss://`` URLs, the opening handshake, a WebSocket.

``async with open_websocket(url) as ws:`` for the common case; :func:`connect` when the
caller owns the nursery the connection's background task runs in.
"""

from __future__ import annotations

import logging
import ssl
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from urllib.parse import urlsplit

import attrs
import trio

from gameserver.ws.codes import CloseCode
from gameserver.ws.config import WebSocketConfig
from gameserver.ws.connection import Connection, Role
from gameserver.ws.deflate import DeflateParams
from gameserver.ws.exceptions import HandshakeError
from gameserver.ws.handshake import Accepted, ClientHandshake
from gameserver.ws.http import Headers
from gameserver.ws.websocket import WebSocket, peer_address

__all__ = ["WebSocketURL", "parse_url", "connect", "open_websocket"]

logger = logging.getLogger(__name__)


@attrs.frozen
class WebSocketURL:
    """The parts of a ``ws://`` or ``wss://`` URL the client needs."""

    secure: bool
    host: str
    port: int
    target: str
    """Path and query, e.g. ``/ws?room=1``."""

    @property
    def host_header(self) -> str:
        """The ``Host`` header value (the port only when not the scheme's default)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        default = 443 if self.secure else 80
        return host if self.port == default else f"{host}:{self.port}"


def parse_url(url: str) -> WebSocketURL:
    """Split a ``ws://`` / ``wss://`` URL; raise ValueError for anything else."""
    parts = urlsplit(url)
    if parts.scheme not in ("ws", "wss"):
        raise ValueError(f"not a ws:// or wss:// URL: {url!r}")
    if parts.fragment or "#" in url:
        raise ValueError(f"WebSocket URLs cannot have a fragment: {url!r}")
    if not parts.hostname:
        raise ValueError(f"URL has no host: {url!r}")
    secure = parts.scheme == "wss"
    port = parts.port or (443 if secure else 80)
    target = parts.path or "/"
    if parts.query:
        target += "?" + parts.query
    return WebSocketURL(secure, parts.hostname, port, target)


async def _handshake(
    stream: trio.abc.Stream, handshake: ClientHandshake
) -> Accepted:
    try:
        await stream.send_all(handshake.request_bytes())
        while True:
            data = await stream.receive_some(65536)
            if not data:
                handshake.receive_eof()
            result = handshake.receive_data(bytes(data))
            if result is not None:
                return result
    except trio.BrokenResourceError as exc:
        # A reset before the 101 is a failed handshake like an early EOF, not a crash.
        raise HandshakeError(0, f"connection lost during the opening handshake: {exc}") from exc


async def _open(
    url: str,
    *,
    subprotocols: Sequence[str] = (),
    compression: bool | DeflateParams = True,
    headers: Headers = (),
    origin: str | None = None,
    ssl_context: ssl.SSLContext | None = None,
    config: WebSocketConfig | None = None,
    open_timeout: float = 10.0,
    max_header_bytes: int = 16384,
) -> WebSocket:
    """Connect and handshake; return a WebSocket whose background task is not started."""
    parsed = parse_url(url)
    config = config or WebSocketConfig()
    offer: DeflateParams | None
    if compression is True:
        offer = DeflateParams()
    elif compression is False:
        offer = None
    else:
        offer = compression
    client = ClientHandshake(
        parsed.host_header,
        parsed.target,
        subprotocols=subprotocols,
        compression=offer,
        headers=headers,
        origin=origin,
        max_header_bytes=max_header_bytes,
    )
    stream: trio.abc.Stream | None = None
    try:
        with trio.move_on_after(open_timeout) as scope:
            tcp = await trio.open_tcp_stream(parsed.host, parsed.port)
            stream = tcp
            if parsed.secure:
                context = ssl_context or ssl.create_default_context()
                tls = trio.SSLStream(
                    tcp, context, server_hostname=parsed.host, https_compatible=True
                )
                stream = tls
                await tls.do_handshake()
            accepted = await _handshake(stream, client)
        if scope.cancelled_caught:
            raise HandshakeError(0, f"opening handshake with {url} timed out")
    except BaseException:
        if stream is not None:
            await trio.aclose_forcefully(stream)
        raise
    assert stream is not None
    connection = Connection(
        Role.CLIENT,
        max_message_size=config.max_message_size,
        deflate=accepted.deflate,
        hold_close=True,
    )
    ws = WebSocket(
        stream,
        connection,
        config=config,
        subprotocol=accepted.subprotocol,
        request=client.request,
        response=accepted.response,
        remote_address=peer_address(stream),
        initial_data=client.trailing,
    )
    logger.debug("connected to %s", url)
    return ws


async def connect(
    url: str,
    *,
    nursery: trio.Nursery,
    subprotocols: Sequence[str] = (),
    compression: bool | DeflateParams = True,
    headers: Headers = (),
    origin: str | None = None,
    ssl_context: ssl.SSLContext | None = None,
    config: WebSocketConfig | None = None,
    open_timeout: float = 10.0,
    max_header_bytes: int = 16384,
) -> WebSocket:
    """Open a connection to ``url`` whose background task runs in ``nursery``.

    ``compression`` offers permessage-deflate (True: default parameters; a
    DeflateParams: those; False: no offer). ``open_timeout`` bounds TCP, TLS and the
    upgrade together. The caller must ``await ws.close()`` when done (the nursery
    does not end while the connection is open).

    Raises OSError when TCP fails, HandshakeError when the server refuses or answers
    invalidly (``status`` 0 for a timeout or an unreadable answer).
    """
    ws = await _open(
        url,
        subprotocols=subprotocols,
        compression=compression,
        headers=headers,
        origin=origin,
        ssl_context=ssl_context,
        config=config,
        open_timeout=open_timeout,
        max_header_bytes=max_header_bytes,
    )
    nursery.start_soon(ws.run)
    return ws


@asynccontextmanager
async def open_websocket(
    url: str,
    *,
    subprotocols: Sequence[str] = (),
    compression: bool | DeflateParams = True,
    headers: Headers = (),
    origin: str | None = None,
    ssl_context: ssl.SSLContext | None = None,
    config: WebSocketConfig | None = None,
    open_timeout: float = 10.0,
    max_header_bytes: int = 16384,
) -> AsyncIterator[WebSocket]:
    """``async with open_websocket(url) as ws:`` connects, yields, then closes.

    Leaving the block normally closes with 1000; an exception or cancellation closes
    with 1001 "going away". Arguments as for :func:`connect`.
    """
    ws = await _open(
        url,
        subprotocols=subprotocols,
        compression=compression,
        headers=headers,
        origin=origin,
        ssl_context=ssl_context,
        config=config,
        open_timeout=open_timeout,
        max_header_bytes=max_header_bytes,
    )
    # The body's exception is re-raised outside the nursery so callers catch it as
    # itself, not wrapped in an ExceptionGroup.
    error: BaseException | None = None
    async with trio.open_nursery() as nursery:
        nursery.start_soon(ws.run)
        try:
            yield ws
        except BaseException as exc:
            error = exc
            with trio.CancelScope(shield=True):
                await ws.close(CloseCode.GOING_AWAY, "going away")
        else:
            await ws.close(CloseCode.NORMAL)
    if error is not None:
        raise error
