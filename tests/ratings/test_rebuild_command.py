"""``gameserver ratings rebuild`` as a command: bad flags and an unusable database."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

from gameserver.store.sqlite import DATABASE_FILE, SQLitePlayerStore


def _rebuild(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gameserver", "ratings", "rebuild", *args],
        capture_output=True, text=True, timeout=60,
    )


def test_a_missing_directory_is_one_line_and_status_2(tmp_path: Path) -> None:
    done = _rebuild("--replays", str(tmp_path / "nope"), "--data", str(tmp_path))
    assert done.returncode == 2
    [line] = done.stderr.splitlines()
    assert line.startswith("gameserver ratings: error: argument --replays: ")


def test_an_empty_log_directory_rates_nothing(tmp_path: Path) -> None:
    (tmp_path / "replays").mkdir()
    done = _rebuild("--replays", str(tmp_path / "replays"), "--data", str(tmp_path))
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("rated 0 matches")


def test_a_database_from_a_newer_server_is_status_1(tmp_path: Path) -> None:
    (tmp_path / "replays").mkdir()
    SQLitePlayerStore.open(tmp_path).close()
    db = sqlite3.connect(tmp_path / DATABASE_FILE)
    db.execute("UPDATE schema_version SET version = 99")
    db.commit()
    db.close()
    done = _rebuild("--replays", str(tmp_path / "replays"), "--data", str(tmp_path))
    assert done.returncode == 1
    assert "schema version 99" in done.stderr
