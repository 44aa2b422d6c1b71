"""Bots on the SDK: implement ``choose`` and let the SDK play the match.

A :class:`Bot` decides one thing: given its seat's view and legal moves, which move to
make. :func:`play_room` does the rest: it follows the room's ``State`` events, acts when
the seat is in ``to_act`` (once per state version), retries on stale versions, keeps an
eye on the clock, rides through reconnects (the client resumes the seat and a fresh
state arrives) and, once the match is over, leaves the room and returns.
:class:`StrategyBot` plugs in any built-in strategy from ``gameserver.games.strategy``.
"""

from __future__ import annotations

import abc
import inspect
import logging
import math
import random
from collections.abc import Sequence
from typing import Any

import attrs
import trio

from gameserver.client.client import GameClient
from gameserver.client.errors import ConnectionLost, RequestFailed
from gameserver.client.events import Disconnected, Reconnected
from gameserver.protocol.messages import (
    MatchOver,
    Move,
    MoveResult,
    OutcomeInfo,
    RoomStatus,
    RoomUpdate,
    State,
)
from gameserver.games.strategy import Strategy, get_strategy

__all__ = [
    "Bot",
    "MatchResult",
    "StrategyBot",
    "leave_seat",
    "play_match",
    "play_room",
    "quick_match_seat",
]

logger = logging.getLogger(__name__)

# Codes that mean "the world moved on while we were thinking": wait for the next state.
_BENIGN = frozenset({"stale_version", "not_your_turn", "match_over"})

# Codes that may pass (a busy server, a restart under way): wait for the next state too,
# but only for so long; if none comes, the refusal counts as an error.
_TRANSIENT = frozenset({"rate_limited", "shutting_down", "room_not_found", "internal_error"})
STALL_SECONDS = 15.0
# Refusals of a leave that may pass: retried for STALL_SECONDS.
_LEAVE_PASSING = (_TRANSIENT - {"room_not_found"}) | {"storage_unavailable"}
STALL_RETRY_SECONDS = 0.5

# A quick match refused for a room limit waits this long, in steps, for rooms to end.
ROOM_LIMIT_WAIT_SECONDS = 60.0
ROOM_LIMIT_RETRY_SECONDS = 0.5

# A move the server could not record (storage_unavailable) waits, without a deadline of
# its own, until the paused room resumes; the room is looked at again this often in case
# the push saying so was missed.
PAUSE_POLL_SECONDS = 1.0

# Leave this much of a running clock unused, for the trip to the server.
CLOCK_MARGIN_MS = 200


class Bot(abc.ABC):
    """Subclass and implement :meth:`choose`; hand an instance to :func:`play_match`."""

    threaded: bool = False
    """Run a synchronous ``choose`` in a worker thread, so a slow search does not stall
    the connection (pings, other bots in the same process). Set it for CPU-bound bots."""

    @abc.abstractmethod
    def choose(self, view: Any, legal_moves: Sequence[Any]) -> Any:
        """Return one of ``legal_moves`` for the position in ``view``.

        ``view`` is exactly what the seat may see (``view["you"]`` is the seat).
        May be a coroutine function when the bot needs to await something; if the seat
        has a running clock, an async ``choose`` is cancelled shortly before the time
        runs out and the first legal move is played instead.
        """

    def on_state(self, state: State) -> None:
        """Called once per state version the bot sees in its room (override to track
        history; versions superseded before the bot looked may be skipped)."""

    def think_seconds(self) -> float:
        """Seconds to pause before choosing each move; 0 (the default) moves at once.

        The pause is spent on the seat's clock, like a person's thinking: in a timed
        room a pause that runs out the clock plays the first legal move.
        """
        return 0.0


class StrategyBot(Bot):
    """A bot that plays a built-in strategy (``"best"``, ``"random"``, ...) of a game."""

    def __init__(
        self,
        game: str,
        strategy: str = "best",
        *,
        seed: int | None = None,
        threaded: bool | None = None,
        think: float = 0.0,
    ) -> None:
        # A search is worth a worker thread; a random pick costs less than the hand-off.
        self.threaded = strategy != "random" if threaded is None else threaded
        if not think >= 0:
            raise ValueError(f"think must be 0 or more seconds, not {think!r}")
        self.think = think
        """Mean pause before each move in seconds; each pause is drawn uniformly from
        half to one and a half times this (0: move at once)."""
        # Its own generator, so pauses do not change the moves a seed gives.
        self._think_rng = random.Random(seed)
        self.game = game
        """The game name the strategy belongs to."""
        self.strategy_name = strategy
        """The strategy's name."""
        self.strategy: Strategy = get_strategy(game, strategy)
        self.rng = random.Random(seed)

    def choose(self, view: Any, legal_moves: Sequence[Any]) -> Any:
        """Ask the strategy; it sees exactly the seat's view and legal moves."""
        return self.strategy.choose(view, list(legal_moves), self.rng)

    def think_seconds(self) -> float:
        """A pause drawn around ``think`` (see there); 0 when ``think`` is 0."""
        return self.think * self._think_rng.uniform(0.5, 1.5) if self.think else 0.0


@attrs.frozen(kw_only=True)
class MatchResult:
    """How one match went for one bot."""

    room_id: str
    """The room played in."""
    seat: int
    """The bot's seat in the match played (seats rotate in a rematch)."""
    match: int
    """The match number in the room (0 when no state arrived)."""
    outcome: OutcomeInfo | None
    """The match's outcome; None when it ended without one reaching the bot."""
    won: bool
    """Whether the bot's seat is among the winners."""
    moves: int
    """Moves the bot made."""
    errors: tuple[str, ...]
    """Error codes of refused moves other than benign races (stale version etc.)."""
    latencies: tuple[float, ...]
    """Seconds from sending each move until both its reply and the state including it arrived."""
    reconnects: int
    """Reconnections during the match."""
    closed: bool = False
    """True when the server released (closed) the room before a match ended in it."""
    seat_lost: bool = False
    """True when a reconnection during the call found the seat gone from the server: the
    match ended while the client was away (``outcome`` is then the last one seen, often
    None), or a server restart lost a room whose match had not started (``match`` is 0)."""

    @property
    def completed(self) -> bool:
        """True when the match reached its end normally (an outcome, no move errors)."""
        return self.outcome is not None and not self.errors

    @property
    def ended_away(self) -> bool:
        """True when the match had begun and, after a reconnection, the server no longer
        held the seat: the match ended while the client was away, and its outcome never
        reached the bot (a server crash between recording the end and sending it)."""
        return self.seat_lost and self.match > 0 and self.outcome is None and not self.errors


async def play_match(
    client: GameClient, bot: Bot, game: str, players: int = 2, *, leave: bool = True,
    rated: bool = False,
) -> MatchResult:
    """Quick-match into a room of ``game`` and play it to the end with ``bot``.

    Leaves the room afterwards unless ``leave`` is False (see :func:`play_room`).
    Raises :class:`ConnectionLost` only when the client is closed or gives up
    reconnecting (see :func:`quick_match_seat`).
    """
    room_id, seat = await quick_match_seat(client, game, players, rated=rated)
    return await play_room(client, bot, room_id, seat, leave=leave)


async def quick_match_seat(
    client: GameClient, game: str, players: int = 2, *, rated: bool = False
) -> tuple[str, int]:
    """``quick_match`` (``rated``: a rated one) that survives a dropped connection;
    return (room id, seat).

    If the connection drops before the answer, the request may or may not have taken
    effect: after resuming, a seat in a room the client did not know is the one it
    got; otherwise the quick match is asked for again. A refusal for a room limit
    (``too_many_rooms``: the server's, the player's or its address's open rooms) is
    asked again every ``ROOM_LIMIT_RETRY_SECONDS`` until a room ends or is left, for
    up to ``ROOM_LIMIT_WAIT_SECONDS``; then the :class:`RequestFailed` is raised.
    """
    known = client.seen_rooms | {ref.room_id for ref in client.seats}
    deadline = trio.current_time() + ROOM_LIMIT_WAIT_SECONDS
    while True:
        try:
            joined = await client.quick_match(game, players, rated=rated)
        except RequestFailed as refusal:
            if refusal.code != "too_many_rooms" or trio.current_time() >= deadline:
                raise
            await trio.sleep(ROOM_LIMIT_RETRY_SECONDS)
            continue
        except ConnectionLost:
            await client.wait_connected()
            fresh = [ref for ref in client.seats if ref.room_id not in known]
            if fresh:
                return fresh[0].room_id, fresh[0].seat
            continue
        assert joined.seat is not None, "quick_match always seats the player"
        return joined.room.room_id, joined.seat


async def play_room(
    client: GameClient, bot: Bot, room_id: str, seat: int, *, leave: bool = True
) -> MatchResult:
    """Play in ``room_id`` until its current (or next) match is over.

    ``seat`` is where the player sat when it joined; the seat actually played is the
    one each ``State`` of the match names (``state.seat``), since a rematch rotates the
    seats. A match that was already over when the call began is not played again: the
    call waits for the next one (after a ``rematch`` vote). Consumes ``client.events()``; events of other rooms are dropped. Returns a
    :class:`MatchResult`. Refused moves never raise: they are recorded, and after a
    refused move the bot plays the first legal move instead, then resigns if that is
    refused too.

    The seat is never walked away from while the server holds it. Only a reconnection
    during the call can say it is gone (its hello lists the player's seats, which are
    the truth after a resume); a ``Reconnected`` still buffered from before the call
    decides nothing. When the match is over the bot leaves the room, so the server can
    release it; pass ``leave=False`` to stay, e.g. to vote for a rematch. When the bot
    gives up on a running match (a refusal that did not pass) it leaves too, which
    resigns the seat.

    A move refused with ``storage_unavailable`` (the server cannot record it; the room is
    paused) is sent again, with the same request id, once the room resumes; it waits as
    long as the pause lasts (bound the call with a Trio timeout). If the server releases
    the room (a ``room`` push with status ``closed``) the call returns at once, with
    ``closed`` set and nothing left to leave.
    """
    since = client.reconnects  # Reconnected events numbered up to this are stale
    seat_lost = False
    match: int | None = None
    acted_version: int | None = None
    moves = 0
    errors: list[str] = []
    latencies: list[float] = []
    reconnects = 0
    outcome: OutcomeInfo | None = None
    # (version the last move produced, when it was sent) until its state arrives
    awaiting: tuple[int, float] | None = None
    seen: tuple[int, int] | None = None
    # (error code, deadline, state it happened on) after a refusal that may pass
    stalled: tuple[str, float, tuple[int, int]] | None = None
    # a move the server could not record, to send again once the room resumes
    paused: _Paused | None = None
    closed = False

    state = client.states.get(room_id)
    # A match already over when the call began is history: play the next one.
    done = state.match if state is not None and state.outcome is not None else 0
    while True:
        if state is not None and state.room_id == room_id and state.match > done:
            if awaiting is not None and (state.version >= awaiting[0] or state.match != match):
                latencies.append(trio.current_time() - awaiting[1])
                awaiting = None
            if (match is None or state.match >= match) and (state.match, state.version) != seen:
                match = state.match
                seen = (state.match, state.version)
                paused = None  # the match moved on: a move refused before is obsolete
                if state.seat is not None:
                    seat = state.seat  # a rematch rotates the seats
                bot.on_state(state)
                if state.outcome is not None and state.match == match:
                    outcome = state.outcome
                    break
                if stalled is not None and stalled[2] != seen:
                    stalled = None  # the match moved on: whatever it was has passed
                if _may_act(state, seat) and state.version != acted_version:
                    acted_version = state.version
                    try:
                        applied = await _act(client, bot, state, errors)
                        stalled = None
                    except _Stalled as stall:
                        deadline = trio.current_time() + STALL_SECONDS
                        stalled = (str(stall), stalled[1] if stalled else deadline, seen)
                        applied = None
                    except _Paused as pause:
                        paused, applied = pause, None
                    if applied is not None:
                        moves += 1
                        awaiting = _arrived(client, room_id, applied, latencies)
        if paused is not None:
            with trio.move_on_after(PAUSE_POLL_SECONDS) as polling:
                event = await client.next_event()
            if polling.cancelled_caught or _resumes(event, room_id):
                if not _room_paused(client, room_id):
                    try:
                        applied = await _resend(client, paused, errors)
                    except (_Paused, _Stalled):
                        applied = None  # not through yet: look again later
                    else:
                        paused = None
                        if applied is None:  # refused for a race: act on the newest state
                            seen = acted_version = None
                        else:
                            moves += 1
                            awaiting = _arrived(client, room_id, applied, latencies)
                if polling.cancelled_caught:
                    state = client.states.get(room_id)
                    continue
        elif stalled is None:
            event = await client.next_event()
        else:
            if trio.current_time() >= stalled[1]:
                errors.append(stalled[0])  # it did not pass
                break
            with trio.move_on_after(STALL_RETRY_SECONDS) as waiting:
                event = await client.next_event()
            if waiting.cancelled_caught:
                # Nothing new: try the newest state again.
                seen = acted_version = None
                state = client.states.get(room_id)
                continue
        state = None
        if isinstance(event, State):
            # Act on the newest snapshot: older ones still queued are superseded.
            state = client.states.get(event.room_id, event)
        elif isinstance(event, RoomUpdate) and event.room.room_id == room_id:
            if event.room.status is RoomStatus.CLOSED:
                closed = True  # released by the server: nothing left to play or leave
                break
        elif isinstance(event, MatchOver) and event.room_id == room_id:
            if event.match > done and (match is None or event.match >= match):
                outcome = event.outcome
                break
        elif isinstance(event, Reconnected) and event.number > since:
            reconnects += 1
            # A move refused before the drop may be tried again on the resumed state.
            stalled = None
            seen = acted_version = None
            if not any(ref.room_id == room_id for ref in event.seats):
                # The seat is gone (match ended while away, or forfeited).
                seat_lost = True
                last = client.states.get(room_id)
                outcome = last.outcome if last is not None else None
                break
        elif isinstance(event, Disconnected) and event.final:
            break
    if not seat_lost and not closed and (leave or outcome is None):
        await _leave_quietly(client, room_id)
    return MatchResult(
        room_id=room_id,
        seat=seat,
        match=match or 0,
        outcome=outcome,
        won=outcome is not None and seat in outcome.winners,
        moves=moves,
        errors=tuple(errors),
        latencies=tuple(latencies),
        reconnects=reconnects,
        closed=closed,
        seat_lost=seat_lost,
    )


async def leave_seat(client: GameClient, room_id: str) -> None:
    """Leave ``room_id`` (which resigns a running match), across dropped connections.

    Returns once the server has let the seat go: it answered the leave, refused it
    because the player is no longer there (``not_in_room``, ``room_not_found``: a
    finished room may be released before the player leaves), or resumed the player
    without the seat; or after refusals that may pass (``rate_limited``,
    ``shutting_down``, ``internal_error``, ``storage_unavailable``) kept coming for
    ``STALL_SECONDS``. Raises
    :class:`ConnectionLost` when the client is closed or gives up reconnecting (the
    server then frees or forfeits the seat by itself).
    """
    deadline = trio.current_time() + STALL_SECONDS
    while True:
        try:
            await client.leave_room(room_id)
            return
        except ConnectionLost:
            await client.wait_connected()
            if not any(ref.room_id == room_id for ref in client.seats):
                return  # the leave went through before the drop, or the room is gone
        except RequestFailed as refusal:
            passing = refusal.code in _LEAVE_PASSING
            if not passing or trio.current_time() >= deadline:
                if passing:
                    logger.warning("could not leave %s: %s", room_id, refusal)
                return
            await trio.sleep(STALL_RETRY_SECONDS)


async def _leave_quietly(client: GameClient, room_id: str) -> None:
    """``leave_seat``, for the end of ``play_room``: a client that is gone cannot leave."""
    try:
        await leave_seat(client, room_id)
    except ConnectionLost:
        pass


def _arrived(
    client: GameClient, room_id: str, applied: tuple[int, float], latencies: list[float]
) -> tuple[int, float] | None:
    """Record an applied move's latency if its state is here; else return it to await."""
    newest = client.states.get(room_id)
    if newest is not None and newest.version >= applied[0]:
        latencies.append(trio.current_time() - applied[1])
        return None
    return applied


def _resumes(event: object, room_id: str) -> bool:
    """Whether ``event`` may mean that the paused room ``room_id`` plays on."""
    if isinstance(event, RoomUpdate):
        return event.room.room_id == room_id and event.room.paused is None
    return isinstance(event, State) and event.room_id == room_id


def _room_paused(client: GameClient, room_id: str) -> bool:
    room = client.rooms.get(room_id)
    return room is not None and room.paused is not None


def _may_act(state: State, seat: int) -> bool:
    return state.seat == seat and seat in state.to_act and bool(state.legal_moves)


def time_left_ms(state: State) -> int | None:
    """The acting seat's remaining time in ``state`` (ms when sent), None if untimed."""
    clock = state.clock
    if clock is None or state.seat is None or state.seat not in clock.running:
        return None
    limits = []
    if clock.banks_ms is not None and state.seat < len(clock.banks_ms):
        limits.append(clock.banks_ms[state.seat])
    if clock.move_ms is not None:
        limits.append(clock.move_ms)
    return min(limits) if limits else None


async def _decide(bot: Bot, state: State) -> Any:
    """Ask the bot, within the seat's remaining time when the room is timed."""
    legal = list(state.legal_moves or ())
    budget = time_left_ms(state)
    deadline = math.inf if budget is None else max(0, budget - CLOCK_MARGIN_MS) / 1000
    with trio.move_on_after(deadline):
        pause = bot.think_seconds()
        if pause > 0:
            await trio.sleep(pause)
        if bot.threaded and not inspect.iscoroutinefunction(bot.choose):
            return await trio.to_thread.run_sync(
                bot.choose, state.view, legal, abandon_on_cancel=True
            )
        decision = bot.choose(state.view, legal)
        if inspect.isawaitable(decision):
            return await decision
        return decision
    logger.info("bot ran out of time in %s; playing the first legal move", state.room_id)
    return legal[0]


class _Stalled(Exception):
    """A move was refused for a reason that may pass; carries the error code."""


class _Paused(Exception):
    """A move the server could not record (``storage_unavailable``): the room is paused.

    Carries the request, to send again (same id) once the room resumes.
    """

    def __init__(self, message: Move) -> None:
        super().__init__("storage_unavailable")
        self.message = message


async def _act(
    client: GameClient, bot: Bot, state: State, errors: list[str]
) -> tuple[int, float] | None:
    """Choose and send a move for ``state``.

    Return (the version after it, when it was sent) if applied, None if not. Raises
    ``_Stalled`` or ``_Paused`` for refusals that may pass.
    """
    move = await _decide(bot, state)
    for attempt in range(2):
        message = Move(id=client.new_request_id(), room_id=state.room_id, version=state.version, move=move)
        sent_at = trio.current_time()
        try:
            version = await _send(client, message)
        except RequestFailed as failure:
            errors.append(failure.code)
            logger.warning("move refused in %s: %s", state.room_id, failure)
            if attempt == 0 and state.legal_moves:
                move = state.legal_moves[0]
                continue
            try:
                await client.resign(state.room_id)
            except RequestFailed:
                pass
            return None
        return None if version is None else (version, sent_at)
    return None  # pragma: no cover - the loop always returns


async def _resend(client: GameClient, pause: _Paused, errors: list[str]) -> tuple[int, float] | None:
    """Send a move refused for storage again, now that its room plays on; as ``_act``."""
    sent_at = trio.current_time()
    try:
        version = await _send(client, pause.message)
    except RequestFailed as failure:
        errors.append(failure.code)
        logger.warning("move refused in %s: %s", pause.message.room_id, failure)
        return None
    return None if version is None else (version, sent_at)


async def _send(client: GameClient, message: Move) -> int | None:
    """Send ``message``: the version after it, or None when refused for a race.

    Raises ``_Stalled`` / ``_Paused`` for refusals that may pass, ``RequestFailed`` for
    the others.
    """
    try:
        return (await client.request(message, MoveResult)).version
    except RequestFailed as failure:
        if failure.code in _BENIGN:
            return None
        if failure.code in _TRANSIENT:
            raise _Stalled(failure.code) from None
        if failure.code == "storage_unavailable":
            logger.info(
                "move in %s not recorded (storage_unavailable); waiting for the room to resume",
                message.room_id,
            )
            raise _Paused(message) from None
        raise
