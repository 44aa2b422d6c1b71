"""The WebSocket server: listeners, the opening handshake, one handler task per connection.

Each connection's WebSocket is read by a task of its own (``WebSocket.run``), so pings,
keepalive and close handshakes are served whatever the handler does. With
``read_inline=True`` there is no such task: the handler's own waits for input
(``receive``, ``ping``, ``close``) read the stream, and one timer task for the whole
server sends the keepalive pings (see ``keepalive.py``). That halves the tasks (and
much of the memory) per idle connection. Use it for handlers that always wait in
``receive`` when they have nothing else to do.

Plain HTTP requests on the same port go to an optional HTTP handler (the browser
client, ``/healthz``, ``/metrics``), one request per TCP connection.

A handler's end decides the close code: returning closes with 1000, raising closes
with 1011 (and logs the error), cancellation (server shutdown) closes with 1001.
"""

from __future__ import annotations

import logging
import math
import ssl
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, NoReturn

import attrs
import trio

from gameserver.ws import handshake
from gameserver.ws.codes import CloseCode
from gameserver.ws.config import WebSocketServerConfig
from gameserver.ws.connection import Connection, Role
from gameserver.ws.exceptions import ConnectionClosed, HandshakeError
from gameserver.ws.http import HeadReader, HTTPRequest, HTTPResponse, parse_request_head
from gameserver.ws.keepalive import SharedKeepalive
from gameserver.ws.reuse_port import open_reuse_port_listeners
from gameserver.ws.websocket import WebSocket, peer_address

__all__ = ["Handler", "HTTPHandler", "WebSocketServer", "serve_websocket"]

logger = logging.getLogger(__name__)

Handler = Callable[[WebSocket], Awaitable[None]]
"""Runs one WebSocket connection; its end decides the close code (see module doc)."""

HTTPHandler = Callable[[HTTPRequest], Awaitable[HTTPResponse]]
"""Answers one plain (non-upgrade) HTTP request."""

AddressGate = Callable[[str], float]
"""Given a client IP address, the seconds its new connections are still refused (0: accept)."""

Listener = trio.SocketListener | trio.SSLListener[trio.SocketStream]


@attrs.define
class WebSocketServer:
    """A running server, as reported by ``await nursery.start(serve_websocket, ...)``."""

    listeners: list[Listener]
    """The bound listeners (one per address family/interface)."""

    config: WebSocketServerConfig
    """The limits in force."""

    connections: int = 0
    """Connections currently open (handshaking, HTTP or WebSocket)."""

    per_ip: dict[str, int] = attrs.field(factory=dict)
    """Open connections per remote IP address."""

    @property
    def port(self) -> int:
        """The TCP port of the first listener (the one to use when binding port 0)."""
        listener: trio.abc.Listener[Any] = self.listeners[0]
        if isinstance(listener, trio.SSLListener):
            listener = listener.transport_listener
        assert isinstance(listener, trio.SocketListener)
        return int(listener.socket.getsockname()[1])


# After an error response, how long (and how much) to keep reading what the client
# still sends: closing with unread input makes the kernel send RST, which can destroy
# the response before the client reads it.
_LINGER_SECONDS = 2.0
_LINGER_BYTES = 2**20


async def _send_response(stream: trio.abc.Stream, response: HTTPResponse) -> None:
    """Write ``response`` best-effort (the client may be gone), then close gently."""
    try:
        await stream.send_all(response.to_bytes())
        if isinstance(stream, trio.abc.HalfCloseableStream):
            await stream.send_eof()
        with trio.move_on_after(_LINGER_SECONDS):
            drained = 0
            while drained < _LINGER_BYTES:
                chunk = await stream.receive_some(65536)
                if not chunk:
                    break
                drained += len(chunk)
    except (trio.BrokenResourceError, trio.ClosedResourceError):
        pass


async def _read_request(
    stream: trio.abc.Stream, config: WebSocketServerConfig
) -> tuple[HTTPRequest, bytes] | None:
    """Read one request head; None when the client left first. Raises HandshakeError."""
    reader = HeadReader(config.max_header_bytes)
    while True:
        try:
            data = await stream.receive_some(65536)
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            return None
        if not data:
            return None
        head = reader.feed(bytes(data))
        if head is not None:
            request = parse_request_head(head, max_headers=config.max_headers)
            return request, reader.trailing


class _ConnectionRunner:
    """Everything one server needs to turn an accepted stream into a connection."""

    def __init__(
        self,
        server: WebSocketServer,
        handler: Handler,
        *,
        subprotocols: Sequence[str],
        http_handler: HTTPHandler | None,
        origin_check: handshake.OriginCheck | None,
        read_inline: bool,
        address_gate: AddressGate | None = None,
    ) -> None:
        self.server = server
        self.handler = handler
        self.subprotocols = tuple(subprotocols)
        self.http_handler = http_handler
        self.origin_check = origin_check
        self.read_inline = read_inline
        self.address_gate = address_gate
        # Inline: where the connections' writer tasks start when a write has to wait.
        self.nursery: trio.Nursery | None = None
        # Inline with keepalive: the one timer that keeps every connection's deadlines.
        self.keepalive: SharedKeepalive | None = None

    async def __call__(self, stream: trio.abc.Stream) -> None:
        server = self.server
        config = server.config
        address = peer_address(stream)
        ip = str(address[0]) if address else "?"
        server.connections += 1
        server.per_ip[ip] = server.per_ip.get(ip, 0) + 1
        try:
            if server.connections > config.max_connections:
                logger.warning("refusing %s: %d connections open", ip, server.connections)
                await _send_response(stream, HTTPResponse.text(503, "too many connections"))
                return
            if server.per_ip[ip] > config.max_connections_per_ip:
                logger.warning("refusing %s: too many connections from this address", ip)
                await _send_response(
                    stream, HTTPResponse.text(503, "too many connections from your address")
                )
                return
            wait = self.address_gate(ip) if self.address_gate is not None else 0.0
            if wait > 0:
                # Before reading the request: a penalised address costs an accept and
                # one small write, not a handshake. Debug only: it may come in floods.
                logger.debug("refusing %s for %g s more", ip, wait)
                retry = (("Retry-After", str(math.ceil(wait))),)
                await _send_response(stream, HTTPResponse.text(429, "too many requests", retry))
                return
            ws = await self._open(stream, address)
            if ws is None:
                pass  # refused, lost, or a plain HTTP request (answered)
            elif self.read_inline:
                keepalive = self.keepalive
                if keepalive is not None:
                    keepalive.add(ws)
                try:
                    await self._run_handler(ws)
                finally:
                    if keepalive is not None:
                        keepalive.discard(ws)
            else:
                async with trio.open_nursery() as nursery:
                    nursery.start_soon(ws.run)
                    await self._run_handler(ws)
        except Exception:
            logger.exception("unexpected error serving %s", address)
        finally:
            server.connections -= 1
            server.per_ip[ip] -= 1
            if not server.per_ip[ip]:
                del server.per_ip[ip]
            await trio.aclose_forcefully(stream)

    async def _open(self, stream: trio.abc.Stream, address: Any) -> WebSocket | None:
        """Read the request and answer it: the open WebSocket after a 101, or None
        (refused, timed out, lost, or a plain HTTP request that was answered)."""
        config = self.server.config
        accepted: handshake.Accepted | None = None
        try:
            with trio.fail_after(config.handshake_timeout):
                read = await _read_request(stream, config)
                if read is None:
                    return None
                request, trailing = read
                if handshake.is_websocket_request(request):
                    deflate = config.deflate if config.compression else None
                    accepted = handshake.accept(
                        request,
                        subprotocols=self.subprotocols,
                        origin_check=self.origin_check,
                        compression=deflate,
                    )
                    await stream.send_all(accepted.response.to_bytes())
        except HandshakeError as exc:
            logger.info("refused handshake from %s: %s %s", address, exc.status, exc.reason)
            await _send_response(stream, handshake.reject(exc))
            return None
        except trio.TooSlowError:
            logger.info("handshake from %s timed out", address)
            await _send_response(stream, HTTPResponse.text(408, "handshake timed out"))
            return None
        except (trio.BrokenResourceError, trio.ClosedResourceError) as exc:
            logger.info("connection from %s lost during the handshake: %s", address, exc)
            return None
        if accepted is None:
            await self._serve_http(stream, request)
            return None

        connection = Connection(
            Role.SERVER,
            max_message_size=config.max_message_size,
            deflate=accepted.deflate,
            hold_close=True,
        )
        # The 101 is written; keeping it would cost every connection its headers.
        return WebSocket(
            stream,
            connection,
            config=config.websocket_config(),
            subprotocol=accepted.subprotocol,
            request=request,
            remote_address=address,
            initial_data=trailing,
            nursery=self.nursery if self.read_inline else None,
            shared_keepalive=self.read_inline and self.keepalive is not None,
        )

    async def _serve_http(self, stream: trio.abc.Stream, request: HTTPRequest) -> None:
        if self.http_handler is None:
            response = HTTPResponse.text(
                426, "this endpoint speaks WebSocket only", (("Upgrade", "websocket"),)
            )
        else:
            try:
                response = await self.http_handler(request)
            except Exception:
                logger.exception("HTTP handler failed on %s %s", request.method, request.target)
                response = HTTPResponse.text(500, "internal server error")
        await _send_response(stream, response)

    async def _run_handler(self, ws: WebSocket) -> None:
        """Run the handler; how it ends decides the close code (see module doc)."""
        try:
            try:
                await self.handler(ws)
            except ConnectionClosed:
                return
            except Exception:
                if ws.closed is None:
                    logger.exception("handler failed for %s", ws.remote_address)
                    with trio.CancelScope(shield=True):
                        await ws.close(CloseCode.INTERNAL_ERROR, "internal error")
                else:
                    logger.debug("handler ended after the connection closed", exc_info=True)
                return
            await ws.close(CloseCode.NORMAL)
        finally:
            # Cancelled (server shutdown): the reader task closes with 1001; inline,
            # this task does, bounded by close_timeout.
            if self.read_inline and ws.closed is None:
                with trio.CancelScope(shield=True):
                    await ws.close(CloseCode.GOING_AWAY, "going away")


async def serve_websocket(
    handler: Handler,
    host: str | None,
    port: int,
    *,
    subprotocols: Sequence[str] = (),
    http_handler: HTTPHandler | None = None,
    origin_check: handshake.OriginCheck | None = None,
    config: WebSocketServerConfig | None = None,
    ssl_context: ssl.SSLContext | None = None,
    read_inline: bool = False,
    address_gate: AddressGate | None = None,
    reuse_port: bool = False,
    task_status: trio.TaskStatus[WebSocketServer] = trio.TASK_STATUS_IGNORED,
) -> NoReturn:
    """Listen on ``host``:``port`` and run ``handler(ws)`` for each WebSocket connection.

    Start it with ``server = await nursery.start(serve_websocket, handler, host, 0)``
    and read ``server.port``. ``subprotocols`` lists supported subprotocols in
    preference order; ``http_handler`` answers plain HTTP requests (426 without one);
    ``origin_check`` may refuse origins (403); ``ssl_context`` serves ``wss://``;
    ``read_inline`` reads each connection in its handler's waits, not in a task of its
    own (see module doc); ``address_gate`` may refuse addresses for a while (429 with
    ``Retry-After``, before the request is read); ``reuse_port`` shares a fixed
    ``port`` with other processes (``SO_REUSEPORT``, see ``reuse_port.py``).
    Runs until cancelled; cancelling closes every connection with 1001.
    """
    config = config or WebSocketServerConfig()
    if reuse_port:
        socket_listeners = await open_reuse_port_listeners(port, host)
    else:
        socket_listeners = await trio.open_tcp_listeners(port, host=host)
    listeners: list[Listener] = list(socket_listeners)
    if ssl_context is not None:
        listeners = [
            trio.SSLListener(listener, ssl_context, https_compatible=True)
            for listener in socket_listeners
        ]
    server = WebSocketServer(listeners, config)
    runner = _ConnectionRunner(
        server,
        handler,
        subprotocols=subprotocols,
        http_handler=http_handler,
        origin_check=origin_check,
        read_inline=read_inline,
        address_gate=address_gate,
    )
    async with trio.open_nursery() as nursery:
        runner.nursery = nursery
        if read_inline and config.ping_interval is not None:
            runner.keepalive = SharedKeepalive(config.ping_interval, config.ping_timeout)
            nursery.start_soon(runner.keepalive.run)
        await nursery.start(trio.serve_listeners, runner, listeners)
        for listener in socket_listeners:
            logger.info("listening on %s", listener.socket.getsockname())
        task_status.started(server)
        await trio.sleep_forever()
    raise AssertionError("unreachable")  # pragma: no cover
