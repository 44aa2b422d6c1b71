"""The SDK against a real server on 127.0.0.1: requests, events, errors and reconnection."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import attrs
import pytest
import trio

from gameserver.client import (
    Backoff,
    Bot,
    ConnectionLost,
    Disconnected,
    GameClient,
    Reconnected,
    RequestFailed,
    StrategyBot,
    connect,
    play_match,
    play_room,
    quick_match_seat,
)
from gameserver.games.base import Termination
from gameserver.protocol.errors import ErrorCode
from gameserver.protocol.messages import (
    ChatMessage,
    ClockSettings,
    LobbyUpdate,
    MatchOver,
    Move,
    MoveResult,
    RoomStatus,
    State,
)

from support.servers import start_server

from .conftest import Proxy, server_config

FAST = Backoff(initial=0.05, maximum=0.2)


async def next_of(client: GameClient, kind: type, room_id: str | None = None) -> object:
    """The next event of ``kind`` (for ``room_id`` when given), skipping the others."""
    while True:
        event = await client.next_event()
        if isinstance(event, kind) and (room_id is None or getattr(event, "room_id", None) == room_id):
            return event


async def state_where(client: GameClient, room_id: str, predicate: object) -> State:
    while True:
        state = client.states.get(room_id)
        if state is not None and predicate(state):  # type: ignore[operator]
            return state
        await client.next_event()


async def test_hello_gives_identity_and_token(server_url: str) -> None:
    async with connect(server_url, name="  ada  ") as client:
        assert client.name == "ada"
        assert client.player_id and client.token
        assert client.connected
        assert await client.list_rooms() == []


async def test_two_sdk_players_play_a_connect_four_match(server_url: str) -> None:
    with trio.fail_after(30):
        async with connect(server_url, name="ada") as ada, connect(server_url, name="bob") as bob:
            results = {}

            async def play(client: GameClient, strategy: str) -> None:
                results[client.name] = await play_match(client, StrategyBot("connect4", strategy, seed=1), "connect4")

            async with trio.open_nursery() as nursery:
                nursery.start_soon(play, ada, "best")
                nursery.start_soon(play, bob, "random")
    first, second = results["ada"], results["bob"]
    assert first.room_id == second.room_id
    assert first.completed and second.completed
    assert first.outcome == second.outcome
    assert {first.seat, second.seat} == {0, 1}
    assert first.moves + second.moves >= 7
    assert len(first.latencies) == first.moves
    # Protocol version 2 by default: every state after the first came as a delta.
    assert ada.protocol_version == bob.protocol_version == 2
    assert ada.deltas >= first.moves + second.moves and ada.resyncs == bob.resyncs == 0


@pytest.mark.parametrize(
    ("game", "players", "strategy"),
    [
        ("tictactoe", 2, "best"),
        ("connect4", 2, "random"),
        ("liarsdice", 2, "best"),
        ("liarsdice", 4, "random"),
    ],
)
async def test_full_match_against_server_bots(server_url: str, game: str, players: int, strategy: str) -> None:
    with trio.fail_after(30):
        async with connect(server_url, name="ada") as client:
            bots = {seat: "random" for seat in range(1, players)}
            joined = await client.create_room(game, players, bots=bots)
            assert joined.seat == 0
            result = await play_room(client, StrategyBot(game, strategy, seed=3), joined.room.room_id, 0)
            assert result.completed
            assert result.moves >= 1
            over = client.states[joined.room.room_id]
            assert over.outcome == result.outcome
            assert over.to_act == () and over.legal_moves is None


async def test_refused_requests_raise_typed_errors_and_the_client_goes_on(server_url: str) -> None:
    with trio.fail_after(10):
        async with connect(server_url, name="ada") as client:
            with pytest.raises(RequestFailed) as info:
                await client.join_room("no-such-room")
            assert info.value.error_code is ErrorCode.ROOM_NOT_FOUND
            with pytest.raises(RequestFailed) as info:
                await client.quick_match("chess")
            assert info.value.code == "unknown_game"
            with pytest.raises(RequestFailed) as info:
                await client.create_room("connect4", 2, options={"bogus": 1})
            assert info.value.code == "invalid_options"

            joined = await client.create_room("tictactoe", 2, bots={1: "best"})
            room = joined.room.room_id
            state = await state_where(client, room, lambda s: 0 in s.to_act)
            with pytest.raises(RequestFailed) as info:
                await client.move(room, {"cell": 42})
            assert info.value.code == "malformed_move"
            with pytest.raises(RequestFailed) as info:
                await client.move(room, {"cell": 0}, version=state.version + 5)
            assert info.value.code == "stale_version"
            version = await client.move(room, {"cell": 4})
            assert version == state.version + 1
            with pytest.raises(RequestFailed) as info:
                await client.move(room, {"cell": 4}, version=version)
            assert info.value.code in {"not_your_turn", "stale_version"}
            after_bot = await state_where(client, room, lambda s: 0 in s.to_act or s.outcome is not None)
            with pytest.raises(RequestFailed) as info:
                await client.move(room, {"cell": 4}, version=after_bot.version)
            assert info.value.code == "illegal_move"
            assert "4" in info.value.message or "occupied" in info.value.message
            with pytest.raises(RequestFailed) as info:
                await client.chat(room, "x" * 10_000)
            assert info.value.code == "too_large"  # refused before sending: the server could not echo the id
            with pytest.raises(RequestFailed) as info:
                await client.chat(room, "x" * 1000)
            assert info.value.code == "chat_too_long"
            await client.resign(room)
            over = await next_of(client, MatchOver, room)
            assert isinstance(over, MatchOver) and over.outcome.winners == (1,)
            with pytest.raises(RequestFailed) as info:
                await client.resign(room)
            assert info.value.code == "match_over"


async def test_bad_hello_fails_connect(server_url: str) -> None:
    with pytest.raises(RequestFailed) as info:
        async with connect(server_url, name="   "):
            pass  # pragma: no cover
    assert info.value.code == "invalid_name"
    with pytest.raises(RequestFailed) as info:
        async with connect(server_url, name="ada", token="forged.token"):
            pass  # pragma: no cover
    assert info.value.code == "bad_token"


async def test_unreachable_server_raises_connection_lost() -> None:
    listeners = await trio.open_tcp_listeners(0, host="127.0.0.1")
    port = listeners[0].socket.getsockname()[1]
    await listeners[0].aclose()
    with pytest.raises(ConnectionLost):
        async with connect(f"ws://127.0.0.1:{port}/ws", name="ada"):
            pass  # pragma: no cover


async def test_reconnect_mid_match_resumes_the_seat_and_finishes(proxy: Proxy) -> None:
    with trio.fail_after(30):
        async with connect(proxy.url, name="ada", backoff=FAST) as ada, connect(proxy.direct_url, name="bob") as bob:
            joined = await ada.create_room("connect4", 2, private=True)
            assert joined.invite_code
            await bob.join_room(invite_code=joined.invite_code)
            room = joined.room.room_id
            results = {}

            async def play(client: GameClient, seat: int) -> None:
                results[seat] = await play_room(client, StrategyBot("connect4", "random", seed=seat), room, seat)

            async def cut_after_some_moves() -> None:
                while (state := ada.states.get(room)) is None or state.version < 4:
                    await trio.sleep(0.01)
                await proxy.cut()

            async with trio.open_nursery() as nursery:
                nursery.start_soon(play, ada, 0)
                nursery.start_soon(play, bob, 1)
                nursery.start_soon(cut_after_some_moves)
            assert proxy.connections >= 2
            assert ada.reconnects >= 1
            assert results[0].reconnects >= 1
            assert results[0].completed and results[1].completed
            assert results[0].outcome == results[1].outcome


async def test_move_whose_reply_was_lost_is_resent_and_applied_once(proxy: Proxy) -> None:
    with trio.fail_after(20):
        async with connect(proxy.url, name="ada", backoff=FAST) as client:
            joined = await client.create_room("connect4", 2, seat=0, clock=None)
            room = joined.room.room_id
            async with connect(proxy.direct_url, name="bob") as bob:
                await bob.join_room(room)
                state = await state_where(client, room, lambda s: 0 in s.to_act)
                proxy.drop_server_data = True  # the server applies the move; its answer is lost
                async with trio.open_nursery() as nursery:
                    moved: list[int] = []

                    async def move() -> None:
                        moved.append(await client.move(room, {"column": 3}, version=state.version))

                    nursery.start_soon(move)
                    while (bob_state := bob.states.get(room)) is None or bob_state.version == state.version:
                        await bob.next_event()
                    await proxy.cut()
                assert moved == [state.version + 1]
                resumed = await state_where(client, room, lambda s: s.version >= state.version + 1)
                assert resumed.view["board"][5][3] == 0
                assert sum(cell is not None for row in resumed.view["board"] for cell in row) == 1
                assert client.reconnects == 1


async def test_repeated_move_id_gets_the_same_reply_without_reapplying(server_url: str) -> None:
    with trio.fail_after(10):
        async with connect(server_url, name="ada") as client, connect(server_url, name="bob") as bob:
            joined = await client.create_room("connect4", 2)
            room = joined.room.room_id
            await bob.join_room(room)
            state = await state_where(client, room, lambda s: 0 in s.to_act)
            message = Move(id=client.new_request_id(), room_id=room, version=state.version, move={"column": 0})
            first = await client.request(message, MoveResult)
            again = await client.request(message, MoveResult)
            assert first == again == MoveResult(version=state.version + 1)
            final = await state_where(client, room, lambda s: s.version == first.version)
            assert sum(cell is not None for row in final.view["board"] for cell in row) == 1
            # Both answers were the same stored delta; the second, old news, asked for
            # no full state.
            assert client.deltas >= 1 and client.resyncs == 0


async def test_resuming_elsewhere_closes_the_old_client_for_good(server_url: str) -> None:
    with trio.fail_after(10):
        async with connect(server_url, name="ada", backoff=FAST) as old:
            joined = await old.create_room("tictactoe", 2)
            async with connect(server_url, name="ada", token=old.token) as new:
                assert new.player_id == old.player_id
                event = await next_of(old, Disconnected)
                assert isinstance(event, Disconnected)
                assert event.final and event.code == 1000
                with pytest.raises(ConnectionLost):
                    await old.list_rooms()
                assert [room.room_id for room in await new.list_rooms()] == [joined.room.room_id]


async def test_spectator_lobby_and_chat_events(server_url: str) -> None:
    with trio.fail_after(20):
        async with connect(server_url, name="ada") as watcher, connect(server_url, name="bob") as host:
            assert await watcher.watch_lobby("tictactoe") == []
            joined = await host.create_room("tictactoe", 2, bots={1: "random"}, clock=ClockSettings(initial_ms=60_000))
            room = joined.room.room_id
            lobby = await next_of(watcher, LobbyUpdate)
            assert isinstance(lobby, LobbyUpdate)
            assert room in [summary.room_id for summary in lobby.rooms]
            spectated = await watcher.spectate(room)
            assert spectated.seat is None
            state = await next_of(watcher, State, room)
            assert isinstance(state, State)
            assert state.seat is None and state.legal_moves is None
            assert state.clock is not None and state.clock.banks_ms is not None
            await host.chat(room, "hello watchers")
            chat = await next_of(watcher, ChatMessage, room)
            assert isinstance(chat, ChatMessage)
            assert (chat.name, chat.text, chat.seat) == ("bob", "hello watchers", 0)
            await host.resign(room)
            over = await next_of(watcher, MatchOver, room)
            assert isinstance(over, MatchOver) and over.outcome.reason == "resigned"
            assert over.outcome.termination is Termination.RESIGNATION
            assert watcher.rooms[room].status in {RoomStatus.PLAYING, RoomStatus.OVER}


async def test_events_end_when_the_client_closes(server_url: str) -> None:
    async with connect(server_url, name="ada") as client:
        pass
    with pytest.raises(ConnectionLost):
        await client.list_rooms()
    events = [event async for event in client.events()]
    assert isinstance(events[-1], Disconnected)
    assert events[-1].final
    assert not client.connected


class HoldingBot(StrategyBot):
    """Random connect four that holds its third move until ``release`` is set: the match
    is surely running (nobody can have four in a row) while it holds."""

    def __init__(self) -> None:
        super().__init__("connect4", "random", seed=5)
        self.chosen = 0
        self.holding = trio.Event()
        self.release = trio.Event()

    async def choose(self, view: object, legal_moves: Sequence[object]) -> object:
        self.chosen += 1
        if self.chosen == 3:
            self.holding.set()
            await self.release.wait()
        return super().choose(view, legal_moves)


async def test_server_restart_mid_match_the_client_resumes_and_finishes(tmp_path: Path) -> None:
    config = attrs.evolve(server_config(tmp_path), recover=True)
    with trio.fail_after(30):
        async with trio.open_nursery() as nursery:
            first = await start_server(nursery, config)
            async with connect(first.url, name="ada", backoff=FAST) as client:
                joined = await client.create_room("connect4", 2, bots={1: "random"})
                room = joined.room.room_id
                bot = HoldingBot()
                async with trio.open_nursery() as play_nursery:
                    results = []

                    async def play() -> None:
                        results.append(await play_room(client, bot, room, 0))

                    play_nursery.start_soon(play)
                    # Restart while the match surely runs: stopping the server as a match
                    # ends is test_a_match_that_ended_as_the_server_stopped_...
                    await bot.holding.wait()
                    first.cancel_scope.cancel()  # a shutdown: every connection closes with 1001
                    await start_server(nursery, attrs.evolve(config, port=first.port))
                    bot.release.set()
                [result] = results
                assert result.completed and not result.seat_lost
                assert result.reconnects >= 1
                assert client.reconnects >= 1
            nursery.cancel_scope.cancel()


async def test_requests_are_paced_below_the_server_rate_limit(server_url: str) -> None:
    with trio.fail_after(20):
        async with connect(server_url, name="ada") as client:
            started = trio.current_time()
            async with trio.open_nursery() as nursery:
                for _ in range(120):
                    nursery.start_soon(client.list_rooms)
            elapsed = trio.current_time() - started
            # 80 go out at once (the burst), the other 40 at 40 per second; none is
            # refused by the server's limit of 50 per second with bursts of 100
            assert 0.9 <= elapsed < 5
            unsolicited = []
            while True:
                with trio.move_on_after(0.1):
                    unsolicited.append(await client.next_event())
                    continue
                break
            assert not unsolicited


async def test_a_slow_bot_plays_a_legal_move_before_its_clock_runs_out(server_url: str) -> None:
    class Ponderer(Bot):
        def __init__(self) -> None:
            self.thoughts = 0

        async def choose(self, view: object, legal_moves: Sequence[object]) -> object:
            self.thoughts += 1
            if self.thoughts == 1:
                await trio.sleep(60)  # far beyond the 1 s per-move limit
            return legal_moves[-1]

    with trio.fail_after(20):
        async with connect(server_url, name="slow") as client:
            joined = await client.create_room(
                "tictactoe", 2, bots={1: "random"}, clock=ClockSettings(per_move_ms=1000)
            )
            bot = Ponderer()
            result = await play_room(client, bot, joined.room.room_id, 0)
    assert result.completed
    assert result.outcome is not None and result.outcome.reason != "timeout"
    assert bot.thoughts == result.moves


async def test_a_quick_match_whose_reply_was_lost_finds_its_seat_after_resuming(proxy: Proxy) -> None:
    with trio.fail_after(20):
        async with connect(proxy.url, name="ada", backoff=FAST) as ada, connect(proxy.direct_url, name="bob") as bob:
            proxy.drop_server_data = True  # the server seats ada; the answer is lost
            found: list[tuple[str, int]] = []

            async def quick() -> None:
                found.append(await quick_match_seat(ada, "connect4", 2))

            async with trio.open_nursery() as nursery:
                nursery.start_soon(quick)
                while not (rooms := await bob.list_rooms("connect4")):
                    await trio.sleep(0.01)
                await proxy.cut()
            [room] = rooms
            assert found == [(room.room_id, 0)]
            assert ada.reconnects == 1
            assert [summary.room_id for summary in await ada.list_rooms("connect4")] == [room.room_id]


async def test_chat_history_comes_back_after_a_reconnect_and_each_line_is_emitted_once(
    proxy: Proxy,
) -> None:
    with trio.fail_after(30):
        async with connect(proxy.url, name="ada", backoff=FAST) as ada, connect(proxy.direct_url, name="bob") as bob:
            joined = await ada.create_room("connect4", 2, private=True)
            assert joined.invite_code
            await bob.join_room(invite_code=joined.invite_code)
            room = joined.room.room_id
            for text in ("hi", "good luck", "have fun"):
                await bob.chat(room, text)
            lines: list[tuple[int, str]] = []
            while len(lines) < 3:
                event = await ada.next_event()
                if isinstance(event, ChatMessage):
                    lines.append((event.seq, event.text))
            await proxy.cut()
            while True:  # the resume snapshot brings the chat again; the SDK drops repeats
                event = await ada.next_event()
                if isinstance(event, Reconnected):
                    break
            await bob.chat(room, "welcome back")
            while True:
                event = await ada.next_event()
                if isinstance(event, ChatMessage):
                    lines.append((event.seq, event.text))
                    break
    first = lines[0][0]
    assert [(seq - first, text) for seq, text in lines] == [
        (0, "hi"), (1, "good luck"), (2, "have fun"), (3, "welcome back")
    ]


async def test_a_match_that_ended_as_the_server_stopped_shows_its_result_after_the_restart(
    tmp_path: Path,
) -> None:
    # ada's winning move is recorded (bob sees the end) but its answer never reaches ada
    # before the server stops; after the restart ada resumes the seat in the finished
    # room, her resent move gets its original answer and she sees the result.
    config = attrs.evolve(server_config(tmp_path), recover=True)
    with trio.fail_after(30):
        async with trio.open_nursery() as nursery:
            first = await start_server(nursery, config)
            proxy = Proxy(first.port)
            await nursery.start(proxy.serve)
            async with connect(proxy.url, name="ada", backoff=FAST) as ada, connect(
                proxy.direct_url, name="bob", backoff=FAST
            ) as bob:
                joined = await ada.create_room("tictactoe", 2, seat=0)
                room = joined.room.room_id
                await bob.join_room(room)
                for player, cell in ((ada, 0), (bob, 3), (ada, 1), (bob, 4)):
                    await player.move(room, {"cell": cell}, version=(await state_where(
                        player, room, lambda s, p=player: s.seat in s.to_act
                    )).version)
                before = await state_where(ada, room, lambda s: s.version == 4)
                proxy.drop_server_data = True  # the end is recorded; ada hears nothing of it
                async with trio.open_nursery() as moving:
                    moved: list[int] = []

                    async def win() -> None:
                        moved.append(await ada.move(room, {"cell": 2}, version=before.version))

                    moving.start_soon(win)
                    over = await next_of(bob, MatchOver, room)
                    first.cancel_scope.cancel()  # the server stops before ada learns the result
                    await start_server(nursery, attrs.evolve(config, port=first.port))
                    await proxy.cut()
                assert isinstance(over, MatchOver) and over.outcome.winners == (0,)
                assert moved == [5]  # the original answer, not a second application
                final = await state_where(ada, room, lambda s: s.outcome is not None)
                assert final.version == 5 and final.outcome is not None
                assert final.outcome.winners == (0,)
                assert [ref.room_id for ref in ada.seats] == [room]
                assert ada.reconnects >= 1
            nursery.cancel_scope.cancel()
