"""A player's session with a game server: one WebSocket at a time, resumed across drops.

The session connects (offering ``gameserver.v2``, then ``gameserver.v1``), says ``hello``
and keeps the resume token. On version 2 the server sends a room's later versions as
deltas; ``deltas.py`` turns them back into the same ``State`` events, and a room whose
delta does not fit is asked for again with ``sync``. Requests are matched to replies by
id. When the connection drops (anything but a deliberate close 1000 by the server) it
reconnects with exponential backoff, resumes with its token and carries on from the
server's state: the seats come back, a fresh ``State`` arrives for each room, lobby
watching and spectating are re-established, and ``move`` requests whose reply was lost
are resent with the same id, which the server applies at most once. Other requests in
flight fail with ``ConnectionLost``.
"""

from __future__ import annotations

import itertools
import logging
import math
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Any, TypeVar

import attrs
import trio

from gameserver.client.deltas import Documents
from gameserver.client.errors import ClientError, ConnectionLost, RequestFailed, ServerMisbehaved
from gameserver.client.events import ClientEvent, Disconnected, Reconnected
from gameserver.protocol.codec import (
    decode_client_message,
    decode_delta,
    decode_result,
    decode_server_message,
    encode_client_message,
    is_delta,
)
from gameserver.protocol.errors import RequestError
from gameserver.protocol.limits import CLIENT_MESSAGE_LIMITS, SERVER_MESSAGE_LIMITS, DecodeLimits
from gameserver.protocol.messages import (
    AccountInfo,
    ChatMessage,
    ClientMessage,
    Delta,
    Error,
    Hello,
    HelloResult,
    ListRooms,
    LobbyUpdate,
    MatchOver,
    Move,
    RatingUpdate,
    Reply,
    Result,
    RoomStatus,
    RoomSummary,
    RoomUpdate,
    SeatRef,
    ServerMessage,
    Spectate,
    State,
    Sync,
    WatchLobby,
)
from gameserver.protocol.version import subprotocol_of, version_of
from gameserver.ws.client import connect as ws_connect
from gameserver.ws.codes import CloseCode
from gameserver.ws.exceptions import ConnectionClosed, HandshakeError
from gameserver.ws.websocket import WebSocket

__all__ = ["Backoff", "Session"]

logger = logging.getLogger(__name__)

_R = TypeVar("_R", bound=Result)

# Requests whose reply may be lost with a dropped connection and that are safe to send
# again: moves are deduplicated by id on the server, the others change nothing.
_RESENDABLE = (Move, ListRooms, WatchLobby)

# The server refuses messages beyond 50/s (burst 100) per connection by default; staying
# below that means no request is ever dropped for its rate.
DEFAULT_MAX_RATE = 40.0

# What the account's session list shows for a program using the SDK (``client_label``).
DEFAULT_CLIENT_LABEL = "gameserver Python SDK"

# The server closes with 1000 only on purpose (e.g. the player resumed elsewhere);
# reconnecting then would fight the other connection.
_NO_RECONNECT_CODES = frozenset({CloseCode.NORMAL})

@attrs.frozen(kw_only=True)
class Backoff:
    """How the client waits between reconnection attempts: exponential with jitter."""

    initial: float = 0.1
    """Seconds before the first retry."""
    factor: float = 2.0
    """Each further wait is this much longer ..."""
    maximum: float = 5.0
    """... up to this many seconds."""
    jitter: float = 0.2
    """Each wait is randomly shortened by up to this fraction, so clients spread out."""
    max_attempts: int | None = 20
    """Give up after this many failed attempts in a row; None = never."""
    stable_after: float = 10.0
    """A connection that lasted this many seconds resets the count of failed attempts;
    one that drops sooner counts as failed, so a flapping server is not hammered."""

    def delay(self, attempt: int, rng: random.Random) -> float:
        """Seconds to wait before attempt number ``attempt`` (1-based)."""
        base = min(self.maximum, self.initial * self.factor ** (attempt - 1))
        return base * (1 - self.jitter * rng.random())


class _Pacer:
    """A token bucket: ``wait()`` returns at most ``rate`` times a second on average."""

    def __init__(self, rate: float, *, burst: float) -> None:
        self.rate = rate
        self.burst = burst
        self.tokens = burst
        self.stamp: float | None = None

    async def wait(self) -> None:
        now = trio.current_time()
        if self.stamp is not None:
            self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        self.tokens -= 1
        if self.tokens < 0:
            await trio.sleep(-self.tokens / self.rate)
        else:
            await trio.lowlevel.checkpoint()


@attrs.define
class _Pending:
    message: ClientMessage
    data: bytes
    done: trio.Event = attrs.field(factory=trio.Event)
    result: Mapping[str, Any] | None = None
    error: Exception | None = None


class Session:
    """One player's session with a game server, across reconnections.

    Owns the WebSocket connection and its replacements: hello and the token, the table
    of requests awaiting replies, the event stream and the newest state per room.
    :class:`~gameserver.client.client.GameClient` adds the typed requests on top.

    Attributes kept up to date from the server's messages: ``player_id``, ``name``,
    ``token`` (the newest resume token), ``session_id`` (the session that token belongs
    to), ``resumed``, ``seats``, ``states`` (newest
    ``State`` per room id), ``rooms`` (newest ``RoomSummary`` per room id), ``connected``,
    ``reconnects``, ``protocol_version`` (negotiated), ``deltas`` and ``resyncs``. A room
    the server closes (a ``room`` push with status ``closed``) is dropped from ``states``,
    ``rooms`` and ``seats``.
    """

    def __init__(
        self,
        url: str,
        name: str,
        *,
        token: str | None = None,
        reconnect: bool = True,
        backoff: Backoff = Backoff(),
        compression: bool = True,
        limits: DecodeLimits = SERVER_MESSAGE_LIMITS,
        request_limits: DecodeLimits = CLIENT_MESSAGE_LIMITS,
        open_timeout: float = 10.0,
        max_rate: float | None = DEFAULT_MAX_RATE,
        seed: int | None = None,
        revoke_others: bool = False,
        password: str | None = None,
        api_key: str | None = None,
        client_label: str | None = DEFAULT_CLIENT_LABEL,
        protocol_version: int = 2,
    ) -> None:
        newest = subprotocol_of(protocol_version)  # ValueError for an unknown version
        # Newest first: a server that predates version 2 picks version 1.
        older = (subprotocol_of(v) for v in range(protocol_version - 1, 0, -1))
        self._subprotocols = [newest, *older]
        self.url = url
        """The server's WebSocket URL, e.g. ``ws://127.0.0.1:8000/ws``."""
        self.name = name
        """The display name (as the server stored it, once connected)."""
        self.token = token
        """The newest resume token; pass it to a later ``connect`` to resume this player."""
        self.player_id: str | None = None
        """This player's id, once the server has answered hello."""
        self.session_id: str | None = None
        """The session ``token`` belongs to (``list_sessions``), once hello was answered."""
        self._client_label = client_label
        self.resumed = False
        """Whether the latest hello resumed an existing player (True after a token worked)."""
        self.account: AccountInfo | None = None
        """The player's account (after a login, or once ``register`` succeeded); None
        while anonymous."""
        # Credentials for the first hello (and for a resume whose token the server no
        # longer accepts); never logged.
        self._password = password
        self._api_key = api_key
        self.seats: tuple[SeatRef, ...] = ()
        """The seats the server reported in the latest hello reply (less rooms the
        server has closed since)."""
        self.states: dict[str, State] = {}
        """The newest ``State`` received for each room id."""
        self.rooms: dict[str, RoomSummary] = {}
        """The newest ``RoomSummary`` seen for each room id the player is in."""
        # The newest chat ``seq`` emitted per room: the server sends the latest chat
        # again on every (re)join, and each message should reach the program once.
        self._chat_seen: dict[str, int] = {}
        self.seen_rooms: set[str] = set()
        """Every room id this client has had a state, summary or seat for (kept by
        ``forget``, so a later resume can tell new seats from old ones)."""
        self.reconnect = reconnect
        self.backoff = backoff
        # Asked for on the first hello only: a resume must not log out a device that
        # logged in since.
        self._revoke_others = revoke_others
        # Set once the server answered ``logout``: its close must not be fought.
        self._logged_out = False
        self._compression = compression
        self._limits = limits
        self._request_limits = request_limits
        self._open_timeout = open_timeout
        self._pacer = None if max_rate is None else _Pacer(max_rate, burst=2 * max_rate)
        self._rng = random.Random(seed)
        # The server deduplicates moves by (player, request id), also across connections
        # of the same player: start from the clock so a later process resuming this
        # player with its token never reuses an id of an earlier one.
        self._ids = itertools.count(int(time.time() * 1000))
        self._pending: dict[int, _Pending] = {}
        self._ws: WebSocket | None = None
        self._connected = trio.Event()
        self._state_changed = trio.Event()
        self._ever_connected = False
        self._final_reported = False
        self._dead: ConnectionLost | None = None
        self._closing = False
        self._cancel = trio.CancelScope()
        self._lobby: WatchLobby | None = None
        self._spectating: set[str] = set()
        self._send_events, self._receive_events = trio.open_memory_channel[ClientEvent](math.inf)
        self.reconnects = 0
        """How many times the client has reconnected."""
        self.protocol_version: int | None = None
        """The protocol version the current connection speaks (2: deltas), once open."""
        self._documents = Documents()
        self.deltas = 0
        """How many deltas this client has turned into ``State`` events."""
        self.resyncs = 0
        """How many times it asked for a full state (``sync``) after a delta did not fit."""

    # -- public state ------------------------------------------------------------------

    @property
    def connected(self) -> bool:
        """True while a connection is open and hello has been answered."""
        return self._connected.is_set()

    def events(self) -> AsyncIterator[ClientEvent]:
        """Iterate over pushes and connection events, in arrival order.

        The iteration ends when the client is closed or gives up reconnecting. Use one
        consumer at a time; events are buffered until read.
        """
        return self._iterate_events()

    async def _iterate_events(self) -> AsyncIterator[ClientEvent]:
        async for event in self._receive_events:
            yield event

    async def next_event(self) -> ClientEvent:
        """Return the next event; raise :class:`ConnectionLost` once there are none."""
        try:
            return await self._receive_events.receive()
        except trio.EndOfChannel:
            raise self._dead or ConnectionLost("the client is closed") from None

    async def request(self, message: ClientMessage, result_type: type[_R]) -> _R:
        """Send any request and return its result as ``result_type``.

        Raises :class:`RequestFailed` when the server answers with an error,
        :class:`ConnectionLost` when the connection ends and the request cannot be
        resent safely, :class:`ServerMisbehaved` when the reply does not fit.
        """
        data = encode_client_message(message)
        self._check_limits(message, data)
        pending = _Pending(message, data)
        if self._pacer is not None:
            await self._pacer.wait()
        await self.wait_connected()
        return await self._exchange(self._send, pending, result_type)

    async def _exchange(
        self, send: Callable[[bytes], Awaitable[None]], pending: _Pending, result_type: type[_R]
    ) -> _R:
        """Register ``pending``, send it with ``send`` and return its decoded result.

        A caller that stops waiting (cancelled, e.g. by its own timeout) leaves nothing
        behind: a late reply is ignored and a reconnect does not resend the request.
        """
        request_id = pending.message.id
        self._pending[request_id] = pending
        try:
            await send(pending.data)
            await pending.done.wait()
        finally:
            if not pending.done.is_set() and self._pending.get(request_id) is pending:
                del self._pending[request_id]
        if pending.error is not None:
            raise pending.error
        assert pending.result is not None
        try:
            return decode_result(result_type, pending.result)
        except RequestError as error:
            raise ServerMisbehaved(f"reply to {pending.message.TYPE}: {error.message}") from None

    def _check_limits(self, message: ClientMessage, data: bytes) -> None:
        """Refuse locally what the server would refuse without being able to say which
        request it was (a message too large or too deep to read its id)."""
        try:
            decode_client_message(data, self._request_limits)
        except RequestError as error:
            raise RequestFailed(error.code.value, error.message, message.id) from None

    def forget(self, room_id: str) -> None:
        """Drop what the client keeps about a room (its newest state and summary).

        For long-running clients that play many matches: call it once a finished
        room is of no more interest, so memory stays flat.
        """
        self.states.pop(room_id, None)
        self.rooms.pop(room_id, None)
        self._chat_seen.pop(room_id, None)
        self._documents.forget(room_id)

    def _closed(self, room_id: str) -> None:
        """The server released ``room_id``: stop tracking it, seats included."""
        self.forget(room_id)
        self._spectating.discard(room_id)
        self.seats = tuple(ref for ref in self.seats if ref.room_id != room_id)

    def new_request_id(self) -> int:
        """A fresh request id, for building requests to pass to :meth:`request`."""
        return self._next_id()

    # -- lifetime ----------------------------------------------------------------------

    async def aclose(self) -> None:
        """Close the connection (1000) and stop reconnecting; pending requests fail."""
        self._closing = True
        ws = self._ws
        if ws is not None:
            with trio.move_on_after(2) as scope:
                scope.shield = True
                await ws.close(CloseCode.NORMAL)
        self._cancel.cancel()

    # -- internals ---------------------------------------------------------------------

    def _next_id(self) -> int:
        return next(self._ids)

    async def _send(self, data: bytes) -> None:
        ws = self._ws
        if ws is None:
            return
        try:
            await ws.send(data)
        except ConnectionClosed:
            # The reader sees the end too; the disconnect path resends or fails requests.
            pass

    async def wait_connected(self) -> None:
        """Return once connected (at once if connected now).

        Raises :class:`ConnectionLost` if the client is closed or gave up reconnecting.
        """
        while not self._connected.is_set():
            if self._dead is not None:
                raise self._dead
            await self._state_changed.wait()

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Connect, say hello, then serve the connection and reconnect until closed.

        Reports started once the first hello is answered. Raises the first connection's
        failure (``ConnectionLost``, ``RequestFailed`` for a refused hello) before that.
        """
        with self._cancel:
            try:
                await self._run(task_status)
            finally:
                self._finish(self._dead or ConnectionLost("the client is closed"))

    async def _run(self, task_status: trio.TaskStatus[None]) -> None:
        attempts = 0
        while True:
            attempts += 1
            opened = trio.current_time()
            try:
                code, reason = await self._connect_once(task_status, attempts)
                if trio.current_time() - opened >= self.backoff.stable_after:
                    attempts = 0
            except (OSError, HandshakeError, ConnectionClosed, ConnectionLost, ServerMisbehaved) as exc:
                code = getattr(exc, "code", None)
                reason = str(exc) or type(exc).__name__
                if not self._ever_connected:
                    if isinstance(exc, ServerMisbehaved):
                        raise
                    raise ConnectionLost(f"cannot connect to {self.url}: {reason}", code) from exc
            except RequestFailed:
                if not self._ever_connected:
                    raise
                code, reason = None, "hello refused"
            give_up = (
                self._closing
                or self._logged_out
                or not self.reconnect
                or code in _NO_RECONNECT_CODES
                or (self.backoff.max_attempts is not None and attempts >= self.backoff.max_attempts)
            )
            self._disconnected(code, reason, final=give_up)
            if give_up:
                self._dead = ConnectionLost(f"connection closed: {reason}", code)
                return
            await trio.sleep(self.backoff.delay(max(attempts, 1), self._rng))

    async def _connect_once(
        self, task_status: trio.TaskStatus[None], attempts: int
    ) -> tuple[int | None, str]:
        """One connection from handshake to close; return the close code and reason."""
        try:
            ws = await self._open(task_status, attempts)
        except BaseExceptionGroup as group:
            raise sole_exception(group) from None
        closed = ws.closed
        if closed is None:  # pragma: no cover - close() returns only once closed
            return None, "closed"
        return closed.code, closed.reason

    async def _open(self, task_status: trio.TaskStatus[None], attempts: int) -> WebSocket:
        """Run one connection until it ends; return the closed WebSocket."""
        resuming = self._ever_connected
        failure: BaseException | None = None
        async with trio.open_nursery() as nursery:
            ws = await ws_connect(
                self.url,
                nursery=nursery,
                subprotocols=self._subprotocols,
                compression=self._compression,
                open_timeout=self._open_timeout,
            )
            self._ws = ws
            # What the last connection held is gone: its rooms come back as full states.
            self._documents.clear()
            try:
                if ws.subprotocol not in self._subprotocols:
                    raise ConnectionLost(f"the server accepted none of {self._subprotocols}")
                self.protocol_version = version_of(ws.subprotocol)
                ended = trio.Event()
                nursery.start_soon(self._reader, ws, ended)
                hello = await self._hello(ws, resuming=resuming)
                self._connected.set()
                self._wake()
                if resuming:
                    self.reconnects += 1
                    self._emit(
                        Reconnected(
                            number=self.reconnects,
                            resumed=hello.resumed,
                            seats=hello.seats,
                            attempts=attempts,
                        )
                    )
                    await self._restore()
                else:
                    self._ever_connected = True
                    task_status.started()
                await ended.wait()
            except (ClientError, ConnectionClosed) as exc:
                # Raised below, outside the nursery, so callers see it unwrapped.
                failure = exc
            finally:
                self._ws = None
                self._lost_connection()
                with trio.CancelScope(shield=True), trio.move_on_after(2):
                    await ws.close(CloseCode.NORMAL)
        if failure is not None:
            raise failure
        return ws

    async def _hello(self, ws: WebSocket, *, resuming: bool) -> HelloResult:
        revoke = self._revoke_others and not resuming
        message = self._hello_message(self.token, revoke)
        try:
            result = await self._call(ws, message, HelloResult)
        except RequestFailed as error:
            if not (resuming and error.code == "bad_token"):
                raise
            # The server no longer knows the token: log in again, or carry on as a new
            # player.
            result = await self._call(ws, self._hello_message(None, False), HelloResult)
        self.player_id = result.player_id
        self.name = result.name
        self.token = result.token
        self.session_id = result.session_id
        self.resumed = result.resumed
        self.seats = result.seats
        self.account = result.account
        return result

    def _hello_message(self, token: str | None, revoke: bool) -> Hello:
        """Resume with ``token`` when there is one, else log in with the credentials
        given (or arrive anonymously)."""
        if token is not None:
            return Hello(
                id=self._next_id(), name=self.name, token=token, revoke_others=revoke,
                client_label=self._client_label,
            )
        return Hello(
            id=self._next_id(), name=self.name, revoke_others=revoke,
            password=self._password, api_key=self._api_key, client_label=self._client_label,
        )

    async def _call(self, ws: WebSocket, message: ClientMessage, result_type: type[_R]) -> _R:
        """Send a request on ``ws`` now, even before hello has been answered."""
        return await self._exchange(ws.send, _Pending(message, encode_client_message(message)), result_type)

    async def _restore(self) -> None:
        """After a reconnect: resend what is safe, re-establish watching and spectating."""
        for request_id in sorted(self._pending):
            pending = self._pending.get(request_id)
            if pending is not None and not isinstance(pending.message, Hello):
                await self._send(pending.data)
        extra: list[ClientMessage] = []
        if self._lobby is not None:
            extra.append(attrs.evolve(self._lobby, id=self._next_id()))
        extra.extend(Spectate(id=self._next_id(), room_id=room) for room in sorted(self._spectating))
        for message in extra:
            pending = _Pending(message, encode_client_message(message))
            self._pending[message.id] = pending
            await self._send(pending.data)

    def _lost_connection(self) -> None:
        """The current connection is gone: new requests wait; unsafe ones fail now."""
        if self._connected.is_set():
            self._connected = trio.Event()
        lost = ConnectionLost("the connection dropped before the reply arrived")
        for request_id, pending in list(self._pending.items()):
            if not isinstance(pending.message, _RESENDABLE):
                del self._pending[request_id]
                pending.error = lost
                pending.done.set()
        self._wake()

    def _disconnected(self, code: int | None, reason: str, *, final: bool) -> None:
        """Report the end of a connection; when final, fail everything still pending."""
        if final:
            lost = ConnectionLost(f"the connection closed: {reason}", code)
            for pending in self._pending.values():
                pending.error = lost
                pending.done.set()
            self._pending.clear()
        self._final_reported = final
        self._emit(Disconnected(code=code, reason=reason, final=final))

    def _finish(self, error: ConnectionLost) -> None:
        if not self._final_reported:
            self._emit(Disconnected(code=CloseCode.NORMAL, reason="closed by the client", final=True))
        self._dead = self._dead or error
        for pending in self._pending.values():
            if not pending.done.is_set():
                pending.error = self._dead
                pending.done.set()
        self._pending.clear()
        self._wake()
        self._send_events.close()

    async def _reader(self, ws: WebSocket, ended: trio.Event) -> None:
        try:
            await self._read(ws)
        finally:
            self._lost_connection()
            ended.set()

    async def _read(self, ws: WebSocket) -> None:
        while True:
            try:
                data = await ws.receive()
            except ConnectionClosed:
                return
            if isinstance(data, str):
                logger.warning("ignoring a text message from the server")
                continue
            deltas = self.protocol_version == 2
            try:
                if deltas and is_delta(data):
                    self._receive_delta(decode_delta(data, self._limits))
                    await self._send_resyncs()
                    continue
                message = decode_server_message(data, self._limits)
            except RequestError as error:
                logger.warning("undecodable server message: %s", error.message)
                await ws.close(CloseCode.PROTOCOL_ERROR, "invalid message from server")
                return
            if deltas and isinstance(message, State):
                self._documents.hold(message, data)
            self._dispatch(message)

    def _receive_delta(self, change: Delta) -> None:
        """Show the room's new state, and take a delta carrying an id as the reply to
        that ``move`` (whether or not its ops applied: the move was)."""
        state = self._documents.apply(change)
        if state is not None:
            self.deltas += 1
            self._dispatch(state)
        if change.id is not None:
            self._resolve(change.id, result={"version": change.version})

    async def _send_resyncs(self) -> None:
        """Ask for a full state of each room whose delta did not fit. Nobody awaits the
        reply: the state it pushes first is what counts (an error, e.g. the room is
        gone, needs nothing more)."""
        for room_id in self._documents.take_resyncs():
            self.resyncs += 1
            message = Sync(id=self._next_id(), room_id=room_id)
            pending = _Pending(message, encode_client_message(message))
            self._pending[message.id] = pending
            await self._send(pending.data)

    def _dispatch(self, message: ServerMessage) -> None:
        if isinstance(message, Reply):
            self._resolve(message.id, result=message.result)
        elif isinstance(message, Error) and message.id is not None and message.id in self._pending:
            self._resolve(message.id, error=RequestFailed(message.code, message.message, message.id))
        else:
            if isinstance(message, State):
                current = self.states.get(message.room_id)
                if current is not None and (current.match, current.version) > (message.match, message.version):
                    return  # an older snapshot than one already seen
                self.states[message.room_id] = message
                self.seen_rooms.add(message.room_id)
            elif isinstance(message, RoomUpdate):
                room_id = message.room.room_id
                self.seen_rooms.add(room_id)
                if message.room.status is RoomStatus.CLOSED:
                    self._closed(room_id)
                else:
                    self.rooms[room_id] = message.room
            elif isinstance(message, ChatMessage):
                if message.seq <= self._chat_seen.get(message.room_id, 0):
                    return  # sent again on a (re)join: already emitted
                self._chat_seen[message.room_id] = message.seq
            if isinstance(
                message,
                State | RoomUpdate | ChatMessage | MatchOver | LobbyUpdate | RatingUpdate | Error,
            ):
                self._emit(message)

    def _resolve(
        self, request_id: int, *, result: Any = None, error: Exception | None = None
    ) -> None:
        pending = self._pending.pop(request_id, None)
        if pending is None or pending.done.is_set():
            return
        if error is None and not isinstance(result, Mapping):
            error = ServerMisbehaved(f"reply {request_id} carries no result map")
        pending.result = result
        pending.error = error
        pending.done.set()

    def _emit(self, event: ClientEvent) -> None:
        try:
            self._send_events.send_nowait(event)
        except (trio.ClosedResourceError, trio.BrokenResourceError):
            pass

    def _wake(self) -> None:
        self._state_changed.set()
        self._state_changed = trio.Event()



def sole_exception(group: BaseExceptionGroup[BaseException]) -> BaseException:
    """The one real exception inside nested groups (ignoring cancellations), else the group.

    The SDK's nursery is an implementation detail: an error from ``connect`` or from the
    caller's own block comes out as itself, not wrapped in an exception group.
    """
    leaves: list[BaseException] = []

    def collect(error: BaseException) -> None:
        if isinstance(error, BaseExceptionGroup):
            for inner in error.exceptions:
                collect(inner)
        elif not isinstance(error, trio.Cancelled):
            leaves.append(error)

    collect(group)
    return leaves[0] if len(leaves) == 1 else group
