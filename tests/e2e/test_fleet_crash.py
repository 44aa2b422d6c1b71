"""kill -9 a real server under a fleet of SDK bots and restart it on the same port.

Every bot rides through the crash: the fleet finishes every match, no bot walks away
from a seat it still holds, and once the fleet is done the server holds no room.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import trio

from gameserver.client.fleet import FleetReport, run_fleet
from gameserver.replays.loader import load_match

from .conftest import ServeProcess
from .test_peers import http_get_metrics

# Only a guard against a hang: a fleet that loses a seat waits for its opponent forever.
HANG_GUARD_SECONDS = 90


async def logs_at_least(replays: Path, count: int) -> None:
    """Return once ``replays`` holds ``count`` match logs (one per started match)."""
    while len(list(replays.glob("*.gsr"))) < count:
        await trio.sleep(0.02)


async def open_rooms(port: int) -> int:
    """The server's ``gameserver_rooms`` gauge."""
    status, _, body = await http_get_metrics(port)
    assert status == 200
    line = next(line for line in body.splitlines() if line.startswith("gameserver_rooms "))
    return int(float(line.split()[1]))


async def fleet_through_crashes(tmp_path: Path, *, bots: int, matches: int, kills: int) -> FleetReport:
    """Run a connect four fleet while the server is killed ``kills`` times, spread over
    the run by the number of matches started; return the fleet's report once the last
    server, still running, holds no room."""
    replays = tmp_path / "replays"
    total = bots * matches // 2
    report: FleetReport | None = None
    done_kills = 0
    async with ServeProcess(tmp_path) as serve:
        with trio.fail_after(HANG_GUARD_SECONDS):
            async with trio.open_nursery() as nursery:

                async def kill_and_restart() -> None:
                    nonlocal done_kills
                    for kill in range(1, kills + 1):
                        await logs_at_least(replays, total * kill // (kills + 1))
                        await serve.kill_9()
                        await serve.start(serve.port)
                        done_kills += 1

                async def play() -> None:
                    nonlocal report
                    report = await run_fleet(
                        serve.url, game="connect4", strategy="random",
                        count=bots, matches=matches, seed=7,
                    )
                    nursery.cancel_scope.cancel()

                nursery.start_soon(kill_and_restart)
                nursery.start_soon(play)
        assert done_kills == kills, "the fleet finished before every kill"
        assert await open_rooms(serve.port) == 0, "a room outlived the fleet: a seat was left held"
        await serve.stop()
    assert report is not None
    assert report.ok, report.summary()
    assert report.matches >= total, report.summary()
    # Every match that started ended on the record: none was left hanging in a seat.
    # (A log the crash cut before its header was written holds no match; issue 19.2.)
    logs = [log for log in replays.glob("*.gsr") if log.stat().st_size > 0]
    unfinished = [log.name for log in logs if not load_match(log).complete]
    assert not unfinished, unfinished
    # A bot that lost its seat in a match that had begun lost it because the match ended.
    for result in report.results:
        if result.ended_away:
            assert load_match(replays / f"{result.room_id}-{result.match}.gsr").complete
    return report


async def test_fleet_finishes_every_match_through_a_kill_9(tmp_path: Path) -> None:
    report = await fleet_through_crashes(tmp_path, bots=24, matches=3, kills=1)
    assert report.to_data()["reconnects"] > 0


@pytest.mark.slow
async def test_fleet_of_200_matches_finishes_through_two_kill_9s(tmp_path: Path) -> None:
    report = await fleet_through_crashes(tmp_path, bots=80, matches=5, kills=2)
    assert report.matches >= 200 and report.to_data()["reconnects"] > 0
