"""The cluster extra is optional: the default install never imports the Redis client,
and asking for cluster mode without it is one clear line and exit status 2."""

from __future__ import annotations

import ast
import signal
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent.parent / "gameserver"

# Runs the CLI as if coredis were not installed: an entry of None in sys.modules makes
# every `import coredis` raise ImportError, exactly as a missing package does.
WITHOUT_COREDIS = (
    "import sys; sys.modules['coredis'] = None; "
    "from gameserver.cli import main; sys.exit(main(sys.argv[1:]))"
)


def run_without_coredis(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", WITHOUT_COREDIS, *args], capture_output=True, text=True, timeout=60
    )


def test_only_the_coredis_module_imports_the_client() -> None:
    importers = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names = [node.module]
            if any(name.split(".")[0] == "coredis" for name in names):
                importers.append(path.relative_to(PACKAGE).as_posix())
    assert sorted(set(importers)) == ["cluster/coredis_api.py"]


def test_serve_without_redis_runs_without_the_client() -> None:
    """Start and stop a real server in a process where coredis cannot be imported."""
    process = subprocess.Popen(
        [sys.executable, "-c", WITHOUT_COREDIS, "serve", "--port", "0", "--no-replays"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith("gameserver listening on http://127.0.0.1:"), line
    finally:
        process.send_signal(signal.SIGINT)
        _out, err = process.communicate(timeout=60)
    assert process.returncode == 0, err


@pytest.mark.parametrize("command", [
    ["serve", "--port", "0", "--redis", "redis://127.0.0.1:6379/0"],
    ["replay", "verify", "redis://127.0.0.1:6379/0#m-1"],
    ["replay", "export", "redis://127.0.0.1:6379/0#m-1"],
])  # fmt: skip
def test_cluster_mode_without_the_extra_says_how_to_install_it(command: list[str]) -> None:
    result = run_without_coredis(*command)
    assert result.returncode == 2, result
    [line] = result.stderr.splitlines()
    assert "pip install 'gameserver[cluster]'" in line, line
    assert line.startswith(f"gameserver {command[0]}"), line


BAD_FLAGS = [
    (["--redis", "http://127.0.0.1/0"], "--redis", "is not a Redis URL"),
    (["--redis", "redis://127.0.0.1:0/0"], "--redis", "has port 0"),
    (["--redis", "redis:///0"], "--redis", "names no host"),
    (["--redis", "redis://127.0.0.1/x"], "--redis", "is not a number"),
    (["--redis", "redis://127.0.0.1/0#m"], "--redis", "has a '#' part"),
    (["--redis", "redis://127.0.0.1/0", "--node-id", "a:b"], "--node-id", "is not a node id"),
    (["--node-id", "node-a"], "--node-id", "only with --redis"),
    (["--lease-time", "2"], "--lease-time", "only with --redis"),
    (["--redis", "redis://127.0.0.1/0", "--lease-time", "0"], "--lease-time", "is too small"),
    (["--redis", "redis://127.0.0.1/0", "--no-replays"], "--no-replays", "not with --redis"),
]


@pytest.mark.parametrize("args, flag, says", BAD_FLAGS, ids=[" ".join(a) for a, _, _ in BAD_FLAGS])
def test_bad_cluster_flags_are_one_line_and_status_2(
    args: list[str], flag: str, says: str
) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "gameserver", "serve", "--port", "0", *args],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 2, result
    [line] = result.stderr.splitlines()
    assert line.startswith(f"gameserver serve: error: argument {flag}: "), line
    assert says in line, line
