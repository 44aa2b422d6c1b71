"""Rated matches end to end: ratings change at the end, profiles and leaderboards show
them, and ``gameserver ratings rebuild`` reproduces the stored ratings exactly, also
after a kill -9 of a real ``gameserver serve`` right at the end of a rated match."""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import trio

from gameserver.protocol.messages import (
    AccountResult,
    Board,
    CreateRoom,
    EmptyResult,
    Error,
    JoinResult,
    JoinRoom,
    Leaderboard,
    LeaderboardResult,
    MatchOver,
    Move,
    MoveResult,
    Profile,
    ProfileResult,
    QuickMatch,
    RatingUpdate,
    Register,
    Reply,
    Resign,
)
from gameserver.protocol.codec import decode_result
from gameserver.store.sqlite import DATABASE_FILE

from .conftest import RunningServer, ServeProcess, WireClient, open_client
from .test_http import http_get

PASSWORD = "correct horse battery"


async def rated_match(first: WireClient, second: WireClient, *, first_wins: bool) -> str:
    """``first`` opens a rated connect-four room, ``second`` joins; ``first`` wins with
    four in a row or resigns. Returns the room id once both saw ``match_over``."""
    joined = await first.call(CreateRoom, JoinResult, game="connect4", players=2, rated=True)
    room_id = joined.room.room_id
    await second.call(JoinRoom, JoinResult, room_id=room_id)
    if first_wins:
        version = 0
        for column in (0, 1, 0, 1, 0, 1, 0):
            mover = first if version % 2 == 0 else second
            version = (await mover.call(
                Move, MoveResult, room_id=room_id, version=version, move={"column": column}
            )).version
    else:
        await first.state(room_id)
        await first.call(Resign, EmptyResult, room_id=room_id)
    for client in (first, second):
        await client.wait_for(MatchOver, lambda m: m.room_id == room_id)
    return room_id


async def register(
    server: RunningServer | ServeProcess, nursery: trio.Nursery, name: str
) -> WireClient:
    client = await open_client(server, nursery, name)
    await client.call(Register, AccountResult, password=PASSWORD)
    return client


def stored_ratings(data_dir: Path) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
    """Every rating and every rated match row, exactly as stored."""
    db = sqlite3.connect(data_dir / DATABASE_FILE)
    try:
        ratings = db.execute("SELECT * FROM ratings ORDER BY account_id, pool").fetchall()
        rows = db.execute("SELECT * FROM match_players ORDER BY match_id, seat").fetchall()
    finally:
        db.close()
    return ratings, rows


def rebuild(tmp_path: Path, data_dir: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "gameserver", "ratings", "rebuild",
         "--replays", str(tmp_path / "replays"), "--data", str(data_dir)],
        capture_output=True, text=True, timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("rated ")


async def test_a_rated_match_changes_ratings_and_shows_in_profiles(
    server: RunningServer, nursery: trio.Nursery, tmp_path: Path
) -> None:
    alice = await register(server, nursery, "Alice")
    bob = await register(server, nursery, "Bob")
    room_id = await rated_match(alice, bob, first_wins=True)
    for client in (alice, bob):
        update = await client.wait_for(RatingUpdate, lambda m: m.room_id == room_id)
        assert update.pool == "connect4" and update.match == 1
        winner, loser = update.changes
        assert winner.player_id == alice.player_id and loser.player_id == bob.player_id
        assert winner.before == loser.before == 1500.0
        assert winner.after > 1500.0 > loser.after
        assert winner.provisional and loser.provisional
    await rated_match(alice, bob, first_wins=False)
    await alice.wait_for(RatingUpdate)
    await bob.wait_for(RatingUpdate)

    profile = await bob.call(Profile, ProfileResult, player_id=alice.player_id)
    [rating] = profile.ratings
    assert (rating.wins, rating.draws, rating.losses) == (1, 0, 1)
    assert [point.match_id for point in profile.history] == [f"{room_id}-1", profile.recent[0].match_id]
    assert [match.result for match in profile.recent] == ["loss", "win"]
    assert profile.recent[1].opponents == (bob.player_id,)
    status, _, body = await http_get(server.port, f"/api/replays/{profile.recent[1].match_id}")
    assert status == 200 and json.loads(body)["header"]["id"] == profile.recent[1].match_id

    board = await alice.call(Leaderboard, LeaderboardResult, game="connect4")
    assert {entry.name for entry in board.entries} == {"Alice", "Bob"}
    assert board.entries[0].rating >= board.entries[1].rating
    assert (await alice.call(Leaderboard, LeaderboardResult, game="connect4", board=Board.BOTS)).entries == ()
    assert await alice.fail(Profile, player_id="nobody") == "unknown_account"

    # The same over HTTP, for pages without a game connection.
    status, headers, body = await http_get(server.port, "/api/leaderboard?game=connect4&board=humans")
    assert status == 200 and headers["content-type"].startswith("application/json")
    http_board = json.loads(body)
    assert http_board["pool"] == "connect4"
    assert [e["name"] for e in http_board["entries"]] == [e.name for e in board.entries]
    status, _, body = await http_get(server.port, f"/api/players/{alice.player_id}")
    assert status == 200 and len(json.loads(body)["recent"]) == 2
    for target, method, code, error in [
        ("/api/leaderboard", "GET", 400, "invalid_field"),
        ("/api/leaderboard?game=connect4&board=robots", "GET", 400, "invalid_field"),
        ("/api/leaderboard?game=connect4&limit=0", "GET", 400, "invalid_field"),
        ("/api/players/nobody", "GET", 404, "unknown_account"),
        ("/api/leaderboard?game=connect4", "POST", 405, "method_not_allowed"),
    ]:
        status, _, body = await http_get(server.port, target, method)
        assert (status, json.loads(body)["error"]) == (code, error), target


async def test_casual_rooms_change_no_rating(server: RunningServer, nursery: trio.Nursery) -> None:
    alice = await register(server, nursery, "Alice")
    bob = await register(server, nursery, "Bob")
    joined = await alice.call(CreateRoom, JoinResult, game="connect4", players=2)
    room_id = joined.room.room_id
    await bob.call(JoinRoom, JoinResult, room_id=room_id)
    await alice.state(room_id)
    await alice.call(Resign, EmptyResult, room_id=room_id)
    await alice.wait_for(MatchOver)
    profile = await alice.call(Profile, ProfileResult, player_id=alice.player_id)
    assert profile.ratings == () and profile.recent == ()
    assert not any(isinstance(m, RatingUpdate) for m in alice.buffer)


async def test_rebuild_reproduces_the_stored_ratings_exactly(tmp_path: Path) -> None:
    from .conftest import make_config, start_server

    config = make_config(tmp_path)
    async with trio.open_nursery() as nursery:
        server = await start_server(nursery, config)
        players = [await register(server, nursery, name) for name in ("Ann", "Ben", "Cy")]
        for index in range(6):
            first, second = players[index % 3], players[(index + 1) % 3]
            await rated_match(first, second, first_wins=index % 2 == 0)
            await first.wait_for(RatingUpdate)
        nursery.cancel_scope.cancel()
    stored = stored_ratings(config.data_dir)
    assert len(stored[1]) == 12
    rebuild(tmp_path, config.data_dir)
    assert stored_ratings(config.data_dir) == stored


async def test_kill_9_at_the_end_of_a_rated_match_then_restart_is_consistent(
    tmp_path: Path,
) -> None:
    async with ServeProcess(tmp_path) as serve:
        async with trio.open_nursery() as nursery:
            alice = await register(serve, nursery, "Alice")
            bob = await register(serve, nursery, "Bob")
            await rated_match(alice, bob, first_wins=True)
            await alice.wait_for(RatingUpdate)
            # Hold the database's write lock: the second match's rating update waits in
            # its transaction, where the kill finds it.
            blocker = sqlite3.connect(tmp_path / "data" / DATABASE_FILE)
            blocker.execute("BEGIN IMMEDIATE")
            await rated_match(bob, alice, first_wins=True)
            await trio.sleep(0.5)
            await serve.kill_9()
            blocker.rollback()
            blocker.close()
            assert len(stored_ratings(tmp_path / "data")[1]) == 2  # only the first match
            nursery.cancel_scope.cancel()
        await serve.start()  # rates what the kill left unrated
        async with trio.open_nursery() as nursery:
            client = await open_client(serve, nursery, "Carol")
            board = await client.call(Leaderboard, LeaderboardResult, game="connect4")
            assert [(e.wins, e.losses) for e in board.entries] == [(1, 1), (1, 1)]
            nursery.cancel_scope.cancel()
    data = tmp_path / "data"
    stored = stored_ratings(data)
    assert len(stored[1]) == 4
    copy = tmp_path / "rebuilt"
    shutil.copytree(data, copy)
    rebuild(tmp_path, copy)
    assert stored_ratings(copy) == stored


async def test_a_rated_quick_match_answers_once_an_opponent_comes(
    server: RunningServer, nursery: trio.Nursery
) -> None:
    alice = await register(server, nursery, "Alice")
    waiting = await alice.send(QuickMatch, game="connect4", players=2, rated=True)
    assert await alice.fail(QuickMatch, game="connect4", players=2, rated=True) == "already_in_room"
    assert not any(isinstance(m, (Reply, Error)) for m in alice.buffer)  # still waiting
    bob = await register(server, nursery, "Bob")
    joined = await bob.call(QuickMatch, JoinResult, game="connect4", players=2, rated=True)
    answer = await alice.answer(waiting)
    assert isinstance(answer, Reply)
    room = decode_result(JoinResult, answer.result).room
    assert room.room_id == joined.room.room_id and room.rated
    assert {seat.player_id for seat in joined.room.seats} == {alice.player_id, bob.player_id}
    anonymous = await open_client(server, nursery, "Anon")
    assert await anonymous.fail(QuickMatch, game="connect4", players=2, rated=True) == (
        "not_registered"
    )


async def test_a_rated_match_recovered_after_a_restart_is_still_rated(tmp_path: Path) -> None:
    from .conftest import make_config, start_server

    config = make_config(tmp_path)
    async with trio.open_nursery() as nursery:
        server = await start_server(nursery, config)
        alice = await register(server, nursery, "Alice")
        bob = await register(server, nursery, "Bob")
        joined = await alice.call(CreateRoom, JoinResult, game="connect4", players=2, rated=True)
        room_id = joined.room.room_id
        await bob.call(JoinRoom, JoinResult, room_id=room_id)
        for version, (mover, column) in enumerate([(alice, 0), (bob, 1)]):
            await mover.call(Move, MoveResult, room_id=room_id, version=version, move={"column": column})
        tokens = (alice.token, bob.token)
        ids = (alice.ids, bob.ids)
        nursery.cancel_scope.cancel()
    async with trio.open_nursery() as nursery:
        server = await start_server(nursery, config)
        alice = await open_client(server, nursery, "Alice", token=tokens[0])
        bob = await open_client(server, nursery, "Bob", token=tokens[1])
        # Request ids go on counting across the restart (docs/protocol.md section 4): the
        # restarted server answers a reused id of a logged move with that move's reply.
        alice.ids, bob.ids = ids
        state = await alice.state(room_id, lambda s: all(seat.connected for seat in s.seats))
        assert state.seats[0].account is not None and state.seats[1].account is not None
        version = state.version
        for mover, column in [(alice, 0), (bob, 1), (alice, 0), (bob, 1), (alice, 0)]:
            version = (await mover.call(
                Move, MoveResult, room_id=room_id, version=version, move={"column": column}
            )).version
        update = await alice.wait_for(RatingUpdate)
        assert update.changes[0].after > update.changes[1].after
        nursery.cancel_scope.cancel()
