"""Bytes the server writes per move, protocol version 1 (full states) beside version 2
(deltas), in one run against one ``gameserver serve`` process.

Two workloads, each played once with every client offering ``gameserver.v1`` and once
offering ``gameserver.v2``, with the same seeds (so the same kind of matches):

* connect four, 2 players, no spectators;
* liar's dice, 4 players (5 dice each) and 2 spectators.

Players move the instant they may (a random legal move; in liar's dice a call with
probability 0.3 when one is legal) and vote for a rematch in the same room, until the
room has played ``--matches`` matches. Measured over that window, per completed move:

* ``wchar`` and ``syscw`` of /proc/PID/io: bytes the server process wrote with write
  system calls and how many such calls (nothing is recorded, ``--no-replays``, and the
  log level is WARNING, so this is the sockets);
* ``tcp``: what the kernel's socket statistics say the server's connections sent
  (``ss -ti`` bytes_sent);
* CPU per move: the server's user + system time over the moves;
* by kind: the frames the clients received (WebSocket header included), split by
  message kind: ``delta``, ``state``, ``reply``, ``room``, ``match_over`` and other,
  with the delta bytes further split into their parts (room id, versions, cause, ops,
  request id, array and frame headers).

Run: ``python bench/bytes_per_move.py`` (about a minute); ``--write`` puts the table into
docs/benchmarks.md between the bytes-per-move markers.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import msgpack  # noqa: E402
import trio  # noqa: E402

import rawws  # noqa: E402
from gameserver.protocol import delta  # noqa: E402
from gameserver.protocol import messages as m  # noqa: E402
from gameserver.protocol.codec import decode_delta, encode_client_message, is_delta  # noqa: E402
from gameserver.protocol.version import SUBPROTOCOLS, WS_PATH  # noqa: E402
from gameserver.ws.client import connect  # noqa: E402
from gameserver.ws.websocket import WebSocket  # noqa: E402

MARKER_START = "<!-- bytes-per-move:start -->"
MARKER_END = "<!-- bytes-per-move:end -->"
WORKLOADS = (
    ("connect4", 2, 0, {}),
    ("liarsdice", 4, 2, {}),
)


def frame_size(payload: int) -> int:
    """Bytes of an unmasked server frame around ``payload`` bytes."""
    return payload + (2 if payload < 126 else 4 if payload < 65536 else 10)


def packed_size(value: Any) -> int:
    return len(msgpack.packb(value))


class Client:
    """One player or spectator: keeps what it was sent (a full state, or in version 2
    the document deltas build) and moves the instant it may."""

    def __init__(self, ws: WebSocket, version: int, rng: random.Random, player: bool) -> None:
        self.ws = ws
        self.version = version
        self.rng = rng
        self.player = player
        self.ids = iter(range(1, 10**9))
        self.seat: int | None = None
        self.at: int | None = None
        self.document: dict[str, Any] | None = None
        self.moved_at: tuple[int, int] | None = None
        self.room_id = ""
        self.room_size = 0
        self.match = 0
        self.matches_over = 0
        self.moves = 0
        self.kinds: Counter[str] = Counter()
        self.parts: Counter[str] = Counter()
        #: Delta bytes (frames) received per (match, version).
        self.by_version: Counter[tuple[int, int]] = Counter()

    async def request(self, message: m.ClientMessage) -> None:
        await self.ws.send(encode_client_message(message))

    async def call(self, message: m.ClientMessage) -> dict[str, Any]:
        await self.request(message)
        while True:
            data = await self.ws.receive()
            assert isinstance(data, bytes)
            if is_delta(data):
                self.take_delta(data)
                continue
            decoded = msgpack.unpackb(data)
            if decoded["type"] == "state":
                self.take_state(decoded)
            if decoded.get("id") == message.id:
                assert decoded["type"] == "reply", decoded
                result: dict[str, Any] = decoded["result"]
                return result

    def take_state(self, state: dict[str, Any]) -> None:
        self.seat, self.at, self.match = state["seat"], state["version"], state["match"]
        self.document = delta.document_of(
            view=state["view"], to_act=state["to_act"], legal=state["legal_moves"],
            seats=state["seats"], clock=state["clock"], outcome=state["outcome"],
        )

    def take_delta(self, data: bytes) -> bool:
        """Apply a delta; False when it does not fit (the caller asks for a sync)."""
        received = decode_delta(data)
        if self.document is None or received.base != self.at:
            return received.id is not None
        self.document = delta.apply(self.document, received.ops)
        self.at = received.version
        return True

    def count(self, data: bytes) -> None:
        size = frame_size(len(data))
        if is_delta(data):
            self.kinds["delta"] += size
            received = decode_delta(data)
            if received.version > received.base:
                self.by_version[(self.match, received.version)] += size
            self.parts["frame and array headers"] += size - len(data) + 1
            self.parts["room id"] += packed_size(received.room_id)
            self.parts["base and version"] += packed_size(received.base) + packed_size(received.version)
            self.parts["cause"] += packed_size(received.cause)
            self.parts["ops"] += packed_size(received.ops)
            if received.id is not None:
                self.parts["request id"] += packed_size(received.id)
            return
        kind = msgpack.unpackb(data)["type"]
        self.kinds[kind if kind in ("state", "reply", "room", "match_over") else "other"] += size

    async def run(self, matches: int, done: trio.Event, finished: list[int]) -> None:
        """Play (or watch) until the room has played ``matches`` matches."""
        while self.matches_over < matches:
            data = await self.ws.receive()
            assert isinstance(data, bytes)
            self.count(data)
            if is_delta(data):
                if not self.take_delta(data):
                    self.document = None
                    await self.request(m.Sync(id=next(self.ids), room_id=self.room_id))
            else:
                message = msgpack.unpackb(data)
                kind = message["type"]
                if kind == "state":
                    self.take_state(message)
                elif kind == "match_over":
                    self.matches_over += 1
                    if self.player and self.matches_over < matches:
                        await self.request(m.Rematch(id=next(self.ids), room_id=self.room_id))
                    continue
            await self.maybe_move()
        finished.append(1)
        if len(finished) == self.room_size:
            done.set()
        await trio.sleep_forever()

    async def maybe_move(self) -> None:
        document = self.document
        if not self.player or document is None or self.at is None:
            return
        legal = delta.legal_moves_of(document, self.seat)
        if not legal or self.moved_at == (self.match, self.at):
            return
        calls = [move for move in legal if isinstance(move, dict) and "call" in move]
        move = self.rng.choice(calls) if calls and self.rng.random() < 0.3 else self.rng.choice(legal)
        self.moved_at = (self.match, self.at)
        self.moves += 1
        await self.request(m.Move(id=next(self.ids), room_id=self.room_id, version=self.at, move=move))



def server_io(pid: int) -> dict[str, int]:
    """The write counters of /proc/PID/io."""
    fields = dict(line.split(": ") for line in Path(f"/proc/{pid}/io").read_text().splitlines())
    return {"wchar": int(fields["wchar"]), "syscw": int(fields["syscw"])}


async def play(
    port: int, pid: int, game: str, players: int, spectators: int, options: dict[str, Any],
    version: int, matches: int, seed: int,
) -> dict[str, Any]:
    """Play ``matches`` matches in one room with clients of protocol ``version``."""
    url = f"ws://127.0.0.1:{port}{WS_PATH}"
    async with trio.open_nursery() as nursery:
        clients = []
        for number in range(players + spectators):
            ws = await connect(url, nursery=nursery, subprotocols=[SUBPROTOCOLS[version]])
            assert ws.subprotocol == SUBPROTOCOLS[version]
            client = Client(ws, version, random.Random(seed * 100 + number), number < players)
            await client.call(m.Hello(id=next(client.ids), name=f"c{number}"))
            clients.append(client)
        created = await clients[0].call(
            m.CreateRoom(id=next(clients[0].ids), game=game, players=players, options=options)
        )
        room_id = created["room"]["room_id"]
        for client in clients:
            client.room_id, client.room_size = room_id, len(clients)
        for client in clients[players:]:
            await client.call(m.Spectate(id=next(client.ids), room_id=room_id))
        before_io, before_tcp = server_io(pid), rawws.tcp_bytes_sent(port)
        before_cpu = rawws.cpu_seconds(pid)
        for client in clients[1:players]:
            await client.request(m.JoinRoom(id=next(client.ids), room_id=room_id))
        done = trio.Event()
        finished: list[int] = []
        for client in clients:
            nursery.start_soon(client.run, matches, done, finished)
        with trio.fail_after(600):
            await done.wait()
        await trio.sleep(0.2)  # let the socket statistics settle
        after_io, after_tcp = server_io(pid), rawws.tcp_bytes_sent(port)
        cpu = rawws.cpu_seconds(pid) - before_cpu
        nursery.cancel_scope.cancel()
    moves = sum(client.moves for client in clients)
    kinds: Counter[str] = Counter()
    parts: Counter[str] = Counter()
    by_version: Counter[tuple[int, int]] = Counter()
    for client in clients:
        kinds.update(client.kinds)
        parts.update(client.parts)
        by_version.update(client.by_version)
    per_move = sorted(by_version.values())
    return {
        "moves": moves,
        "wchar": (after_io["wchar"] - before_io["wchar"]) / moves,
        "syscw": (after_io["syscw"] - before_io["syscw"]) / moves,
        "tcp": rawws.bytes_sent_between(before_tcp, after_tcp) / moves,
        "cpu_us": cpu / moves * 1e6,
        # The deltas of one move to everyone, for the typical move (not a match's first
        # or last, which carry a seat's first legal list or the outcome).
        "median_move": per_move[len(per_move) // 2] if per_move else None,
        "kinds": {kind: size / moves for kind, size in kinds.items()},
        "parts": {part: size / moves for part, size in parts.items()},
    }


def table(results: dict[tuple[str, int], dict[str, Any]], matches: int) -> str:
    lines = [
        f"`.venv/bin/python bench/bytes_per_move.py --matches {matches}`: one room per "
        "workload, players moving the instant they may, rematches in the same room; per "
        "completed move, over the whole run. wchar/syscw: /proc/PID/io of the server "
        "(no replays, log level WARNING); tcp: `ss -ti` bytes_sent; CPU: the server's "
        "user + system time per move (a shared machine: compare within a run).",
        "",
        "| workload | protocol | moves | wchar B/move | writes/move | tcp B/move | server CPU/move | by kind (B/move) | deltas of the median move |",
        "|---|---|---:|---:|---:|---:|---:|---|---:|",
    ]
    for (name, version), result in results.items():
        kinds = ", ".join(f"{kind} {size:.0f}" for kind, size in sorted(result["kinds"].items(), key=lambda i: -i[1]))
        lines.append(
            f"| {name} | v{version} | {result['moves']:,} | {result['wchar']:.0f} | "
            f"{result['syscw']:.2f} | {result['tcp']:.0f} | {result['cpu_us']:.0f} µs | {kinds} | "
            + ("" if result["median_move"] is None else f"{result['median_move']} B")
            + " |"
        )
    lines += ["", "Where the bytes of the deltas go (B/move, v2):", ""]
    lines += ["| workload | " + " | ".join(PARTS) + " |", "|---|" + "---:|" * len(PARTS)]
    for (name, version), result in results.items():
        if version == 2:
            parts = result["parts"]
            lines.append(f"| {name} | " + " | ".join(f"{parts.get(p, 0.0):.1f}" for p in PARTS) + " |")
    return "\n".join(lines)


PARTS = ("frame and array headers", "room id", "base and version", "cause", "ops", "request id")


def write_doc(text: str) -> None:
    path = ROOT / "docs" / "benchmarks.md"
    doc = path.read_text()
    start, end = doc.index(MARKER_START) + len(MARKER_START), doc.index(MARKER_END)
    path.write_text(doc[:start] + "\n" + text + "\n" + doc[end:])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--matches", type=int, default=20, help="matches per workload and protocol")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--write", action="store_true", help="write the table into docs/benchmarks.md")
    args = parser.parse_args()
    if args.matches < 1:
        parser.error("--matches must be at least 1")
    results: dict[tuple[str, int], dict[str, Any]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        process, port = rawws.start_gameserver(
            "--no-compression", "--ping-interval", "0", "--rate", "100000", "--burst", "100000",
            data_dir=Path(tmp),
        )
        try:
            for name, players, spectators, options in WORKLOADS:
                label = f"{name}, {players} players" + (f" + {spectators} spectators" if spectators else "")
                for version in (1, 2):
                    results[(label, version)] = trio.run(
                        play, port, process.pid, name, players, spectators, options, version,
                        args.matches, args.seed,
                    )
                    print(label, f"v{version}", results[(label, version)], flush=True)
        finally:
            process.terminate()
            process.wait(30)
    text = table(results, args.matches)
    print(text)
    if args.write:
        write_doc(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
