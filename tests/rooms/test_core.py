"""The room core without trio: commands in, effects out, time as plain numbers.

Every test drives ``RoomCore.handle(command, now)`` and asserts on the returned
``Effects`` (records to append, payloads to send, timers) and on the core's state; no
nursery, no sockets, no clock but the ``now`` given.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import attrs
import pytest

from gameserver.games.registry import get_game
from gameserver.protocol.codec import decode_result, decode_server_message
from gameserver.protocol.errors import ErrorCode, RequestError
from gameserver.protocol.messages import (
    AccountKind,
    ChatMessage,
    ClockSettings,
    Error,
    MatchOver,
    MoveResult,
    Reply,
    RoomStatus,
    RoomUpdate,
    ServerMessage,
    State,
)
from gameserver.replays import records
from gameserver.rooms.commands import (
    Attached,
    BotMoved,
    ChatRequest,
    Detached,
    Join,
    LeaveRequest,
    LogReady,
    MoveRequest,
    RecoveredSeat,
    Recover,
    RematchRequest,
    ResignRequest,
    SeatsChanged,
    Spectate,
    Start,
    StorageFailed,
    Tick,
)
from gameserver.rooms.config import AbandonPolicy, RoomConfig
from gameserver.rooms.core import RoomCore
from gameserver.rooms.effects import Effects
from gameserver.rooms.match import Match
from gameserver.rooms.members import Payload
from gameserver.rooms.seat_states import IllegalSeatTransition, Seat, SeatState, Trigger

M = TypeVar("M", bound=ServerMessage)


@attrs.define(eq=False)
class Someone:
    """A member as the core sees one: an id, a name, and whether it is connected."""

    player_id: str
    name: str
    connected: bool = True
    address: str | None = None
    rooms: set[str] = attrs.Factory(set)
    account_kind: AccountKind | None = None
    protocol_version: int = 1

    def send(self, payload: Payload, *, key: str | None = None) -> None:
        raise AssertionError("the core never sends: its owner does")

    def entered_room(self, room_id: str) -> None:
        self.rooms.add(room_id)

    def left_room(self, room_id: str) -> None:
        self.rooms.discard(room_id)


def sent_to(effects: Effects, member: Someone, kind: type[M]) -> list[M]:
    """The messages of ``kind`` the effects send to ``member``, decoded, in order."""
    decoded = [decode_server_message(p.data) for m, p, _ in effects.sends if m is member]
    return [message for message in decoded if isinstance(message, kind)]


def error_to(effects: Effects, member: Someone) -> str:
    (error,) = sent_to(effects, member, Error)
    return error.code


def kinds(effects: Effects) -> list[type[records.Record]]:
    return [type(record) for record in effects.records]


def make_core(**config: Any) -> RoomCore:
    settings = {"bot_delay": 0.0, "grace_period": 30.0, **config}
    clock = settings.pop("clock", None)
    bots = settings.pop("bots", None)
    return RoomCore(
        "room1",
        get_game("tictactoe"),
        players=2,
        options={},
        config=RoomConfig(**settings),
        clock=clock,
        bots=bots,
        wall=lambda: 1_000,
        new_seed=lambda: 7,
    )


def started(**config: Any) -> tuple[RoomCore, Someone, Someone]:
    """A core whose match runs at time 0: alice in seat 0 (moves first), bob in seat 1."""
    core = make_core(**config)
    alice, bob = Someone("a", "alice"), Someone("b", "bob")
    assert core.handle(Join(alice), 0.0).seated == 0
    assert core.handle(Join(bob), 0.0).seated == 1
    effects = core.handle(SeatsChanged(), 0.0)
    assert effects.matches_started == 1 and core.status is RoomStatus.PLAYING
    assert sent_to(effects, alice, State)[-1].legal_moves is not None
    return core, alice, bob


def move(core: RoomCore, member: Someone, request_id: int, cell: int, now: float = 1.0) -> Effects:
    assert core.match is not None
    return core.handle(MoveRequest(member, request_id, core.match.version, {"cell": cell}), now)


def test_a_move_is_recorded_answered_and_pushed_to_every_seat() -> None:
    core, alice, bob = started()
    effects = move(core, alice, 1, 4)
    (moved,) = effects.records
    assert isinstance(moved, records.Moved) and (moved.seat, moved.version, moved.move) == (0, 1, {"cell": 4})
    reply = sent_to(effects, alice, Reply)
    assert [decode_result(MoveResult, r.result).version for r in reply] == [1]
    for member, to_act in ((alice, (1,)), (bob, (1,))):
        (state,) = sent_to(effects, member, State)
        assert state.version == 1 and state.to_act == to_act
    # the reply goes before the state it caused
    assert [type(decode_server_message(p.data)) for m, p, _ in effects.sends if m is alice] == [Reply, State]


def test_a_retried_move_gets_its_first_answer_and_is_not_applied_twice() -> None:
    core, alice, _bob = started()
    first = move(core, alice, 1, 4)
    again = core.handle(MoveRequest(alice, 1, 0, {"cell": 4}), 2.0)
    assert again.records == [] and core.match is not None and core.match.version == 1
    assert again.sends[0][1] is first.sends[0][1]  # the same reply payload


def test_an_illegal_move_is_refused_and_changes_nothing() -> None:
    core, alice, bob = started()
    move(core, alice, 1, 4)
    effects = core.handle(MoveRequest(bob, 2, 1, {"cell": 4}), 2.0)  # taken
    assert effects.records == [] and error_to(effects, bob) == "illegal_move"
    assert effects.errors == ["illegal_move"]
    effects = core.handle(MoveRequest(alice, 3, 1, {"cell": 0}), 2.0)
    assert error_to(effects, alice) == "not_your_turn"
    effects = core.handle(MoveRequest(bob, 4, 0, {"cell": 0}), 2.0)
    assert error_to(effects, bob) == "stale_version"
    assert core.match is not None and core.match.version == 1


def test_a_clock_running_out_is_a_timed_transition() -> None:
    core, alice, bob = started(clock=ClockSettings(initial_ms=10_000))
    assert core.next_deadline() == pytest.approx(10.0)
    assert core.handle(Tick(), 9.0).records == []  # not due yet: nothing happens
    effects = core.handle(Tick(), 10.0)
    assert kinds(effects) == [records.TimedOut, records.StateHash, records.Ended]
    assert effects.close_log and core.status is RoomStatus.OVER
    (over,) = sent_to(effects, bob, MatchOver)
    assert over.outcome.winners == (1,)


def test_a_grace_period_running_out_forfeits_the_seat() -> None:
    core, alice, bob = started()
    alice.connected = False
    effects = core.handle(Detached(alice), 5.0)
    assert kinds(effects) == [records.Disconnected]
    assert core.seats[0].state is SeatState.AWAY and core.next_deadline() == 35.0
    effects = core.handle(Tick(), 35.0)
    assert kinds(effects) == [records.Resigned, records.StateHash, records.Ended]
    assert sent_to(effects, bob, MatchOver)[0].outcome.winners == (1,)
    assert core.seats[0].is_open and effects.left == [alice]  # freed when the match ended


def test_a_player_back_within_the_grace_period_keeps_the_seat() -> None:
    core, alice, _bob = started()
    alice.connected = False
    core.handle(Detached(alice), 5.0)
    alice.connected = True
    effects = core.handle(Attached(alice), 6.0)
    assert kinds(effects) == [records.Reconnected]
    assert core.seats[0].state is SeatState.PRESENT and core.next_deadline() == 60.0
    assert sent_to(effects, alice, State)  # a full snapshot


def test_a_bot_takes_over_an_abandoned_seat_and_the_player_can_take_it_back() -> None:
    core, alice, bob = started(abandon_policy=AbandonPolicy.BOT, takeover_strategy="random")
    alice.connected = False
    core.handle(Detached(alice), 1.0)
    effects = core.handle(Tick(), 31.0)
    (joined,) = effects.records
    assert isinstance(joined, records.Joined) and joined.occupant.kind is records.OccupantKind.BOT
    assert core.seats[0].state is SeatState.TAKEN_OVER
    assert sent_to(effects, bob, RoomUpdate)[-1].room.seats[0].kind.value == "bot"
    turn = core.handle(Tick(), 31.0).bot_turn  # alice's seat is to act: the bot thinks
    assert turn is not None and turn.seat == 0
    effects = core.handle(BotMoved(turn.seat, turn.version, turn.choose()), 31.5)
    assert kinds(effects) == [records.Moved]
    alice.connected = True
    effects = core.handle(Attached(alice), 40.0)
    assert kinds(effects) == [records.Reconnected] and core.seats[0].state is SeatState.PRESENT


def test_resigning_ends_the_match_and_a_rematch_swaps_the_seats() -> None:
    core, alice, bob = started()
    effects = core.handle(ResignRequest(bob, 5), 3.0)
    assert kinds(effects) == [records.Resigned, records.StateHash, records.Ended]
    assert core.status is RoomStatus.OVER and effects.matches_finished == 1
    assert sent_to(effects, alice, MatchOver)[0].outcome.winners == (0,)
    effects = core.handle(RematchRequest(alice, 6), 4.0)
    assert core.status is RoomStatus.OVER and sent_to(effects, alice, Reply)
    assert core.next_deadline() == 4.0 + core.config.finished_room_ttl
    effects = core.handle(RematchRequest(bob, 7), 5.0)
    assert core.status is RoomStatus.PLAYING and core.match_number == 2
    assert [seat.member for seat in core.seats] == [bob, alice]  # bob moves first now
    assert sent_to(effects, bob, State)[-1].to_act == (0,)


def test_a_rematch_vote_during_the_match_is_refused() -> None:
    core, alice, _bob = started()
    effects = core.handle(RematchRequest(alice, 1), 1.0)
    assert error_to(effects, alice) == "match_not_over"


def test_join_spectate_and_leave() -> None:
    core = make_core()
    alice, bob, carol, dave = (Someone(i, n) for i, n in (("a", "alice"), ("b", "bob"), ("c", "carol"), ("d", "dave")))
    assert core.handle(Join(alice, 1), 0.0).entered == [alice]
    with pytest.raises(RequestError) as refused:
        core.handle(Join(bob, 1), 0.0)
    assert refused.value.code is ErrorCode.ROOM_FULL
    with pytest.raises(RequestError) as twice:
        core.handle(Join(alice), 0.0)
    assert twice.value.code is ErrorCode.ALREADY_IN_ROOM
    assert core.handle(Spectate(carol), 0.0).entered == [carol] and core.is_member(carol)
    core.handle(Join(bob), 0.0)
    core.handle(SeatsChanged(), 0.0)
    with pytest.raises(RequestError):
        core.handle(Join(dave), 0.0)  # the match started
    effects = core.handle(LeaveRequest(carol, 9), 1.0)
    assert effects.left == [carol] and effects.records == [] and not core.is_member(carol)
    effects = core.handle(LeaveRequest(alice, 10), 1.0)  # seat 1 resigns, then leaves
    assert kinds(effects) == [records.Resigned, records.StateHash, records.Ended]
    assert effects.left == [alice] and sent_to(effects, alice, Reply)
    assert core.seats[1].is_open  # freed: the match is over


def test_a_refused_write_undoes_the_move_and_pauses_the_room() -> None:
    core, alice, bob = started(clock=ClockSettings(initial_ms=60_000))
    effects = move(core, alice, 1, 4, now=2.0)
    assert effects.records and core.match is not None and core.match.version == 1
    # the owner could not append the records: nothing of the move may be sent
    effects = core.handle(StorageFailed("disk full"), 2.5)
    assert core.match.version == 0 and core.paused and effects.storage_error == "disk full"
    assert error_to(effects, alice) == "storage_unavailable"
    assert not sent_to(effects, alice, Reply) and not sent_to(effects, bob, Reply)
    assert sent_to(effects, bob, RoomUpdate)[-1].room.paused == "storage_unavailable"
    held = sent_to(effects, alice, State)[-1]
    assert held.version == 0 and held.clock is not None and held.clock.running == ()
    # while paused, no clock runs out and a resent move is refused without a record
    assert core.next_deadline() == core.retry_at == 3.5
    effects = move(core, alice, 1, 4, now=3.0)
    assert effects.records == [] and error_to(effects, alice) == "storage_unavailable"
    # the retry probes the log; play resumes only once it took the write
    effects = core.handle(Tick(), 3.5)
    assert effects.probe and core.paused
    core.handle(StorageFailed("still full"), 3.6)
    assert core.paused and core.next_deadline() == pytest.approx(4.6)
    assert core.handle(Tick(), 4.6).probe
    effects = core.handle(LogReady(), 4.7)
    assert not core.paused and effects.storage_ok
    assert sent_to(effects, alice, State)[-1].clock.running == (0,)
    effects = move(core, alice, 1, 4, now=5.0)
    assert kinds(effects) == [records.Moved] and core.match.version == 1


def test_a_refused_header_leaves_the_match_unstarted_until_the_log_takes_it(tmp_path: Path) -> None:
    core = make_core(replays_dir=tmp_path)
    alice, bob = Someone("a", "alice"), Someone("b", "bob")
    core.handle(Join(alice), 0.0)
    core.handle(Join(bob), 0.0)
    effects = core.handle(SeatsChanged(), 0.0)
    assert effects.open_log is not None and effects.open_log.match_id == "room1-1"
    assert core.match is None and core.status is RoomStatus.WAITING  # not before it is durable
    effects = core.handle(StorageFailed("no space"), 0.1)
    assert core.paused and core.match is None
    assert core.handle(Tick(), 1.1).open_log is not None  # the retry tries the header again
    effects = core.handle(LogReady(), 1.2)
    assert core.status is RoomStatus.PLAYING and not core.paused and effects.matches_started == 1


def test_presence_records_that_cannot_be_written_only_pause_the_room() -> None:
    core, alice, _bob = started()
    alice.connected = False
    core.handle(Detached(alice), 1.0)
    core.handle(StorageFailed("disk full"), 1.1)
    assert core.paused and core.seats[0].state is SeatState.AWAY  # the grace period stands


def test_a_room_of_bots_starts_at_once_and_asks_its_owner_for_moves() -> None:
    core = make_core(bots={0: "random", 1: "random"})
    core.handle(Start(), 0.0)
    assert core.status is RoomStatus.PLAYING and core.next_deadline() == 0.0
    turn = core.handle(Tick(), 0.0).bot_turn
    assert turn is not None and turn.seat == 0 and turn.legal
    effects = core.handle(BotMoved(0, turn.version, {"cell": 99}), 0.1)  # illegal: any legal move
    assert kinds(effects) == [records.Moved] and core.match is not None and core.match.version == 1


def test_seats_change_only_by_their_transition_table() -> None:
    seat = Seat(0)
    someone = Someone("a", "alice")
    present = seat.to(Trigger.SIT, member=someone, name="alice")
    assert present.state is SeatState.PRESENT and seat.state is SeatState.OPEN  # values
    with pytest.raises(IllegalSeatTransition):
        present.to(Trigger.TAKE_OVER)  # only an absent player's seat is taken over
    with pytest.raises(IllegalSeatTransition):
        Seat(0, SeatState.BOT, member=someone, name="x")  # a bot seat with a player
    away = present.to(Trigger.DISCONNECT, grace_until=5.0)
    assert away.grace_until == 5.0 and away.to(Trigger.RECONNECT).grace_until is None
    departed = away.to(Trigger.DEPART)
    assert departed.member is None and departed.name == "alice"
    assert departed.to(Trigger.FREE) == Seat(0)


def test_recovery_builds_the_room_through_the_core() -> None:
    core = make_core()
    alice, bob = Someone("a", "alice", connected=False), Someone("b", "bob", connected=True)
    match = Match(get_game("tictactoe"), 2, {}, seed=7)
    match.apply(0, {"cell": 4})
    effects = core.handle(
        Recover(match, 3, None, (RecoveredSeat("alice", member=alice), RecoveredSeat("bob", member=bob))),
        100.0,
    )
    assert effects.entered == [alice, bob] and core.status is RoomStatus.PLAYING
    assert core.match_number == 3 and core.match is match
    # the absent player gets a grace period from now; the connected one is seated
    assert core.seats[0].state is SeatState.AWAY and core.seats[0].grace_until == 130.0
    assert core.seats[1].state is SeatState.PRESENT
    with pytest.raises(RequestError):
        core.handle(Recover(match, 3, None, ()), 100.0)  # only once


def test_a_bug_in_the_rules_closes_the_room_and_ends_its_log() -> None:
    core, alice, bob = started()
    assert core.match is not None

    class Broken:
        def __getattr__(self, name: str) -> Any:
            return getattr(get_game("tictactoe"), name)

        def apply(self, *args: Any) -> Any:
            raise ZeroDivisionError("a bug in the rules")

    core.match.game = Broken()  # type: ignore[assignment]
    effects = move(core, alice, 1, 4)
    assert core.closed and kinds(effects) == [records.Ended]
    assert error_to(effects, alice) == "internal_error" and error_to(effects, bob) == "internal_error"


def test_chat_goes_to_everyone_and_is_kept_for_newcomers() -> None:
    core, alice, bob = started()
    effects = core.handle(ChatRequest(alice, 3, "  hello  "), 1.0)
    assert effects.records == [] and [m.text for m in sent_to(effects, bob, ChatMessage)] == ["hello"]
    assert error_to(core.handle(ChatRequest(bob, 4, "   "), 1.0), bob) == "chat_too_long"
    carol = Someone("c", "carol")
    core.handle(Spectate(carol), 2.0)
    snapshot = core.handle(Attached(carol), 2.0)
    assert [m.text for m in sent_to(snapshot, carol, ChatMessage)] == ["hello"]
    assert sent_to(snapshot, carol, State)[-1].seat is None  # the public view


def test_an_untimed_match_with_no_first_move_is_aborted() -> None:
    core, alice, bob = started(first_move_timeout=60.0)
    assert core.next_deadline() == 60.0
    effects = core.handle(Tick(), 60.0)
    (ended,) = effects.records
    assert isinstance(ended, records.Ended) and ended.aborted and ended.reason == "no first move"
    assert core.status is RoomStatus.OVER
    # a finished room is released after its time
    effects = core.handle(Tick(), 60.0 + core.config.finished_room_ttl)
    assert core.closed and core.status is RoomStatus.CLOSED
