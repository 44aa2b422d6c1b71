"""A wheel, installed into a fresh virtual environment, serves the browser client at ``/``.

The wheel is built from a copy of the sources (a build writes ``build/`` and
``*.egg-info`` beside them), without build isolation: the test extras bring setuptools
and wheel, so this needs no network. Installing it fetches its dependencies like any
user's ``pip install`` would.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import urllib.request
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# Long enough for pip to fetch the dependencies on a slow network; a hang guard only.
INSTALL_TIMEOUT = 600


def _environment() -> dict[str, str]:
    """This process's environment without PYTHONPATH: tests/conftest.py points it at the
    checkout, and the installed wheel, not the checkout, is under test here."""
    return {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}


def build_wheel(tmp_path: Path) -> Path:
    source = tmp_path / "source"
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
    shutil.copytree(ROOT / "gameserver", source / "gameserver", ignore=ignore)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, source / name)
    wheels = tmp_path / "wheels"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
         "--wheel-dir", str(wheels), str(source)],
        check=True, env=_environment(), timeout=INSTALL_TIMEOUT,
    )  # fmt: skip
    [wheel] = wheels.glob("gameserver-*.whl")
    return wheel


def install(wheel: Path, venv: Path) -> None:
    """A fresh venv (no pip of its own: this pip installs into it) with the wheel in it."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install",
         "--quiet", "--disable-pip-version-check", str(wheel)],
        check=True, env=_environment(), timeout=INSTALL_TIMEOUT,
    )  # fmt: skip


def http_get(url: str) -> tuple[int, str, bytes]:
    with urllib.request.urlopen(url, timeout=30) as response:
        return response.status, response.headers["Content-Type"], response.read()


def serve_and_fetch(venv: Path, cwd: Path) -> None:
    server = subprocess.Popen(
        [str(venv / "bin" / "gameserver"), "serve", "--port", "0", "--log-level", "WARNING"],
        cwd=cwd, env=_environment(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert server.stdout is not None
        first = server.stdout.readline()
        match = re.fullmatch(r"gameserver listening on (http://127\.0\.0\.1:\d+)/\n", first)
        assert match, (first, server.stderr.read() if server.poll() is not None else "")
        base = match.group(1)
        status, content_type, index = http_get(base + "/")
        assert (status, content_type) == (200, "text/html; charset=utf-8")
        assert index == (ROOT / "gameserver" / "client_web" / "index.html").read_bytes()
        [module] = re.findall(rb'<script type="module" src="([^"]+)"', index)
        status, content_type, script = http_get(f"{base}/{module.decode()}")
        assert (status, content_type) == (200, "text/javascript; charset=utf-8")
        assert script == (ROOT / "gameserver" / "client_web" / module.decode()).read_bytes()
    finally:
        server.send_signal(signal.SIGINT)
        assert server.wait(timeout=30) == 0


@pytest.mark.slow
def test_an_installed_wheel_serves_the_browser_client(tmp_path: Path) -> None:
    wheel = build_wheel(tmp_path)
    with zipfile.ZipFile(wheel) as archive:
        assert "gameserver/client_web/index.html" in archive.namelist()
    venv = tmp_path / "venv"
    install(wheel, venv)
    where = subprocess.run(
        [str(venv / "bin" / "python"), "-c", "import gameserver; print(gameserver.__file__)"],
        cwd=tmp_path, env=_environment(), capture_output=True, text=True, check=True,
    )  # fmt: skip
    package = Path(where.stdout.strip()).parent
    assert venv in package.parents  # the wheel's copy, not the checkout
    cwd = tmp_path / "elsewhere"
    cwd.mkdir()
    serve_and_fetch(venv, cwd)

    # An install that lost its client refuses to start rather than answer 404 at /.
    shutil.rmtree(package / "client_web")
    result = subprocess.run(
        [str(venv / "bin" / "gameserver"), "serve", "--port", "0"],
        cwd=cwd, env=_environment(), capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 2, result
    assert result.stdout == ""
    assert result.stderr == (
        f"gameserver serve: error: argument --static: cannot serve {package / 'client_web'} "
        "at /: no such directory (see gameserver serve --help)\n"
    )
