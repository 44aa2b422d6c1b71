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

import os
import signal
from pathlib import Path

import trio

from gameserver.client import Backoff, connect
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


class Relay:
    """Forwards TCP connections to a server port that may be down for a while (then a
    connection just closes, as if refused); while ``drop_replies`` is set, whatever the
    server sends is thrown away."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = 0
        self.drop_replies = False

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws"

    async def serve(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        listeners = await trio.open_tcp_listeners(0, host="127.0.0.1")
        self.port = listeners[0].socket.getsockname()[1]
        task_status.started()
        await trio.serve_listeners(self._handle, listeners)

    async def _handle(self, client: trio.SocketStream) -> None:
        try:
            server = await trio.open_tcp_stream("127.0.0.1", self.target_port)
        except OSError:
            await trio.aclose_forcefully(client)
            return
        async with trio.open_nursery() as nursery:
            nursery.start_soon(self._pipe, client, server, False)
            nursery.start_soon(self._pipe, server, client, True)

    async def _pipe(
        self, source: trio.SocketStream, sink: trio.SocketStream, replies: bool
    ) -> None:
        try:
            while data := await source.receive_some(65536):
                if not (replies and self.drop_replies):
                    await sink.send_all(data)
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            pass
        finally:
            await trio.aclose_forcefully(sink)
            await trio.aclose_forcefully(source)


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
    assert [(m.version, m.move["cell"]) for m in moves] == [(1, 4), (2, 0), (3, 8)]
    assert moves[2].request_id not in (ALICE_ID, BOB_ID, None)
    assert resimulate(loaded).version == 3


async def test_the_sdk_resends_its_move_after_the_restart_and_gets_the_original_version(
    tmp_path: Path,
) -> None:
    process, port = await start_serve(tmp_path)
    try:
        async with trio.open_nursery() as nursery:
            relay = Relay(port)
            await nursery.start(relay.serve)
            quick = Backoff(initial=0.05, maximum=0.5, max_attempts=None)
            async with connect(relay.url, name="alice", backoff=quick) as alice:
                server = RunningServer(port, None, trio.CancelScope())  # type: ignore[arg-type]
                bob = await open_client(server, nursery, "bob")
                room_id = (await alice.create_room("tictactoe", players=2)).room.room_id
                await bob.call(JoinRoom, JoinResult, room_id=room_id)
                log = tmp_path / "replays" / f"{room_id}-1.gsr"
                versions: list[int] = []

                async def move() -> None:
                    versions.append(await alice.move(room_id, {"cell": 4}, version=0))

                with trio.fail_after(30):  # hang guard only
                    async with trio.open_nursery() as moving:
                        relay.drop_replies = True  # the reply will not arrive
                        moving.start_soon(move)
                        (logged,) = await _logged_moves(log, 1)
                        await _kill_9(process)
                        relay.drop_replies = False
                        process, _ = await start_serve(tmp_path, port)
                assert versions == [1] and alice.reconnects >= 1
                assert alice.states[room_id].version == 1
            nursery.cancel_scope.cancel()
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    moves = [r for r in load_match(log).records if isinstance(r, Moved)]
    assert moves == [logged] and logged.seat == 0 and logged.request_id is not None
