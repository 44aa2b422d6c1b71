"""``gameserver serve`` as a real subprocess when it cannot start: one line on stderr,
no traceback, a non-zero exit status."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest
import trio

from gameserver.app import ServerConfig, run_server
from gameserver.startup import StartupError


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


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """A certificate and its key, a key of another certificate, an encrypted key, junk."""
    folder = tmp_path_factory.mktemp("tls")

    def openssl(*args: str) -> None:
        subprocess.run(["openssl", *args], check=True, capture_output=True)

    for name in ("", "other_"):
        openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                "-nodes", "-days", "1", "-subj", "/CN=localhost",
                "-keyout", str(folder / f"{name}key.pem"), "-out", str(folder / f"{name}cert.pem"))
    openssl("pkey", "-in", str(folder / "key.pem"), "-aes128", "-passout", "pass:secret",
            "-out", str(folder / "encrypted_key.pem"))
    (folder / "junk.pem").write_text("not PEM at all\n")
    names = ("cert", "key", "other_key", "encrypted_key", "junk")
    files = {name: str(folder / f"{name}.pem") for name in names}
    return files | {"missing": str(folder / "missing.pem"), "dir": str(folder)}


def assert_bad_flag(result: subprocess.CompletedProcess[str], flag: str, says: str) -> None:
    """Exit status 2 and exactly one line on stderr that names the flag: no usage dump, no
    traceback, and the server never started (nothing on stdout)."""
    assert result.returncode == 2, result
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    [line] = result.stderr.splitlines()
    assert line.startswith(f"gameserver serve: error: argument {flag}: "), line
    assert says in line, line


POSITIVE_WHOLE_NUMBERS = [
    "--chat-max", "--room-queue", "--max-rooms", "--outbox", "--max-request-bytes",
    "--max-request-depth", "--max-request-string", "--max-request-items", "--max-request-keys",
    "--max-name", "--max-message-size", "--max-connections", "--max-connections-per-ip",
    "--max-header-bytes", "--max-headers",
]
POSITIVE_NUMBERS = ["--rate", "--token-ttl", "--ping-timeout", "--handshake-timeout"]
NON_NEGATIVE_NUMBERS = ["--grace", "--bot-delay", "--ping-interval"]

BAD_FLAGS = [
    (["--port", "70000"], "--port", "allowed: 0-65535"),
    (["--port", "-1"], "--port", "allowed: 0-65535"),
    (["--port", "http"], "--port", "not a whole number"),
    (["--log-level", "LOUD"], "--log-level", "allowed: DEBUG, INFO, WARNING, ERROR, CRITICAL"),
    (["--grace", "-3"], "--grace", "allowed: a number >= 0"),
    (["--grace", "nan"], "--grace", "not a finite number"),
    (["--takeover-strategy", "genius"], "--takeover-strategy", "allowed: best, random"),
    (["--takeover-strategy", "simple"], "--takeover-strategy", "allowed: best, random"),
    (["--fsync", "sometimes"], "--fsync", "'always', 'end', 'never'"),
    (["--abandon", "wait"], "--abandon", "'forfeit', 'bot'"),
    (["--burst", "0.5"], "--burst", "allowed: a number >= 1"),
    (["--chat-history", "-1"], "--chat-history", "allowed: a whole number >= 0"),
    (["--allow-origin", "games.example.org"], "--allow-origin", "scheme://host[:port]"),
    (["--static", "/nonexistent"], "--static", "/nonexistent: no such directory"),
    (["--static", "{junk}"], "--static", "{junk}: not a directory"),
    (["--certfile", "{missing}", "--keyfile", "{key}"], "--certfile", "{missing}: no such file"),
    (["--certfile", "{dir}", "--keyfile", "{key}"], "--certfile", "{dir}: not a file"),
    (["--certfile", "{cert}", "--keyfile", "{missing}"], "--keyfile", "{missing}: no such file"),
    (["--certfile", "{cert}"], "--keyfile", "required with --certfile"),
    (["--keyfile", "{key}"], "--certfile", "required with --keyfile"),
    (["--certfile", "{junk}", "--keyfile", "{key}"], "--certfile",
     "{junk}: holds no PEM certificate"),
    (["--certfile", "{key}", "--keyfile", "{key}"], "--certfile",
     "{key}: holds no PEM certificate"),
    (["--certfile", "{cert}", "--keyfile", "{junk}"], "--keyfile",
     "{junk}: holds no PEM private key"),
    (["--certfile", "{cert}", "--keyfile", "{other_key}"], "--keyfile",
     "{other_key}: does not match the certificate in {cert}"),
    (["--certfile", "{cert}", "--keyfile", "{encrypted_key}"], "--keyfile",
     "{encrypted_key}: is encrypted"),
    *[([flag, "0"], flag, "allowed: a whole number >= 1") for flag in POSITIVE_WHOLE_NUMBERS],
    *[([flag, "1.5"], flag, "not a whole number") for flag in POSITIVE_WHOLE_NUMBERS[:1]],
    *[([flag, "0"], flag, "allowed: a number > 0") for flag in POSITIVE_NUMBERS],
    *[([flag, "-1"], flag, "allowed: a number >= 0") for flag in NON_NEGATIVE_NUMBERS],
]


@pytest.mark.parametrize("args, flag, says", BAD_FLAGS, ids=[" ".join(a) for a, _, _ in BAD_FLAGS])
def test_a_bad_flag_is_one_line_naming_it_and_status_2(
    tmp_path: Path, tls_files: dict[str, str], args: list[str], flag: str, says: str
) -> None:
    args = [arg.format(**tls_files) for arg in args]
    # --port 0 last-but-one: a flag that slipped through must not take the real port 8000.
    before = [] if "--port" in args else ["--port", "0"]
    result = serve(tmp_path, "--replays", str(tmp_path / "replays"), *before, *args)
    assert_bad_flag(result, flag, says.format(**tls_files))


async def test_run_server_refuses_a_missing_static_directory(
    tmp_path: Path, nursery: trio.Nursery
) -> None:
    missing = tmp_path / "client_web"
    config = ServerConfig(port=0, static_dir=missing, data_dir=tmp_path, replays_dir=None)
    with pytest.raises(StartupError, match=f"^cannot serve {missing} at /: no such directory$"):
        await nursery.start(run_server, config)
