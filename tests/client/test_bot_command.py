"""``gameserver bot`` against a real server: 4 bots play 10 connect-four matches."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
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


BAD_FLAGS = [
    (["--url", "http://127.0.0.1:1/ws"], "--url", "not a WebSocket URL"),
    (["--url", "127.0.0.1:1"], "--url", "not a WebSocket URL"),
    (["--url", "ws:///ws"], "--url", "names no host"),
    (["--url", "ws://127.0.0.1:99999/ws"], "--url", "bad port"),
    (["--url", "ws://127.0.0.1:0/ws"], "--url", "port 0"),
    (["--game", "chess"], "--game", "allowed: connect4, liarsdice, tictactoe"),
    (["--strategy", "simple"], "--strategy", "allowed: best, random"),
    (["--count", "0"], "--count", "allowed: a whole number >= 1"),
    (["--matches", "-1"], "--matches", "allowed: a whole number >= 0"),
    (["--players", "0"], "--players", "allowed: a whole number >= 1"),
    (["--players", "3"], "--players", "exactly 2 players"),
    (["--think", "-1"], "--think", "allowed: a number >= 0"),
    (["--think", "nan"], "--think", "not a finite number"),
    (["--timeout", "0"], "--timeout", "allowed: a number > 0"),
    (["--seed", "x"], "--seed", "invalid int value"),
    (["--key", "gsk_x"], "--count", "give one key per bot"),
    (["--rated"], "--rated", "need bot accounts"),
]


@pytest.mark.parametrize("args, flag, says", BAD_FLAGS, ids=[" ".join(a) for a, _, _ in BAD_FLAGS])
def test_a_bad_flag_is_one_line_naming_it_and_status_2(
    args: list[str], flag: str, says: str
) -> None:
    # Port 1 on loopback refuses at once: a flag that slipped through fails fast, not hangs.
    command = [
        sys.executable, "-m", "gameserver", "bot", "--url", "ws://127.0.0.1:1/ws",
        "--game", "connect4", "--count", "3", "--timeout", "20", *args,
    ]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2, result
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    [line] = result.stderr.splitlines()
    assert line.startswith(f"gameserver bot: error: argument {flag}: "), line
    assert says in line, line
