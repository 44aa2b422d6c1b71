"""The SDK's client: typed requests on top of a :class:`Session`, and :func:`connect`.

``async with connect(url, name="ada") as client:`` opens the session and says
``hello``. Each request is a method returning the reply's result record and raising
:class:`RequestFailed` with the server's error code when refused. ``client.events()``
yields the server's pushes (``State``, ``RoomUpdate``, ``ChatMessage``, ``MatchOver``,
``LobbyUpdate``, ``RatingUpdate``, ``Error``) and the SDK's ``Disconnected`` / ``Reconnected``;
reconnection and resuming happen underneath (see ``session.py``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Any

import trio

from gameserver.client.errors import RequestFailed
from gameserver.client.session import (
    DEFAULT_CLIENT_LABEL,
    DEFAULT_MAX_RATE,
    Backoff,
    Session,
    sole_exception,
)
from gameserver.protocol.limits import SERVER_MESSAGE_LIMITS, DecodeLimits
from gameserver.protocol.messages import (
    AccountResult,
    Board,
    BotSeat,
    Chat,
    ClockSettings,
    CreateApiKey,
    CreateRoom,
    EmptyResult,
    Leaderboard,
    LeaderboardResult,
    ListSessions,
    Profile,
    ProfileResult,
    Register,
    Rename,
    RevokeApiKeys,
    RevokeSession,
    SessionInfo,
    SessionsResult,
    JoinResult,
    JoinRoom,
    LeaveRoom,
    ListRooms,
    Logout,
    Move,
    MoveResult,
    QuickMatch,
    Rematch,
    Resign,
    RoomsResult,
    RoomSummary,
    Spectate,
    WatchLobby,
)

__all__ = ["Backoff", "GameClient", "connect"]


class GameClient(Session):
    """One player's connection to a game server, with a method per request.

    Build it with :func:`connect`. See :class:`Session` for the attributes it keeps up
    to date and for ``events()``, ``next_event()``, ``request()`` and ``aclose()``.
    """

    async def list_rooms(self, game: str | None = None) -> list[RoomSummary]:
        """Return the public rooms (of ``game`` when given)."""
        result = await self.request(ListRooms(id=self._next_id(), game=game), RoomsResult)
        return list(result.rooms)

    async def watch_lobby(self, game: str | None = None, on: bool = True) -> list[RoomSummary]:
        """Start (or stop) ``LobbyUpdate`` events; return the current public rooms."""
        message = WatchLobby(id=self._next_id(), game=game, on=on)
        result = await self.request(message, RoomsResult)
        self._lobby = message if on else None
        return list(result.rooms)

    async def create_room(
        self,
        game: str,
        players: int = 2,
        *,
        options: Mapping[str, Any] | None = None,
        private: bool = False,
        bots: Sequence[BotSeat] | Mapping[int, str] = (),
        clock: ClockSettings | None = None,
        seat: int | None = None,
        rated: bool = False,
    ) -> JoinResult:
        """Create a room and sit in it (``bots`` maps seats to strategy names, or BotSeats).
        ``rated`` rooms need an account and take no ``bots``."""
        if isinstance(bots, Mapping):
            bot_seats = tuple(BotSeat(seat=s, strategy=name) for s, name in bots.items())
        else:
            bot_seats = tuple(bots)
        message = CreateRoom(
            id=self._next_id(),
            game=game,
            players=players,
            options=dict(options or {}),
            private=private,
            bots=bot_seats,
            clock=clock,
            seat=seat,
            rated=rated,
        )
        return self._joined(await self.request(message, JoinResult))

    async def join_room(
        self, room_id: str | None = None, *, invite_code: str | None = None, seat: int | None = None
    ) -> JoinResult:
        """Take a seat in a waiting room, by id or by a private room's invite code."""
        message = JoinRoom(id=self._next_id(), room_id=room_id, invite_code=invite_code, seat=seat)
        return self._joined(await self.request(message, JoinResult))

    async def quick_match(self, game: str, players: int = 2, *, rated: bool = False) -> JoinResult:
        """Sit in a waiting public room of ``game`` with ``players`` seats (or a new one);
        ``rated``: a rated room paired by rating (needs an account)."""
        message = QuickMatch(id=self._next_id(), game=game, players=players, rated=rated)
        return self._joined(await self.request(message, JoinResult))

    async def spectate(self, room_id: str) -> JoinResult:
        """Watch a public room; its public ``State`` events follow."""
        result = self._joined(await self.request(Spectate(id=self._next_id(), room_id=room_id), JoinResult))
        self._spectating.add(room_id)
        return result

    async def leave_room(self, room_id: str) -> None:
        """Leave a room (leaving a seat of a running match resigns it)."""
        await self.request(LeaveRoom(id=self._next_id(), room_id=room_id), EmptyResult)
        self._spectating.discard(room_id)
        self.rooms.pop(room_id, None)

    async def move(self, room_id: str, move: Any, *, version: int | None = None) -> int:
        """Make ``move`` in ``room_id``; return the state version after it.

        ``version`` defaults to the newest ``State`` this client has for the room. If
        the connection drops before the reply, the same request is resent after
        resuming, and the server applies it at most once.
        """
        if version is None:
            state = self.states.get(room_id)
            if state is None:
                raise ValueError(f"no state received for room {room_id!r}; pass version=")
            version = state.version
        message = Move(id=self._next_id(), room_id=room_id, version=version, move=move)
        result = await self.request(message, MoveResult)
        return result.version

    async def chat(self, room_id: str, text: str) -> None:
        """Say ``text`` in a room."""
        await self.request(Chat(id=self._next_id(), room_id=room_id, text=text), EmptyResult)

    async def resign(self, room_id: str) -> None:
        """Resign the current match in a room."""
        await self.request(Resign(id=self._next_id(), room_id=room_id), EmptyResult)

    async def rematch(self, room_id: str) -> None:
        """Vote for a new match in a finished room."""
        await self.request(Rematch(id=self._next_id(), room_id=room_id), EmptyResult)

    async def logout(self) -> None:
        """Log this player out everywhere: revoke all its tokens; the server then closes.

        Returns once the server has answered. The connection then ends (close 1000,
        ``logged out``) and the client does not reconnect: ``token`` is None and every
        later request raises :class:`ConnectionLost`. Seats still held are no longer
        resumable; ``leave_room`` them first to free them at once. If the connection
        drops before the answer, raises :class:`ConnectionLost` and stops the client all
        the same (the logout may or may not have happened; a later resume tells).
        """
        await self._end_session(Logout(id=self._next_id()))

    async def _end_session(self, message: Logout | RevokeSession) -> None:
        """Send a request after whose answer the server closes for good (``logout``,
        ``revoke_session`` of this session) and stop the client with it."""
        # Before sending: the server's close may be read before this call resumes.
        self._logged_out = True
        try:
            await self.request(message, EmptyResult)
        except RequestFailed:
            self._logged_out = False
            raise
        self.token = None

    # -- accounts and ratings ------------------------------------------------------------

    async def register(self, password: str, *, bot: bool = False) -> AccountResult:
        """Claim this player's name as an account (``bot``: a bot account; the result's
        ``api_key`` is its first key, shown this once). Later connections log in with
        ``connect(..., password=...)`` or ``api_key=...``."""
        result = await self.request(
            Register(id=self._next_id(), password=password, bot=bot), AccountResult
        )
        self.account = result.account
        return result

    async def rename(self, name: str) -> AccountResult:
        """Change the account's name."""
        result = await self.request(Rename(id=self._next_id(), name=name), AccountResult)
        self.account = result.account
        self.name = result.account.name
        return result

    async def create_api_key(self) -> str:
        """A new API key for this bot account (shown this once; keep it secret)."""
        result = await self.request(CreateApiKey(id=self._next_id()), AccountResult)
        assert result.api_key is not None, "the server answers create_api_key with a key"
        return result.api_key

    async def revoke_api_keys(self) -> None:
        """Revoke every API key of this bot account."""
        await self.request(RevokeApiKeys(id=self._next_id()), EmptyResult)

    async def list_sessions(self) -> list[SessionInfo]:
        """The account's live sessions (logins whose tokens still resume), most recently
        used first; ``current`` marks this client's (its ``session_id``)."""
        result = await self.request(ListSessions(id=self._next_id()), SessionsResult)
        return list(result.sessions)

    async def revoke_session(self, session_id: str) -> None:
        """Sign out one session of the account: its tokens stop resuming at once.

        Revoking this client's own session (``session_id == client.session_id``) is a
        ``logout`` of this session alone: the server answers and closes, and the client
        stops as after :meth:`logout`. Raises :class:`RequestFailed` with
        ``unknown_session`` for an id that names no live session of the account.
        """
        message = RevokeSession(id=self._next_id(), session_id=session_id)
        if session_id == self.session_id:
            await self._end_session(message)
        else:
            await self.request(message, EmptyResult)

    async def leaderboard(
        self, game: str, players: int = 2, *, board: Board = Board.ALL, limit: int = 20
    ) -> LeaderboardResult:
        """The best ratings of ``game`` at ``players`` seats (humans, bots or all)."""
        message = Leaderboard(
            id=self._next_id(), game=game, players=players, board=board, limit=limit
        )
        return await self.request(message, LeaderboardResult)

    async def profile(self, player_id: str) -> ProfileResult:
        """An account's ratings, rating history and recent rated matches."""
        return await self.request(Profile(id=self._next_id(), player_id=player_id), ProfileResult)

    def _joined(self, result: JoinResult) -> JoinResult:
        self.rooms[result.room.room_id] = result.room
        self.seen_rooms.add(result.room.room_id)
        return result


@asynccontextmanager
async def connect(
    url: str,
    *,
    name: str,
    token: str | None = None,
    reconnect: bool = True,
    backoff: Backoff = Backoff(),
    compression: bool = True,
    limits: DecodeLimits = SERVER_MESSAGE_LIMITS,
    open_timeout: float = 10.0,
    max_rate: float | None = DEFAULT_MAX_RATE,
    revoke_others: bool = False,
    password: str | None = None,
    api_key: str | None = None,
    client_label: str | None = DEFAULT_CLIENT_LABEL,
    protocol_version: int = 2,
) -> AsyncIterator[GameClient]:
    """``async with connect(url, name=...) as client:`` — connected and said hello.

    Pass ``token`` (a previous ``client.token``) to resume that player and its seats.
    Raises :class:`ConnectionLost` when the server cannot be reached and
    :class:`RequestFailed` when hello is refused (e.g. ``invalid_name``, ``bad_token``).
    Requests are paced to ``max_rate`` per second (None: unpaced), below the server's
    default per-connection limit. ``revoke_others=True`` revokes every earlier token of
    the player (logs out its other devices; sent on the first hello only). ``password``
    logs in to the account called ``name``; ``api_key`` to the bot account owning the
    key (either is used when no ``token`` is given, and again when a token stops being
    accepted). ``client_label`` is what the account's ``list_sessions`` shows for this
    client (None: nothing). ``protocol_version`` 2 offers state deltas (and speaks
    version 1 with a server that predates them); 1 asks for full states only; anything
    else raises ``ValueError``. Leaving the block closes the connection.
    """
    client = GameClient(
        url,
        name,
        token=token,
        reconnect=reconnect,
        backoff=backoff,
        compression=compression,
        limits=limits,
        open_timeout=open_timeout,
        max_rate=max_rate,
        revoke_others=revoke_others,
        password=password,
        api_key=api_key,
        client_label=client_label,
        protocol_version=protocol_version,
    )
    try:
        async with trio.open_nursery() as nursery:
            await nursery.start(client.run)
            try:
                yield client
            finally:
                with trio.CancelScope(shield=True):
                    await client.aclose()
    except BaseExceptionGroup as group:
        raise sole_exception(group) from None
