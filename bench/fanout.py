"""Fan-out benchmark: one connect-four room watched by 1, 10, 100 and 1,000 spectators.

For every move we time from the moment the mover's ``move`` request is written until
the *last* spectator has received the resulting ``state`` message, and report p50 and
p99 over many moves. The same broadcast is measured against a reference server written
with the ``websockets`` library (asyncio): it speaks the same requests, applies moves
with the same rules module and encodes the same ``State`` messages (one encoding per
distinct view, like ours), then sends the spectators' copy with
``websockets.asyncio.server.broadcast``. So the difference between the two is the
transport and the room machinery, not the game.

Each server runs in its own process pinned to core 0 (``gameserver serve --no-replays``:
we measure fan-out, not the disk); this load generator is pinned to core 1 and drives
every connection through one ``selectors`` loop over raw sockets (``bench/rawws.py``),
so its cost per message is small and the same for both servers. Moves are random legal
moves; a finished match is followed by a rematch (not timed).

Run: ``python bench/fanout.py`` (about a minute); ``--quick`` for a smoke run that
leaves the docs alone. The table and plot go into docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import selectors
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import msgpack  # noqa: E402

import rawws  # noqa: E402
from rawws import RawWebSocket, percentile, request_frame  # noqa: E402

SPECTATORS = [1, 10, 100, 1000]
SERVERS = ["gameserver", "websockets"]
MARKER_START = "<!-- fanout-benchmark:start -->"
MARKER_END = "<!-- fanout-benchmark:end -->"
# A spectator's state message, recognised without decoding it: msgpack fixstr "state".
STATE_TAG = b"\xa5state"


# --- the reference server (run as ``python bench/fanout.py --serve-reference``) ---------


def serve_reference() -> None:
    """One connect-four room over ``websockets``: the same messages as gameserver."""
    from websockets.asyncio.server import ServerConnection, broadcast, serve
    from websockets.exceptions import ConnectionClosed

    from gameserver.games.registry import get_game
    from gameserver.protocol.codec import encode
    from gameserver.protocol.messages import (
        JoinResult,
        MoveResult,
        OutcomeInfo,
        Reply,
        RoomStatus,
        RoomSummary,
        SeatInfo,
        SeatKind,
        State,
    )
    from gameserver.rooms.match import Match

    game = get_game("connect4")
    players: list[ServerConnection] = []
    spectators: set[ServerConnection] = set()
    room: dict[str, object] = {"match": None, "number": 0, "rematch": set()}

    def seats() -> tuple[SeatInfo, ...]:
        return tuple(
            SeatInfo(seat=i, kind=SeatKind.HUMAN, name=f"p{i}", player_id=f"p{i}", connected=True)
            for i in range(len(players))
        )

    def summary() -> RoomSummary:
        return RoomSummary(
            room_id="r1", game="connect4", players=2, seats=seats(), status=RoomStatus.PLAYING,
            private=False, spectators=len(spectators), options={}, clock=None,
            match=int(room["number"]),  # type: ignore[call-overload]
        )

    def state_for(seat: int | None) -> bytes:
        match = room["match"]
        assert isinstance(match, Match)
        to_act = match.to_act()
        outcome = match.outcome
        return encode(
            State(
                room_id="r1", match=int(room["number"]),  # type: ignore[call-overload]
                version=match.version, seat=seat, view=match.view(seat),
                to_act=tuple(sorted(to_act)),
                legal_moves=tuple(match.legal_moves(seat)) if seat in to_act else None,
                seats=seats(), clock=None,
                outcome=None if outcome is None else OutcomeInfo(
                    winners=tuple(outcome.winners), draw=outcome.draw, scores=None,
                    reason=outcome.reason, termination=outcome.termination,
                ),
            )
        )

    async def push_states() -> None:
        for seat, ws in enumerate(players):
            await ws.send(state_for(seat))
        if spectators:
            broadcast(spectators, state_for(None))

    async def start_match() -> None:
        room["number"] = int(room["number"]) + 1  # type: ignore[call-overload]
        room["match"] = Match(game, 2, {}, random.getrandbits(63))
        room["rematch"] = set()
        await push_states()

    async def reply(ws: ServerConnection, request_id: int, result: object) -> None:
        await ws.send(encode(Reply(id=request_id, result=result)))  # type: ignore[arg-type]

    async def handler(ws: ServerConnection) -> None:
        try:
            async for data in ws:
                request = msgpack.unpackb(data)
                kind, request_id = request["type"], request["id"]
                if kind == "hello":
                    await ws.send(msgpack.packb({"type": "reply", "id": request_id, "result": {}}))
                elif kind in ("create_room", "join_room"):
                    players.append(ws)
                    seat = len(players) - 1
                    await reply(ws, request_id, JoinResult(room=summary(), seat=seat))
                    if len(players) == 2:
                        await start_match()
                elif kind == "spectate":
                    spectators.add(ws)
                    await reply(ws, request_id, JoinResult(room=summary(), seat=None))
                    if room["match"] is not None:
                        await ws.send(state_for(None))
                elif kind == "move":
                    match = room["match"]
                    assert isinstance(match, Match)
                    match.apply(players.index(ws), request["move"])
                    await reply(ws, request_id, MoveResult(version=match.version))
                    await push_states()
                elif kind == "rematch":
                    rematch = room["rematch"]
                    assert isinstance(rematch, set)
                    rematch.add(ws)
                    await ws.send(msgpack.packb({"type": "reply", "id": request_id, "result": {}}))
                    if len(rematch) == 2:
                        await start_match()
        except ConnectionClosed:
            pass  # the load generator hangs up without a close frame when a run ends
        finally:
            spectators.discard(ws)

    async def main() -> None:
        async with serve(
            handler, "127.0.0.1", 0, compression=None, ping_interval=None,
            subprotocols=["gameserver.v1"],  # type: ignore[list-item]
        ) as server:
            print(f"ready {next(iter(server.sockets)).getsockname()[1]}", flush=True)
            await asyncio.Future()

    asyncio.run(main())


def start_reference() -> tuple[subprocess.Popen[str], int]:
    return rawws.start_script_server(__file__, "--serve-reference", what="reference server")


# --- the load generator -----------------------------------------------------------------


class Driver:
    """Two players and N spectators in one room, all in one selector loop."""

    def __init__(self, port: int, spectators: int) -> None:
        self.port = port
        self.selector = selectors.DefaultSelector()
        self.next_id = 1
        self.players = [self._connect(), self._connect()]
        self.latest: list[dict[str, object] | None] = [None, None]
        self.replies: dict[int, dict[str, object]] = {}
        self.room_id = ""
        self.spectators: list[RawWebSocket] = []
        self.count = spectators
        self.rng = random.Random(7)

    def _connect(self) -> RawWebSocket:
        ws = RawWebSocket.connect(self.port)
        self.selector.register(ws.sock, selectors.EVENT_READ, ws)
        return ws

    def _request(self, ws: RawWebSocket, message: dict[str, object]) -> int:
        request_id = self.next_id
        self.next_id += 1
        ws.send(request_frame({**message, "id": request_id}))
        return request_id

    def _call(self, ws: RawWebSocket, message: dict[str, object]) -> dict[str, object]:
        request_id = self._request(ws, message)
        self.pump(lambda: request_id in self.replies, 10.0)
        reply = self.replies.pop(request_id)
        if reply.get("type") != "reply":
            raise RuntimeError(f"request {message} failed: {reply}")
        return reply

    def pump(self, done: object, timeout: float, on_spectator: object = None) -> None:
        """Run the selector loop until ``done()``; route every message."""
        deadline = time.perf_counter() + timeout
        players = self.players
        while not done():  # type: ignore[operator]
            if time.perf_counter() > deadline:
                raise RuntimeError("timed out")
            for key, _ in self.selector.select(1.0):
                ws: RawWebSocket = key.data
                if not ws.receive_available():
                    if ws.closed:
                        raise RuntimeError("the server closed a connection")
                    continue
                messages, ws.messages = ws.messages, []
                if ws is players[0] or ws is players[1]:
                    seat = 0 if ws is players[0] else 1
                    for raw in messages:
                        message = msgpack.unpackb(raw)
                        kind = message.get("type")
                        if kind in ("reply", "error") and message.get("id") is not None:
                            self.replies[message["id"]] = message
                        elif kind == "state":
                            self.latest[seat] = message
                elif on_spectator is not None:
                    for raw in messages:
                        if STATE_TAG in raw:
                            on_spectator(ws)  # type: ignore[operator]

    def setup(self) -> None:
        first, second = self.players
        self._call(first, {"type": "hello", "name": "alice"})
        self._call(second, {"type": "hello", "name": "bob"})
        created = self._call(first, {"type": "create_room", "game": "connect4", "players": 2})
        self.room_id = created["result"]["room"]["room_id"]  # type: ignore[index]
        self._call(second, {"type": "join_room", "room_id": self.room_id})
        self.pump(lambda: all(s is not None for s in self.latest), 10.0)
        # Spectators: connect in batches, pipelining hello and spectate behind the handshake.
        got_state: set[RawWebSocket] = set()
        batch = 100
        for start in range(0, self.count, batch):
            group = []
            for _ in range(min(batch, self.count - start)):
                ws = RawWebSocket.connect(self.port)
                ws.send(request_frame({"type": "hello", "id": 1, "name": "watcher"}))
                ws.send(request_frame({"type": "spectate", "id": 2, "room_id": self.room_id}))
                self.selector.register(ws.sock, selectors.EVENT_READ, ws)
                group.append(ws)
            self.spectators += group
            self.pump(lambda: len(got_state) == len(self.spectators), 30.0, got_state.add)

    def mover(self) -> int | None:
        """The index in ``players`` of the player to move (a rematch rotates the seats,
        so player 0 is not always seat 0); None when the match is over."""
        state = self.latest[0]
        assert state is not None
        if state.get("outcome") is not None:
            return None
        seat = int(state["to_act"][0])  # type: ignore[index]
        return next(i for i, mine in enumerate(self.latest) if mine is not None and mine["seat"] == seat)

    def run(self, moves: int, warmup: int) -> list[float]:
        """Play ``warmup`` + ``moves`` moves; return the timed fan-out latencies (s)."""
        latencies: list[float] = []
        received: set[RawWebSocket] = set()
        total = len(self.spectators)
        played = 0
        while played < moves + warmup:
            seat = self.mover()
            if seat is None:
                self._rematch(received)
                continue
            state = self.latest[seat]
            assert state is not None
            version = int(state["version"])  # type: ignore[call-overload]
            move = self.rng.choice(state["legal_moves"])  # type: ignore[arg-type]
            received.clear()
            message = {"type": "move", "room_id": self.room_id, "version": version, "move": move}
            frame = request_frame({**message, "id": self.next_id})
            self.next_id += 1
            started = time.perf_counter()
            self.players[seat].send(frame)
            self.pump(lambda: len(received) == total, 10.0, received.add)
            elapsed = time.perf_counter() - started
            self.pump(lambda: all(int(s["version"]) > version for s in self.latest), 10.0)  # type: ignore[index, call-overload]
            played += 1
            if played > warmup:
                latencies.append(elapsed)
        return latencies

    def _rematch(self, received: set[RawWebSocket]) -> None:
        received.clear()
        match = int(self.latest[0]["match"])  # type: ignore[index, call-overload]
        for ws in self.players:
            self._request(ws, {"type": "rematch", "room_id": self.room_id})
        self.pump(
            lambda: len(received) == len(self.spectators)
            and all(int(s["match"]) > match for s in self.latest),  # type: ignore[index, call-overload]
            10.0,
            received.add,
        )

    def close(self) -> None:
        for ws in self.players + self.spectators:
            ws.close()
        self.selector.close()


def measure(port: int, spectators: int, moves: int) -> dict[str, float]:
    driver = Driver(port, spectators)
    try:
        driver.setup()
        latencies = sorted(driver.run(moves, warmup=10))
    finally:
        driver.close()
    return {
        "p50": percentile(latencies, 50) * 1000,
        "p99": percentile(latencies, 99) * 1000,
        "max": latencies[-1] * 1000,
        "moves": len(latencies),
    }


# --- report -----------------------------------------------------------------------------


def write_report(results: dict[tuple[str, int], dict[str, float]], moves: int) -> str:
    lines = [
        MARKER_START,
        "## Fan-out to spectators",
        "",
        "`python bench/fanout.py`: one connect-four room, two players and N spectators. Each",
        "cell is the time from writing a `move` request to the *last* spectator receiving the",
        f"new `state` (p50 / p99 over {moves} random moves, after 10 untimed ones). The",
        "reference is the same room written with `websockets` (asyncio) and its `broadcast`:",
        "same requests, same rules module, same `State` encoding (once per distinct view).",
        "Server pinned to core 0 (`--no-replays`: the disk is not measured here), this raw-",
        "socket load generator to core 1; its own cost of reading N sockets is inside the",
        "figure for both servers.",
        "",
        f"Machine: {machine()}.",
        "",
        "| spectators | gameserver p50 ms | gameserver p99 ms | websockets p50 ms "
        "| websockets p99 ms | p99 ratio (ws / ours) |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    for count in SPECTATORS:
        ours, ref = results["gameserver", count], results["websockets", count]
        lines.append(
            f"| {count:,} | {ours['p50']:.2f} | {ours['p99']:.2f} | {ref['p50']:.2f} "
            f"| {ref['p99']:.2f} | {ref['p99'] / ours['p99']:.2f}x |"
        )
    target = results["gameserver", 1000]["p99"]
    verdict = "met" if target < 25 else "NOT met"
    lines += [
        "",
        f"Target: 1,000 spectators p99 < 25 ms on one core: {target:.1f} ms, {verdict}.",
        "",
        "![Fan-out p99 by spectators](fanout.png)",
        MARKER_END,
    ]
    return "\n".join(lines) + "\n"


def machine() -> str:
    import platform
    from importlib.metadata import version

    model = "unknown CPU"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    return (
        f"{os.cpu_count()} CPUs ({model}), Linux {platform.release()}, "
        f"Python {platform.python_version()}, trio {version('trio')}, "
        f"websockets {version('websockets')}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--serve-reference", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--quick", action="store_true", help="short run; docs are not updated")
    parser.add_argument("--moves", type=int, default=300, help="timed moves per cell")
    parser.add_argument("--servers", nargs="+", default=SERVERS, choices=SERVERS)
    parser.add_argument("--spectators", nargs="+", type=int, default=SPECTATORS)
    args = parser.parse_args()
    if args.serve_reference:
        serve_reference()
        return 0
    os.sched_setaffinity(0, {rawws.CLIENT_CORE})
    rawws.raise_nofile(30000)
    moves = 40 if args.quick else args.moves
    results: dict[tuple[str, int], dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as data_dir:
        for count in args.spectators:
            for name in args.servers:
                # A fresh server per cell: no leftover rooms or connections.
                if name == "gameserver":
                    process, port = rawws.start_gameserver(
                        "--no-compression", "--ping-interval", "0", "--rate", "100000",
                        "--burst", "100000", data_dir=Path(data_dir),
                    )
                else:
                    process, port = start_reference()
                try:
                    result = measure(port, count, moves)
                finally:
                    process.terminate()
                    process.wait(10)
                results[name, count] = result
                print(
                    f"{name:11} {count:5} spectators: p50 {result['p50']:7.2f} ms  "
                    f"p99 {result['p99']:7.2f} ms  max {result['max']:7.2f} ms",
                    flush=True,
                )
    if set(args.servers) == set(SERVERS) and set(args.spectators) == set(SPECTATORS):
        section = write_report(results, moves)
        print(section)
        if not args.quick:
            from plot import bar_chart, update_docs

            groups = [
                (f"{count}", [results["gameserver", count]["p99"], results["websockets", count]["p99"]])
                for count in SPECTATORS
            ]
            bar_chart(
                ROOT / "docs" / "fanout.png", "fan-out p99 ms by spectators", groups,
                ["gameserver", "websockets"], log_scale=True,
            )
            update_docs(section, MARKER_START, MARKER_END)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
