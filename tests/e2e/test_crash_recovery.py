"""kill -9 a real ``gameserver serve`` mid-match, restart it, resume and finish."""

from __future__ import annotations

from pathlib import Path

import trio

from gameserver.protocol.messages import (
    CreateRoom,
    JoinResult,
    JoinRoom,
    MatchOver,
    Move,
    MoveResult,
)
from gameserver.replays.loader import load_match
from gameserver.replays.simulate import resimulate

from .conftest import ServeProcess, WireClient, open_client


async def test_kill_9_mid_match_then_restart_resume_and_finish(tmp_path: Path) -> None:
    async with ServeProcess(tmp_path) as serve:
        async with trio.open_nursery() as nursery:
            alice = await open_client(serve, nursery, "alice")
            bob = await open_client(serve, nursery, "bob")
            room_id = (await alice.call(CreateRoom, JoinResult, game="connect4", players=2)).room.room_id
            await bob.call(JoinRoom, JoinResult, room_id=room_id)
            version = 0
            for column in (0, 1, 0, 1):
                mover = alice if version % 2 == 0 else bob
                version = (await mover.call(
                    Move, MoveResult, room_id=room_id, version=version, move={"column": column}
                )).version
            tokens = (alice.token, bob.token)
            await serve.kill_9()
            nursery.cancel_scope.cancel()

        await serve.start()
        async with trio.open_nursery() as nursery:
            alice2: WireClient = await open_client(serve, nursery)
            bob2: WireClient = await open_client(serve, nursery)
            # Request ids go on counting across the restart (docs/protocol.md section 4):
            # the restarted server remembers the ids of the moves in its log.
            alice2.ids, bob2.ids = alice.ids, bob.ids
            hello_a = await alice2.hello("alice", tokens[0])
            hello_b = await bob2.hello("bob", tokens[1])
            assert hello_a.resumed and [(s.room_id, s.seat) for s in hello_a.seats] == [(room_id, 0)]
            assert hello_b.resumed and [(s.room_id, s.seat) for s in hello_b.seats] == [(room_id, 1)]
            state = await alice2.state(room_id)
            assert state.version == 4 and state.to_act == (0,)
            bottom = state.view["board"][-1]
            assert bottom[:2] == [0, 1] and state.view["board"][-2][:2] == [0, 1]
            for column in (0, 1, 0):  # alice completes four in column 0
                mover = alice2 if version % 2 == 0 else bob2
                version = (await mover.call(
                    Move, MoveResult, room_id=room_id, version=version, move={"column": column}
                )).version
            over = await bob2.wait_for(MatchOver)
            assert over.outcome.winners == (0,)
            nursery.cancel_scope.cancel()
        assert await serve.stop() == 0
    loaded = load_match(tmp_path / "replays" / f"{room_id}-1.gsr")
    assert loaded.complete and loaded.moves == 7
    resimulate(loaded)  # raises on any state-hash mismatch


async def test_kill_9_as_a_match_ends_then_restart_the_loser_resumes_and_sees_the_result(
    tmp_path: Path,
) -> None:
    # Alice's winning move is answered (so the end is in the log); the server dies before
    # Bob reads anything of it. After the restart Bob still holds his seat in the
    # finished room and gets its final state.
    async with ServeProcess(tmp_path) as serve:
        async with trio.open_nursery() as nursery:
            alice = await open_client(serve, nursery, "alice")
            bob = await open_client(serve, nursery, "bob")
            room_id = (await alice.call(CreateRoom, JoinResult, game="connect4", players=2)).room.room_id
            await bob.call(JoinRoom, JoinResult, room_id=room_id)
            version = 0
            for column in (0, 1, 0, 1, 0, 1, 0):  # four in column 0 for alice
                mover = alice if version % 2 == 0 else bob
                version = (await mover.call(
                    Move, MoveResult, room_id=room_id, version=version, move={"column": column}
                )).version
            await serve.kill_9()
            nursery.cancel_scope.cancel()
        assert load_match(tmp_path / "replays" / f"{room_id}-1.gsr").complete

        await serve.start()
        async with trio.open_nursery() as nursery:
            bob2 = await open_client(serve, nursery)
            hello = await bob2.hello("bob", bob.token)
            assert hello.resumed and [(s.room_id, s.seat) for s in hello.seats] == [(room_id, 1)]
            final = await bob2.state(room_id)
            assert final.version == 7 and final.outcome is not None
            assert final.outcome.winners == (0,)
            nursery.cancel_scope.cancel()
