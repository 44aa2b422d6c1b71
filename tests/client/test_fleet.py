"""The bot fleet behind ``gameserver bot``: quotas, odd player counts, failures, summary."""

from __future__ import annotations

import math
from collections import Counter

import pytest
import trio

from gameserver.cli import main
from gameserver.client.fleet import percentile, run_fleet


async def test_odd_player_counts_still_give_every_bot_its_quota(server_url: str) -> None:
    with trio.fail_after(60):
        report = await run_fleet(server_url, game="liarsdice", strategy="random", count=4, matches=2, players=3, seed=7)
    assert report.ok, report.summary()
    per_bot = Counter(result.room_id for result in report.results)
    assert all(seats == 3 for seats in per_bot.values())  # every match had three fleet bots
    assert len(report.results) >= 4 * 2
    assert math.ceil(4 * 2 / 3) <= report.matches <= 4 * 2
    data = report.to_data()
    assert data["wins"] == report.matches  # one winner per liar's dice match
    assert data["errors"] == 0
    assert "OK" in report.summary()


async def test_bots_that_think_pause_before_every_move(server_url: str) -> None:
    with trio.fail_after(60):
        report = await run_fleet(
            server_url, game="tictactoe", strategy="random", count=2, matches=1, seed=3,
            think=0.1,
        )
    assert report.ok, report.summary()
    assert report.matches == 1
    moves = sum(result.moves for result in report.results)
    assert moves >= 5  # a tic-tac-toe match takes at least five moves
    # The moves of one match follow each other, and each waited at least half of 0.1 s.
    assert report.seconds >= 0.05 * moves


async def test_a_fleet_that_cannot_connect_reports_failure() -> None:
    listeners = await trio.open_tcp_listeners(0, host="127.0.0.1")
    port = listeners[0].socket.getsockname()[1]
    await listeners[0].aclose()
    report = await run_fleet(f"ws://127.0.0.1:{port}/ws", game="tictactoe", count=2, matches=1)
    assert not report.ok
    assert len(report.failures) == 2
    assert "ConnectionLost" in report.failures[0]
    assert report.summary().endswith("FAILED")


def test_percentile_is_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == 50.0
    assert percentile(values, 99) == 99.0
    assert percentile(values, 100) == 100.0
    assert percentile([3.0], 99) == 3.0
    assert percentile([], 50) is None


@pytest.mark.parametrize(
    "argv",
    [
        ["bot", "--game", "chess"],
        ["bot", "--game", "connect4", "--strategy", "clever"],
        ["bot", "--game", "connect4", "--players", "3"],
        ["bot", "--game", "connect4", "--count", "0"],
        ["bot", "--game", "connect4", "--think", "-1"],
    ],
)
def test_bad_arguments_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    assert "gameserver bot:" in capsys.readouterr().err


def test_unreachable_server_exits_1(capsys: pytest.CaptureFixture[str]) -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    assert main(["bot", "--url", f"ws://127.0.0.1:{port}/ws", "--game", "tictactoe", "--timeout", "20"]) == 1
    assert "FAILED" in capsys.readouterr().out
