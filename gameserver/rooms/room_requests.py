"""Request handlers: move, chat, resign, rematch and leave, as the room task runs them.

Each handler checks the request, raises ``RequestError`` for the requester (``Room``
turns it into an ``error`` reply), applies the change, and answers the requester before
pushing the change to everyone. Moves are deduplicated by (player id, request id) so a
retried move is never applied twice (docs/protocol.md section 7).
"""

from __future__ import annotations

import trio

from gameserver.protocol.errors import ErrorCode, RequestError
from gameserver.protocol.messages import ChatMessage, EmptyResult, MoveResult, RoomStatus
from gameserver.replays import records
from gameserver.rooms.commands import (
    ChatRequest,
    LeaveRequest,
    MoveRequest,
    RematchRequest,
    ResignRequest,
)
from gameserver.rooms.journal import wall_ms
from gameserver.sessions.players import Player
from gameserver.rooms.room_seating import RoomSeating
from gameserver.rooms.seats import Seat


class RoomRequests(RoomSeating):
    """The players' requests to a room; part of ``Room``."""

    def _require_seat(self, player: Player) -> Seat:
        """The seat ``player`` holds; raise not_in_room otherwise."""
        seat = self.seat_of(player)
        if seat is None:
            if player.player_id in self.spectators:
                raise RequestError(ErrorCode.NOT_IN_ROOM, "spectators cannot play in this room")
            raise RequestError(ErrorCode.NOT_IN_ROOM, "you hold no seat in this room")
        return seat

    async def _on_move(self, command: MoveRequest) -> None:
        """Apply a move (or replay the answer to a retried one), log it, answer, publish."""
        key = (command.player.player_id, command.request_id)
        previous = self._applied.get(key)
        if previous is not None:
            command.player.send(previous)
            return
        seat = self._require_seat(command.player)
        match = self._require_match()
        if command.version != match.version:
            raise RequestError(
                ErrorCode.STALE_VERSION,
                f"the state is at version {match.version}, the move was for {command.version}",
            )
        now = trio.current_time()
        used = self.clocks.elapsed_ms(seat.index, now)
        match.apply(seat.index, command.move)
        self._moved.add(seat.index)
        self.clocks.charge(seat.index, now)
        await self._after_transition(
            records.Moved(
                at=wall_ms(),
                seat=seat.index,
                version=match.version,
                move=command.move,
                time_used_ms=used,
                clocks=self._banks(now),
                request_id=command.request_id,
            )
        )
        payload = self._reply(command.player, command.request_id, MoveResult(version=match.version))
        self._applied[key] = payload
        while len(self._applied) > self.config.dedupe_window:
            self._applied.popitem(last=False)
        self._publish()

    def _on_chat(self, command: ChatRequest) -> None:
        """Check the text and push it to everyone in the room."""
        seat = self.seat_of(command.player)
        if seat is None and command.player.player_id not in self.spectators:
            raise RequestError(ErrorCode.NOT_IN_ROOM, "you are not in this room")
        text = command.text.strip()
        if not text or len(text) > self.config.chat_max_length:
            raise RequestError(
                ErrorCode.CHAT_TOO_LONG,
                f"chat text must be 1 to {self.config.chat_max_length} characters",
            )
        self._reply(command.player, command.request_id, EmptyResult())
        self._chat_seq += 1
        said = self._broadcast(
            ChatMessage(
                room_id=self.room_id,
                player_id=command.player.player_id,
                name=command.player.name,
                seat=None if seat is None else seat.index,
                text=text,
                seq=self._chat_seq,
            )
        )
        self._chat_log.append(said)

    async def _on_resign(self, command: ResignRequest) -> None:
        """Resign the requester's seat, answer, publish."""
        seat = self._require_seat(command.player)
        await self._resign_seat(seat)
        self._reply(command.player, command.request_id, EmptyResult())
        self._publish()

    async def _on_rematch(self, command: RematchRequest) -> None:
        """Record the vote; start the next match once every seat is filled and every
        human voted."""
        seat = self._require_seat(command.player)
        if self.status is not RoomStatus.OVER:
            raise RequestError(ErrorCode.MATCH_NOT_OVER, "the match is still being played")
        seat.wants_rematch = True
        self._reply(command.player, command.request_id, EmptyResult())
        await self._rematch_if_ready()  # the others see the vote in ``wants_rematch``

    async def _on_leave(self, command: LeaveRequest) -> None:
        """Leave the room: a spectator just goes; a seated player resigns a running match first."""
        player = command.player
        if self.spectators.pop(player.player_id, None) is not None:
            player.left_room(self.room_id)
            self._reply(player, command.request_id, EmptyResult())
            self._announce()
            self._maybe_close()
            return
        seat = self._require_seat(player)
        resigned = False
        if self.status is RoomStatus.PLAYING and self.match is not None and not self.match.over:
            try:
                await self._resign_seat(seat)
                resigned = True
            except RequestError:
                pass  # already out of the match (e.g. eliminated): just leave
            await self._record(records.Left(at=wall_ms(), seat=seat.index))
        self._vacate(seat)
        self._reply(player, command.request_id, EmptyResult())
        if resigned:
            self._publish()
        await self._end_if_nobody_plays()
        self._announce()
        self._maybe_close()
