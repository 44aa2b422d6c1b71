"""A bounded soak: many SDK bots playing through a proxy that cuts connections at
random, while junk senders hammer the server; then every finished match verifies and
the server holds no more tasks, file descriptors or memory than before.

Runs ``SOAK_SECONDS`` (default 15) of play; set it higher to soak by hand, e.g.
``SOAK_SECONDS=600 pytest tests/hardening/test_soak.py -s``. The figures are printed.
"""

from __future__ import annotations

import gc
import os
import random
from pathlib import Path

import attrs
import msgpack
import trio

from gameserver.client import Backoff, StrategyBot, connect, play_match
from gameserver.client.errors import ClientError
from gameserver.replays.loader import load_match, match_paths
from gameserver.replays.simulate import resimulate

from .conftest import (
    RawPeer,
    make_config,
    masked_frame,
    metric,
    open_fds,
    rss_bytes,
    start_server,
    with_ws,
)
from gameserver.ws.codes import Opcode

SOAK_SECONDS = float(os.environ.get("SOAK_SECONDS", "15"))
BOTS = int(os.environ.get("SOAK_BOTS", "90"))
GAMES = ("tictactoe", "connect4", "liarsdice")


def count_tasks() -> int:
    """Every task in this trio run."""
    def walk(task: trio.lowlevel.Task) -> int:
        return 1 + sum(walk(child) for nursery in task.child_nurseries for child in nursery.child_tasks)

    root = trio.lowlevel.current_root_task()
    assert root is not None
    return walk(root)


@attrs.define
class ChaosProxy:
    """A TCP proxy in front of the server that can cut any proxied connection."""

    upstream: int
    rng: random.Random
    since: dict[trio.CancelScope, float] = attrs.field(factory=dict)
    cuts: int = 0

    async def handle(self, client: trio.SocketStream) -> None:
        scope = trio.CancelScope()
        self.since[scope] = trio.current_time()
        try:
            server = await trio.open_tcp_stream("127.0.0.1", self.upstream)
            with scope:
                async with trio.open_nursery() as nursery:
                    nursery.start_soon(self.pump, client, server, nursery.cancel_scope)
                    nursery.start_soon(self.pump, server, client, nursery.cancel_scope)
            await trio.aclose_forcefully(server)
        finally:
            del self.since[scope]
            await trio.aclose_forcefully(client)

    @staticmethod
    async def pump(source: trio.abc.Stream, sink: trio.abc.Stream, done: trio.CancelScope) -> None:
        try:
            while data := await source.receive_some(65536):
                await sink.send_all(data)
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            pass
        done.cancel()

    async def chaos(self, every: float) -> None:
        """Cut a random connection that has been up for a second, every ``every`` s or so."""
        while True:
            await trio.sleep(every * self.rng.random() * 2)
            now = trio.current_time()
            settled = [scope for scope, since in self.since.items() if now - since > 1.0]
            if settled:
                self.rng.choice(settled).cancel()
                self.cuts += 1


async def junk_sender(port: int, rng: random.Random, sent: list[int]) -> None:
    """Forever: connect and misbehave in one of several ways, then go away."""
    while True:
        try:
            if rng.random() < 0.3:
                stream = await trio.open_tcp_stream("127.0.0.1", port)
                await stream.send_all(rng.randbytes(rng.randrange(1, 3000)))
                await trio.aclose_forcefully(stream)
            else:
                peer = await RawPeer.open(port)
                for _ in range(rng.randrange(1, 20)):
                    kind = rng.random()
                    if kind < 0.4:
                        junk = {"type": rng.choice(["move", "hello", "chat", "join_room", "x"]),
                                "id": rng.randrange(-5, 2**40), "room_id": rng.randbytes(4).hex(),
                                "move": rng.choice([None, [], {"column": -1}, "liar", 7])}
                        await peer.send_message(msgpack.packb(junk))
                    elif kind < 0.7:
                        await peer.send_message(rng.randbytes(rng.randrange(0, 200)))
                    elif kind < 0.85:
                        await peer.send_raw(masked_frame(Opcode.TEXT, rng.randbytes(20)))
                    else:
                        await peer.send_raw(rng.randbytes(rng.randrange(1, 50)))
                    sent[0] += 1
                await peer.aclose()
        except (trio.BrokenResourceError, trio.ClosedResourceError, OSError):
            pass
        await trio.sleep(rng.random() * 0.05)


async def bot_life(url: str, index: int, deadline: float, tally: dict[str, int],
                   errors: list[str]) -> None:
    game = GAMES[index % len(GAMES)]
    bot = StrategyBot(game, "random", seed=index)
    try:
        async with connect(url, name=f"soak{index}", backoff=Backoff(initial=0.05, maximum=0.5)) as client:
            with trio.move_on_at(deadline + 5):  # a bot may wait alone for an opponent
                while trio.current_time() < deadline:
                    result = await play_match(client, bot, game)
                    tally["bot_matches"] += 1
                    tally["completed"] += int(result.completed)
                    tally["reconnects"] += result.reconnects
                    tally["moves"] += result.moves
    except ClientError as error:
        tally["client_errors"] += 1
        errors.append(f"bot {index}: {type(error).__name__}: {error}")


async def test_soak(tmp_path: Path) -> None:
    rng = random.Random(int(os.environ.get("SOAK_SEED", "8")))
    config = with_ws(
        make_config(tmp_path, grace_period=10.0),
        max_connections_per_ip=10_000, ping_interval=2.0, ping_timeout=2.0,
    )
    config = attrs.evolve(config, service=attrs.evolve(config.service, message_rate=50.0,
                                                        message_burst=100.0))
    gc.collect()
    fds_before, rss_before, tasks_before = open_fds(), rss_bytes(), count_tasks()
    tally = dict.fromkeys(("bot_matches", "completed", "reconnects", "moves", "client_errors"), 0)
    errors: list[str] = []
    junk_sent = [0]
    async with trio.open_nursery() as outer:
        server = await start_server(outer, config)
        await trio.sleep(0.1)
        gc.collect()
        server_tasks = count_tasks()
        proxy = ChaosProxy(server.port, rng)
        listeners = await trio.open_tcp_listeners(0, host="127.0.0.1")
        proxy_port = listeners[0].socket.getsockname()[1]
        started = trio.current_time()
        deadline = started + SOAK_SECONDS
        async with trio.open_nursery() as load:
            load.start_soon(trio.serve_listeners, proxy.handle, listeners)
            load.start_soon(proxy.chaos, float(os.environ.get("SOAK_CUT_EVERY", "0.05")))
            for _ in range(int(os.environ.get("SOAK_JUNK", "4"))):
                load.start_soon(junk_sender, server.port, random.Random(rng.random()), junk_sent)
            async with trio.open_nursery() as bots:
                for index in range(BOTS):
                    bots.start_soon(bot_life, f"ws://127.0.0.1:{proxy_port}/ws", index, deadline,
                                    tally, errors)
            load.cancel_scope.cancel()
        elapsed = trio.current_time() - started
        # Everyone is gone: the server must be back to an idle state.
        with trio.fail_after(10):
            while await metric(server.port, "gameserver_connections") > 0:
                await trio.sleep(0.1)
        await trio.sleep(0.5)
        gc.collect()
        rooms = await metric(server.port, "gameserver_rooms")
        leftover_tasks = count_tasks() - server_tasks
        server_fds = open_fds()
        server.cancel_scope.cancel()
    gc.collect()
    fds_after, rss_after, tasks_after = open_fds(), rss_bytes(), count_tasks()

    verified = 0
    for path in match_paths(tmp_path / "replays"):
        loaded = load_match(path)
        if loaded.complete:
            resimulate(loaded)  # raises on any divergence
            verified += 1
    print(
        f"\nsoak: {BOTS} bots, {elapsed:.1f} s, {tally['bot_matches']} bot-matches "
        f"({tally['completed']} completed), {tally['moves']} moves, {proxy.cuts} connections cut, "
        f"{tally['reconnects']} reconnects, {junk_sent[0]} junk messages, {verified} logs verified, "
        f"client errors {tally['client_errors']}; rooms left {rooms:.0f}, tasks left "
        f"{leftover_tasks}; fds {fds_before}->{server_fds}->{fds_after}, "
        f"RSS {rss_before / 2**20:.1f}->{rss_after / 2**20:.1f} MiB"
    )
    assert not errors, errors
    assert tally["completed"] >= BOTS // 2 and tally["reconnects"] > 0 and proxy.cuts > 0
    assert verified >= tally["completed"] // 2 > 0
    assert rooms <= BOTS // 2  # only rooms still waiting out a grace period may remain
    assert leftover_tasks <= 3 * rooms + 5, leftover_tasks
    assert fds_after <= fds_before + 5, (fds_before, fds_after)
    assert tasks_after <= tasks_before + 2, (tasks_before, tasks_after)
    assert rss_after - rss_before < 150 * 2**20, (rss_before, rss_after)
