"""Settings shared by every test directory."""

from __future__ import annotations

import contextlib
import errno
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

# Child processes the tests start (the CLI, documentation examples, benchmark scripts)
# import the checkout under test, whether or not it is the one pip installed.
_CHECKOUT = str(Path(__file__).resolve().parent.parent)
os.environ["PYTHONPATH"] = os.pathsep.join(
    part for part in (_CHECKOUT, os.environ.get("PYTHONPATH", "")) if part
)


# -- a real, small disk that can be filled (tests of what happens when storage runs out) --


class SmallDisk:
    """A tmpfs mounted at ``path``: ``fill()`` takes every free byte, ``free()`` returns it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.filler = path / "filler.bin"

    def fill(self) -> None:
        """Write the filler file until the file system says ENOSPC."""
        with open(self.filler, "ab", buffering=0) as file:
            block = b"\xff" * 4096
            while True:
                try:
                    file.write(block)
                except OSError as exc:
                    assert exc.errno == errno.ENOSPC, exc
                    break
            # The last page may still have room for a few bytes: take them one at a time.
            while True:
                try:
                    if not file.write(b"\xff"):
                        break
                except OSError:
                    break

    def free(self) -> None:
        """Delete the filler: the disk has room again."""
        self.filler.unlink(missing_ok=True)


@contextlib.contextmanager
def mounted_tmpfs(path: Path, size: str) -> Iterator[SmallDisk]:
    """Mount a tmpfs of ``size`` (e.g. ``"256k"``) at ``path`` (created) for the block."""
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    path.mkdir(parents=True, exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], check=True)
    try:
        yield SmallDisk(path)
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[SmallDisk]:
    """A real 256 KiB tmpfs, mounted for the test and unmounted after it."""
    with mounted_tmpfs(tmp_path / "small-disk", "256k") as disk:
        yield disk
