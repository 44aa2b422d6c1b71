"""Three nodes behind a tiny loopback balancer, a fleet of SDK bots quick-matching
through it, and kill -9 of one node when about a third of the matches have started:
every match finishes, every log in Redis is whole and re-simulates, its versions run
1, 2, 3, ... with none repeated."""

from __future__ import annotations

from pathlib import Path

import trio

from gameserver.client.fleet import FleetReport, run_fleet
from gameserver.cluster.match_stream import MatchStreams
from gameserver.cluster.redis_api import open_redis
from gameserver.replays.records import Moved
from gameserver.replays.simulate import resimulate

from .conftest import RedisServer
from .nodes import Node, start_node

# Only a guard against a hang: a bot that lost its seat waits for its opponent forever.
HANG_GUARD_SECONDS = 120


class Balancer:
    """Accepts TCP connections and pipes each to the next node that accepts it (round
    robin), as a load balancer in front of the cluster would."""

    def __init__(self, ports: list[int]) -> None:
        self.ports = ports
        self.turn = 0
        self.port = 0

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        listeners = await trio.open_tcp_listeners(0, host="127.0.0.1")
        self.port = listeners[0].socket.getsockname()[1]
        task_status.started()
        await trio.serve_listeners(self._serve, listeners)

    async def _backend(self) -> trio.SocketStream:
        for _ in range(len(self.ports)):
            port = self.ports[self.turn % len(self.ports)]
            self.turn += 1
            try:
                return await trio.open_tcp_stream("127.0.0.1", port)
            except OSError:
                continue  # that node is down: the next one
        raise OSError("no node accepts connections")

    async def _serve(self, client: trio.SocketStream) -> None:
        try:
            backend = await self._backend()
        except OSError:
            await client.aclose()
            return
        async with client, backend, trio.open_nursery() as nursery:

            async def pipe(source: trio.SocketStream, sink: trio.SocketStream) -> None:
                try:
                    while data := await source.receive_some(65536):
                        await sink.send_all(data)
                except (trio.BrokenResourceError, trio.ClosedResourceError):
                    pass
                nursery.cancel_scope.cancel()

            nursery.start_soon(pipe, client, backend)
            nursery.start_soon(pipe, backend, client)


async def _logs(url: str) -> int:
    async with open_redis(url) as api:
        return len(await MatchStreams(api).match_ids())


async def fleet_through_a_kill(
    tmp_path: Path, redis: RedisServer, *, bots: int, matches: int
) -> FleetReport:
    nodes: list[Node] = []
    total = bots * matches // 2
    report: FleetReport | None = None
    try:
        for name in "abc":
            nodes.append(await start_node(tmp_path / name, redis.url, f"node-{name}"))
        balancer = Balancer([node.port for node in nodes])
        with trio.fail_after(HANG_GUARD_SECONDS):
            async with trio.open_nursery() as nursery:
                await nursery.start(balancer.run)

                async def kill_one() -> None:
                    while await _logs(redis.url) < total // 3:
                        await trio.sleep(0.05)
                    await nodes[0].kill_9()

                async def play() -> None:
                    nonlocal report
                    report = await run_fleet(
                        f"ws://127.0.0.1:{balancer.port}/ws", game="connect4",
                        strategy="random", count=bots, matches=matches, seed=11,
                    )  # fmt: skip
                    nursery.cancel_scope.cancel()

                nursery.start_soon(kill_one)
                nursery.start_soon(play)
        assert nodes[0].process.returncode is not None, "the fleet finished before the kill"
    finally:
        for node in nodes:
            await node.stop()
    assert report is not None
    assert report.ok, report.summary()
    assert report.matches >= total, report.summary()
    async with open_redis(redis.url) as api:
        streams = MatchStreams(api)
        for match_id in await streams.match_ids():
            loaded = await streams.load(match_id)
            assert loaded.complete, match_id
            versions = [r.version for r in loaded.records if isinstance(r, Moved)]
            assert versions == list(range(1, len(versions) + 1)), match_id
            resimulate(loaded)  # raises on a state-hash mismatch
    return report


async def test_a_fleet_on_three_nodes_finishes_through_a_kill_9(
    tmp_path: Path, redis_server: RedisServer
) -> None:
    report = await fleet_through_a_kill(tmp_path, redis_server, bots=12, matches=2)
    assert report.to_data()["reconnects"] > 0
