"""Bots ride through a full disk: a move refused with storage_unavailable waits and is resent.

A real server runs in-process with its replays on a real 256 KiB tmpfs; a fleet of SDK
bots plays while the disk is filled and, a few seconds later, emptied again.
"""

from __future__ import annotations

import logging
from pathlib import Path

import attrs
import pytest
import trio

from conftest import SmallDisk
from gameserver.app import run_server
from gameserver.client.fleet import run_fleet

from .conftest import server_config
from .test_play_room import metric


@pytest.mark.slow
async def test_a_fleet_finishes_every_match_through_a_full_disk(
    tmp_path: Path, small_disk: SmallDisk, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="gameserver.client.bot")
    replays = small_disk.path / "replays"
    config = server_config(tmp_path, storage_retry=0.05)

    async with trio.open_nursery() as nursery:
        port = await nursery.start(run_server, attrs.evolve(config, replays_dir=replays))
        url = f"ws://127.0.0.1:{port}/ws"

        async def fill_then_free() -> None:
            # Once match logs are under way, take every free byte: a log whose next record
            # crosses into a new page cannot grow (liar's dice logs of four players take
            # two pages or more). Give the space back a few seconds after a write failed.
            while not any(path.stat().st_size > 1000 for path in replays.glob("*.gsr")):
                await trio.sleep(0.01)
            small_disk.fill()
            while await metric(port, "gameserver_storage_failures_total") < 1:
                await trio.sleep(0.05)
            await trio.sleep(3)
            small_disk.free()

        nursery.start_soon(fill_then_free)
        with trio.fail_after(90):
            report = await run_fleet(
                url, game="liarsdice", strategy="random", count=8, matches=2, players=4, seed=5,
                think=0.01,
            )
        nursery.cancel_scope.cancel()
    assert report.ok, report.summary()
    assert report.matches >= 4 and all(result.completed for result in report.results)
    waited = [r for r in caplog.records if "waiting for the room to resume" in r.getMessage()]
    assert waited, "no bot move was refused for storage: the test did not test anything"
