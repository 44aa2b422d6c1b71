"""Every message of the game wire protocol as a frozen attrs class.

These classes are the model only: they know nothing of msgpack. ``codec.py`` maps them
to and from the wire, where each message is one msgpack map whose ``"type"`` key holds
the class's ``TYPE`` and whose other keys are the class's field names, unchanged.
Nested records (``RoomSummary``, ``SeatInfo`` ...) become nested maps, tuples become
arrays and enums their string values.

Two families, one base each:

* :class:`ClientMessage` — requests a client sends. Every request carries ``id`` and is
  answered by exactly one :class:`Reply` (whose ``result`` is one of the ``*Result``
  records below) or one :class:`Error` echoing that ``id``.
* :class:`ServerMessage` — what the server sends: replies, errors and pushes
  (``state``, ``room``, ``chat``, ``match_over``, ``lobby``).

Moves, views and game options are free-form msgpack data (typed ``Any``); their shape
is defined per game in ``docs/protocol.md``.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Any, ClassVar

import attrs

from gameserver.games.base import Termination

__all__ = [
    "AccountInfo",
    "AccountKind",
    "AccountResult",
    "Board",
    "BotSeat",
    "CreateApiKey",
    "HistoryPoint",
    "Leaderboard",
    "LeaderboardEntry",
    "LeaderboardResult",
    "PoolRating",
    "Profile",
    "ProfileResult",
    "RatingChange",
    "RatingUpdate",
    "RecentMatch",
    "Register",
    "Rename",
    "RevokeApiKeys",
    "ListSessions",
    "RevokeSession",
    "SessionInfo",
    "SessionsResult",
    "Chat",
    "ChatMessage",
    "ClientMessage",
    "ClockSettings",
    "ClockState",
    "CreateRoom",
    "Delta",
    "EmptyResult",
    "Error",
    "Hello",
    "HelloResult",
    "JoinResult",
    "JoinRoom",
    "LeaveRoom",
    "ListRooms",
    "LobbyUpdate",
    "Logout",
    "MatchOver",
    "Move",
    "MoveResult",
    "OutcomeInfo",
    "QuickMatch",
    "Rematch",
    "Reply",
    "Resign",
    "Result",
    "RoomStatus",
    "RoomSummary",
    "RoomUpdate",
    "RoomsResult",
    "SeatInfo",
    "SeatKind",
    "SeatRef",
    "ServerMessage",
    "Spectate",
    "State",
    "Sync",
    "WatchLobby",
    "CLIENT_MESSAGE_TYPES",
    "SERVER_MESSAGE_TYPES",
]


# ---------------------------------------------------------------------------------------
# Shared records (nested inside messages)
# ---------------------------------------------------------------------------------------


class SeatKind(str, enum.Enum):
    """Who occupies a seat."""

    HUMAN = "human"
    """A connected client (browser, SDK script or SDK bot)."""
    BOT = "bot"
    """A built-in strategy run by the server inside the room."""
    OPEN = "open"
    """Nobody yet; the seat can be joined."""


class RoomStatus(str, enum.Enum):
    """Where a room is in its life."""

    WAITING = "waiting"
    """Seats are still open; the match starts when every seat is filled."""
    PLAYING = "playing"
    """A match is running."""
    OVER = "over"
    """The match has ended; a rematch may start a new one in the same room."""
    CLOSED = "closed"
    """The room is gone (released after its match ended): the last ``room`` push to its
    members. Requests naming it answer ``room_not_found``."""


class AccountKind(str, enum.Enum):
    """What kind of account a player has (anonymous players have none)."""

    HUMAN = "human"
    """A person who logs in with a password."""
    BOT = "bot"
    """A registered bot program that connects with an API key."""


class Board(str, enum.Enum):
    """Which accounts a leaderboard lists."""

    HUMANS = "humans"
    """Human accounts only."""
    BOTS = "bots"
    """Bot accounts only."""
    ALL = "all"
    """Both."""


@attrs.frozen(kw_only=True)
class ClockSettings:
    """The time control of a room (chosen at creation; each match log's header keeps it)."""

    initial_ms: int | None = None
    """Each seat's time bank at the start of the match; None = no time bank."""
    increment_ms: int = 0
    """Added to a seat's bank after each of its moves (Fischer increment)."""
    per_move_ms: int | None = None
    """Limit for a single move, independent of the bank; None = no per-move limit."""


@attrs.frozen(kw_only=True)
class ClockState:
    """The clocks as they stood when a ``state`` message was sent."""

    banks_ms: tuple[int, ...] | None
    """Remaining time bank per seat, indexed by seat; None when the room has no banks."""
    move_ms: int | None
    """Remaining time of the per-move limit for the acting seats; None without a limit."""
    running: tuple[int, ...]
    """Seats whose clocks are running now (the seats to act while the match runs)."""


@attrs.frozen(kw_only=True)
class BotSeat:
    """A seat the server fills with a built-in strategy when the room is created."""

    seat: int
    """The seat index (0-based)."""
    strategy: str = "best"
    """Name of one of the game's strategies, e.g. "best" or "random"."""


@attrs.frozen(kw_only=True)
class SeatInfo:
    """Who sits in one seat of a room."""

    seat: int
    """The seat index (0-based)."""
    kind: SeatKind
    """human, bot or open."""
    name: str | None = None
    """Display name of the occupant; None for an open seat."""
    player_id: str | None = None
    """Stable id of a human occupant; None for bots and open seats."""
    connected: bool = False
    """Whether a human occupant is connected now (bots always count as connected)."""
    wants_rematch: bool = False
    """Whether a human occupant has asked for a rematch of the finished match."""
    account: AccountKind | None = None
    """The occupant's account: human or bot (a registered program); None when anonymous."""


@attrs.frozen(kw_only=True)
class RoomSummary:
    """What the lobby and room updates say about a room."""

    room_id: str
    """Opaque id of the room."""
    game: str
    """Game name, e.g. "connect4"."""
    players: int
    """Number of seats."""
    seats: tuple[SeatInfo, ...]
    """Every seat, in seat order."""
    status: RoomStatus
    """waiting, playing or over."""
    private: bool = False
    """Private rooms are joined only by invite code and never listed in the lobby."""
    spectators: int = 0
    """How many spectators are watching."""
    options: Mapping[str, Any] = attrs.field(factory=dict)
    """The game options in force (merged with the game's defaults)."""
    clock: ClockSettings | None = None
    """The time control; None = untimed."""
    match: int = 0
    """Number of the current match in this room (1 for the first; 0 before it starts)."""
    paused: str | None = None
    """None while play goes on; else why it is paused: "storage_unavailable" (cannot record)."""
    rated: bool = False
    """Whether the room's matches count for ratings (only accounts may sit in it)."""


@attrs.frozen(kw_only=True)
class SeatRef:
    """A seat a player holds."""

    room_id: str
    """The room."""
    seat: int
    """The seat index in that room."""


@attrs.frozen(kw_only=True)
class OutcomeInfo:
    """How a match ended (the game's ``Outcome`` on the wire)."""

    winners: tuple[int, ...]
    """Winning seats (empty for a draw)."""
    draw: bool
    """True when nobody won."""
    scores: tuple[int, ...] | None = None
    """Per-seat scores when the game keeps them."""
    reason: str = ""
    """Human-readable reason, e.g. "four in a row", "resigned", "timeout"."""
    termination: Termination | None = None
    """How the match ended, for programs; None only from an older server that lacks it."""


# ---------------------------------------------------------------------------------------
# Client -> server requests
# ---------------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class ClientMessage:
    """Base of every request. Each is answered by one ``reply`` or ``error`` with its id."""

    TYPE: ClassVar[str] = ""

    id: int
    """Client-chosen request id, echoed by the answer; keep ids unique per session."""


@attrs.frozen(kw_only=True)
class Hello(ClientMessage):
    """First request on every connection: identify, or resume with a token. -> HelloResult"""

    TYPE: ClassVar[str] = "hello"

    name: str
    """Display name (trimmed by the server; 1-32 printable characters)."""
    token: str | None = None
    """A token from an earlier HelloResult, to resume that player and its seats."""
    revoke_others: bool = False
    """Revoke every token of the player issued before the one this reply carries."""
    password: str | None = None
    """Log in to the account called ``name`` with its password (not with ``token``)."""
    api_key: str | None = None
    """Log in to the bot account that owns this API key (``name`` is then ignored)."""
    client_label: str | None = None
    """A short client description for the account's session list (up to 64 characters)."""


@attrs.frozen(kw_only=True)
class Logout(ClientMessage):
    """Revoke every token of the player issued so far, then close. -> EmptyResult"""

    TYPE: ClassVar[str] = "logout"


@attrs.frozen(kw_only=True)
class ListRooms(ClientMessage):
    """List the public rooms. -> RoomsResult"""

    TYPE: ClassVar[str] = "list_rooms"

    game: str | None = None
    """Only rooms of this game; None = every game."""


@attrs.frozen(kw_only=True)
class WatchLobby(ClientMessage):
    """Start or stop live ``lobby`` pushes. -> RoomsResult (the current list when on)"""

    TYPE: ClassVar[str] = "watch_lobby"

    game: str | None = None
    """Only rooms of this game; None = every game."""
    on: bool = True
    """True to start watching, False to stop."""


@attrs.frozen(kw_only=True)
class CreateRoom(ClientMessage):
    """Create a room and take a seat in it (or watch, if every seat is a bot). -> JoinResult"""

    TYPE: ClassVar[str] = "create_room"

    game: str
    """Game name."""
    players: int
    """Number of seats."""
    options: Mapping[str, Any] = attrs.field(factory=dict)
    """Game options; missing ones take the game's defaults."""
    private: bool = False
    """Private rooms are unlisted and joined by invite code."""
    bots: tuple[BotSeat, ...] = ()
    """Seats the server fills with built-in strategies."""
    clock: ClockSettings | None = None
    """Time control; None = untimed."""
    seat: int | None = None
    """The creator's seat; None = the lowest seat that is not a bot."""
    rated: bool = False
    """Rate the room's matches: only accounts may sit, no bot seats (``invalid_options``)."""


@attrs.frozen(kw_only=True)
class JoinRoom(ClientMessage):
    """Take a seat in a waiting room, by id or invite code (exactly one). -> JoinResult"""

    TYPE: ClassVar[str] = "join_room"

    room_id: str | None = None
    """The room's id (public rooms)."""
    invite_code: str | None = None
    """The invite code of a private room."""
    seat: int | None = None
    """The wanted seat; None = the lowest open seat."""


@attrs.frozen(kw_only=True)
class QuickMatch(ClientMessage):
    """Sit in a waiting public room of this game and size, or open one. -> JoinResult"""

    TYPE: ClassVar[str] = "quick_match"

    game: str
    """Game name."""
    players: int
    """Number of seats of the match wanted."""
    rated: bool = False
    """Only rated rooms (needs an account), matched by rating (see section 18)."""


@attrs.frozen(kw_only=True)
class Spectate(ClientMessage):
    """Watch a room (public view only). -> JoinResult with seat None"""

    TYPE: ClassVar[str] = "spectate"

    room_id: str
    """The room to watch."""


@attrs.frozen(kw_only=True)
class LeaveRoom(ClientMessage):
    """Leave a room; leaving a seat of a running match resigns it. -> EmptyResult"""

    TYPE: ClassVar[str] = "leave_room"

    room_id: str
    """The room to leave."""


@attrs.frozen(kw_only=True)
class Move(ClientMessage):
    """Make a move in a room where the player holds a seat. -> MoveResult"""

    TYPE: ClassVar[str] = "move"

    room_id: str
    """The room."""
    version: int
    """The state version the move was chosen from (from the last ``state`` seen)."""
    move: Any
    """The move, shaped as the game defines (e.g. {"column": 3})."""


@attrs.frozen(kw_only=True)
class Chat(ClientMessage):
    """Say something to everyone in a room (players and spectators). -> EmptyResult"""

    TYPE: ClassVar[str] = "chat"

    room_id: str
    """The room."""
    text: str
    """The text (the server limits its length)."""


@attrs.frozen(kw_only=True)
class Resign(ClientMessage):
    """Give up the current match in a room. -> EmptyResult"""

    TYPE: ClassVar[str] = "resign"

    room_id: str
    """The room."""


@attrs.frozen(kw_only=True)
class Rematch(ClientMessage):
    """Vote for a new match in the same room once it is over. -> EmptyResult"""

    TYPE: ClassVar[str] = "rematch"

    room_id: str
    """The room."""


@attrs.frozen(kw_only=True)
class Sync(ClientMessage):
    """Ask for a full ``state`` of a room again (protocol version 2: after a delta that
    did not fit). The ``state`` is pushed first. -> EmptyResult"""

    TYPE: ClassVar[str] = "sync"

    room_id: str
    """The room."""


@attrs.frozen(kw_only=True)
class Register(ClientMessage):
    """Claim the player's current name as an account. -> AccountResult"""

    TYPE: ClassVar[str] = "register"

    password: str
    """8 to 128 characters, at least 3 different ones."""
    bot: bool = False
    """Register a bot account: the result carries its first API key."""


@attrs.frozen(kw_only=True)
class Rename(ClientMessage):
    """Change the account's display name. -> AccountResult"""

    TYPE: ClassVar[str] = "rename"

    name: str
    """The new name (validated like ``hello.name``; unique among accounts)."""


@attrs.frozen(kw_only=True)
class CreateApiKey(ClientMessage):
    """Issue a new API key for the player's bot account. -> AccountResult with api_key"""

    TYPE: ClassVar[str] = "create_api_key"


@attrs.frozen(kw_only=True)
class RevokeApiKeys(ClientMessage):
    """Revoke every API key of the player's bot account. -> EmptyResult"""

    TYPE: ClassVar[str] = "revoke_api_keys"


@attrs.frozen(kw_only=True)
class ListSessions(ClientMessage):
    """The account's live sessions (logins whose tokens still resume). -> SessionsResult"""

    TYPE: ClassVar[str] = "list_sessions"


@attrs.frozen(kw_only=True)
class RevokeSession(ClientMessage):
    """Sign out one session of the account: its tokens stop resuming. -> EmptyResult"""

    TYPE: ClassVar[str] = "revoke_session"

    session_id: str
    """The session (``SessionInfo.session_id``); the current one logs this connection out."""


@attrs.frozen(kw_only=True)
class Leaderboard(ClientMessage):
    """The best ratings of a game. -> LeaderboardResult"""

    TYPE: ClassVar[str] = "leaderboard"

    game: str
    """Game name."""
    players: int = 2
    """Seat count (games rated per seat count, e.g. liar's dice for 3)."""
    board: Board = Board.ALL
    """humans, bots or all."""
    limit: int = 20
    """Rows wanted, 1 to 100."""


@attrs.frozen(kw_only=True)
class Profile(ClientMessage):
    """An account's ratings, history and recent rated matches. -> ProfileResult"""

    TYPE: ClassVar[str] = "profile"

    player_id: str
    """The account's player id."""


# ---------------------------------------------------------------------------------------
# Reply results (the ``result`` map of a ``reply``)
# ---------------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class Result:
    """Base of the records carried in ``Reply.result``."""


@attrs.frozen(kw_only=True)
class EmptyResult(Result):
    """The request succeeded and has nothing to report (leave, chat, resign, rematch)."""


@attrs.frozen(kw_only=True)
class HelloResult(Result):
    """The answer to ``hello``."""

    player_id: str
    """Stable id of this player."""
    name: str
    """The display name as the server stored it (trimmed)."""
    token: str
    """Resume token: send it in a later ``hello`` to get this player and its seats back."""
    resumed: bool
    """True when the token was accepted and this is the same player as before."""
    seats: tuple[SeatRef, ...] = ()
    """Seats the player holds in running or waiting rooms (a ``state`` follows for each)."""
    account: AccountInfo | None = None
    """The player's account; None for an anonymous player."""
    session_id: str | None = None
    """The session the token belongs to (``list_sessions``, ``revoke_session``)."""


@attrs.frozen(kw_only=True)
class RoomsResult(Result):
    """The answer to ``list_rooms`` and ``watch_lobby``."""

    rooms: tuple[RoomSummary, ...]
    """Public rooms, newest first (empty after watch_lobby with on = false)."""


@attrs.frozen(kw_only=True)
class JoinResult(Result):
    """The answer to ``create_room``, ``join_room``, ``quick_match`` and ``spectate``."""

    room: RoomSummary
    """The room as it is now."""
    seat: int | None
    """The seat taken; None when watching as a spectator."""
    invite_code: str | None = None
    """For the creator of a private room: the code others join with."""


@attrs.frozen(kw_only=True)
class MoveResult(Result):
    """The answer to ``move``."""

    version: int
    """The state version after the move was applied."""


@attrs.frozen(kw_only=True)
class AccountInfo:
    """A registered player."""

    player_id: str
    """The account's id (also its ``player_id`` in seats and tokens)."""
    name: str
    """Display name, unique among accounts."""
    kind: AccountKind
    """human or bot."""


@attrs.frozen(kw_only=True)
class AccountResult(Result):
    """The answer to ``register``, ``rename`` and ``create_api_key``."""

    account: AccountInfo
    """The account as it is now."""
    api_key: str | None = None
    """A new API key: shown this once only, the server keeps only its hash."""


@attrs.frozen(kw_only=True)
class SessionInfo:
    """One live session of an account: a login and the resumes of its tokens."""

    session_id: str
    """Its id (give it to ``revoke_session``)."""
    created_at: int
    """When it started (the login), milliseconds since the Unix epoch."""
    last_used_at: int
    """When a token of it was last issued (a login or resume), ms since the Unix epoch."""
    address: str
    """The client's IP address at that last use."""
    label: str | None
    """The client label its latest ``hello`` gave; None when none was given."""
    current: bool
    """True for the session of the connection that asked."""


@attrs.frozen(kw_only=True)
class SessionsResult(Result):
    """The answer to ``list_sessions``."""

    sessions: tuple[SessionInfo, ...]
    """The live sessions, most recently used first."""


@attrs.frozen(kw_only=True)
class LeaderboardEntry:
    """One line of a leaderboard."""

    rank: int
    """1 for the best."""
    player_id: str
    """The account."""
    name: str
    """Its name."""
    kind: AccountKind
    """human or bot."""
    rating: float
    """Glicko-2 rating."""
    deviation: float
    """Rating deviation (uncertainty)."""
    provisional: bool
    """True while the deviation is above 110: the rating is not settled yet."""
    wins: int
    """Rated wins in the pool."""
    draws: int
    """Rated draws in the pool."""
    losses: int
    """Rated losses in the pool."""


@attrs.frozen(kw_only=True)
class LeaderboardResult(Result):
    """The answer to ``leaderboard``."""

    pool: str
    """The rating pool (section 18)."""
    entries: tuple[LeaderboardEntry, ...]
    """Best first."""


@attrs.frozen(kw_only=True)
class PoolRating:
    """An account's rating in one pool."""

    pool: str
    """The rating pool."""
    rating: float
    """Glicko-2 rating."""
    deviation: float
    """Rating deviation."""
    provisional: bool
    """True while the deviation is above 110."""
    wins: int
    """Rated wins in the pool."""
    draws: int
    """Rated draws in the pool."""
    losses: int
    """Rated losses in the pool."""


@attrs.frozen(kw_only=True)
class HistoryPoint:
    """The account's rating after one rated match."""

    pool: str
    """The rating pool."""
    match_id: str
    """The match (its replay id)."""
    at: int
    """When it ended, milliseconds since the Unix epoch."""
    rating: float
    """The rating after the match."""
    deviation: float
    """The deviation after the match."""


@attrs.frozen(kw_only=True)
class RecentMatch:
    """One of the account's latest rated matches."""

    match_id: str
    """The match; its replay is ``GET /api/replays/<match_id>`` (docs/replays.md)."""
    game: str
    """Game name."""
    pool: str
    """The rating pool."""
    at: int
    """When it ended, milliseconds since the Unix epoch."""
    seat: int
    """The account's seat."""
    result: str
    """"win", "draw" or "loss"."""
    rating_before: float
    """Rating before the match."""
    rating_after: float
    """Rating after the match."""
    opponents: tuple[str, ...]
    """Player ids of the other rated seats."""


@attrs.frozen(kw_only=True)
class ProfileResult(Result):
    """The answer to ``profile``."""

    account: AccountInfo
    """Whose profile."""
    ratings: tuple[PoolRating, ...]
    """One per pool played, by pool name."""
    history: tuple[HistoryPoint, ...]
    """Every rated match's rating, oldest first (all pools)."""
    recent: tuple[RecentMatch, ...]
    """Latest rated matches, newest first (up to 20)."""


# ---------------------------------------------------------------------------------------
# Server -> client messages
# ---------------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class ServerMessage:
    """Base of everything the server sends."""

    TYPE: ClassVar[str] = ""


@attrs.frozen(kw_only=True)
class Reply(ServerMessage):
    """A request succeeded.

    The server builds it with one of the ``*Result`` records; a client's
    ``decode_server_message`` yields the plain map, which ``codec.decode_result`` turns
    into the record the caller expects for the request it sent.
    """

    TYPE: ClassVar[str] = "reply"

    id: int
    """The id of the request answered."""
    result: Result | Mapping[str, Any]
    """What the request produced (see each request for its result record)."""


@attrs.frozen(kw_only=True)
class Error(ServerMessage):
    """A request failed, or (id None) something went wrong outside any request."""

    TYPE: ClassVar[str] = "error"

    id: int | None
    """The id of the failed request; None when it could not be read or there was none."""
    code: str
    """A stable error code (an ``ErrorCode`` value; clients must accept unknown codes)."""
    message: str
    """Human-readable explanation."""


@attrs.frozen(kw_only=True)
class State(ServerMessage):
    """A full snapshot of one participant's view of a room's match.

    Sent after every change and on (re)joining. Versions only grow; a client may miss
    some (updates are coalesced) and must simply replace what it shows.
    """

    TYPE: ClassVar[str] = "state"

    room_id: str
    """The room."""
    match: int
    """Number of the match in this room (1 for the first, +1 per rematch)."""
    version: int
    """State version: 0 at the start of the match, +1 per applied move, timeout or resign."""
    seat: int | None
    """The recipient's seat; None for spectators."""
    view: Any
    """The game's view for that seat (spectators: the public view)."""
    to_act: tuple[int, ...]
    """Seats that may act now (empty once the match is over)."""
    legal_moves: tuple[Any, ...] | None
    """The recipient's legal moves when it may act now; None otherwise and for spectators."""
    seats: tuple[SeatInfo, ...]
    """Who sits where, in seat order."""
    clock: ClockState | None = None
    """Clocks at the moment of sending; None when the room is untimed."""
    outcome: OutcomeInfo | None = None
    """How the match ended; None while it runs."""


@attrs.frozen(kw_only=True)
class RoomUpdate(ServerMessage):
    """A room the recipient is in changed (someone joined, left, (dis)connected, status)."""

    TYPE: ClassVar[str] = "room"

    room: RoomSummary
    """The room as it is now."""


@attrs.frozen(kw_only=True)
class ChatMessage(ServerMessage):
    """Someone said something in a room the recipient is in."""

    TYPE: ClassVar[str] = "chat"

    room_id: str
    """The room."""
    player_id: str
    """Who spoke."""
    name: str
    """Their display name."""
    seat: int | None
    """Their seat; None for a spectator."""
    text: str
    """What they said."""
    # A member who (re)joins gets the latest messages again: clients skip a seen seq.
    seq: int
    """Grows by one per message in the room, also across a server restart."""


@attrs.frozen(kw_only=True)
class MatchOver(ServerMessage):
    """A match ended. Sent after the final ``state`` to every participant."""

    TYPE: ClassVar[str] = "match_over"

    room_id: str
    """The room."""
    match: int
    """Which match of the room ended."""
    version: int
    """The final state version."""
    outcome: OutcomeInfo
    """How it ended."""
    replay_id: str | None = None
    """Id of the recorded match, when the server keeps replays."""


@attrs.frozen(kw_only=True)
class LobbyUpdate(ServerMessage):
    """Public rooms appeared, changed or went away (only to lobby watchers)."""

    TYPE: ClassVar[str] = "lobby"

    rooms: tuple[RoomSummary, ...] = ()
    """Rooms that are new or changed: replace any earlier summary with the same room_id."""
    removed: tuple[str, ...] = ()
    """Ids of rooms no longer listed (full, finished, private or closed)."""


@attrs.frozen(kw_only=True)
class RatingChange:
    """One seat's rating change in a rated match."""

    seat: int
    """The seat."""
    player_id: str
    """Its account."""
    before: float
    """Rating before the match."""
    after: float
    """Rating after the match."""
    deviation: float
    """Deviation after the match."""
    provisional: bool
    """True while the new rating is provisional (deviation above 110)."""


@attrs.frozen(kw_only=True)
class RatingUpdate(ServerMessage):
    """A rated match's ratings were updated. Sent after ``match_over`` to every member."""

    TYPE: ClassVar[str] = "rating"

    room_id: str
    """The room."""
    match: int
    """Which match of the room."""
    pool: str
    """The rating pool (section 18)."""
    changes: tuple[RatingChange, ...]
    """Every seat's change, in seat order."""


@attrs.frozen(kw_only=True)
class Delta:
    """A change of one participant's state (protocol version 2 only).

    Not a map with ``type`` like every other message: on the wire it is the array
    ``[room_id, base, version, cause, ops]``, with ``id`` as a sixth element when it
    also answers a ``move`` (docs/protocol.md, "Deltas"). ``codec.encode_delta`` and
    ``codec.decode_delta`` convert it.
    """

    room_id: str
    """The room."""
    base: int
    """The version of the document the ops apply to."""
    version: int
    """The version after them (equal to ``base`` when no versioned change happened)."""
    cause: list[Any] | None
    """``[seat, move]``, ``[seat, "timeout" | "resign" | "forfeit"]``, or None (nobody acted)."""
    ops: list[Any]
    """The ops (``gameserver.protocol.delta``) turning the held document into the new one."""
    id: int | None = None
    """The id of the mover's ``move`` request this delta answers (its reply); None for a push."""


CLIENT_MESSAGE_TYPES: Mapping[str, type[ClientMessage]] = {
    cls.TYPE: cls
    for cls in (
        Hello,
        Logout,
        ListRooms,
        WatchLobby,
        CreateRoom,
        JoinRoom,
        QuickMatch,
        Spectate,
        LeaveRoom,
        Move,
        Chat,
        Resign,
        Rematch,
        Sync,
        Register,
        Rename,
        CreateApiKey,
        RevokeApiKeys,
        ListSessions,
        RevokeSession,
        Leaderboard,
        Profile,
    )
}
"""Every request class by its wire ``type``."""

SERVER_MESSAGE_TYPES: Mapping[str, type[ServerMessage]] = {
    cls.TYPE: cls
    for cls in (
        Reply, Error, State, RoomUpdate, ChatMessage, MatchOver, LobbyUpdate, RatingUpdate
    )
}
"""Every server message class by its wire ``type``."""
