"""At-most-once survives a crash: kill -9 a real ``gameserver serve``, restart it, resend.

On the wire: Alice's move is answered before the crash (the reply "got lost" on her
side); Bob's is in the log when the server dies, his reply never read. After the restart
both resume with their tokens and send the very same messages again: each gets its
original ``MoveResult``, not ``stale_version``, and neither move is applied a second time.

With the SDK: its move's reply is lost (a proxy drops what the server sends), the server
is killed once the move is in the log and restarted on the same port; the SDK reconnects,
resumes and resends the move by itself, and ``move()`` returns the original version.
"""

from __future__ import annotations

from pathlib import Path

import trio

from gameserver.client import Backoff, connect
from gameserver.protocol.messages import (
    Error,
    JoinResult,
    JoinRoom,
    Move,
    MoveResult,
    Reply,
)
from gameserver.protocol.codec import decode_result
from gameserver.replays.loader import load_match
from gameserver.replays.records import Moved
from gameserver.replays.simulate import resimulate

from support.proxy import Proxy

from .conftest import ServeProcess, WireClient, open_client, seated_pair

# Ids as the SDK makes them (counted up from the time in milliseconds).
ALICE_ID = 1_767_225_600_001
BOB_ID = 1_767_225_600_002


async def _logged_moves(path: Path, count: int) -> list[Moved]:
    """Wait until the log at ``path`` holds ``count`` moves; return them."""
    with trio.fail_after(10):
        while True:
            if path.exists():
                moves = [r for r in load_match(path).records if isinstance(r, Moved)]
                if len(moves) >= count:
                    return moves
            await trio.sleep(0.01)


async def _resend(client: WireClient, request_id: int, **fields: object) -> MoveResult:
    answer = await client.answer(await client.send(Move, id=request_id, **fields))
    assert not isinstance(answer, Error), f"the resent move got {answer.code}: {answer.message}"
    assert isinstance(answer, Reply)
    return decode_result(MoveResult, answer.result)


async def test_a_move_resent_after_kill_9_and_restart_gets_its_original_reply(
    tmp_path: Path,
) -> None:
    async with ServeProcess(tmp_path) as serve:
        async with trio.open_nursery() as nursery:
            alice, bob, room_id = await seated_pair(serve, nursery)
            log = tmp_path / "replays" / f"{room_id}-1.gsr"
            first = await alice.answer(
                await alice.send(Move, id=ALICE_ID, room_id=room_id, version=0, move={"cell": 4})
            )
            assert isinstance(first, Reply)
            assert decode_result(MoveResult, first.result) == MoveResult(version=1)
            # Bob's move: kill the server once it is in the log, without reading the reply.
            await bob.send(Move, id=BOB_ID, room_id=room_id, version=1, move={"cell": 0})
            moves = await _logged_moves(log, 2)
            assert [(m.seat, m.request_id) for m in moves] == [(0, ALICE_ID), (1, BOB_ID)]
            await serve.kill_9()
            tokens = (alice.token, bob.token)
            nursery.cancel_scope.cancel()

        await serve.start()
        async with trio.open_nursery() as nursery:
            alice = await open_client(serve, nursery)
            bob = await open_client(serve, nursery)
            assert (await alice.hello("alice", tokens[0])).resumed
            assert (await bob.hello("bob", tokens[1])).resumed
            assert (await alice.state(room_id)).version == 2
            again = await _resend(alice, ALICE_ID, room_id=room_id, version=0, move={"cell": 4})
            assert again == MoveResult(version=1)
            again = await _resend(bob, BOB_ID, room_id=room_id, version=1, move={"cell": 0})
            assert again == MoveResult(version=2)
            # Not applied twice: the match goes on from version 2 with a new request.
            third = await alice.call(Move, MoveResult, room_id=room_id, version=2, move={"cell": 8})
            assert third == MoveResult(version=3)
            await serve.kill_9()
            nursery.cancel_scope.cancel()

    loaded = load_match(log)
    moves = [r for r in loaded.records if isinstance(r, Moved)]
    assert [(m.version, m.move["cell"]) for m in moves] == [(1, 4), (2, 0), (3, 8)]
    assert moves[2].request_id not in (ALICE_ID, BOB_ID, None)
    assert resimulate(loaded).version == 3


async def test_the_sdk_resends_its_move_after_the_restart_and_gets_the_original_version(
    tmp_path: Path,
) -> None:
    async with ServeProcess(tmp_path) as serve:
        async with trio.open_nursery() as nursery:
            proxy = Proxy(serve.port)
            await nursery.start(proxy.serve)
            quick = Backoff(initial=0.05, maximum=0.5, max_attempts=None)
            async with connect(proxy.url, name="alice", backoff=quick) as alice:
                bob = await open_client(serve, nursery, "bob")
                room_id = (await alice.create_room("tictactoe", players=2)).room.room_id
                await bob.call(JoinRoom, JoinResult, room_id=room_id)
                log = tmp_path / "replays" / f"{room_id}-1.gsr"
                versions: list[int] = []

                async def move() -> None:
                    versions.append(await alice.move(room_id, {"cell": 4}, version=0))

                with trio.fail_after(30):  # hang guard only
                    async with trio.open_nursery() as moving:
                        proxy.drop_server_data = True  # the reply will not arrive
                        moving.start_soon(move)
                        (logged,) = await _logged_moves(log, 1)
                        await serve.kill_9()
                        proxy.drop_server_data = False
                        await serve.start(serve.port)
                assert versions == [1] and alice.reconnects >= 1
                assert alice.states[room_id].version == 1
            nursery.cancel_scope.cancel()
    moves = [r for r in load_match(log).records if isinstance(r, Moved)]
    assert moves == [logged] and logged.seat == 0 and logged.request_id is not None
