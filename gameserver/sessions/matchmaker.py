"""Rated quick match: players wait in a queue per game and seat count until a group
within rating reach forms (``ratings.matchmaking``); then the group gets a new rated room.

``enqueue`` answers nothing at once: the request's reply (``JoinResult``, or an error)
is sent when the player's group is seated. The queue is checked on every arrival and
every ``TICK`` seconds, as the windows widen. A player whose connection ends leaves the
queue (``cancel``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import attrs
import trio

from gameserver.protocol.errors import ErrorCode, RequestError
from gameserver.protocol.messages import CreateRoom, JoinResult, JoinRoom
from gameserver.glicko2 import DEFAULT_RATING
from gameserver.ratings.matches import rating_pool
from gameserver.ratings.matchmaking import Waiting, Window, pick_group
from gameserver.rooms.lobby import Lobby
from gameserver.sessions.players import Player

__all__ = ["Matchmaker", "TICK"]

log = logging.getLogger(__name__)

#: Seconds between checks of the queues (windows widen by 10 points a second).
TICK = 1.0

#: Called with the result, or the error, that answers the queued request.
Answer = Callable[[JoinResult | RequestError], None]


@attrs.define(eq=False)
class _Entry:
    player: Player
    answer: Answer
    waiting: Waiting[str]
    """Its place in the queue (kept when its group cannot be seated)."""


class Matchmaker:
    """The queues of rated quick matches; run ``run`` in a nursery."""

    def __init__(self, lobby: Lobby, window: Window = Window()) -> None:
        self._lobby = lobby
        self._window = window
        # (game, seats) -> player_id -> entry
        self._queues: dict[tuple[str, int], dict[str, _Entry]] = {}

    def enqueue(self, player: Player, game: str, seats: int, answer: Answer) -> None:
        """Queue ``player`` (an account; the caller checked game and seat count); its
        ``answer`` is called once, when it is seated or refused. Raises
        ``already_in_room`` while it waits already."""
        if any(player.player_id in queue for queue in self._queues.values()):
            raise RequestError(ErrorCode.ALREADY_IN_ROOM, "already waiting for a rated match")
        rating = player.ratings.get(rating_pool(game, seats), DEFAULT_RATING.rating)
        waiting = Waiting(player.player_id, rating, trio.current_time())
        self._queues.setdefault((game, seats), {})[player.player_id] = _Entry(
            player, answer, waiting
        )
        log.debug("player %s waits for a rated %s (%d seats) at %.0f", player.player_id, game, seats, rating)
        self._match((game, seats))

    def cancel(self, player: Player) -> None:
        """Take ``player`` out of every queue (its connection ended: nobody to answer)."""
        for queue in self._queues.values():
            queue.pop(player.player_id, None)

    async def run(self) -> None:
        """Check every queue each ``TICK`` seconds until cancelled."""
        while True:
            await trio.sleep(TICK)
            for key in list(self._queues):
                self._match(key)

    def _match(self, key: tuple[str, int]) -> None:
        """Seat every group that fits in ``key``'s queue."""
        queue = self._queues[key]
        while True:
            waiting = [entry.waiting for entry in queue.values()]
            group = pick_group(waiting, key[1], trio.current_time(), self._window)
            if group is None:
                break
            self._seat([queue.pop(player_id) for player_id in group], key)
        if not queue:
            del self._queues[key]

    def _seat(self, group: list[_Entry], key: tuple[str, int]) -> None:
        """Open a rated room for ``group`` (its first member creates it) and answer each."""
        game, seats = key
        creator, others = group[0], group[1:]
        try:
            opened = self._lobby.create_room(
                creator.player, CreateRoom(id=0, game=game, players=seats, rated=True)
            )
        except RequestError as error:
            log.debug("cannot open a rated room for %s: %s", creator.player.player_id, error)
            creator.answer(error)
            for entry in others:  # back to the queue, keeping their place
                self._queues.setdefault(key, {})[entry.player.player_id] = entry
            return
        creator.answer(opened)
        for entry in others:
            try:
                entry.answer(
                    self._lobby.join_room(entry.player, JoinRoom(id=0, room_id=opened.room.room_id))
                )
            except RequestError as error:
                entry.answer(error)
