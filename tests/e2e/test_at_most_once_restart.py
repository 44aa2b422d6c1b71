"""At-most-once survives a crash: kill -9 a real ``gameserver serve``, restart it, resend.

Alice's move is answered before the crash (the reply "got lost" on her side); Bob's is
in the log when the server dies, his reply never read. After the restart both resume
with their tokens and send the very same messages again: each gets its original
``MoveResult``, not ``stale_version``, and neither move is applied a second time.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

import trio

from gameserver.protocol.messages import (
    CreateRoom,
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

from .conftest import RunningServer, WireClient, open_client
from .test_crash_recovery import start_serve

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


async def _kill_9(process: trio.Process) -> None:
    os.kill(process.pid, signal.SIGKILL)
    await process.wait()


async def _resend(client: WireClient, request_id: int, **fields: object) -> MoveResult:
    answer = await client.answer(await client.send(Move, id=request_id, **fields))
    assert not isinstance(answer, Error), f"the resent move got {answer.code}: {answer.message}"
    assert isinstance(answer, Reply)
    return decode_result(MoveResult, answer.result)


async def test_a_move_resent_after_kill_9_and_restart_gets_its_original_reply(
    tmp_path: Path,
) -> None:
    process, port = await start_serve(tmp_path)
    try:
        server = RunningServer(port, None, trio.CancelScope())  # type: ignore[arg-type]
        async with trio.open_nursery() as nursery:
            alice = await open_client(server, nursery, "alice")
            bob = await open_client(server, nursery, "bob")
            joined = await alice.call(CreateRoom, JoinResult, game="tictactoe", players=2)
            room_id = joined.room.room_id
            await bob.call(JoinRoom, JoinResult, room_id=room_id)
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
            await _kill_9(process)
            tokens = (alice.token, bob.token)
            nursery.cancel_scope.cancel()
    finally:
        if process.returncode is None:
            process.kill()

    process, port = await start_serve(tmp_path)
    try:
        server = RunningServer(port, None, trio.CancelScope())  # type: ignore[arg-type]
        async with trio.open_nursery() as nursery:
            alice = await open_client(server, nursery)
            bob = await open_client(server, nursery)
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
            await _kill_9(process)
            nursery.cancel_scope.cancel()
    finally:
        if process.returncode is None:
            process.kill()

    loaded = load_match(log)
    moves = [r for r in loaded.records if isinstance(r, Moved)]
    assert [(m.version, m.move) for m in moves] == [(1, {"cell": 4}), (2, {"cell": 0}), (3, {"cell": 8})]
    assert moves[2].request_id not in (ALICE_ID, BOB_ID, None)
    assert resimulate(loaded).version == 3
