"""One room: a trio task that alone owns its match.

Seating (``join``, ``spectate``) is synchronous and called by the lobby, so quick match
never races; everything that touches the match goes through the room's inbox and is
handled in order by ``run``. For each transition the room: applies it through the rules,
appends the record to the match log (awaited: durable BEFORE anything is sent), answers
the requester, then pushes every participant its own ``state`` (spectators share one
encoded payload). Timers (clocks, grace periods, bot moves) are deadlines the inbox wait
is cut at; all times come from ``trio.current_time()``. The ``Room`` docstring says in
which file each part of a room lives.
"""

from __future__ import annotations

import logging

import trio

from gameserver.protocol.errors import ErrorCode, RequestError
from gameserver.protocol.messages import Error, RoomStatus
from gameserver.replays import records
from gameserver.rooms.commands import (
    Attached,
    ChatRequest,
    Detached,
    LeaveRequest,
    MoveRequest,
    RematchRequest,
    Request,
    ResignRequest,
    RoomCommand,
    SeatsChanged,
)
from gameserver.rooms.journal import StorageUnavailable, wall_ms
from gameserver.rooms.room_fanout import payload_of
from gameserver.rooms.room_requests import RoomRequests
from gameserver.rooms.room_state import RoomHost
from gameserver.rooms.room_timers import RoomTimers

log = logging.getLogger(__name__)

#: The reason of the end record when the last spectator of a bots-only match left.
ABORT_NOBODY_WATCHING = "nobody watching"

# No file name or system error: those are for the operator (logs, /healthz), not players.
STORAGE_ERROR = RequestError(
    ErrorCode.STORAGE_UNAVAILABLE,
    "the server cannot record moves right now, so this request was not applied; "
    "the room is paused and resumes by itself: send the request again then",
)


class Room(RoomRequests, RoomTimers):
    """A room hosting matches of one game; run it with ``await room.run()`` in a nursery.

    Construct it with ``RoomState``'s arguments; the lobby then calls ``join`` and
    ``spectate`` and queues commands with ``submit``; recovery calls ``resume`` first.

    The class is assembled from parts, one file each in ``gameserver/rooms/``; each part
    builds on the ones listed above it:

    ======================  ===========================================================
    ``room_state.py``       ``RoomState``: the fields, ``summary``, membership lookups,
                            ``submit``, the state hash for the log, the closing rule
    ``room_fanout.py``      ``RoomFanout``: replies and errors, each seat's ``state``,
                            identical payloads encoded once, pushes, snapshots
    ``room_flow.py``        ``MatchFlow``: starting a match, each transition, its end,
                            resuming a recovered match, scheduling bot moves, appending
                            to the match log, pausing while it cannot be written
    ``room_seating.py``     ``RoomSeating``: ``join``, ``spectate``, freeing seats, and
                            connection events (attached, detached, seats changed)
    ``room_timers.py``      ``RoomTimers``: the next deadline; clocks running out, grace
                            periods ending, bots moving
    ``room_requests.py``    ``RoomRequests``: move, chat, resign, rematch, leave
    ``room.py``             ``Room``: the task loop, dispatching commands, failing safely
                            (a bug closes the room; a full disk pauses it)
    ======================  ===========================================================
    """

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Serve the room until it empties, is released or is cancelled (server shutdown).

        On cancellation the match log is closed without an end record, so the match can
        be recovered after a restart; a room that emptied ends a running match first.
        """
        task_status.started()
        try:
            if self.status is RoomStatus.WAITING and not any(s.is_open for s in self.seats):
                await self._start_match()  # every seat is a bot
            # A recovered match whose humans had all left (a log from before such
            # matches were ended) ends now rather than being played out by its bots.
            await self._end_if_nobody_plays()
            self._schedule()
            while not self.closed:
                deadline = await self._run_timers()
                if self.closed:
                    break
                with trio.move_on_at(deadline):
                    command = await self._inbox.receive()
                    await self._handle(command)
            if self._emptied and self.status is RoomStatus.PLAYING:
                # The last watcher of a bots-only match left: end its log, never recover it.
                await self._abort_match(ABORT_NOBODY_WATCHING)
        finally:
            self.closed = True
            self._host.metrics.storage_ok(self.room_id)
            self._refuse_pending()
            with trio.CancelScope(shield=True):
                await self._journal.close()
            for seat in self.seats:
                if seat.player is not None:
                    seat.player.left_room(self.room_id)
            for player in self.spectators.values():
                player.left_room(self.room_id)
            self._host.room_closed(self)

    async def _run_timers(self) -> float:
        """Act on what is due; return when next to wake up for a timer.

        While paused on storage only the retry runs: no clock, grace period or bot acts.
        """
        if self.paused and trio.current_time() >= self._retry_at:
            try:
                await self._retry_storage()
            except Exception:
                await self._fail("a storage retry", None)
        if self.paused or self.closed:
            return self._retry_at
        try:
            await self._fire_timers()
        except StorageUnavailable:
            pass  # the room paused, and the timer acts again once it resumes
        except Exception:
            await self._fail("a timer", None)
        return self._retry_at if self.paused else self._next_deadline()

    def _refuse_pending(self) -> None:
        """Answer requests still queued when the room closes, so no client waits forever."""
        while True:
            try:
                command = self._inbox.receive_nowait()
            except (trio.WouldBlock, trio.EndOfChannel, trio.ClosedResourceError):
                return
            if isinstance(command, Request):
                self._send_error(
                    command.player,
                    command.request_id,
                    RequestError(ErrorCode.ROOM_NOT_FOUND, f"room {self.room_id} is closed"),
                )

    async def _handle(self, command: RoomCommand) -> None:
        """Run one command; a ``RequestError`` becomes the requester's error reply."""
        if isinstance(command, Request):
            self._pending_requests -= 1
        try:
            if isinstance(command, MoveRequest):
                await self._on_move(command)
            elif isinstance(command, SeatsChanged):
                await self._on_seats_changed()
            elif isinstance(command, Attached):
                await self._on_attached(command.player)
            elif isinstance(command, Detached):
                await self._on_detached(command.player)
            elif isinstance(command, ChatRequest):
                self._on_chat(command)
            elif isinstance(command, ResignRequest):
                await self._on_resign(command)
            elif isinstance(command, RematchRequest):
                await self._on_rematch(command)
            elif isinstance(command, LeaveRequest):
                await self._on_leave(command)
        except RequestError as error:
            if isinstance(command, Request):
                self._send_error(command.player, command.request_id, error)
        except StorageUnavailable:
            # The room paused and nothing of the request took effect: it may be resent.
            if isinstance(command, Request):
                self._send_error(command.player, command.request_id, STORAGE_ERROR)
        except Exception:
            await self._fail(type(command).__name__, command)

    async def _fail(self, during: str, command: RoomCommand | None) -> None:
        """A bug (e.g. in the rules) hit this room: its match state can no longer be
        trusted. Tell everyone, end the log as aborted and close the room; the rest of
        the server goes on."""
        log.exception("room %s: handling %s failed; the room is closed", self.room_id, during)
        notice = f"room {self.room_id} hit a server error and is closed"
        self.closed = True  # refuse new requests at once
        requester = command.player if isinstance(command, Request) else None
        if isinstance(command, Request):
            self._send_error(
                command.player,
                command.request_id,
                RequestError(ErrorCode.INTERNAL_ERROR, f"the server failed this request; {notice}"),
            )
        for player in self._participants():
            if player is not requester:
                self._host.metrics.error(ErrorCode.INTERNAL_ERROR.value)
                error = Error(id=None, code=ErrorCode.INTERNAL_ERROR.value, message=notice)
                player.send(payload_of(error))
        match = self.match
        if match is not None and not match.over and self.status is RoomStatus.PLAYING:
            try:
                ended = records.Ended.aborted_match(
                    "server error", at=wall_ms(), version=match.version
                )
                await self._record(ended)
            except Exception:
                log.exception("room %s: cannot end the match log", self.room_id)
        self.closed = True


__all__ = ["Room", "RoomHost"]
