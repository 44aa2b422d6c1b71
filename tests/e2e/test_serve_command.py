"""``gameserver serve`` as a real subprocess when it cannot start: one line on stderr,
no traceback, a non-zero exit status."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path


def serve(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable, "-m", "gameserver", "serve",
            "--data-dir", str(tmp_path / "data"), "--static", str(tmp_path),
            "--log-level", "WARNING", *args,
        ],
        capture_output=True,
        text=True,
        timeout=30,
    )


def assert_one_clear_line(result: subprocess.CompletedProcess[str], expected: str) -> None:
    assert result.returncode == 1, result
    assert result.stdout == ""
    assert result.stderr == expected + "\n"


def test_a_port_in_use_is_one_line_and_status_1(tmp_path: Path) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        result = serve(tmp_path, "--port", str(port), "--replays", str(tmp_path / "replays"))
        # The holder still owns the port: the server never took it, even for a moment.
        assert holder.getsockname()[1] == port
    assert_one_clear_line(
        result, f"gameserver: cannot listen on 127.0.0.1:{port}: address already in use"
    )


def test_an_address_of_no_interface_is_one_line(tmp_path: Path) -> None:
    # 192.0.2.0/24 is TEST-NET-1 (RFC 5737): no interface of this machine has it.
    result = serve(
        tmp_path, "--host", "192.0.2.1", "--port", "0", "--replays", str(tmp_path / "replays")
    )
    assert_one_clear_line(
        result, "gameserver: cannot listen on 192.0.2.1:0: cannot assign requested address"
    )


def test_a_replays_path_that_is_a_file_is_one_line(tmp_path: Path) -> None:
    blocker = tmp_path / "replays"
    blocker.write_text("not a directory")
    result = serve(tmp_path, "--port", "0", "--replays", str(blocker))
    assert_one_clear_line(
        result, f"gameserver: cannot use {blocker} as the replays directory: it is not a directory"
    )
    nested = blocker / "logs"
    result = serve(tmp_path, "--port", "0", "--replays", str(nested))
    assert_one_clear_line(
        result, f"gameserver: cannot use {nested} as the replays directory: not a directory"
    )
    assert blocker.read_text() == "not a directory"


def test_a_data_dir_that_is_a_file_is_one_line(tmp_path: Path) -> None:
    blocker = tmp_path / "data"
    blocker.write_text("not a directory")
    result = serve(tmp_path, "--port", "0", "--replays", str(tmp_path / "replays"))
    assert_one_clear_line(
        result, f"gameserver: cannot use {blocker} as the data directory: it is not a directory"
    )
