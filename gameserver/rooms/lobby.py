"""The lobby: every room by id and invite code, room creation, quick match, live listing.

All methods are synchronous (they never await), so each runs atomically with respect
to every room task: two quick-match requests can never both take the last seat. The
lobby never changes a room itself: it chooses one and calls ``Room.join`` or
``Room.spectate``, which run the room core's ``Join``/``Spectate`` command at once and
raise ``RequestError`` when the room refuses. Rooms run as tasks in the nursery given
to the lobby.
"""

from __future__ import annotations

import logging
import math
import secrets
from collections.abc import Callable, Sequence
from typing import Any, Protocol

import trio

from gameserver.games.base import InvalidOptions, check_players
from gameserver.games.registry import UnknownGame, get_game
from gameserver.games.strategy import list_strategies
from gameserver.protocol.errors import ErrorCode, RequestError
from gameserver.protocol.messages import (
    CreateRoom,
    JoinResult,
    JoinRoom,
    LobbyUpdate,
    QuickMatch,
    RoomStatus,
    RoomSummary,
)
from gameserver.rooms.clock import validate_clock
from gameserver.rooms.config import RoomConfig
from gameserver.rooms.fanout import payload_of
from gameserver.rooms.members import Member, RoomMetrics
from gameserver.rooms.quota import MemberDirectory, RoomQuota
from gameserver.rooms.room import Room

log = logging.getLogger(__name__)

# Invite codes avoid look-alike characters (0/O, 1/I/L) so they can be read aloud.
INVITE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
INVITE_LENGTH = 8
# Bounds the memory and tasks one server spends on rooms.
DEFAULT_MAX_ROOMS = 10_000

_LISTED = (RoomStatus.WAITING, RoomStatus.PLAYING)


class InviteGuard(Protocol):
    """Counts wrong invite codes per client address (``sessions.ratelimit.KeyedWindows``)."""

    def retry_after(self, key: str, now: float) -> float:
        """Seconds ``key`` must wait before guessing again (0.0: it may guess now)."""

    def add(self, key: str, now: float) -> bool:
        """Count one wrong guess of ``key`` at ``now``."""


class RoomDirectory(Protocol):
    """Told about this lobby's rooms for the world beyond this process (cluster mode
    registers them in Redis). Never blocks; a slow directory catches up later."""

    def listed(self, summary: RoomSummary) -> None:
        """A public room is listed with ``summary`` (new or changed)."""

    def unlisted(self, room_id: str) -> None:
        """The room is no longer listed (private now, closed, or over)."""

    def released(self, room_id: str) -> None:
        """The room closed with no match left unfinished: nothing of it is to recover."""

    def invited(self, invite_code: str, room_id: str | None) -> None:
        """``invite_code`` now opens ``room_id`` (None: no room any more)."""

    def rooms_elsewhere(self) -> Sequence[RoomSummary]:
        """The public rooms other processes list (newest first)."""


def _new_invite_code() -> str:
    return "".join(secrets.choice(INVITE_ALPHABET) for _ in range(INVITE_LENGTH))


# Room ids travel in every message about a room (each delta of protocol version 2 too):
# 8 letters and digits hold about 47.6 bits, as many as the 12 hex digits they replace,
# in 4 bytes fewer; no '-' or '_', so a match id "<room>-<n>" never starts like a flag.
ROOM_ID_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
ROOM_ID_LENGTH = 8


def new_room_id() -> str:
    """A fresh random room id (the caller checks it is not in use)."""
    return "".join(secrets.choice(ROOM_ID_ALPHABET) for _ in range(ROOM_ID_LENGTH))


class Lobby:
    """Owns the set of rooms. Create it with the nursery the room tasks run in."""

    def __init__(
        self,
        nursery: trio.Nursery,
        config: RoomConfig,
        metrics: RoomMetrics,
        *,
        max_rooms: int = DEFAULT_MAX_ROOMS,
        players: MemberDirectory | None = None,
        max_rooms_per_player: int = 0,
        max_rooms_per_address: int = 0,
        invite_guard: InviteGuard | None = None,
    ) -> None:
        self._nursery = nursery
        self.config = config
        self.metrics = metrics
        self.max_rooms = max_rooms
        self.rooms: dict[str, Room] = {}
        self.quota = RoomQuota(
            self.rooms,
            players,
            per_player=max_rooms_per_player,
            per_address=max_rooms_per_address,
        )
        # Wrong invite codes per client address: guessing them must be slow (None: the
        # caller does not limit them).
        self._invite_guard = invite_guard
        self._invites: dict[str, Room] = {}
        # player_id -> (player, game filter) of lobby watchers
        self._watchers: dict[str, tuple[Member, str | None]] = {}
        self._listed: set[str] = set()
        #: False once the server is shutting down: no new rooms.
        self.accepting = True
        #: Called when a recorded match ended (the service rates it; issue 18).
        self.on_match_finished: Callable[[Room, str], None] | None = None
        #: Told about listed and released rooms (cluster mode); None: nobody.
        self.directory: RoomDirectory | None = None

    # -- lookups --------------------------------------------------------------------------

    def room(self, room_id: str) -> Room:
        """Return the room ``room_id`` (private ones too); raise room_not_found."""
        room = self.rooms.get(room_id)
        if room is None or room.closed:
            raise RequestError(ErrorCode.ROOM_NOT_FOUND, f"no room {room_id!r}")
        return room

    def _public_room(self, room_id: str) -> Room:
        room = self.rooms.get(room_id)
        if room is None or room.closed or room.private:
            raise RequestError(ErrorCode.ROOM_NOT_FOUND, f"no room {room_id!r}")
        return room

    def _listed_room(self, room: Room) -> bool:
        return not room.private and not room.closed and room.status in _LISTED

    def list_rooms(self, game: str | None = None) -> tuple[RoomSummary, ...]:
        """Public rooms that are waiting or playing, newest first, optionally of one game.

        Raises unknown_game for a ``game`` that does not exist.
        """
        if game is not None:
            try:
                get_game(game)
            except UnknownGame as exc:
                raise RequestError(ErrorCode.UNKNOWN_GAME, str(exc)) from None
        rooms = [
            room
            for room in reversed(self.rooms.values())
            if self._listed_room(room) and (game is None or room.game.name == game)
        ]
        here = tuple(room.summary() for room in rooms)
        if self.directory is None:
            return here
        elsewhere = self.directory.rooms_elsewhere()
        return here + tuple(s for s in elsewhere if game is None or s.game == game)

    # -- creating and joining -------------------------------------------------------------

    def create_room(self, player: Member, request: CreateRoom) -> JoinResult:
        """Validate ``request``, start the room and seat its creator (or let it watch)."""
        if not self.accepting:
            raise RequestError(ErrorCode.SHUTTING_DOWN, "the server is shutting down")
        try:
            game = get_game(request.game)
        except UnknownGame as exc:
            raise RequestError(ErrorCode.UNKNOWN_GAME, str(exc)) from None
        try:
            check_players(game, request.players)
            options = game.validate_options(dict(request.options))
        except InvalidOptions as exc:
            raise RequestError(ErrorCode.INVALID_OPTIONS, str(exc)) from None
        bots: dict[int, str] = {}
        for bot in request.bots:
            if not 0 <= bot.seat < request.players:
                raise RequestError(
                    ErrorCode.INVALID_OPTIONS,
                    f"bot seat {bot.seat} is not between 0 and {request.players - 1}",
                )
            if bot.seat in bots:
                raise RequestError(ErrorCode.INVALID_OPTIONS, f"seat {bot.seat} has two bots")
            if bot.strategy not in list_strategies(game.name):
                known = ", ".join(list_strategies(game.name)) or "none"
                raise RequestError(
                    ErrorCode.UNKNOWN_STRATEGY,
                    f"{game.name} has no strategy {bot.strategy!r} (known: {known})",
                )
            bots[bot.seat] = bot.strategy
        clock = validate_clock(request.clock)
        if request.seat is not None:
            if not 0 <= request.seat < request.players:
                raise RequestError(
                    ErrorCode.INVALID_FIELD,
                    f"seat must be between 0 and {request.players - 1}",
                )
            if request.seat in bots:
                raise RequestError(ErrorCode.INVALID_OPTIONS, f"seat {request.seat} is a bot seat")
        if request.rated:
            _check_rated(player, bots)
        self._check_room_limits(player)
        room = self._open_room(
            player,
            game.name,
            players=request.players,
            options=options,
            private=request.private,
            bots=bots,
            clock=clock,
            rated=request.rated,
        )
        if len(bots) == request.players:
            room.spectate(player)
            seat = None
        else:
            seat = room.join(player, request.seat)
        return JoinResult(room=room.summary(), seat=seat, invite_code=room.invite_code)

    def _check_room_limits(self, player: Member) -> None:
        """Raise ``too_many_rooms`` unless ``player`` may open one more room."""
        if len(self.rooms) >= self.max_rooms:
            raise RequestError(
                ErrorCode.TOO_MANY_ROOMS, "the server has too many rooms open; try later"
            )
        self.quota.check(player)

    def _open_room(
        self, creator: Member, game_name: str, *, quick: bool = False, **settings: Any
    ) -> Room:
        """Start a new room opened by ``creator`` (the caller checked the limits)."""
        room_id = new_room_id()
        while room_id in self.rooms:
            room_id = new_room_id()
        invite_code = None
        if settings.get("private"):
            invite_code = _new_invite_code()
            while invite_code in self._invites:
                invite_code = _new_invite_code()
        room = Room(
            room_id,
            get_game(game_name),
            host=self,
            config=self.config,
            invite_code=invite_code,
            quick=quick,
            **settings,
        )
        self.add_room(room)
        self.quota.opened(room_id, creator)
        if invite_code is not None and self.directory is not None:
            self.directory.invited(invite_code, room_id)
        return room

    def add_room(self, room: Room) -> None:
        """Register ``room`` and start its task (also used for recovered rooms)."""
        self.rooms[room.room_id] = room
        if room.invite_code is not None:
            self._invites[room.invite_code] = room
        self._nursery.start_soon(self._run_room, room)

    async def _run_room(self, room: Room) -> None:
        try:
            await room.run()
        except Exception:
            # One broken room must never take the server (and every other room) down.
            log.exception("room %s crashed; it is closed", room.room_id)

    def join_room(self, player: Member, request: JoinRoom) -> JoinResult:
        """Seat ``player`` in a room found by id (public) or invite code."""
        if (request.room_id is None) == (request.invite_code is None):
            raise RequestError(
                ErrorCode.INVALID_FIELD, "give exactly one of room_id and invite_code"
            )
        if request.invite_code is not None:
            room = self._invited_room(player, request.invite_code)
        else:
            assert request.room_id is not None
            room = self._public_room(request.room_id)
        self.quota.check(player)
        if room.rated:
            _check_rated(player, {})
        seat = room.join(player, request.seat)
        return JoinResult(room=room.summary(), seat=seat)

    def _invited_room(self, player: Member, invite_code: str) -> Room:
        """The room with ``invite_code``; raise room_not_found, or rate_limited while the
        player's address has made too many wrong guesses."""
        guesser = player.address or player.player_id
        now = trio.current_time()
        guard = self._invite_guard
        wait = 0.0 if guard is None else guard.retry_after(guesser, now)
        if wait > 0:
            raise RequestError(
                ErrorCode.RATE_LIMITED,
                f"too many wrong invite codes; retry in {math.ceil(wait)} s",
            )
        room = self._invites.get(invite_code.strip().upper())
        if room is None or room.closed:
            if guard is not None:
                guard.add(guesser, now)
            raise RequestError(ErrorCode.ROOM_NOT_FOUND, "no room has that invite code")
        return room

    def check_quick_match(self, request: QuickMatch) -> None:
        """Raise unknown_game, invalid_options or shutting_down unless ``request`` can
        be played (the matchmaker checks a rated one before queueing; issue 18)."""
        try:
            check_players(get_game(request.game), request.players)
        except UnknownGame as exc:
            raise RequestError(ErrorCode.UNKNOWN_GAME, str(exc)) from None
        except InvalidOptions as exc:
            raise RequestError(ErrorCode.INVALID_OPTIONS, str(exc)) from None
        if not self.accepting:
            raise RequestError(ErrorCode.SHUTTING_DOWN, "the server is shutting down")

    def quick_match(self, player: Member, request: QuickMatch) -> JoinResult:
        """Seat ``player`` in the oldest waiting public room of that game and size with
        default options and no clock, or open such a room."""
        try:
            game = get_game(request.game)
            check_players(game, request.players)
        except UnknownGame as exc:
            raise RequestError(ErrorCode.UNKNOWN_GAME, str(exc)) from None
        except InvalidOptions as exc:
            raise RequestError(ErrorCode.INVALID_OPTIONS, str(exc)) from None
        defaults = game.validate_options({})
        self.quota.check(player)
        room = self.quick_room(player, request)
        if room is not None:
            seat = room.join(player)
            return JoinResult(room=room.summary(), seat=seat)
        if not self.accepting:
            raise RequestError(ErrorCode.SHUTTING_DOWN, "the server is shutting down")
        self._check_room_limits(player)
        room = self._open_room(
            player,
            game.name,
            quick=True,
            players=request.players,
            options=defaults,
        )
        seat = room.join(player)
        return JoinResult(room=room.summary(), seat=seat)

    def quick_room(self, player: Member, request: QuickMatch) -> Room | None:
        """The oldest waiting public room here that ``quick_match`` would seat
        ``player`` in (that game and size, default options, no clock, unrated), if any."""
        game = get_game(request.game)
        defaults = game.validate_options({})
        for room in self.rooms.values():
            if (
                not room.private
                and not room.closed
                and room.game is game
                and room.players == request.players
                and room.options == defaults
                and room.clock_settings is None
                and not room.rated
                and room.open_seats > 0
                and not room.is_member(player)
            ):
                return room
        return None

    def spectate(self, player: Member, room_id: str) -> JoinResult:
        """Let ``player`` watch a public room."""
        room = self._public_room(room_id)
        room.spectate(player)
        return JoinResult(room=room.summary(), seat=None)

    # -- live listing ---------------------------------------------------------------------

    def watch(self, player: Member, game: str | None, on: bool) -> tuple[RoomSummary, ...]:
        """Start (or stop) lobby pushes for ``player``; return the current list when on."""
        if not on:
            self._watchers.pop(player.player_id, None)
            return ()
        rooms = self.list_rooms(game)
        self._watchers[player.player_id] = (player, game)
        return rooms

    def unwatch(self, player: Member) -> None:
        """Stop lobby pushes to ``player`` (its connection is gone)."""
        self._watchers.pop(player.player_id, None)

    def _push(self, room: Room, message: LobbyUpdate) -> None:
        self._push_summary(room.room_id, room.game.name, message)

    def _push_summary(self, room_id: str, game_name: str, message: LobbyUpdate) -> None:
        if not self._watchers:
            return
        payload = payload_of(message)
        key = f"lobby:{room_id}"
        for player, game in self._watchers.values():
            if game is None or game == game_name:
                player.send(payload, key=key)

    def changed_elsewhere(
        self, listed: Sequence[RoomSummary], removed: Sequence[RoomSummary]
    ) -> None:
        """Rooms of other processes were listed or changed (``listed``) or unlisted
        (``removed``, as they were last listed): tell lobby watchers."""
        for summary in listed:
            self._push_summary(summary.room_id, summary.game, LobbyUpdate(rooms=(summary,)))
        for summary in removed:
            self._push_summary(
                summary.room_id, summary.game, LobbyUpdate(removed=(summary.room_id,))
            )

    def room_changed(self, room: Room) -> None:
        """A room's summary changed: tell lobby watchers."""
        directory = self.directory
        if self._listed_room(room):
            self._listed.add(room.room_id)
            summary = room.summary()
            self._push(room, LobbyUpdate(rooms=(summary,)))
            if directory is not None:
                directory.listed(summary)
        elif room.room_id in self._listed:
            self._listed.discard(room.room_id)
            self._push(room, LobbyUpdate(removed=(room.room_id,)))
            if directory is not None:
                directory.unlisted(room.room_id)

    def match_finished(self, room: Room, match_id: str) -> None:
        """A recorded match ended: hand it to ``on_match_finished`` (ratings)."""
        if self.on_match_finished is not None:
            self.on_match_finished(room, match_id)

    def room_closed(self, room: Room) -> None:
        """A room's task ended: forget it."""
        if self.rooms.get(room.room_id) is room:
            del self.rooms[room.room_id]
            self.quota.closed(room.room_id)
        if room.invite_code is not None and self._invites.get(room.invite_code) is room:
            del self._invites[room.invite_code]
            if self.directory is not None:
                self.directory.invited(room.invite_code, None)
        self.room_changed(room)
        # A room stopped mid-match (shutdown, fenced) keeps its log to be recovered.
        if self.directory is not None and room.status is not RoomStatus.PLAYING:
            self.directory.released(room.room_id)


def _check_rated(player: Member, bots: dict[int, str]) -> None:
    """Raise unless ``player`` may sit in a rated room (with these computer seats)."""
    if player.account_kind is None:
        raise RequestError(
            ErrorCode.NOT_REGISTERED, "rated rooms are for accounts: register or log in first"
        )
    if bots:
        raise RequestError(ErrorCode.INVALID_OPTIONS, "a rated room has no computer seats")
