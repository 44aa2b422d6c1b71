"""Exceptions the SDK raises.

Exception tree::

    ClientError                 root of everything the SDK raises
     ├── RequestFailed          the server answered a request with an ``error``;
     │                          carries .code (str), .error_code (ErrorCode | None),
     │                          .message and .request_id
     ├── ConnectionLost         the connection ended and the request cannot be retried
     │                          safely, or the client gave up reconnecting / was closed;
     │                          carries .code and .reason of the last close
     └── ServerMisbehaved       the server sent something that is not valid protocol
"""

from __future__ import annotations

from gameserver.protocol.errors import ErrorCode

__all__ = ["ClientError", "ConnectionLost", "RequestFailed", "ServerMisbehaved"]


class ClientError(Exception):
    """Root of every exception the SDK raises."""


class RequestFailed(ClientError):
    """The server refused a request. The request had no effect; the client goes on.

    Switch on ``code`` (always the server's string) or ``error_code`` (the
    :class:`ErrorCode` member, None for codes newer than this SDK).
    """

    def __init__(self, code: str, message: str, request_id: int | None = None) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        """The stable error code string, e.g. ``"illegal_move"``."""
        self.message = message
        """The server's human-readable explanation."""
        self.request_id = request_id
        """The id of the failed request."""
        try:
            error_code: ErrorCode | None = ErrorCode(code)
        except ValueError:
            error_code = None
        self.error_code = error_code
        """``code`` as an :class:`ErrorCode`, or None when this SDK does not know it."""


class ConnectionLost(ClientError):
    """The connection is gone and this request (or the client) cannot continue.

    Raised for requests that were in flight when the connection dropped and are not
    safe to resend (everything but ``move``, ``list_rooms`` and ``watch_lobby``), and
    for every request once the client is closed or has given up reconnecting. The
    caller decides whether to try again (for example ``join_room`` may have succeeded).
    """

    def __init__(self, reason: str, code: int | None = None) -> None:
        super().__init__(reason if code is None else f"{reason} (close code {code})")
        self.reason = reason
        """What happened."""
        self.code = code
        """The WebSocket close code of the connection that ended, when known."""


class ServerMisbehaved(ClientError):
    """The server sent a message that does not follow ``docs/protocol.md``."""
