"""A real server in a subprocess and a real headless Chromium for the browser tests.

Tests use Playwright's sync API (plain ``def`` tests). One server and one browser serve
the whole browser test session; every test gets a fresh browser context, and every
page in a context has its own sessionStorage, i.e. is its own player.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

from .ui import RunningServer

CHROMIUM = os.environ.get("GAMESERVER_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# How long the server may take to start answering /healthz.
STARTUP_SECONDS = 20.0
# Default wait for any one expected UI change (a move, a push); generous for a loaded CI.
UI_TIMEOUT_MS = 30_000


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_healthy(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"server did not become healthy:\n{log.read_text()}")


@contextlib.contextmanager
def running_server(root: Path, replays: Path, *extra: str) -> Iterator[RunningServer]:
    """Run ``gameserver serve`` recording into ``replays`` (with ``extra`` flags) for the block."""
    data = root / "data"
    replays.mkdir(exist_ok=True)
    data.mkdir()
    port = _free_port()
    log = root / "server.log"
    command = [
        sys.executable, "-m", "gameserver", "serve",
        "--host", "127.0.0.1", "--port", str(port),
        "--replays", str(replays), "--data-dir", str(data),
        # Quick computer replies keep the tests fast; logs need no fsync in a temp dir.
        "--bot-delay", "0.05", "--fsync", "never", *extra,
    ]  # fmt: skip
    with open(log, "wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(url, process, log)
        yield RunningServer(url=url, replays=replays)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """The server most tests share; a module needing other flags overrides ``server``."""
    # For working on the client: point the tests at a server you already run.
    existing = os.environ.get("GAMESERVER_BROWSER_URL")
    if existing:
        yield RunningServer(url=existing, replays=Path(os.environ["GAMESERVER_BROWSER_REPLAYS"]))
        return
    root = tmp_path_factory.mktemp("browser-server")
    with running_server(root, root / "replays") as running:
        yield running


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        yield browser
        browser.close()


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    context = browser.new_context(viewport={"width": 1200, "height": 800})
    context.set_default_timeout(UI_TIMEOUT_MS)
    yield context
    context.close()


@pytest.fixture
def new_page(context: BrowserContext, server: RunningServer) -> Iterator[object]:
    """Open a page (a new player tab).

    Fails the test on any uncaught page error or Content-Security-Policy violation, and
    on any request that leaves the server: the client must load everything from the
    server itself (no CDN).
    """
    errors: list[str] = []
    foreign: list[str] = []

    def open_page() -> Page:
        page = context.new_page()
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.on(
            "console",
            lambda message: errors.append(message.text)
            if "Content Security Policy" in message.text
            else None,
        )
        page.on(
            "request",
            lambda request: None
            if request.url.startswith(server.url + "/") or request.url.startswith("data:")
            else foreign.append(request.url),
        )
        return page

    yield open_page
    assert errors == [], f"uncaught errors in the page: {errors}"
    assert foreign == [], f"requests to other hosts: {foreign}"
