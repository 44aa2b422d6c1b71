"""Error codes of the game wire protocol and the exception that carries them.

Every request that fails is answered with an ``error`` message holding one of the
stable :class:`ErrorCode` strings and a human-readable message. Inside the server the
failure travels as a :class:`RequestError`; the connection handler turns it into that
reply and goes on serving the connection.

Exception tree::

    Exception
     └── RequestError            one request (or one incoming message) failed; carries
                                 .code (ErrorCode), .message (str), .request_id (int | None)

The name is deliberately distinct from ``gameserver.ws.exceptions.ProtocolError``, which
is about RFC 6455 framing, not about game messages.
"""

from __future__ import annotations

import enum

__all__ = ["ErrorCode", "RequestError"]


class ErrorCode(str, enum.Enum):
    """Stable machine-readable error codes (the ``code`` field of an ``error`` message).

    Clients switch on these strings; they never change meaning once released. New codes
    may be added, so a client must treat an unknown code like ``internal_error``.
    """

    # -- the message itself could not be understood (codec) --
    BAD_MESSAGE = "bad_message"
    """Not msgpack, trailing bytes, a text frame, or the top level is not a map."""
    UNKNOWN_TYPE = "unknown_type"
    """The ``type`` string names no request this protocol version knows."""
    INVALID_FIELD = "invalid_field"
    """A field is missing, has the wrong type or is out of range; the message names it."""
    TOO_LARGE = "too_large"
    """The message, or a string / binary / array / map inside it, exceeds a limit."""
    TOO_DEEP = "too_deep"
    """Arrays and maps are nested deeper than the limit."""

    # -- session --
    NOT_AUTHENTICATED = "not_authenticated"
    """Any request other than ``hello`` before a successful ``hello``."""
    ALREADY_AUTHENTICATED = "already_authenticated"
    """A second ``hello`` on the same connection."""
    BAD_TOKEN = "bad_token"
    """The resume token is forged, expired or unknown; say ``hello`` without it."""
    INVALID_NAME = "invalid_name"
    """The display name is empty, too long or holds unprintable characters."""

    # -- accounts --
    NAME_TAKEN = "name_taken"
    """Another account already holds that name (names compare case-insensitively)."""
    WEAK_PASSWORD = "weak_password"
    """The password is shorter than 8 characters or uses fewer than 3 different ones."""
    PASSWORD_TOO_LONG = "password_too_long"
    """The password is longer than 128 characters."""
    UNKNOWN_ACCOUNT = "unknown_account"
    """No account has that name (``hello`` with a password) or id (``profile``)."""
    WRONG_PASSWORD = "wrong_password"
    """The password does not match the account. Repeated failures get ``rate_limited``."""
    BAD_API_KEY = "bad_api_key"
    """The API key is unknown or was revoked."""
    ALREADY_REGISTERED = "already_registered"
    """The player already has an account (``register`` twice)."""
    NOT_REGISTERED = "not_registered"
    """The request needs an account: register (or log in) first. Also for a rated room
    joined by an anonymous player."""
    NOT_A_BOT = "not_a_bot"
    """API keys belong to bot accounts only."""
    UNKNOWN_SESSION = "unknown_session"
    """``revoke_session`` names no live session of the account (never one, expired, or
    signed out already)."""

    # -- lobby and rooms --
    UNKNOWN_GAME = "unknown_game"
    """No game of that name is installed."""
    UNKNOWN_STRATEGY = "unknown_strategy"
    """A bot seat asks for a strategy the game does not have."""
    INVALID_OPTIONS = "invalid_options"
    """The game or room options are rejected (player count, clock, bot seats, options)."""
    ROOM_NOT_FOUND = "room_not_found"
    """No room with that id or invite code (also for a private room looked up by id)."""
    ROOM_FULL = "room_full"
    """The requested seat, or every seat, is taken."""
    ALREADY_IN_ROOM = "already_in_room"
    """The player already holds a seat in (or watches) that room."""
    NOT_IN_ROOM = "not_in_room"
    """The request needs a seat (or a spectator place) in a room the player is not in."""
    TOO_MANY_ROOMS = "too_many_rooms"
    """Opening or joining one more room would pass a limit: the server's rooms, the
    player's own open rooms, or those of every player at its address (the message says
    which). Leave a room, or retry later."""

    # -- the match --
    NOT_YOUR_TURN = "not_your_turn"
    """The seat may not act now."""
    ILLEGAL_MOVE = "illegal_move"
    """The move is well-formed but the rules forbid it now (the message says why)."""
    MALFORMED_MOVE = "malformed_move"
    """The move is not shaped like a move of this game."""
    STALE_VERSION = "stale_version"
    """The move was made against an older state version than the current one."""
    MATCH_OVER = "match_over"
    """The match has ended; no more moves or resignations."""
    MATCH_NOT_OVER = "match_not_over"
    """A rematch was asked for while the match is still being played."""
    CHAT_TOO_LONG = "chat_too_long"
    """The chat text is longer than the server allows (or empty)."""

    # -- server --
    RATE_LIMITED = "rate_limited"
    """Too many messages too fast; slow down (persistent abuse closes with 1008)."""
    STORAGE_UNAVAILABLE = "storage_unavailable"
    """The server cannot record the change durably now (its disk is full or failing), so
    it did not happen. Retryable: the room is paused (``RoomSummary.paused``) and plays on
    by itself once storage works again; then send the same request again."""
    SHUTTING_DOWN = "shutting_down"
    """The server is stopping and accepts no new rooms or matches."""
    INTERNAL_ERROR = "internal_error"
    """A bug on the server; the request had no effect that the client can rely on."""


class RequestError(Exception):
    """One request or incoming message failed with a stable error code.

    Raised by the codec for malformed messages and by the server for requests it
    refuses. The caller answers with an ``error`` message built from ``code``,
    ``message`` and ``request_id`` (``None`` when the id could not be read), then keeps
    the connection open.
    """

    def __init__(self, code: ErrorCode, message: str, request_id: int | None = None) -> None:
        super().__init__(f"{code.value}: {message}")
        self.code = code
        """The stable machine-readable error code."""
        self.message = message
        """A human-readable explanation; never contains another seat's hidden information."""
        self.request_id = request_id
        """The ``id`` of the failed request when known, so the reply can echo it."""

    def with_request_id(self, request_id: int | None) -> RequestError:
        """Return a copy of this error that echoes ``request_id``."""
        return RequestError(self.code, self.message, request_id)

    def __repr__(self) -> str:
        return f"RequestError({self.code.value!r}, {self.message!r}, request_id={self.request_id!r})"
