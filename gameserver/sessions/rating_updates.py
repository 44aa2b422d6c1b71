"""Rating rated matches as they end, one at a time, and telling their players.

The room reports a finished, recorded match (``Lobby.on_match_finished``); this queues
it, and one worker task rates the queued matches in order, each in one store
transaction (``ratings.ledger.rate_logged_match`` reads the closed match log, so the
live server and ``gameserver ratings rebuild`` rate from the same data). Then every
participant that is connected gets a ``rating`` push and its cached ratings are updated.
"""

from __future__ import annotations

import logging
import math
from pathlib import Path

import trio

from gameserver.protocol.codec import encode
from gameserver.protocol.messages import RatingChange, RatingUpdate
from gameserver.ratings.ledger import rate_logged_match
from gameserver.ratings.matches import is_provisional
from gameserver.rooms.members import Payload
from gameserver.sessions.players import PlayerRegistry
from gameserver.store.async_store import AsyncPlayerStore
from gameserver.store.players import MatchRecord

__all__ = ["RatingUpdates"]

log = logging.getLogger(__name__)


class RatingUpdates:
    """Rates finished matches in the order they end; run ``run`` in a nursery."""

    def __init__(
        self, store: AsyncPlayerStore, replays_dir: Path, players: PlayerRegistry
    ) -> None:
        self._store = store
        self._replays_dir = replays_dir
        self._players = players
        # Unbounded: one item per finished match, which the worker drains quickly.
        self._send, self._receive = trio.open_memory_channel[tuple[str, int, str]](math.inf)

    def match_finished(self, room_id: str, match_number: int, match_id: str) -> None:
        """Queue a finished match (its log is closed) for rating."""
        self._send.send_nowait((room_id, match_number, match_id))

    async def run(self) -> None:
        """Rate queued matches until cancelled; a failure is logged, never raised (the
        match stays unrated until the next start's catch-up or a rebuild)."""
        async for room_id, match_number, match_id in self._receive:
            try:
                record = await self._store.call(
                    rate_logged_match, self._store.sync, self._replays_dir, match_id
                )
            except Exception:  # an unreadable log, a failing disk: one match, not the server
                log.exception("cannot rate match %s; it is rated at the next start", match_id)
                continue
            if record is not None:
                self._announce(room_id, match_number, record)

    def _announce(self, room_id: str, match_number: int, record: MatchRecord) -> None:
        changes = tuple(
            RatingChange(
                seat=part.seat,
                player_id=part.account_id,
                before=part.before.rating,
                after=part.after.rating,
                deviation=part.after.deviation,
                provisional=is_provisional(part.after),
            )
            for part in record.participants
        )
        payload = Payload(
            encode(
                RatingUpdate(room_id=room_id, match=match_number, pool=record.pool, changes=changes)
            )
        )
        for part in record.participants:
            player = self._players.get(part.account_id)
            if player is not None:
                player.ratings[record.pool] = part.after.rating
                player.send(payload)
