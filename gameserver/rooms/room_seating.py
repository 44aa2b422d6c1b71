"""Seating and presence: who joins, watches, leaves a seat, disconnects and comes back.

``join`` and ``spectate`` are synchronous and called by the lobby, so two players never
race for the last seat. A seat can be joined while the room waits for its first match,
and after a match ended once its player left (the newcomer's join counts as a rematch
vote). Connection events arrive through the inbox: ``Attached`` (a member's new
connection; a returning player's grace period ends) and ``Detached`` (its grace period
starts, or its seat is freed at once when the match is over). Freeing a seat
(``_vacate``) tells the player, which lets the server forget an offline player with no
room left.
"""

from __future__ import annotations

import trio

from gameserver.protocol.errors import ErrorCode, RequestError
from gameserver.protocol.messages import RoomStatus
from gameserver.replays import records
from gameserver.rooms.commands import Attached, SeatsChanged
from gameserver.rooms.journal import wall_ms
from gameserver.sessions.players import Player
from gameserver.rooms.room_flow import MatchFlow
from gameserver.rooms.seats import Seat


class RoomSeating(MatchFlow):
    """Seats, spectators and connection events; part of ``Room``."""

    @property
    def open_seats(self) -> int:
        """How many seats can be joined before the first match (what quick match fills)."""
        if self.status is not RoomStatus.WAITING:
            return 0
        return sum(1 for seat in self.seats if seat.is_open)

    def join(self, player: Player, seat: int | None = None) -> int:
        """Seat ``player`` (at ``seat`` or the lowest open one) and return the seat index.

        Raises ``RequestError`` (room_full, already_in_room, invalid_field). The room
        announces the change and starts the match once every seat is filled.
        """
        if self.closed:
            raise RequestError(ErrorCode.ROOM_NOT_FOUND, f"room {self.room_id} is closed")
        if self.is_member(player):
            raise RequestError(ErrorCode.ALREADY_IN_ROOM, "you are already in this room")
        if self.status is RoomStatus.PLAYING:
            raise RequestError(ErrorCode.ROOM_FULL, "the match in this room has already started")
        if seat is None:
            chosen = next((s for s in self.seats if s.is_open), None)
            if chosen is None:
                raise RequestError(ErrorCode.ROOM_FULL, "every seat is taken")
        else:
            if not 0 <= seat < self.players:
                raise RequestError(
                    ErrorCode.INVALID_FIELD, f"seat must be between 0 and {self.players - 1}"
                )
            chosen = self.seats[seat]
            if not chosen.is_open:
                raise RequestError(ErrorCode.ROOM_FULL, f"seat {seat} is taken")
        self.submit(SeatsChanged())
        chosen.player = player
        chosen.name = player.name
        if self.status is RoomStatus.OVER:
            # Joining a finished match's freed seat is joining its rematch.
            chosen.newcomer = True
            chosen.wants_rematch = True
        player.entered_room(self.room_id)
        return chosen.index

    def spectate(self, player: Player) -> None:
        """Add ``player`` as a spectator (public view only)."""
        if self.closed:
            raise RequestError(ErrorCode.ROOM_NOT_FOUND, f"room {self.room_id} is closed")
        if self.is_member(player):
            raise RequestError(ErrorCode.ALREADY_IN_ROOM, "you are already in this room")
        self.submit(Attached(player))
        self.spectators[player.player_id] = player
        player.entered_room(self.room_id)

    def _vacate(self, seat: Seat) -> None:
        """Remove a seat's player: the seat is open again, except during a match, where
        it stays taken (``departed``) until the match ends."""
        player = seat.player
        if player is None:
            return
        if self.status is not RoomStatus.PLAYING:
            self._free_seat(seat)
            return
        player.left_room(self.room_id)
        seat.player = None
        seat.grace_until = None
        seat.wants_rematch = False
        seat.departed = True
        seat.takeover = False
        seat.strategy = None
        seat.strategy_name = None

    async def _on_seats_changed(self) -> None:
        """A seat was taken: announce it, and start the match (or the rematch) once every
        seat is filled and, after a match, every human voted."""
        if self.status is RoomStatus.OVER:
            await self._rematch_if_ready()
            return
        self._announce()
        if self.status is RoomStatus.WAITING and not any(s.is_open for s in self.seats):
            await self._start_match()

    async def _rematch_if_ready(self) -> None:
        """After a match: start the next one if every seat is filled and every human voted
        (bots always agree); else show the votes and keep the room ``finished_room_ttl``
        longer."""
        if all(s.is_bot or (s.player is not None and s.wants_rematch) for s in self.seats):
            await self._start_match()
            return
        self._release_at = trio.current_time() + self.config.finished_room_ttl
        self._announce()

    async def _on_attached(self, player: Player) -> None:
        """A member's new connection (or a new spectator): end its grace, send a snapshot."""
        seat = self.seat_of(player)
        if seat is None:
            if player.player_id in self.spectators:
                self._announce()
        elif seat.grace_until is not None or seat.takeover:
            seat.grace_until = None
            if seat.takeover:
                seat.takeover = False
                seat.strategy = None
                seat.strategy_name = None
            if self.status is RoomStatus.PLAYING:
                await self._record(records.Reconnected(at=wall_ms(), seat=seat.index))
            self._announce()
            self._push_states()
        if self.is_member(player):
            self._send_snapshot(player)

    async def _on_detached(self, player: Player) -> None:
        # By identity: a forgotten player's id may be watching again as a new Player.
        """A member's connection ended: drop a spectator, start a seat's grace period."""
        if self.spectators.get(player.player_id) is player:
            del self.spectators[player.player_id]
            player.left_room(self.room_id)
            self._announce()
            self._maybe_close()
            return
        seat = self.seat_of(player)
        if seat is None or player.connected:
            return  # not seated, or already back on a new connection
        if self.status is RoomStatus.OVER:
            # No match to protect: free the seat now, so finished rooms do not linger.
            self._vacate(seat)
            self._announce()
            self._maybe_close()
            return
        seat.grace_until = trio.current_time() + self.config.grace_period
        if self.status is RoomStatus.PLAYING:
            await self._record(records.Disconnected(at=wall_ms(), seat=seat.index))
        self._announce()
        self._push_states()
