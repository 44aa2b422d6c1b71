"""Spectators, private rooms, quick match, the lobby, resuming and grace periods."""

from __future__ import annotations

from pathlib import Path

import trio

from gameserver.games.base import Termination
from gameserver.protocol.codec import decode_server_message
from gameserver.protocol.messages import (
    ChatMessage,
    CreateRoom,
    EmptyResult,
    JoinResult,
    JoinRoom,
    LeaveRoom,
    ListRooms,
    LobbyUpdate,
    MatchOver,
    Move,
    MoveResult,
    QuickMatch,
    Rematch,
    Resign,
    RoomsResult,
    RoomUpdate,
    RoomStatus,
    Chat,
    Spectate,
    WatchLobby,
)

from .conftest import RunningServer, make_config, open_client, seated_pair, start_server


async def test_spectators_see_the_public_view_live(server: RunningServer) -> None:
    async with trio.open_nursery() as nursery:
        alice = await open_client(server, nursery, "alice")
        bob = await open_client(server, nursery, "bob")
        watcher = await open_client(server, nursery, "watcher")
        room = (await alice.call(CreateRoom, JoinResult, game="liarsdice", players=2)).room
        await bob.call(JoinRoom, JoinResult, room_id=room.room_id)
        joined = await watcher.call(Spectate, JoinResult, room_id=room.room_id)
        assert joined.seat is None
        seen = await watcher.state(room.room_id)
        assert seen.seat is None and seen.legal_moves is None
        assert seen.view["dice"] is None and seen.view["you"] is None
        mine = await alice.state(room.room_id)
        assert mine.view["dice"] and mine.legal_moves
        await alice.call(
            Move, MoveResult, room_id=room.room_id, version=mine.version, move={"bid": [1, 2]}
        )
        live = await watcher.state(room.room_id, lambda s: s.version == 1)
        assert live.view["bid"] == [1, 2] and live.view["dice"] is None
        await watcher.call(Chat, EmptyResult, room_id=room.room_id, text="nice bid")
        said = await alice.wait_for(ChatMessage)
        assert said.text == "nice bid" and said.seat is None and said.name == "watcher"
        assert await watcher.fail(Move, room_id=room.room_id, version=1, move={"call": "liar"}) == "not_in_room"
        nursery.cancel_scope.cancel()


async def test_private_rooms_are_joined_by_invite_code_only(server: RunningServer) -> None:
    async with trio.open_nursery() as nursery:
        alice = await open_client(server, nursery, "alice")
        bob = await open_client(server, nursery, "bob")
        created = await alice.call(CreateRoom, JoinResult, game="tictactoe", players=2, private=True)
        code = created.invite_code
        assert code and created.room.private
        assert (await bob.call(ListRooms, RoomsResult)).rooms == ()
        assert await bob.fail(JoinRoom, room_id=created.room.room_id) == "room_not_found"
        assert await bob.fail(Spectate, room_id=created.room.room_id) == "room_not_found"
        assert await bob.fail(JoinRoom, invite_code="WRONGCODE") == "room_not_found"
        assert await bob.fail(JoinRoom, room_id="x", invite_code=code) == "invalid_field"
        joined = await bob.call(JoinRoom, JoinResult, invite_code=code.lower())
        assert joined.seat == 1 and joined.room.room_id == created.room.room_id
        state = await bob.state(created.room.room_id)
        assert state.seat == 1 and state.version == 0
        nursery.cancel_scope.cancel()


async def test_quick_match_pairs_players_and_the_lobby_updates_live(server: RunningServer) -> None:
    async with trio.open_nursery() as nursery:
        watcher = await open_client(server, nursery, "watcher")
        assert (await watcher.call(WatchLobby, RoomsResult, game="connect4")).rooms == ()
        alice = await open_client(server, nursery, "alice")
        bob = await open_client(server, nursery, "bob")
        first = await alice.call(QuickMatch, JoinResult, game="connect4", players=2)
        assert first.seat == 0 and first.room.status is RoomStatus.WAITING
        update = await watcher.wait_for(LobbyUpdate)
        assert update.rooms[0].room_id == first.room.room_id
        second = await bob.call(QuickMatch, JoinResult, game="connect4", players=2)
        assert second.room.room_id == first.room.room_id and second.seat == 1
        await watcher.wait_for(
            LobbyUpdate, lambda u: any(r.status is RoomStatus.PLAYING for r in u.rooms)
        )
        assert (await alice.state(first.room.room_id)).to_act == (0,)
        # a quick match for another game or size never lands in this room
        carol = await open_client(server, nursery, "carol")
        other = await carol.call(QuickMatch, JoinResult, game="connect4", players=2)
        assert other.room.room_id != first.room.room_id
        assert await carol.fail(QuickMatch, game="connect4", players=9) == "invalid_options"
        assert await carol.fail(ListRooms, game="go") == "unknown_game"
        listed = (await carol.call(ListRooms, RoomsResult, game="connect4")).rooms
        assert {r.room_id for r in listed} == {first.room.room_id, other.room.room_id}
        nursery.cancel_scope.cancel()


async def test_disconnect_and_resume_mid_match(server: RunningServer) -> None:
    async with trio.open_nursery() as nursery:
        alice = await open_client(server, nursery, "alice")
        bob = await open_client(server, nursery, "bob")
        room = (await alice.call(CreateRoom, JoinResult, game="tictactoe", players=2)).room
        rid = room.room_id
        await bob.call(JoinRoom, JoinResult, room_id=rid)
        await alice.call(Move, MoveResult, room_id=rid, version=0, move={"cell": 4})
        token = bob.token
        await bob.ws.close()
        offline = await alice.state(rid, lambda s: not s.seats[1].connected)
        assert offline.seats[1].name == "bob"
        # bob comes back on a new connection with his token
        bob2 = await open_client(server, nursery)
        hello = await bob2.hello("bob", token)
        assert hello.resumed and hello.player_id == bob.player_id
        assert [(s.room_id, s.seat) for s in hello.seats] == [(rid, 1)]
        snapshot = await bob2.state(rid)
        assert snapshot.version == 1 and snapshot.view["board"][4] == 0 and snapshot.to_act == (1,)
        # the move is retried with the same id: applied once, same reply
        move_id = await bob2.send(Move, room_id=rid, version=1, move={"cell": 0})
        first = await bob2.answer(move_id)
        await bob2.send(Move, id=move_id, room_id=rid, version=1, move={"cell": 0})
        again = await bob2.answer(move_id)
        assert first == again
        back = await alice.state(rid, lambda s: s.version == 2)
        assert back.seats[1].connected and back.view["board"][0] == 1
        # a second resume on yet another connection replaces bob2 ("resumed elsewhere")
        bob3 = await open_client(server, nursery)
        await bob3.hello("bob", hello.token)
        with trio.fail_after(5):
            while bob2.ws.closed is None:
                await trio.sleep(0.01)
        assert bob2.ws.closed.code == 1000 and bob2.ws.closed.reason == "resumed elsewhere"
        nursery.cancel_scope.cancel()


async def test_grace_period_expiry_forfeits_over_the_wire(tmp_path: Path) -> None:
    async with trio.open_nursery() as nursery:
        server = await start_server(nursery, make_config(tmp_path, grace_period=0.3))
        alice = await open_client(server, nursery, "alice")
        bob = await open_client(server, nursery, "bob")
        room = (await alice.call(CreateRoom, JoinResult, game="connect4", players=2)).room
        await bob.call(JoinRoom, JoinResult, room_id=room.room_id)
        await bob.ws.close()
        over = await alice.wait_for(MatchOver)
        assert over.outcome.winners == (0,) and over.outcome.reason == "forfeit"
        assert over.outcome.termination is Termination.FORFEIT
        # leaving after the end closes the room
        await alice.call(LeaveRoom, EmptyResult, room_id=room.room_id)
        assert await alice.fail(Chat, room_id=room.room_id, text="hi") == "room_not_found"
        nursery.cancel_scope.cancel()


async def test_clocks_are_shown_and_a_timeout_applies_the_game_rule(server: RunningServer) -> None:
    from gameserver.protocol.messages import ClockSettings

    async with trio.open_nursery() as nursery:
        alice = await open_client(server, nursery, "alice")
        bob = await open_client(server, nursery, "bob")
        room = (await alice.call(
            CreateRoom, JoinResult, game="tictactoe", players=2,
            clock=ClockSettings(initial_ms=60_000, increment_ms=500, per_move_ms=300),
        )).room
        assert room.clock is not None and room.clock.per_move_ms == 300
        await bob.call(JoinRoom, JoinResult, room_id=room.room_id)
        first = await alice.state(room.room_id)
        assert first.clock is not None
        assert first.clock.running == (0,) and first.clock.banks_ms == (60_000, 60_000)
        assert first.clock.move_ms is not None and 0 < first.clock.move_ms <= 300
        # alice lets her per-move limit run out: in tic-tac-toe that loses the match
        timed = await bob.state(room.room_id, lambda s: s.version == 1)
        assert timed.outcome is not None and timed.outcome.winners == (1,)
        assert timed.outcome.reason == "timeout" and timed.to_act == ()
        assert timed.outcome.termination is Termination.TIMEOUT
        assert timed.clock is not None and timed.clock.running == ()
        assert timed.clock.banks_ms is not None and 59_000 <= timed.clock.banks_ms[0] <= 59_700
        assert timed.clock.banks_ms[1] == 60_000
        nursery.cancel_scope.cancel()


async def test_the_latest_chat_comes_again_to_who_resumes_or_starts_watching(tmp_path: Path) -> None:
    async with trio.open_nursery() as nursery:
        server = await start_server(nursery, make_config(tmp_path, chat_history=3))
        alice = await open_client(server, nursery, "alice")
        bob = await open_client(server, nursery, "bob")
        rid = (await alice.call(CreateRoom, JoinResult, game="tictactoe", players=2)).room.room_id
        await bob.call(JoinRoom, JoinResult, room_id=rid)
        for text in ("one", "two", "three", "four"):
            await alice.call(Chat, EmptyResult, room_id=rid, text=text)
        live = [await bob.wait_for(ChatMessage) for _ in range(4)]
        assert [m.text for m in live] == ["one", "two", "three", "four"]
        first = live[0].seq
        assert [m.seq - first for m in live] == [0, 1, 2, 3]
        token = bob.token
        await bob.ws.close()
        await alice.state(rid, lambda s: not s.seats[1].connected)
        bob2 = await open_client(server, nursery, "bob", token)
        await bob2.state(rid)
        again = [await bob2.wait_for(ChatMessage) for _ in range(3)]
        # only the last ``chat_history`` lines, oldest first, after the state
        assert [(m.seq - first, m.text) for m in again] == [(1, "two"), (2, "three"), (3, "four")]
        kinds = [type(decode_server_message(raw)).__name__ for raw in bob2.raw]
        assert kinds.index("State") < kinds.index("ChatMessage")
        watcher = await open_client(server, nursery, "watcher")
        await watcher.call(Spectate, JoinResult, room_id=rid)
        seen = [await watcher.wait_for(ChatMessage) for _ in range(3)]
        assert [m.seq - first for m in seen] == [1, 2, 3]
        nursery.cancel_scope.cancel()


async def test_a_rematch_vote_shows_in_the_seat_for_the_others(server: RunningServer) -> None:
    async with trio.open_nursery() as nursery:
        alice, bob, rid = await seated_pair(server, nursery)
        await alice.call(Resign, EmptyResult, room_id=rid)
        await bob.wait_for(MatchOver)
        await alice.call(Rematch, EmptyResult, room_id=rid)
        update = await bob.wait_for(RoomUpdate, lambda u: u.room.seats[0].wants_rematch)
        assert update.room.status is RoomStatus.OVER and not update.room.seats[1].wants_rematch
        await bob.call(Rematch, EmptyResult, room_id=rid)
        fresh = await bob.state(rid, lambda s: s.match == 2)
        assert fresh.version == 0 and not any(seat.wants_rematch for seat in fresh.seats)
        nursery.cancel_scope.cancel()
