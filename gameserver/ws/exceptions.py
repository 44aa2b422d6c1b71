"""Exceptions of the WebSocket layer.

One root, split by who is at fault::

    WebSocketError
    ├── ProtocolError          the peer broke RFC 6455/7692; .code = close code to send
    ├── LocalProtocolError     we misused the API (e.g. sent after our close frame)
    ├── HandshakeError         the HTTP upgrade failed; .status and .reason describe the answer
    └── ConnectionClosed       the connection is gone; .code/.reason say how (1006 if abrupt)
"""

from __future__ import annotations

__all__ = [
    "WebSocketError",
    "ProtocolError",
    "LocalProtocolError",
    "HandshakeError",
    "ConnectionClosed",
]


class WebSocketError(Exception):
    """Root of every error raised by ``gameserver.ws``."""


class ProtocolError(WebSocketError):
    """The peer violated the protocol; close the connection with ``code``.

    ``code`` is the RFC 6455 close code to send (1002, 1007, 1009, ...).
    """

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    def __repr__(self) -> str:
        return f"ProtocolError({self.code!r}, {self.message!r})"


class LocalProtocolError(WebSocketError):
    """Our own code misused the connection (e.g. sending after a close frame was sent).

    This is a bug in the caller, not in the peer: fix the call site.
    """


class HandshakeError(WebSocketError):
    """The opening HTTP handshake failed.

    Server side: answer with ``status`` and ``reason`` then close the TCP stream.
    Client side: the server's answer was unacceptable; close the TCP stream.
    """

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(f"{status} {reason}")
        self.status = status
        self.reason = reason


class ConnectionClosed(WebSocketError):
    """The connection is closed; nothing more can be sent or received.

    ``code`` is the close code the peer sent (1005 when its close had no code) or 1006
    when the connection was lost without a close frame. Stop using the connection.
    """

    def __init__(self, code: int, reason: str = "") -> None:
        super().__init__(f"connection closed: {code} {reason}".rstrip())
        self.code = code
        self.reason = reason
