"""The top-level ``replays/`` is where ``gameserver serve`` records, so it holds no tracked
match log, and a server run from a checkout changes no tracked file there.

Both tests read the repository with git (the tracked files and .gitignore are the point);
outside a git checkout (an unpacked sdist) they are skipped.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from gameserver.cli import build_parser

from .conftest import SAMPLES

ROOT = Path(__file__).resolve().parents[2]
# Hang guards only: start-up takes about a second, one bot match a few.
START_SECONDS = 30
BOTS_SECONDS = 120


def git(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, text=True)


@pytest.fixture
def checkout() -> None:
    if shutil.which("git") is None or git("rev-parse", "--is-inside-work-tree").returncode:
        pytest.skip("not a git checkout")


def tracked(folder: str) -> list[str]:
    """Paths (relative to the repository root) of the files git tracks under ``folder``."""
    return git("ls-files", "-z", "--", folder).stdout.split("\0")[:-1]


def ignored(path: str) -> bool:
    """True if git would ignore a new file at ``path`` (relative to the repository root)."""
    return git("check-ignore", "-q", "--no-index", "--", path).returncode == 0


def default_replays_dir() -> Path:
    """The directory ``gameserver serve`` records into when given no ``--replays``."""
    args = build_parser().parse_args(["serve"])
    assert isinstance(args.replays, Path)
    return args.replays


@pytest.mark.usefixtures("checkout")
def test_the_samples_are_not_where_serve_records_by_default() -> None:
    default = default_replays_dir()
    assert not default.is_absolute()  # relative to where serve runs: the checkout's root
    folder = default.as_posix()
    assert not SAMPLES.resolve().is_relative_to((ROOT / default).resolve())
    assert tracked(folder) == [f"{folder}/README.md"]
    assert ignored(f"{folder}/room-1.gsr") and ignored(f"{folder}/v1-connect4-crashed.gsr")
    assert not ignored(f"{folder}/README.md")
    samples = SAMPLES.relative_to(ROOT).as_posix()
    assert len([p for p in tracked(samples) if p.endswith(".gsr")]) >= 6


def files_under(directory: Path) -> Iterator[Path]:
    return (path for path in directory.rglob("*") if path.is_file())


@pytest.mark.usefixtures("checkout")
def test_serve_run_in_a_checkout_changes_no_tracked_file(tmp_path: Path) -> None:
    """Recovery at start and a recorded match leave tracked files as they were, and
    everything new the server wrote is ignored by git."""
    folder = default_replays_dir().as_posix()
    before = {path: (ROOT / path).read_bytes() for path in tracked(folder)}
    for path, data in before.items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_bytes(data)
    server = subprocess.Popen(
        [sys.executable, "-m", "gameserver", "serve", "--port", "0", "--log-level", "WARNING"],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert server.stdout is not None
        line = server.stdout.readline()  # "gameserver listening on http://127.0.0.1:PORT/"
        assert "listening on" in line, line + server.communicate(timeout=START_SECONDS)[1]
        port = int(line.rstrip().rstrip("/").rsplit(":", 1)[1])
        bots = subprocess.run(
            [
                sys.executable, "-m", "gameserver", "bot", "--url", f"ws://127.0.0.1:{port}/ws",
                "--game", "tictactoe", "--count", "2", "--matches", "1",
            ],
            capture_output=True, text=True, timeout=BOTS_SECONDS, cwd=tmp_path,
        )  # fmt: skip
        assert bots.returncode == 0, bots.stdout + bots.stderr
    finally:
        server.terminate()
        server.communicate(timeout=START_SECONDS)
    written = [p.relative_to(tmp_path).as_posix() for p in files_under(tmp_path)]
    new = sorted(set(written) - set(before))
    assert any(path.startswith(f"{folder}/") and path.endswith(".gsr") for path in new), new
    for path, data in before.items():
        assert (tmp_path / path).read_bytes() == data, f"serve changed the tracked {path}"
    assert [path for path in new if not ignored(path)] == []
