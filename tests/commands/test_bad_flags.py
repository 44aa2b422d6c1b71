"""``gameserver echo`` and ``gameserver selfplay`` as real subprocesses given a bad flag:
exactly one line on stderr naming the flag and what is allowed, exit status 2, no traceback.

(``serve`` and ``bot`` have theirs in tests/e2e/test_serve_command.py and
tests/client/test_bot_command.py.)
"""

from __future__ import annotations

import subprocess
import sys

import pytest

BAD_FLAGS = [
    (["echo", "--port", "70000"], "--port", "allowed: 0-65535"),
    (["echo", "--port", "-1"], "--port", "allowed: 0-65535"),
    (["echo", "--max-message-size", "0"], "--max-message-size", "allowed: a whole number >= 1"),
    (["selfplay", "--game", "chess"], "--game", "allowed: connect4, liarsdice, tictactoe"),
    (["selfplay", "--game", "connect4", "--games", "0"], "--games", "a whole number >= 1"),
    (["selfplay", "--game", "connect4", "--games", "-5"], "--games", "a whole number >= 1"),
    (["selfplay", "--game", "connect4", "--players", "-2"], "--players", "a whole number >= 1"),
    (["selfplay", "--game", "connect4", "--players", "3"], "--players", "exactly 2 players"),
    (["selfplay", "--game", "liarsdice", "--players", "7"], "--players", "2 to 6 players"),
    (["selfplay", "--game", "connect4", "--strategies", "best,simple"], "--strategies",
     "allowed: comma-separated names of best, random"),
    (["selfplay", "--game", "connect4", "--strategies", ","], "--strategies", "best, random"),
    (["selfplay", "--game", "connect4", "--option", "rows"], "--option", "not KEY=VALUE"),
    (["selfplay", "--game", "connect4", "--option", "rows=x"], "--option", "not a JSON value"),
    (["selfplay", "--game", "connect4", "--option", "colour=1"], "--option", "unknown option"),
    (["selfplay", "--game", "connect4", "--seed", "x"], "--seed", "invalid int value"),
]


@pytest.mark.parametrize("args, flag, says", BAD_FLAGS, ids=[" ".join(a) for a, _, _ in BAD_FLAGS])
def test_a_bad_flag_is_one_line_naming_it_and_status_2(
    args: list[str], flag: str, says: str
) -> None:
    command, *rest = args
    # --port 0 first: an echo server whose bad flag slipped through takes no fixed port.
    before = ["--port", "0"] if command == "echo" else ["--games", "1"]
    result = subprocess.run(
        [sys.executable, "-m", "gameserver", command, *before, *rest],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2, result
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    [line] = result.stderr.splitlines()
    assert line.startswith(f"gameserver {command}: error: argument {flag}: "), line
    assert says in line, line
