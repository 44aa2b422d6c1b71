"""What one transition of a room core asks its owner to do, in the order to do it.

``RoomCore.handle`` returns an ``Effects``; the room task (``rooms/room.py``) must:

1. make the match log durable: ``open_log`` (a new match's header), else ``records``
   (appended in one write), else ``probe`` (a paused room checks that the log takes
   writes again). If that fails, it feeds ``StorageFailed`` to the core and does the
   effects *that* returns instead (nothing of these effects may be sent); when a header
   or a probe succeeded, it feeds ``LogReady`` after step 3 (the match begins, or play
   resumes);
2. close the log when ``close_log`` (the match ended);
3. tell members they ``entered``/``left`` the room, then deliver ``sends`` in order
   (replies, errors, pushes; identical payloads are the same object), counting every
   error code in ``errors`` and the other counters on the metrics;
4. report ``summary_changed`` to the lobby, run ``bot_turn`` if set (and feed the
   chosen move back as ``BotMoved``), and stop the room once the core is ``closed``.
"""

from __future__ import annotations

import random
from typing import Any

import attrs

from gameserver.games.strategy import Strategy
from gameserver.replays import records
from gameserver.rooms.members import Member, Payload


@attrs.frozen
class BotTurn:
    """A seat the room plays for is to act: ask ``strategy`` (maybe in a worker thread,
    it may think for a while), then feed ``BotMoved(seat, version, move)`` to the core."""

    seat: int
    version: int
    strategy: Strategy
    strategy_name: str
    view: dict[str, Any]
    legal: list[Any]
    rng: random.Random

    def choose(self) -> Any:
        """The strategy's move (may raise: a broken strategy; then play any legal move)."""
        return self.strategy.choose(self.view, self.legal, self.rng)


class Effects:
    """The effects of one ``RoomCore.handle`` call; see the module docstring."""

    __slots__ = (
        "records", "open_log", "probe", "close_log", "sends", "errors", "entered", "left",
        "summary_changed", "bot_turn", "seated", "matches_started", "matches_finished",
        "finished_log",
        "storage_error", "storage_ok",
    )

    def __init__(self) -> None:
        #: Records to append, in one write, before anything else happens.
        self.records: list[records.Record] = []
        #: The header of a new match's log, to create durably before anything else.
        self.open_log: records.Header | None = None
        #: A paused room asks whether its log takes writes again (a state hash append).
        self.probe = False
        #: Close the match log after the records (the match ended).
        self.close_log = False
        #: (recipient, payload, coalescing key) in the order to send them.
        self.sends: list[tuple[Member, Payload, str | None]] = []
        #: Error codes sent in ``sends`` (for the metrics).
        self.errors: list[str] = []
        #: Members who took a seat or started watching.
        self.entered: list[Member] = []
        #: Members who no longer hold a seat or watch.
        self.left: list[Member] = []
        #: The room's public summary changed (tell the lobby).
        self.summary_changed = False
        #: A bot is to choose a move.
        self.bot_turn: BotTurn | None = None
        #: The seat a ``Join`` took.
        self.seated: int | None = None
        self.matches_started = 0
        self.matches_finished = 0
        #: The id of a recorded match that ended: its log is closed, ratings may read it.
        self.finished_log: str | None = None
        #: The log refused a write (the text names the file and reason): count it.
        self.storage_error: str | None = None
        #: The room writes its log again: it is no longer counted as paused.
        self.storage_ok = False

    def send(self, member: Member, payload: Payload, key: str | None = None) -> None:
        """Deliver ``payload`` to ``member`` (after the records are durable)."""
        self.sends.append((member, payload, key))

    @property
    def durable_work(self) -> bool:
        """True when the owner must write the log before doing anything else."""
        return bool(self.records) or self.open_log is not None or self.probe
