"""Limits and timers of the Trio WebSocket endpoints; every default is safe for the internet."""

from __future__ import annotations

from typing import Any

import attrs

from gameserver.ws.connection import DEFAULT_MAX_MESSAGE_SIZE
from gameserver.ws.deflate import DeflateParams

__all__ = ["DEFAULT_MAX_MESSAGE_SIZE", "WebSocketConfig", "WebSocketServerConfig"]


def _positive(instance: object, attribute: attrs.Attribute[Any], value: float) -> None:
    if value <= 0:
        raise ValueError(f"{attribute.name} must be positive, got {value!r}")


@attrs.frozen
class WebSocketConfig:
    """Per-connection limits and timers, shared by server and client endpoints."""

    max_message_size: int = attrs.field(default=DEFAULT_MAX_MESSAGE_SIZE, validator=_positive)
    """Largest whole (decompressed) message accepted; bigger ones close with 1009."""

    ping_interval: float | None = 20.0
    """Seconds between keepalive pings; None disables keepalive."""

    ping_timeout: float = attrs.field(default=20.0, validator=_positive)
    """Seconds to wait for a keepalive pong before closing with 1011."""

    close_timeout: float = attrs.field(default=10.0, validator=_positive)
    """Seconds to wait for the peer's half of the close handshake before dropping TCP."""

    max_queued_messages: int = attrs.field(default=64, validator=_positive)
    """Received messages buffered before reading pauses (TCP backpressure on the peer)."""

    write_limit: int = attrs.field(default=65536, validator=_positive)
    """Bytes queued for writing beyond which ``send`` waits for the writer to catch up."""


@attrs.frozen
class WebSocketServerConfig:
    """Everything :func:`~gameserver.ws.server.serve_websocket` can be told to limit."""

    max_message_size: int = attrs.field(default=DEFAULT_MAX_MESSAGE_SIZE, validator=_positive)
    """Largest whole (decompressed) message accepted; bigger ones close with 1009."""

    handshake_timeout: float = attrs.field(default=10.0, validator=_positive)
    """Seconds a client has to send a complete upgrade (or HTTP) request."""

    max_header_bytes: int = attrs.field(default=16384, validator=_positive)
    """Largest request head accepted; bigger ones get 431."""

    max_headers: int = attrs.field(default=100, validator=_positive)
    """Most header fields accepted in one request; more get 431."""

    ping_interval: float | None = 20.0
    """Seconds between keepalive pings; None disables keepalive."""

    ping_timeout: float = attrs.field(default=20.0, validator=_positive)
    """Seconds to wait for a keepalive pong before closing with 1011."""

    close_timeout: float = attrs.field(default=10.0, validator=_positive)
    """Seconds to wait for the client's close answer before dropping TCP."""

    compression: bool = True
    """Accept permessage-deflate when a client offers it."""

    deflate: DeflateParams = attrs.field(factory=DeflateParams)
    """Server-side permessage-deflate preferences used when ``compression`` is on."""

    max_connections: int = attrs.field(default=10000, validator=_positive)
    """Open connections (WebSocket and HTTP) beyond which new ones get 503."""

    max_connections_per_ip: int = attrs.field(default=256, validator=_positive)
    """Open connections from one IP address beyond which new ones from it get 503."""

    max_queued_messages: int = attrs.field(default=64, validator=_positive)
    """Received messages buffered per connection before reading pauses."""

    write_limit: int = attrs.field(default=65536, validator=_positive)
    """Bytes queued for writing per connection beyond which ``send`` waits."""

    def websocket_config(self) -> WebSocketConfig:
        """The per-connection part of this configuration."""
        return WebSocketConfig(
            max_message_size=self.max_message_size,
            ping_interval=self.ping_interval,
            ping_timeout=self.ping_timeout,
            close_timeout=self.close_timeout,
            max_queued_messages=self.max_queued_messages,
            write_limit=self.write_limit,
        )
