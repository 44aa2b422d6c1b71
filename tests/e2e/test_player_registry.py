"""The server forgets players that are offline and hold no seat, and their tokens still work.

A real server, real WebSocket clients; the size of the player registry is read from
``gameserver_players_known`` on ``/metrics``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import trio

from gameserver.protocol.messages import (
    CreateRoom,
    JoinResult,
    JoinRoom,
    MatchOver,
    Move,
    MoveResult,
    SeatRef,
    Spectate,
)

from .conftest import RunningServer, make_config, open_client, start_server
from .test_http import http_get

# Long enough for a client on a busy machine to resume inside it, short for the test.
GRACE = 1.5


async def metrics(server: RunningServer) -> dict[str, float]:
    """Every unlabelled metric of the server's ``/metrics``."""
    status, _, body = await http_get(server.port, "/metrics")
    assert status == 200
    values = {}
    for line in body.decode().splitlines():
        if line and not line.startswith("#") and "{" not in line:
            name, value = line.split()
            values[name] = float(value)
    return values


async def until_metrics(
    server: RunningServer, condition: Callable[[dict[str, float]], bool], timeout: float = 15.0
) -> dict[str, float]:
    """Poll ``/metrics`` until ``condition`` holds; fail with the last values otherwise."""
    values: dict[str, float] = {}
    with trio.move_on_after(timeout):
        while not condition(values := await metrics(server)):
            await trio.sleep(0.05)
        return values
    raise AssertionError(f"metrics never reached the expected values: {values}")


async def test_the_registry_shrinks_back_once_seats_are_freed(tmp_path: Path) -> None:
    async with trio.open_nursery() as nursery:
        server = await start_server(nursery, make_config(tmp_path, grace_period=GRACE))
        assert (await metrics(server))["gameserver_players_known"] == 0

        # alice and bob play, dave watches them, carol waits alone, erin only said hello.
        alice = await open_client(server, nursery, "alice")
        bob = await open_client(server, nursery, "bob")
        carol = await open_client(server, nursery, "carol")
        dave = await open_client(server, nursery, "dave")
        erin = await open_client(server, nursery, "erin")
        played = (await alice.call(CreateRoom, JoinResult, game="connect4", players=2)).room
        await bob.call(JoinRoom, JoinResult, room_id=played.room_id)
        await carol.call(CreateRoom, JoinResult, game="tictactoe", players=2)
        await dave.call(Spectate, JoinResult, room_id=played.room_id)
        start = await alice.state(played.room_id)
        await alice.call(
            Move, MoveResult, room_id=played.room_id, version=start.version, move={"column": 3}
        )
        values = await metrics(server)
        assert values["gameserver_players_known"] == 5
        assert values["gameserver_players_connected"] == 5
        assert values["gameserver_rooms"] == 2

        ids = {name: client.player_id for name, client in
               (("alice", alice), ("bob", bob), ("carol", carol), ("dave", dave), ("erin", erin))}
        tokens = {name: client.token for name, client in
                  (("alice", alice), ("bob", bob), ("carol", carol), ("dave", dave), ("erin", erin))}
        for client in (alice, bob, carol, dave, erin):
            await client.ws.close()
        # bob comes back inside the grace period: he was kept, seat and all.
        bob = await open_client(server, nursery)
        again = await bob.hello("bob", tokens["bob"])
        assert again.resumed and again.player_id == ids["bob"]
        assert again.seats == (SeatRef(room_id=played.room_id, seat=1),)

        # erin and dave at once, carol and alice once their grace periods end: only the
        # connected bob is left, and alice's forfeit ended the match in his favour.
        values = await until_metrics(server, lambda v: v["gameserver_players_known"] == 1)
        assert values["gameserver_players_connected"] == 1
        assert values["gameserver_rooms"] == 1  # carol's waiting room closed
        over = await bob.wait_for(MatchOver, lambda m: m.room_id == played.room_id)
        assert over.outcome.winners == (1,)

        # bob disconnects from the finished room: nobody is kept, no room is open.
        await bob.ws.close()
        values = await until_metrics(server, lambda v: v["gameserver_players_known"] == 0)
        assert values["gameserver_rooms"] == 0 and values["gameserver_connections"] == 0

        # Forgotten players' tokens resume the same identities, with no seats ...
        alice = await open_client(server, nursery)
        back = await alice.hello("alice", tokens["alice"])
        assert back.resumed and back.player_id == ids["alice"] and back.seats == ()
        dave = await open_client(server, nursery)
        back = await dave.hello("dave", tokens["dave"])
        assert back.resumed and back.player_id == ids["dave"] and back.seats == ()
        assert (await metrics(server))["gameserver_players_known"] == 2

        # ... and they play on as before: a new match, seats shown under their old ids.
        room = (await alice.call(CreateRoom, JoinResult, game="connect4", players=2)).room
        joined = await dave.call(JoinRoom, JoinResult, room_id=room.room_id)
        assert [seat.player_id for seat in joined.room.seats] == [ids["alice"], ids["dave"]]
        first = await alice.state(room.room_id)
        moved = await alice.call(
            Move, MoveResult, room_id=room.room_id, version=first.version, move={"column": 0}
        )
        seen = await dave.state(room.room_id, lambda s: s.version == moved.version)
        assert seen.to_act == (1,) and seen.legal_moves
        nursery.cancel_scope.cancel()
