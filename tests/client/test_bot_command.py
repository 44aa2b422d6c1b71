"""``gameserver bot`` against a real server: 4 bots play 10 connect-four matches."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import trio

from .conftest import server_config


async def test_bot_cli_plays_ten_connect_four_matches(nursery: trio.Nursery, tmp_path: Path) -> None:
    from gameserver.app import run_server

    port = await nursery.start(run_server, server_config(tmp_path))
    command = [
        sys.executable, "-m", "gameserver", "bot", "--url", f"ws://127.0.0.1:{port}/ws",
        "--game", "connect4", "--count", "4", "--matches", "5", "--strategy", "random",
        "--seed", "1", "--json",
    ]  # fmt: skip
    with trio.fail_after(120):
        process = await trio.run_process(command, capture_stdout=True, capture_stderr=True, check=False)
    assert process.returncode == 0, process.stderr.decode()
    summary = json.loads(process.stdout)
    assert summary["ok"] is True
    assert summary["matches"] == 10  # 4 bots x 5 matches, two seats each: no extra matches
    assert summary["completed"] == summary["bot_matches"] == 20
    assert summary["errors"] == 0
    assert summary["wins"] + summary["draws"] // 2 == summary["matches"]
    assert summary["latency_ms_p50"] is not None
    assert summary["moves_per_second"] > 0
