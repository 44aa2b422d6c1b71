"""Rooms driven through the lobby with in-process fake connections."""

from __future__ import annotations

from pathlib import Path

import trio

from gameserver.protocol.errors import ErrorCode, RequestError
from gameserver.protocol.messages import (
    BotSeat,
    ChatMessage,
    ClockSettings,
    CreateRoom,
    JoinRoom,
    MatchOver,
    MoveResult,
    Reply,
    RoomStatus,
    SeatKind,
    State,
)
from gameserver.replays.loader import load_match
from gameserver.rooms.commands import ChatRequest, MoveRequest, RematchRequest, ResignRequest
from gameserver.rooms.config import AbandonPolicy, RoomConfig
from gameserver.rooms.lobby import Lobby
from gameserver.sessions.metrics import Metrics
from gameserver.rooms.room import Room

from .conftest import FakeClient, LobbyHarness, settle, until

import pytest


def create(lobby: Lobby, client: FakeClient, **fields: object) -> Room:
    request = CreateRoom(id=1, **{"game": "tictactoe", "players": 2, **fields})  # type: ignore[arg-type]
    result = lobby.create_room(client.player, request)
    return lobby.rooms[result.room.room_id]


async def start_pair(lobby: Lobby, **fields: object) -> tuple[Room, FakeClient, FakeClient]:
    alice, bob = FakeClient("alice"), FakeClient("bob")
    room = create(lobby, alice, **fields)
    lobby.join_room(bob.player, JoinRoom(id=1, room_id=room.room_id))
    await settle()
    assert room.status is RoomStatus.PLAYING
    return room, alice, bob


def move(room: Room, client: FakeClient, request_id: int, cell: object, version: int | None = None) -> None:
    if version is None:
        version = room.match.version if room.match else 0
    room.submit(MoveRequest(client.player, request_id, version, {"cell": cell}))


async def test_full_match_to_the_end(harness: LobbyHarness) -> None:
    room, alice, bob = await start_pair(harness.lobby)
    state = alice.last_state()
    assert state.seat == 0 and state.version == 0 and state.to_act == (0,)
    assert state.legal_moves is not None and len(state.legal_moves) == 9
    assert bob.last_state().legal_moves is None
    # alice takes the top row
    for request_id, (client, cell) in enumerate(
        [(alice, 0), (bob, 3), (alice, 1), (bob, 4), (alice, 2)], start=10
    ):
        move(room, client, request_id, cell)
        await settle()
        assert client.result(request_id, MoveResult).version == request_id - 9
    final = bob.last_state()
    assert final.outcome is not None and final.outcome.winners == (0,)
    assert final.to_act == ()
    over = bob.of_type(MatchOver)
    assert len(over) == 1 and over[0].outcome.winners == (0,)
    assert room.status is RoomStatus.OVER
    assert harness.metrics.matches_finished["tictactoe"] == 1


async def test_bad_moves_get_their_codes_and_the_match_goes_on(harness: LobbyHarness) -> None:
    room, alice, bob = await start_pair(harness.lobby)
    move(room, bob, 1, 4)  # out of turn
    move(room, alice, 2, 9)  # malformed: off the board
    room.submit(MoveRequest(alice.player, 3, 0, "not a map"))  # malformed shape
    move(room, alice, 4, 4, version=7)  # stale version
    await settle()
    assert bob.error_code(1) == ErrorCode.NOT_YOUR_TURN.value
    assert alice.error_code(2) == ErrorCode.MALFORMED_MOVE.value
    assert alice.error_code(3) == ErrorCode.MALFORMED_MOVE.value
    assert alice.error_code(4) == ErrorCode.STALE_VERSION.value
    move(room, alice, 5, 4)
    await settle()
    move(room, bob, 6, 4)  # occupied
    await settle()
    assert bob.error_code(6) == ErrorCode.ILLEGAL_MOVE.value
    assert alice.result(5, MoveResult).version == 1
    assert room.match is not None and room.match.version == 1
    assert harness.metrics.errors[ErrorCode.MALFORMED_MOVE.value] == 2


async def test_a_retried_move_is_applied_once(harness: LobbyHarness) -> None:
    room, alice, bob = await start_pair(harness.lobby)
    move(room, alice, 7, 4, version=0)
    await settle()
    move(room, alice, 7, 4, version=0)  # the same request again, e.g. after a reconnect
    await settle()
    alice.drain()
    answers = [m for m in alice.received if getattr(m, "id", None) == 7]
    assert len(answers) == 2 and all(a == answers[0] for a in answers)
    assert room.match is not None and room.match.version == 1


async def test_spectators_share_one_public_payload(harness: LobbyHarness) -> None:
    room, alice, bob = await start_pair(harness.lobby)
    watchers = [FakeClient(f"w{i}") for i in range(3)]
    for watcher in watchers:
        harness.lobby.spectate(watcher.player, room.room_id)
    await settle()
    for watcher in watchers:
        watcher.drain()
    move(room, alice, 1, 4)
    await settle()
    payloads = []
    for watcher in watchers:
        queued = []
        while (payload := watcher.outbox.get_nowait()) is not None:
            queued.append(payload)
        payloads.append(queued[-1])
    assert payloads[0] is payloads[1] is payloads[2]
    from gameserver.sessions.outbox import frame_of

    assert frame_of(payloads[0]) is frame_of(payloads[1])
    from gameserver.protocol.codec import decode_server_message

    state = decode_server_message(payloads[0].data)
    assert isinstance(state, State) and state.seat is None and state.legal_moves is None
    assert state.view["you"] is None and state.view["board"][4] == 0
    # spectators cannot play
    move(room, watchers[0], 2, 0)
    await settle()
    assert watchers[0].error_code(2) == ErrorCode.NOT_IN_ROOM.value


async def test_chat_reaches_everyone_and_is_length_limited(harness: LobbyHarness) -> None:
    room, alice, bob = await start_pair(harness.lobby)
    room.submit(ChatRequest(alice.player, 1, "  good luck  "))
    room.submit(ChatRequest(alice.player, 2, "x" * 501))
    await settle()
    said = bob.of_type(ChatMessage)
    assert [c.text for c in said] == ["good luck"] and said[0].seat == 0
    assert alice.error_code(2) == ErrorCode.CHAT_TOO_LONG.value


async def test_resign_and_rematch(harness: LobbyHarness) -> None:
    room, alice, bob = await start_pair(harness.lobby)
    room.submit(RematchRequest(alice.player, 1))
    room.submit(ResignRequest(bob.player, 2))
    await settle()
    assert alice.error_code(1) == ErrorCode.MATCH_NOT_OVER.value
    assert alice.last_state().outcome is not None
    assert alice.last_state().outcome.winners == (0,)  # type: ignore[union-attr]
    room.submit(RematchRequest(alice.player, 3))
    room.submit(RematchRequest(bob.player, 4))
    await settle()
    assert room.status is RoomStatus.PLAYING and room.match_number == 2
    state = bob.last_state()
    assert state.match == 2 and state.version == 0 and state.outcome is None


async def test_bot_seat_plays_inside_the_room(harness: LobbyHarness) -> None:
    alice = FakeClient("alice")
    room = create(harness.lobby, alice, bots=(BotSeat(seat=1, strategy="best"),))
    await settle()
    assert room.status is RoomStatus.PLAYING
    assert alice.last_state().seats[1].kind is SeatKind.BOT
    request_id = 100
    while room.match is not None and not room.match.over:
        # the strategy thinks in a worker thread
        await until(lambda: alice.last_state().to_act == (0,) or alice.last_state().outcome)
        if alice.last_state().outcome:
            break
        state = alice.last_state()
        assert state.to_act == (0,)
        assert state.legal_moves
        room.submit(MoveRequest(alice.player, request_id, state.version, state.legal_moves[0]))
        request_id += 1
        await settle()
    # the perfect player never loses to "first legal move"
    outcome = alice.last_state().outcome
    assert outcome is not None and 0 not in outcome.winners


async def test_all_bot_room_is_watched_by_its_creator(harness: LobbyHarness) -> None:
    alice = FakeClient("alice")
    result = harness.lobby.create_room(
        alice.player,
        CreateRoom(
            id=1, game="tictactoe", players=2,
            bots=(BotSeat(seat=0, strategy="random"), BotSeat(seat=1, strategy="best")),
        ),
    )
    assert result.seat is None
    await until(lambda: bool(alice.of_type(MatchOver)))
    over = alice.of_type(MatchOver)
    assert len(over) == 1
    assert all(s.seat is None for s in alice.of_type(State))


async def test_clock_timeout_applies_the_game_rule(autojump_clock: trio.abc.Clock, harness: LobbyHarness) -> None:
    room, alice, bob = await start_pair(
        harness.lobby, clock=ClockSettings(initial_ms=60_000, increment_ms=1_000, per_move_ms=10_000)
    )
    state = alice.last_state()
    assert state.clock is not None and state.clock.banks_ms == (60_000, 60_000)
    assert state.clock.running == (0,) and state.clock.move_ms == 10_000
    await trio.sleep(3)
    move(room, alice, 1, 4)
    await settle()
    banks = bob.last_state().clock
    assert banks is not None and banks.banks_ms == (58_000, 60_000) and banks.running == (1,)
    # bob sits on his clock past the per-move limit
    start = trio.current_time()
    await trio.sleep(11)
    last = alice.last_state()
    assert last.version == 2  # the game's timeout rule was applied
    assert 9.9 <= trio.current_time() - start
    assert last.clock is not None and last.clock.running in ((0,), ())


async def test_grace_expiry_forfeits(autojump_clock: trio.abc.Clock) -> None:
    async with trio.open_nursery() as nursery:
        lobby = Lobby(nursery, RoomConfig(bot_delay=0, grace_period=20), Metrics())
        room, alice, bob = await start_pair(lobby)
        bob.disconnect(lobby)
        await settle()
        seats = alice.last_state().seats
        assert seats[1].connected is False and seats[1].kind is SeatKind.HUMAN
        await trio.sleep(19)
        assert room.match is not None and not room.match.over
        await trio.sleep(2)
        outcome = alice.last_state().outcome
        assert outcome is not None and outcome.winners == (0,)
        nursery.cancel_scope.cancel()


async def test_resume_within_grace_gets_a_snapshot(autojump_clock: trio.abc.Clock) -> None:
    async with trio.open_nursery() as nursery:
        lobby = Lobby(nursery, RoomConfig(bot_delay=0, grace_period=20), Metrics())
        room, alice, bob = await start_pair(lobby)
        move(room, alice, 1, 4)
        await settle()
        bob.disconnect(lobby)
        await trio.sleep(5)
        move(room, alice, 2, 0)  # not alice's turn: error, nothing changes
        await settle()
        bob.reconnect(lobby)
        await settle()
        fresh = bob.drain()
        state = [m for m in fresh if isinstance(m, State)][-1]
        assert state.version == 1 and state.to_act == (1,) and state.view["board"][4] == 0
        assert state.seats[1].connected
        await trio.sleep(30)  # the grace period no longer applies
        assert room.match is not None and not room.match.over
        nursery.cancel_scope.cancel()


async def test_grace_expiry_with_bot_policy_lets_a_strategy_play(autojump_clock: trio.abc.Clock) -> None:
    async with trio.open_nursery() as nursery:
        config = RoomConfig(
            bot_delay=0, grace_period=5, abandon_policy=AbandonPolicy.BOT, bots_in_thread=False
        )
        lobby = Lobby(nursery, config, Metrics())
        room, alice, bob = await start_pair(lobby)
        move(room, alice, 1, 0)
        await settle()
        bob.disconnect(lobby)
        await trio.sleep(6)
        state = alice.last_state()
        assert state.version == 2 and state.to_act == (0,)  # the strategy moved for bob
        assert state.seats[1].kind is SeatKind.BOT and state.seats[1].player_id is None
        bob.reconnect(lobby)
        await settle()
        assert bob.last_state().seats[1].kind is SeatKind.HUMAN
        move(room, alice, 3, 8)
        await settle()
        assert alice.last_state().to_act == (1,)  # bob plays for himself again
        await trio.sleep(5)
        assert alice.last_state().version == 3
        nursery.cancel_scope.cancel()


async def test_matches_are_recorded_before_broadcast(tmp_path: Path) -> None:
    async with trio.open_nursery() as nursery:
        lobby = Lobby(nursery, RoomConfig(bot_delay=0, replays_dir=tmp_path), Metrics())
        alice, bob = FakeClient("alice"), FakeClient("bob")
        room = create(lobby, alice)
        lobby.join_room(bob.player, JoinRoom(id=1, room_id=room.room_id))
        await until(lambda: bool(alice.of_type(State)))
        for request_id, (client, cell) in enumerate(
            [(alice, 0), (bob, 3), (alice, 1), (bob, 4), (alice, 2)], start=1
        ):
            move(room, client, request_id, cell)
            await until(lambda: bool([m for m in client.drain() or client.received if getattr(m, "id", None) == request_id]))
            # the log already holds the move the clients were just told about
            log = load_match(tmp_path / f"{room.room_id}-1.gsr")
            assert log.moves == request_id
        await until(lambda: bool(alice.of_type(MatchOver)))
        over = alice.of_type(MatchOver)[0]
        assert over.replay_id == f"{room.room_id}-1"
        assert load_match(tmp_path / f"{room.room_id}-1.gsr").complete
        nursery.cancel_scope.cancel()


async def test_room_closes_when_everyone_leaves(harness: LobbyHarness) -> None:
    from gameserver.rooms.commands import LeaveRequest

    room, alice, bob = await start_pair(harness.lobby)
    room.submit(LeaveRequest(alice.player, 1))
    await settle()
    assert bob.last_state().outcome is not None  # leaving a running match resigns it
    room.submit(LeaveRequest(bob.player, 2))
    await settle()
    assert room.closed and room.room_id not in harness.lobby.rooms
    with pytest.raises(RequestError) as info:
        harness.lobby.room(room.room_id)
    assert info.value.code is ErrorCode.ROOM_NOT_FOUND


class BrokenStrategy:
    """A strategy with a bug: it raises instead of choosing."""

    def choose(self, view: object, legal_moves: object, rng: object) -> object:
        raise RuntimeError("strategy bug")


async def test_a_failing_strategy_does_not_stall_the_match_or_the_server(harness: LobbyHarness) -> None:
    alice = FakeClient("alice")
    room = create(harness.lobby, alice, bots=(BotSeat(seat=0, strategy="random"),))
    # Seats are immutable values: break the seat's own strategy instance instead.
    strategy = room.seats[0].strategy
    assert strategy is not None
    strategy.choose = BrokenStrategy().choose  # type: ignore[method-assign]
    # the broken strategy's seat still moves (a random legal move) and the match goes on
    await until(lambda: room.match is not None and room.match.version == 1)
    assert not room.closed and alice.last_state().to_act == (1,)
    # the rest of the server carries on
    other, first, _second = await start_pair(harness.lobby)
    move(other, first, 1, 4)
    await settle()
    assert other.match is not None and other.match.version == 1
    room.submit(ChatRequest(alice.player, 5, "still here?"))
    await until(lambda: bool(alice.of_type(ChatMessage)))
    assert alice.of_type(ChatMessage)[-1].text == "still here?"


class CrashingRules:
    """Wraps a game so that ``apply`` raises a bug for one cell."""

    def __init__(self, game: object) -> None:
        self._game = game

    def __getattr__(self, name: str) -> object:
        return getattr(self._game, name)

    def apply(self, state: object, seat: int, move: object, rng: object) -> object:
        if move == {"cell": 8}:
            raise ZeroDivisionError("a bug in the rules")
        return self._game.apply(state, seat, move, rng)  # type: ignore[attr-defined]


async def test_a_bug_in_the_rules_closes_only_that_room(tmp_path: Path) -> None:
    async with trio.open_nursery() as nursery:
        lobby = Lobby(nursery, RoomConfig(bot_delay=0, replays_dir=tmp_path), Metrics())
        alice, bob, carol = FakeClient("alice"), FakeClient("bob"), FakeClient("carol")
        room = create(lobby, alice)
        lobby.join_room(bob.player, JoinRoom(id=1, room_id=room.room_id))
        lobby.spectate(carol.player, room.room_id)
        await until(lambda: room.match is not None and bool(alice.of_type(State)))
        room.match.game = CrashingRules(room.match.game)  # type: ignore[assignment]
        move(room, alice, 7, 8)
        await until(lambda: room.room_id not in lobby.rooms)
        answer = alice.reply(7)
        assert answer.code == "internal_error" and "closed" in answer.message  # type: ignore[union-attr]
        for other in (bob, carol):
            notices = [m for m in other.drain() if getattr(m, "id", 0) is None]
            assert notices and room.room_id in notices[-1].message  # type: ignore[attr-defined]
        assert not alice.player.rooms and not carol.player.rooms
        log = load_match(tmp_path / f"{room.room_id}-1.gsr")
        assert log.complete and log.end is not None and log.end.aborted
        nursery.cancel_scope.cancel()


# -- requests run inline while the room is idle ------------------------------------------


async def test_a_request_to_an_idle_room_is_answered_in_the_callers_task(
    harness: LobbyHarness,
) -> None:
    room, alice, bob = await start_pair(harness.lobby)
    move(room, alice, 10, 4)
    # No checkpoint since the submit: the room's task has not run, yet the move is done.
    assert alice.result(10, MoveResult).version == 1
    assert alice.last_state().version == 1 and bob.last_state().version == 1
    assert bob.last_state().to_act == (1,)


async def test_a_request_waits_behind_commands_the_room_has_not_run(
    harness: LobbyHarness,
) -> None:
    room, alice, bob = await start_pair(harness.lobby)
    alice.drain()
    alice.reconnect(harness.lobby)  # queues Attached: a snapshot for alice
    move(room, alice, 10, 4)
    assert alice.drain() == []  # queued behind Attached, not run ahead of it
    await settle()
    alice.drain()
    kinds = [type(message).__name__ for message in alice.received]
    snapshot = kinds.index("State")
    assert kinds.index("Reply") > snapshot  # in the order submitted
    assert alice.result(10, MoveResult).version == 1


async def test_a_recorded_move_is_answered_only_once_durable(tmp_path: Path) -> None:
    async with trio.open_nursery() as nursery:
        lobby = Lobby(nursery, RoomConfig(bot_delay=0, replays_dir=tmp_path), Metrics())
        alice, bob = FakeClient("alice"), FakeClient("bob")
        room = create(lobby, alice)
        lobby.join_room(bob.player, JoinRoom(id=1, room_id=room.room_id))
        await until(lambda: bool(alice.of_type(State)))
        move(room, alice, 10, 4)
        assert alice.drain() == []  # the record is written by the room's task first
        # Wait for the answer itself: another push may come first.
        await until(lambda: any(reply.id == 10 for reply in alice.of_type(Reply)))
        assert alice.result(10, MoveResult).version == 1
        assert load_match(tmp_path / f"{room.room_id}-1.gsr").moves == 1
        nursery.cancel_scope.cancel()


@pytest.mark.parametrize("room_config", [RoomConfig(finished_room_ttl=5.0, first_move_timeout=None)])
async def test_the_rooms_timers_follow_inline_requests(
    autojump_clock: trio.abc.Clock, harness: LobbyHarness
) -> None:
    # Nothing is due while the match runs untimed; the winning move (inline) sets the
    # release of the finished room, which the waiting task must then honour.
    room, alice, bob = await start_pair(harness.lobby)
    for request_id, (client, cell) in enumerate(
        [(alice, 0), (bob, 3), (alice, 1), (bob, 4), (alice, 2)], start=10
    ):
        move(room, client, request_id, cell)
    assert room.status is RoomStatus.OVER
    await trio.sleep(4.9)
    assert not room.closed
    await trio.sleep(0.2)
    assert room.closed and room.room_id not in harness.lobby.rooms
