"""The game service: one handler per WebSocket connection, speaking the game protocol.

For each connection, the handler task reads requests and answers them (lobby requests
directly, room requests through the room's inbox). Payloads go straight to the socket
while it keeps up; otherwise they wait in the connection's bounded outbox, which a
writer task (started on demand in the service's nursery) drains. The two meet only in
the outbox, so a client that stops reading blocks nothing but its own writer.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs
import trio

from gameserver.protocol.codec import decode_client_message, encode
from gameserver.protocol.errors import ErrorCode, RequestError
from gameserver.ratings.matchmaking import Window
from gameserver.protocol.limits import CLIENT_MESSAGE_LIMITS, DecodeLimits
from gameserver.protocol.version import SUBPROTOCOL, WS_PATH, version_of
from gameserver.protocol.messages import (
    Chat,
    ClientMessage,
    CreateRoom,
    EmptyResult,
    Error,
    Hello,
    HelloResult,
    JoinResult,
    JoinRoom,
    LeaveRoom,
    ListRooms,
    Logout,
    Move,
    QuickMatch,
    Rematch,
    Reply,
    Resign,
    Result,
    RevokeSession,
    RoomsResult,
    SeatRef,
    Spectate,
    Sync,
    WatchLobby,
)
from gameserver.rooms.commands import (
    Attached,
    ChatRequest,
    Detached,
    LeaveRequest,
    MoveRequest,
    RematchRequest,
    Request,
    ResignRequest,
    SyncRequest,
)
from gameserver.rooms.config import RoomConfig
from gameserver.rooms.errors import OutboxOverflow
from gameserver.rooms.lobby import Lobby
from gameserver.sessions.account_requests import ACCOUNT_REQUESTS, AccountRequests
from gameserver.sessions.account_sessions import AccountSessions, SessionUse, validate_label
from gameserver.sessions.accounts import Accounts
from gameserver.sessions.elsewhere import RoomsElsewhere
from gameserver.sessions.matchmaker import Matchmaker
from gameserver.sessions.metrics import Metrics
from gameserver.sessions.names import MAX_NAME_LENGTH, validate_name
from gameserver.rooms.members import Payload
from gameserver.sessions.outbox import DEFAULT_OUTBOX_LIMIT, Outbox, frame_of
from gameserver.sessions.players import Client, Player, PlayerRegistry
from gameserver.sessions.ratelimit import AddressPenalties, EventWindow, KeyedWindows, TokenBucket
from gameserver.sessions.rating_updates import RatingUpdates
from gameserver.sessions.standings import account_info
from gameserver.sessions.tokens import Token, TokenSigner, new_player_id
from gameserver.store.async_store import AsyncPlayerStore
from gameserver.store.players import Account
from gameserver.ws.codes import CloseCode
from gameserver.ws.exceptions import ConnectionClosed
from gameserver.ws.websocket import Message, WebSocket

log = logging.getLogger(__name__)

# docs/protocol.md section 3: a resumed player's older connection closes normally.
CLOSE_REPLACED = (CloseCode.NORMAL, "resumed elsewhere")
# docs/protocol.md section 3: after ``logout`` the server closes normally.
CLOSE_LOGGED_OUT = (CloseCode.NORMAL, "logged out")


@attrs.frozen(kw_only=True)
class ServiceConfig:
    """Per-connection limits of the game service."""

    outbox_limit: int = DEFAULT_OUTBOX_LIMIT
    """Unanswered replies/chat queued for one client before it is cut off (1008)."""
    # Human play needs a few messages a second; bots and scripts rarely more than 50.
    message_rate: float = 50.0
    """Sustained requests per second per connection."""
    message_burst: float = 100.0
    """Requests a connection may send at once after being idle."""
    # A client that keeps ignoring rate_limited is abusive or broken. Counted over a
    # window, not in a row: a flood earns a credit now and then, which must not reset it.
    flood_refusals: int = 200
    """Refused requests within ``flood_window`` seconds that close the connection (1008)."""
    flood_window: float = 10.0
    """Seconds over which refused requests are counted."""
    # Reconnecting at once after a flood cut-off costs the server a handshake each time.
    flood_penalty: float = 5.0
    """Seconds an address is refused (HTTP 429) after a flood cut-off; doubles on repeat."""
    flood_penalty_max: float = 300.0
    """Longest flood penalty in seconds."""
    token_ttl: float = 7 * 24 * 3600.0
    """Seconds a session token stays valid."""
    limits: DecodeLimits = CLIENT_MESSAGE_LIMITS
    """Decode limits for requests."""
    rooms: RoomConfig = attrs.field(factory=RoomConfig)
    """Room policies (grace period, bots, chat, replays)."""
    max_rooms: int = 10_000
    """Rooms open at once (``too_many_rooms`` beyond)."""
    # A squatter must not fill the server: these bound what one player, and every
    # player behind one address, can hold open (waiting or playing). Per address: half the
    # default connections per address, so a bot fleet that may connect may also play.
    max_rooms_per_player: int = 5
    """Waiting or playing rooms one player may hold (created or seated in); 0: no limit."""
    max_rooms_per_address: int = 128
    """Waiting or playing rooms the players of one client address may hold; 0: no limit."""
    # Invite codes are the only key to a private room: guessing must be slow.
    invite_failures: int = 10
    """Wrong invite codes from one address within ``invite_failure_window`` seconds after
    which its invite-code joins get ``rate_limited``."""
    invite_failure_window: float = 60.0
    """Seconds over which wrong invite codes are counted."""
    max_name_length: int = MAX_NAME_LENGTH
    """Longest display name in characters (``invalid_name`` beyond)."""
    data_dir: Path | None = None
    """Where the token secret lives (None: a fresh secret per process)."""
    match_window: Window = Window()
    """How far apart in rating a rated quick match pairs players (widening with waiting)."""


class _Session:
    """The per-connection state of the handler; its client writes through it.

    Methods, not closures, give the client its callbacks: a bound method costs a
    third of a closure with its cells, on every idle connection.
    """

    __slots__ = (
        "service", "ws", "address", "client", "player", "use", "greeting", "writing",
        "overflowed", "bucket", "refusals",
    )

    def __init__(self, service: GameService, ws: WebSocket, protocol: int) -> None:
        self.service = service
        self.ws = ws
        self.address = client_address(ws)
        """The client's IP address (as text), for the per-address limits."""
        config = service.config
        self.bucket = TokenBucket(config.message_rate, config.message_burst, trio.current_time())
        self.refusals: EventWindow | None = None
        """Recent ``rate_limited`` refusals; made at the first one."""
        self.client = Client(
            Outbox(service.config.outbox_limit), write_now=self.write_now,
            write_all_now=self.write_all_now, wake=self.wake, protocol=protocol,
        )
        self.player: Player | None = None
        self.use: SessionUse | None = None
        """The token the hello issued and its session (set with ``player``)."""
        self.greeting = False
        """True while a ``hello`` waits for its revocation to be written."""
        self.writing = False
        """True while the writer task runs."""
        self.overflowed = False
        """True once the outbox overflowed and the connection was aborted."""

    def write_now(self, payload: Payload) -> bool:
        """Write ``payload`` at once if the socket is idle (see ``Client.write_now``)."""
        if not self.ws.try_send_frame(frame_of(payload)):
            return False
        metrics = self.service.metrics
        metrics.messages_out += 1
        metrics.bytes_out += len(payload.data)
        return True

    def write_all_now(self, payloads: list[Payload]) -> bool:
        """Write ``payloads`` at once, in one write, if the socket is idle."""
        if not self.ws.try_send_frame(b"".join([frame_of(payload) for payload in payloads])):
            return False
        metrics = self.service.metrics
        metrics.messages_out += len(payloads)
        metrics.bytes_out += sum(len(payload.data) for payload in payloads)
        return True

    def wake(self) -> None:
        """The outbox changed: start the writer, or cut off a client that stopped reading."""
        if self.client.outbox.overflowed:
            if not self.overflowed:
                # A close handshake would only wait, and the writer may be stuck in a
                # send: abort wakes both tasks, which then end.
                self.overflowed = True
                self.ws.abort(CloseCode.POLICY_VIOLATION, "client reads too slowly")
        elif not self.writing:
            self.writing = True
            self.service.start_writer(self)


# The requests a room answers, and the room command each becomes (``_dispatch``).
_ROOM_COMMANDS: dict[type[ClientMessage], Callable[[Player, Any], Request]] = {
    Move: lambda player, move: MoveRequest(player, move.id, move.version, move.move),
    Chat: lambda player, chat: ChatRequest(player, chat.id, chat.text),
    Resign: lambda player, resign: ResignRequest(player, resign.id),
    Rematch: lambda player, rematch: RematchRequest(player, rematch.id),
    LeaveRoom: lambda player, leave: LeaveRequest(player, leave.id),
    Sync: lambda player, sync: SyncRequest(player, sync.id),
}


def client_address(ws: WebSocket) -> str:
    """The IP address of ``ws``'s peer as text ("?" when unknown)."""
    address = ws.remote_address
    if isinstance(address, (tuple, list)) and address:
        return str(address[0])
    return "?" if address is None else str(address)


class GameService:
    """Everything the game needs besides sockets; ``handle`` serves one connection."""

    def __init__(
        self,
        nursery: trio.Nursery,
        signer: TokenSigner,
        config: ServiceConfig | None = None,
        metrics: Metrics | None = None,
        store: AsyncPlayerStore | None = None,
    ) -> None:
        self.config = config or ServiceConfig()
        self.metrics = metrics or Metrics()
        self.signer = signer
        # Writer tasks of connections whose outbox is in use run here.
        self._nursery = nursery
        self.players = PlayerRegistry()
        self.penalties = AddressPenalties(
            self.config.flood_penalty, self.config.flood_penalty_max
        )
        """Addresses cut off for flooding; the WebSocket server asks ``refuse_for``."""
        self.lobby = Lobby(
            nursery,
            self.config.rooms,
            self.metrics,
            max_rooms=self.config.max_rooms,
            players=self.players,
            max_rooms_per_player=self.config.max_rooms_per_player,
            max_rooms_per_address=self.config.max_rooms_per_address,
            invite_guard=KeyedWindows(
                self.config.invite_failures, self.config.invite_failure_window
            ),
        )
        self.elsewhere: RoomsElsewhere | None = None
        """Rooms held by other nodes (cluster mode); None: every room is here."""
        self.matchmaker = Matchmaker(self.lobby, self.config.match_window)
        """Queues of rated quick matches."""
        nursery.start_soon(self.matchmaker.run)
        self.store = store
        """Player data (accounts, ratings); None: every player is anonymous."""
        self.accounts: Accounts | None = None
        self.sessions: AccountSessions | None = None
        """The sessions of accounts (None without a store)."""
        self._account_requests: AccountRequests | None = None
        if store is not None:
            self.accounts = Accounts(store)
            self.sessions = AccountSessions(store, signer, ttl=self.config.token_ttl)
            self._account_requests = AccountRequests(
                self.accounts, self.sessions, max_name_length=self.config.max_name_length
            )
            replays_dir = self.config.rooms.replays_dir
            if replays_dir is not None:
                updates = RatingUpdates(store, replays_dir, self.players)
                nursery.start_soon(updates.run)
                self.lobby.on_match_finished = lambda room, match_id: updates.match_finished(
                    room.room_id, room.match_number, match_id
                )
        self.connections = 0
        self.metrics.gauge(
            "gameserver_connections", "Open game connections.", lambda: self.connections
        )
        self.metrics.gauge(
            "gameserver_rooms", "Open rooms.", lambda: len(self.lobby.rooms)
        )
        self.metrics.gauge(
            "gameserver_players_connected", "Players with a live connection.",
            self.players.connected_count,
        )

    def known_player(self, player_id: str, name: str) -> Player:
        """The player with ``player_id``, registered (without a connection) if it is not
        known yet: crash recovery seats it, and it resumes with its token."""
        return self.players.get(player_id) or self.players.add(Player(player_id, name))

    # -- the connection ---------------------------------------------------------------

    async def handle(self, ws: WebSocket) -> None:
        """Serve one WebSocket connection until it closes; never raises on client faults.

        The calling task reads requests. Payloads are written straight to the socket
        while it keeps up; a writer task starts only once something has to wait in the
        outbox (so an idle connection costs no task of its own). A connection to another
        path than ``/ws``, or without the game subprotocol, is closed at once.
        """
        if ws.request is not None and ws.request.path != WS_PATH:
            await ws.close(CloseCode.POLICY_VIOLATION, f"unknown path; connect to {WS_PATH}")
            return
        protocol = version_of(ws.subprotocol)
        if protocol is None:
            await ws.close(CloseCode.PROTOCOL_ERROR, f"unsupported subprotocol; offer {SUBPROTOCOL}")
            return
        session = _Session(self, ws, protocol)
        client = session.client
        self.connections += 1
        self.metrics.connections_total += 1
        try:
            # The loop is here, not in a helper: an idle connection waits in one frame
            # fewer.
            while self._serve_request(session, await ws.receive()):
                pass
            seconds = self.penalties.punish(session.address, trio.current_time())
            log.warning(
                "closed %s for flooding; its address is refused for %g s", ws.remote_address,
                seconds,
            )
            # The writer sends what is queued (the refusals) first, then closes; what
            # the flooder still sends meanwhile is read and dropped.
            client.kick(CloseCode.POLICY_VIOLATION, "too many messages")
            while True:
                await ws.receive()
        except ConnectionClosed:
            pass
        finally:
            client.wake = None
            self.connections -= 1
            # A running writer writes what is queued (or meets the closed connection)
            # and ends.
            client.outbox.close()
            self._detach(session)
        if session.overflowed:
            self.metrics.outbox_overflows += 1
            log.info("closed %s: it reads too slowly", ws.remote_address)

    def refuse_for(self, address: str) -> float:
        """Seconds new connections from ``address`` are still refused (0.0: accept);
        the WebSocket server answers them 429 with this as ``Retry-After``."""
        return self.penalties.retry_after(address, trio.current_time())

    def start_writer(self, session: _Session) -> None:
        """Start the task that drains ``session``'s outbox, in the service's nursery."""
        self._nursery.start_soon(self._writer, session)

    async def _writer(self, session: _Session) -> None:
        """Drain the outbox to the socket until the outbox is closed or the connection
        ends; runs in the service's nursery, so it must not raise."""
        client, ws = session.client, session.ws
        try:
            while True:
                payload = await client.outbox.get()
                # Unmasked, uncompressed frames are valid with or without
                # permessage-deflate, so identical payloads share one frame.
                await ws.send_frame_bytes(frame_of(payload))
                self.metrics.messages_out += 1
                self.metrics.bytes_out += len(payload.data)
        except OutboxOverflow:
            pass  # ``wake`` aborted the connection
        except trio.EndOfChannel:
            if client.kicked is not None:
                await ws.close(*client.kicked)
        except ConnectionClosed:
            pass
        except Exception:
            log.exception("writer failed for %s", ws.remote_address)
            ws.abort(CloseCode.INTERNAL_ERROR, "internal error")
        finally:
            session.writing = False

    def _serve_request(self, session: _Session, data: Message) -> bool:
        """Answer one request (or queue it for its room); False when the client keeps
        ignoring ``rate_limited`` and must be closed.

        What the request sends to this connection leaves in one write (a move run
        inline in its room: the reply and the mover's new state).
        """
        client = session.client
        client.hold()
        try:
            return self._answer(session, data)
        finally:
            client.release()

    def _answer(self, session: _Session, data: Message) -> bool:
        """``_serve_request`` without the holding."""
        self.metrics.messages_in += 1
        now = trio.current_time()
        if not session.bucket.take(now):
            refusals = session.refusals
            if refusals is None:
                config = self.config
                refusals = session.refusals = EventWindow(config.flood_refusals, config.flood_window)
            if refusals.add(now):
                return False
            self._send_error(
                session, RequestError(ErrorCode.RATE_LIMITED, "too many messages; slow down")
            )
            return True
        if isinstance(data, str):
            self._send_error(
                session,
                RequestError(
                    ErrorCode.BAD_MESSAGE, "text messages are not accepted; send binary msgpack"
                ),
            )
            return True
        try:
            message = decode_client_message(data, self.config.limits)
        except RequestError as error:
            self._send_error(session, error)
            return True
        try:
            result = self._dispatch(session, message)
        except RequestError as error:
            self._send_error(session, error.with_request_id(message.id))
            return True
        except Exception:
            log.exception("request %s failed", message.TYPE)
            self._send_error(
                session,
                RequestError(
                    ErrorCode.INTERNAL_ERROR, "the server failed this request", message.id
                ),
            )
            return True
        if result is not None:
            session.client.send(Payload(encode(Reply(id=message.id, result=result))))
        return True

    def _send_error(self, session: _Session, error: RequestError) -> None:
        self.metrics.error(error.code.value)
        message = Error(id=error.request_id, code=error.code.value, message=error.message)
        session.client.send(Payload(encode(message)))

    def _detach(self, session: _Session) -> None:
        player = session.player
        if player is None or player.client is not session.client:
            return
        player.client = None
        self.lobby.unwatch(player)
        self.matchmaker.cancel(player)
        for room_id in list(player.rooms):
            room = self.lobby.rooms.get(room_id)
            if room is not None and not room.closed:
                room.submit(Detached(player))
            elif room is None and self.elsewhere is not None:
                self.elsewhere.connection(player, room_id, attached=False)
        if not player.rooms:
            self.players.discard(player)

    # -- requests -----------------------------------------------------------------------

    def _dispatch(self, session: _Session, message: ClientMessage) -> Result | None:
        """Serve one request; return its result, or None when a room will answer it."""
        if isinstance(message, Hello):
            self._hello(session, message)
            return None
        player = session.player
        if player is None:
            raise RequestError(ErrorCode.NOT_AUTHENTICATED, "say hello first")
        lobby = self.lobby
        to_room = _ROOM_COMMANDS.get(type(message))
        if to_room is not None:  # first: a move is what a server mostly serves
            if self.elsewhere is not None and self.elsewhere.forward(player, message):
                return None  # cluster mode: the room's owner is another node
            room = lobby.room(message.room_id)  # type: ignore[attr-defined]
            if not room.is_member(player):
                raise RequestError(ErrorCode.NOT_IN_ROOM, "you are not in this room")
            room.submit(to_room(player, message))
            return None
        if isinstance(message, Logout):
            self._logout(session, player, message.id)
            return None
        if isinstance(message, ACCOUNT_REQUESTS):
            if self._account_requests is None:
                raise RequestError(ErrorCode.NOT_REGISTERED, "this server keeps no accounts")
            assert session.use is not None, "set with the player"
            if (
                isinstance(message, RevokeSession)
                and player.account is not None
                and message.session_id == session.use.token.session_id
            ):
                self._sign_out(session, player, message.id, self._account_requests.sessions)
                return None
            self._nursery.start_soon(
                self._answer_account_request, session, player, message, session.use,
                self._account_requests,
            )
            return None
        if self.elsewhere is not None and self.elsewhere.forward(player, message):
            return None
        if isinstance(message, ListRooms):
            return RoomsResult(rooms=lobby.list_rooms(message.game))
        if isinstance(message, WatchLobby):
            return RoomsResult(rooms=lobby.watch(player, message.game, message.on))
        if isinstance(message, CreateRoom):
            return lobby.create_room(player, message)
        if isinstance(message, JoinRoom):
            return lobby.join_room(player, message)
        if isinstance(message, QuickMatch):
            if message.rated:
                self._rated_quick_match(session, player, message)
                return None
            return lobby.quick_match(player, message)
        if isinstance(message, Spectate):
            return lobby.spectate(player, message.room_id)
        raise RequestError(ErrorCode.UNKNOWN_TYPE, f"unsupported request {message.TYPE!r}")

    def _rated_quick_match(self, session: _Session, player: Player, message: QuickMatch) -> None:
        """Queue ``player`` for a rated match; the reply comes when its group is seated."""
        if player.account is None:
            raise RequestError(
                ErrorCode.NOT_REGISTERED, "rated matches are for accounts: register or log in first"
            )
        self.lobby.check_quick_match(message)

        def answer(outcome: JoinResult | RequestError) -> None:
            if isinstance(outcome, RequestError):
                self._send_error(session, outcome.with_request_id(message.id))
            else:
                session.client.send(Payload(encode(Reply(id=message.id, result=outcome))))

        self.matchmaker.enqueue(player, message.game, message.players, answer)

    async def _answer_account_request(
        self, session: _Session, player: Player, message: ClientMessage, use: SessionUse,
        requests: AccountRequests,
    ) -> None:
        """Serve an account request (it awaits the store), then reply or refuse."""
        try:
            result = await requests.serve(player, message, use)
        except RequestError as error:
            self._send_error(session, error.with_request_id(message.id))
            return
        except Exception:
            log.exception("request %s failed", message.TYPE)
            self._send_error(
                session,
                RequestError(ErrorCode.INTERNAL_ERROR, "the server failed this request", message.id),
            )
            return
        session.client.send(Payload(encode(Reply(id=message.id, result=result))))

    def _hello(self, session: _Session, message: Hello) -> None:
        """Identify the connection's player; the reply waits for the store when there is
        one and the hello logs in (a password, an API key) or resumes (the player may
        have an account, whose session is then recorded), and for a revocation to be
        written (``revoke_others``)."""
        if session.player is not None or session.greeting:
            raise RequestError(ErrorCode.ALREADY_AUTHENTICATED, "this connection already said hello")
        name = validate_name(message.name, max_length=self.config.max_name_length)
        label = validate_label(message.client_label)
        credentials = message.password is not None or message.api_key is not None
        if credentials and message.token is not None:
            raise RequestError(
                ErrorCode.INVALID_FIELD, "give a token or a password / API key, not both"
            )
        if credentials and self.accounts is None:
            raise RequestError(ErrorCode.UNKNOWN_ACCOUNT, "this server keeps no accounts")
        resuming = None if message.token is None else self.signer.verify(message.token)
        if self.accounts is not None and (credentials or resuming is not None):
            session.greeting = True
            self._nursery.start_soon(
                self._hello_with_account, session, message, name, label, self.accounts
            )
            return
        player: Player | None = None
        if resuming is not None:
            # A valid token from before a restart (or of a forgotten player): the same
            # player comes back.
            player = self.players.get(resuming.player_id) or self.players.add(
                Player(resuming.player_id, name)
            )
        resumed = player is not None
        if player is None:
            player = self.players.add(Player(new_player_id(), name))
        use = self._issue(session, player.player_id, resuming, label, message.revoke_others)
        if not message.revoke_others and (self.elsewhere is None or not resumed):
            self._welcome(session, message.id, player, name, use, resumed)
            return
        if not message.revoke_others:
            session.greeting = True
            self._nursery.start_soon(
                self._welcome_settled, session, message.id, player, name, use, resumed
            )
            return
        session.greeting = True
        self._nursery.start_soon(
            self._welcome_when_written, session, message.id, player, name, use, resumed
        )

    def _issue(
        self, session: _Session, player_id: str, resuming: Token | None, label: str | None,
        revoke_others: bool,
    ) -> SessionUse:
        """A fresh token for the hello: the next of ``resuming``'s session, or a new one."""
        token = self.signer.issue(
            player_id,
            session_id=None if resuming is None else resuming.session_id,
            revoke_older=revoke_others,
        )
        return SessionUse(token=token, address=session.address, label=label)

    async def _hello_with_account(
        self, session: _Session, message: Hello, name: str, label: str | None,
        accounts: Accounts,
    ) -> None:
        """The hello that needs the store: log in (password or API key), or resume a
        token whose player may have an account; record an account's session; then
        welcome, as ``_hello`` does."""
        account: Account | None
        resuming: Token | None = None
        try:
            if message.password is not None:
                account = await accounts.login(name, message.password, session.address)
            elif message.api_key is not None:
                account = await accounts.login_with_key(message.api_key, session.address)
            else:
                account = await accounts.account(self.signer.verify(message.token).player_id)
            ratings = {} if account is None else await accounts.store.call(
                accounts.store.sync.account_ratings, account.account_id
            )
            if message.token is not None:
                # Again: the token (its session) may have been revoked meanwhile.
                resuming = self.signer.verify(message.token)
        except RequestError as error:
            session.greeting = False
            self._send_error(session, error.with_request_id(message.id))
            return
        if account is not None:
            player_id = account.account_id
        else:
            assert resuming is not None, "only a resume finds no account"
            player_id = resuming.player_id
        use = self._issue(session, player_id, resuming, label, message.revoke_others)
        if account is not None:
            assert self.sessions is not None, "made with the accounts"
            await self.sessions.record(account.account_id, use)
        player = self.players.get(player_id) or self.players.add(Player(player_id, name))
        player.account = account
        player.ratings = {stored.pool: stored.rating.rating for stored in ratings}
        if account is not None:
            name = account.name
        if message.revoke_others:
            await self._welcome_when_written(session, message.id, player, name, use, True)
            return
        if self.elsewhere is not None:
            await self.elsewhere.settle(player)
        session.greeting = False
        if session.client.outbox.closed:
            if player.idle:
                self.players.discard(player)
            return
        self._welcome(session, message.id, player, name, use, True)

    async def _welcome_settled(
        self, session: _Session, request_id: int, player: Player, name: str, use: SessionUse,
        resumed: bool,
    ) -> None:
        """Cluster mode: let rooms elsewhere find the resuming player here, then welcome
        it (its seats there are in the reply)."""
        assert self.elsewhere is not None
        await self.elsewhere.settle(player)
        session.greeting = False
        if not session.client.outbox.closed:
            self._welcome(session, request_id, player, name, use, resumed)
        elif player.idle:
            self.players.discard(player)

    async def _welcome_when_written(
        self, session: _Session, request_id: int, player: Player, name: str, use: SessionUse,
        resumed: bool,
    ) -> None:
        """Write the player's revocation, then welcome it (or refuse the hello)."""
        written = await self._write_revocation(player)
        session.greeting = False
        if written and not session.client.outbox.closed:
            self._welcome(session, request_id, player, name, use, resumed)
            return
        if player.idle:
            self.players.discard(player)  # made for this hello, which came to nothing
        if written:
            return  # the connection is gone: nobody to answer
        self._send_error(
            session,
            RequestError(
                ErrorCode.INTERNAL_ERROR, "the revocation could not be recorded", request_id
            ),
        )

    async def _write_revocation(self, player: Player) -> bool:
        """Make ``player``'s revocation durable; False (logged) when the disk refused."""
        try:
            await trio.to_thread.run_sync(self.signer.revocations.write, player.player_id)
        except OSError:
            log.exception("cannot record the token revocation of %s", player.player_id)
            return False
        return True

    def _welcome(
        self, session: _Session, request_id: int, player: Player, name: str, use: SessionUse,
        resumed: bool,
    ) -> None:
        """Attach ``session`` to ``player``, answer the hello, then resync its rooms."""
        if player.account is not None:
            name = player.account.name  # an account keeps its name whatever hello said
        player.name = name
        self.players.move(player, session.address)
        previous = player.client
        if previous is not None:
            previous.kick(*CLOSE_REPLACED)
        player.client = session.client
        session.player = player
        session.use = use
        seats: list[SeatRef] = []
        rooms = []
        for room_id in sorted(player.rooms):
            room = self.lobby.rooms.get(room_id)
            if room is None or room.closed:
                continue
            rooms.append(room)
            seat = room.seat_of(player)
            if seat is not None:
                seats.append(SeatRef(room_id=room_id, seat=seat.index))
        if self.elsewhere is not None:
            # A room here may seat the player as a member of another node's (cluster).
            listed = {ref.room_id for ref in seats}
            for room_id, index in sorted(self.elsewhere.seats(player).items()):
                if room_id not in listed:
                    seats.append(SeatRef(room_id=room_id, seat=index))
        result = HelloResult(
            player_id=player.player_id,
            name=name,
            token=use.token.text,
            resumed=resumed,
            seats=tuple(seats),
            account=None if player.account is None else account_info(player.account),
            session_id=use.token.session_id,
        )
        session.client.send(Payload(encode(Reply(id=request_id, result=result))))
        for room in rooms:
            room.submit(Attached(player))
        if self.elsewhere is not None:
            for room_id in sorted(player.rooms - self.lobby.rooms.keys()):
                self.elsewhere.connection(player, room_id, attached=True)
            self.elsewhere.arrived(player)

    def _logout(self, session: _Session, player: Player, request_id: int) -> None:
        """Revoke the player's tokens and leave the connection unauthenticated; the
        answer and the close follow once the revocation is written."""
        self.signer.revoke_all(player.player_id)
        self._detach(session)
        session.player = None
        self._nursery.start_soon(self._close_after_logout, session, player, request_id)

    async def _close_after_logout(
        self, session: _Session, player: Player, request_id: int
    ) -> None:
        if await self._write_revocation(player):
            session.client.send(Payload(encode(Reply(id=request_id, result=EmptyResult()))))
        else:
            self._send_error(
                session,
                RequestError(
                    ErrorCode.INTERNAL_ERROR,
                    "the logout could not be recorded; the tokens stay refused until the "
                    "server restarts",
                    request_id,
                ),
            )
        session.client.kick(*CLOSE_LOGGED_OUT)

    def _sign_out(
        self, session: _Session, player: Player, request_id: int, sessions: AccountSessions
    ) -> None:
        """``revoke_session`` of the connection's own session: a ``logout`` of this
        session only. Its tokens are refused at once; the answer and the close follow
        once the revocation is written."""
        assert session.use is not None and session.use.token.session_id is not None
        session_id = session.use.token.session_id
        sessions.revoke_now(session_id)
        self._detach(session)
        session.player = None
        self._nursery.start_soon(
            self._close_after_sign_out, session, player.player_id, session_id, request_id,
            sessions,
        )

    async def _close_after_sign_out(
        self, session: _Session, account_id: str, session_id: str, request_id: int,
        sessions: AccountSessions,
    ) -> None:
        try:
            await sessions.make_durable(account_id, session_id)
        except RequestError as error:
            self._send_error(session, error.with_request_id(request_id))
        else:
            session.client.send(Payload(encode(Reply(id=request_id, result=EmptyResult()))))
        session.client.kick(*CLOSE_LOGGED_OUT)
