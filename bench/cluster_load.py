"""Cluster load benchmark: server CPU per move of one cluster node against one single
process, under the same raw-socket connect-four load (issue 17, "Benchmarks").

Starts its own ``redis-server`` (``appendonly yes``, ``appendfsync always``, a free
loopback port, files in a temporary directory under ``--dir``), then plays interleaved
rounds; each round measures, one after the other:

- ``single``: ``gameserver serve`` recording match logs to files with ``--fsync always``;
- ``cluster``: ``gameserver serve --redis URL`` (one node, every player connected to it),
  its match logs appended to Redis (fdatasync'ed by Redis before it replies).

Both get ``--matches`` instant connect-four matches of two raw-socket players
(``gameload.run_raw``: each player moves the moment its state arrives, rematches at the
end) for ``--seconds``. Servers and Redis are pinned to core 0, the players to core 1.
Reported per round: moves/s, the server's CPU per move (user + system from /proc), and
Redis's own CPU per move over the same period; then medians and the ratio of the
node's CPU per move to the single process's (the issue's goal: at most 1.5x), with and
without Redis's share. Redis is emptied (``FLUSHALL``) between rounds.

Run: ``.venv/bin/python bench/cluster_load.py`` (about two minutes); ``--quick`` for a
short smoke run.
"""

from __future__ import annotations

import argparse
import os
import re
import select
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgpack

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import gameload  # noqa: E402
import rawws  # noqa: E402

# No rate limit: instant players may send faster than a person would.
_UNLIMITED = ("--rate", "1000000", "--burst", "1000000")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _redis_command(port: int, command: bytes) -> bytes:
    """Send one inline command to Redis on ``port``; return the start of its answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as conn:
        conn.sendall(command + b"\r\n")
        return conn.recv(256)


def _command_calls(port: int) -> dict[str, int]:
    """Calls so far of each Redis command (``INFO commandstats``)."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as conn:
        conn.sendall(b"INFO commandstats\r\n")
        text = b""
        while not text.endswith(b"\r\n\r\n"):
            chunk = conn.recv(65536)
            if not chunk:
                break
            text += chunk
    return {name.decode(): int(calls) for name, calls in re.findall(rb"cmdstat_([^:]+):calls=(\d+)", text)}


def start_redis(directory: Path) -> tuple[subprocess.Popen[bytes], int]:
    """A durable ``redis-server`` pinned to the server core; the caller kills it."""
    executable = shutil.which("redis-server")
    if executable is None:
        raise SystemExit("redis-server is not installed")
    port = _free_port()
    process = subprocess.Popen(
        [executable, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(directory),
         "--appendonly", "yes", "--appendfsync", "always", "--save", "",
         "--logfile", str(directory / "redis.log")],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        preexec_fn=lambda: os.sched_setaffinity(0, {rawws.SERVER_CORE}),
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if _redis_command(port, b"PING").startswith(b"+PONG"):
                return process, port
        except OSError:
            time.sleep(0.05)
    process.kill()
    raise SystemExit("redis-server did not start")


def measure(
    kind: str, extra: tuple[str, ...], redis: subprocess.Popen[bytes], port: int,
    args: argparse.Namespace, tmp: Path,
) -> dict[str, float]:
    """One ``run_raw`` against a fresh server of ``kind``; adds Redis's CPU per move."""
    directory = Path(tempfile.mkdtemp(prefix=f"{kind}-", dir=tmp))
    server = gameload._start_recording(
        directory / "replays", directory, fsync="always", extra=(*_UNLIMITED, *extra)
    )
    redis_cpu: list[float] = []
    commands: list[dict[str, int]] = []

    def read_redis() -> None:
        redis_cpu.append(rawws.cpu_seconds(redis.pid))
        commands.append(_command_calls(port))

    def on_measure() -> None:
        # run_raw measures for ``seconds`` from this call: read Redis at both ends.
        read_redis()
        threading.Timer(args.seconds, read_redis).start()

    try:
        result = gameload.run_raw(
            args.matches, args.seconds, directory, server=server, on_measure=on_measure
        )
    finally:
        server[0].terminate()
        server[0].wait(30)
    time.sleep(0.2)  # the timer has fired by now (run_raw returned after the period)
    moves = result["moves_per_second"] * args.seconds
    result["redis_cpu_per_move_us"] = (redis_cpu[1] - redis_cpu[0]) / max(1, moves) * 1e6
    calls = {name: n - commands[0].get(name, 0) for name, n in commands[1].items()}
    calls["info"] = calls.get("info", 0) - 1  # ours, at the start of the period
    result["redis_calls_per_move"] = sum(calls.values()) / max(1, moves)
    for name, count in calls.items():
        if count > 0:
            result[f"calls_{name}"] = count / max(1, moves)
    shutil.rmtree(directory, ignore_errors=True)
    return result


# --- failover: from kill -9 of a room's owner to the first move its new owner applies ---

#: After this long without a state, a player who resumed after the kill asks for its
#: room's state (``sync``): a fallback, the new owner sends a snapshot when it takes over.
SYNC_EVERY = 2.0


class _Player:
    """One raw-socket player of the failover run: its connection and what it last saw."""

    def __init__(self, port: int) -> None:
        self.ws = rawws.RawWebSocket.connect(port)
        self.token = ""
        self.state: dict[str, Any] | None = None
        self.replies: dict[int, dict[str, Any]] = {}
        self.errors: list[dict[str, Any]] = []
        self.room_id = ""
        self.syncing = False  # resumed after the kill: asks for the room's state until it comes
        self.next_sync = 0.0

    def send(self, message: dict[str, object]) -> None:
        self.ws.send(rawws.request_frame(message))

    def read(self) -> list[dict[str, Any]]:
        """Every message received since the last call (states kept, replies by id)."""
        self.ws.receive_available()
        raws, self.ws.messages = self.ws.messages, []
        messages = [msgpack.unpackb(raw) for raw in raws]
        for message in messages:
            if message.get("type") == "reply":
                self.replies[message["id"]] = message["result"]
            elif message.get("type") == "error":
                self.errors.append(message)
            elif message.get("type") == "state":
                self.state = message
        return messages


def _wait(players: list[_Player], done: Callable[[_Player], bool], what: str) -> None:
    """Read every player's messages until ``done`` holds for each (a 60 s hang guard)."""
    deadline = time.monotonic() + 60
    waiting = list(players)
    while waiting:
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what} ({len(waiting)} players)")
        readable, _, _ = select.select([p.ws.sock for p in waiting], [], [], 1.0)
        for player in waiting:
            if player.ws.sock in readable:
                player.read()
        waiting = [p for p in waiting if not done(p)]


def failover(url: str, rooms: int, lease: float, tmp: Path) -> list[float]:
    """Seconds from kill -9 of node A to the first move applied by node B, per room.

    Every room is created and filled on A; its two players then reconnect to B and
    resume there (tokens), so A owns the rooms and B holds the players. A is killed;
    the player to act moves as soon as B's snapshot of the room arrives, and the room's
    time is taken when the state of that move arrives (one round trip included)."""
    node_a = _start_node(url, "failover-a", lease, tmp)
    node_b = _start_node(url, "failover-b", lease, tmp)
    players: list[_Player] = []
    try:
        players = [_Player(node_a[1]) for _ in range(2 * rooms)]
        for index, player in enumerate(players):
            player.send({"type": "hello", "id": 1, "name": f"fo{index}"})
        for creator in players[::2]:
            creator.send({"type": "create_room", "id": 2, "game": "connect4", "players": 2})
        _wait(players[::2], lambda p: 2 in p.replies, "rooms created")
        for creator, joiner in zip(players[::2], players[1::2]):
            joiner.send({"type": "join_room", "id": 2, "room_id": creator.replies[2]["room"]["room_id"]})
        _wait(players, lambda p: p.state is not None, "matches started")
        for player in players:
            _resume(player, node_b[1])
        _wait(players, lambda p: 1 in p.replies, "resumed on B")
        time.sleep(2 * lease)  # quiet: every relay in place, B's view of A settled
        for player in players:
            player.room_id = player.state["room_id"] if player.state else ""
        at_kill = {p.state["room_id"]: p.state["version"] for p in players[::2] if p.state}
        killed = time.perf_counter()
        node_a[0].kill()
        node_a[0].wait()
        return _first_moves(players, at_kill, killed, node_b[1])
    finally:
        for player in players:
            player.ws.close()
        for process, _ in (node_a, node_b):
            if process.poll() is None:
                process.terminate()
                process.wait(30)


def _start_node(url: str, node_id: str, lease: float, tmp: Path) -> tuple[subprocess.Popen[str], int]:
    """A cluster node pinned to the server core. Unlike the load runs' servers it does
    recover: with ``--no-recover`` a node never takes over orphaned rooms."""
    command = [
        sys.executable, "-m", "gameserver", "serve", "--port", "0", "--replays",
        str(tmp / node_id), "--data-dir", str(tmp), "--log-level", "WARNING",
        "--max-connections", "20000", "--max-connections-per-ip", "20000",
        "--max-rooms-per-address", "0", *_UNLIMITED, "--redis", url, "--node-id", node_id,
        "--lease-time", str(lease),
    ]  # fmt: skip
    process = subprocess.Popen(
        command, cwd=ROOT, stdout=subprocess.PIPE, text=True,
        preexec_fn=lambda: (os.sched_setaffinity(0, {rawws.SERVER_CORE}), rawws.raise_nofile(30000)),
    )
    assert process.stdout is not None
    found = re.search(r":(\d+)/\s*$", process.stdout.readline())
    if not found:
        process.kill()
        raise RuntimeError(f"node {node_id} did not start")
    return process, int(found.group(1))


def _first_moves(
    players: list[_Player], at_kill: dict[str, int], killed: float, port_b: int
) -> list[float]:
    """Move on every state that asks it; the time of each room's first new version.

    A player whose request went to the dead node is disconnected by B (close code
    1012); it reconnects to B and resumes, as the SDK does, and moves again."""
    moved: dict[int, set[tuple[str, int]]] = {id(p): set() for p in players}
    times: dict[str, float] = {}
    deadline = time.monotonic() + 60
    asks = 100
    while len(times) < len(at_kill) and time.monotonic() < deadline:
        readable, _, _ = select.select([p.ws.sock for p in players], [], [], SYNC_EVERY)
        for player in players:
            if player.syncing and 1 in player.replies and time.monotonic() >= player.next_sync:
                player.next_sync = time.monotonic() + SYNC_EVERY
                asks += 1  # until the new owner holds the room: room_not_found or no state
                player.send({"type": "sync", "id": asks, "room_id": player.room_id})
            if player.ws.sock not in readable:
                continue
            for message in player.read():
                if message.get("type") != "state":
                    continue
                room, version = message["room_id"], message["version"]
                player.syncing = False
                if version > at_kill[room] and room not in times:
                    times[room] = time.perf_counter() - killed
                turn = (room, version)
                if message.get("legal_moves") and message["seat"] in message["to_act"] and turn not in moved[id(player)]:
                    moved[id(player)].add(turn)
                    player.send({"type": "move", "id": 10 + version, "room_id": room,
                                 "version": version, "move": message["legal_moves"][0]})  # fmt: skip
            if player.ws.closed:
                _resume(player, port_b)
                player.syncing = True
                player.next_sync = time.monotonic() + SYNC_EVERY
                moved[id(player)].clear()
    if len(times) < len(at_kill):
        raise RuntimeError(f"only {len(times)} of {len(at_kill)} rooms moved after the kill")
    return sorted(times.values())


def _resume(player: _Player, port: int) -> None:
    """Reconnect ``player`` to the node on ``port`` and resume it with its newest token."""
    player.token = player.replies.get(1, {}).get("token", player.token)
    player.ws.close()
    player.ws = rawws.RawWebSocket.connect(port)
    player.replies.clear()
    player.send({"type": "hello", "id": 1, "name": "fo", "token": player.token})


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--matches", type=int, default=100, help="concurrent matches")
    parser.add_argument("--seconds", type=float, default=10.0, help="measured seconds per server")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds")
    parser.add_argument("--dir", type=Path, default=None, help="where logs and Redis write")
    parser.add_argument("--failover-rooms", type=int, default=50, help="rooms in the failover run (0: none)")
    parser.add_argument("--lease-time", type=float, default=1.0, help="the nodes' --lease-time in the failover run")
    parser.add_argument("--quick", action="store_true", help="one short round (a smoke run)")
    args = parser.parse_args()
    if args.quick:
        args.matches, args.seconds, args.rounds, args.failover_rooms = 10, 2.0, 1, 5
    os.sched_setaffinity(0, {rawws.CLIENT_CORE})
    rawws.raise_nofile(30000)
    results: dict[str, list[dict[str, float]]] = {"single": [], "cluster": []}
    with tempfile.TemporaryDirectory(dir=args.dir) as name:
        tmp = Path(name)
        (tmp / "redis").mkdir()
        redis, port = start_redis(tmp / "redis")
        url = f"redis://127.0.0.1:{port}/0"
        try:
            for number in range(1, args.rounds + 1):
                for kind, extra in (
                    ("single", ()),
                    ("cluster", ("--redis", url, "--node-id", f"bench-{number}")),
                ):
                    result = measure(kind, extra, redis, port, args, tmp)
                    _redis_command(port, b"FLUSHALL")
                    results[kind].append(result)
                    breakdown = ", ".join(
                        f"{key[6:]} {value:.2f}" for key, value in sorted(result.items())
                        if key.startswith("calls_")
                    )
                    print(
                        f"round {number} {kind:7}: {result['moves_per_second']:7.0f} moves/s, "
                        f"server {result['server_cpu_per_move_us']:5.0f} us/move "
                        f"(CPU {result['server_cpu']:.2f}), Redis "
                        f"{result['redis_cpu_per_move_us']:4.0f} us/move "
                        f"({result['redis_calls_per_move']:.2f} calls/move), "
                        f"p50 {result['p50']:.1f} ms p99 {result['p99']:.1f} ms"
                        + (f"\n    Redis calls per move: {breakdown}" if breakdown else ""),
                        flush=True,
                    )
            if args.failover_rooms:
                times = failover(url, args.failover_rooms, args.lease_time, tmp)
                print(
                    f"failover ({args.failover_rooms} rooms, --lease-time {args.lease_time}): "
                    f"kill -9 to first move applied by the new owner p50 "
                    f"{rawws.percentile(times, 50):.2f} s, p99 {rawws.percentile(times, 99):.2f} s, "
                    f"min {times[0]:.2f} s, max {times[-1]:.2f} s",
                    flush=True,
                )
        finally:
            redis.kill()
            redis.wait()
    if results["single"]:
        print_summary(results)
    return 0


_MEDIANS = ("moves_per_second", "server_cpu_per_move_us", "redis_cpu_per_move_us", "redis_calls_per_move", "p50", "p99")


def print_summary(results: dict[str, list[dict[str, float]]]) -> None:
    """Medians per kind and the cluster/single ratios of CPU per move."""
    medians = {
        kind: {key: statistics.median(r.get(key, 0.0) for r in rows) for key in _MEDIANS}
        for kind, rows in results.items()
    }
    for kind, median in medians.items():
        print(
            f"median {kind:7}: {median['moves_per_second']:.0f} moves/s, server "
            f"{median['server_cpu_per_move_us']:.0f} us/move, Redis "
            f"{median['redis_cpu_per_move_us']:.0f} us/move "
            f"({median['redis_calls_per_move']:.2f} calls/move), p50 {median['p50']:.1f} ms, "
            f"p99 {median['p99']:.1f} ms"
        )
    single, cluster = results["single"], results["cluster"]
    ratios = [c["server_cpu_per_move_us"] / s["server_cpu_per_move_us"] for s, c in zip(single, cluster)]
    with_redis = [
        (c["server_cpu_per_move_us"] + c["redis_cpu_per_move_us"]) / s["server_cpu_per_move_us"]
        for s, c in zip(single, cluster)
    ]
    print(
        f"cluster/single server CPU per move: median {statistics.median(ratios):.2f}x "
        f"(rounds {', '.join(f'{r:.2f}' for r in ratios)}); with Redis's CPU: median "
        f"{statistics.median(with_redis):.2f}x (goal: at most 1.5x)"
    )


if __name__ == "__main__":
    raise SystemExit(main())
