"""Take screenshots of the browser client's main screens into docs/screenshots/.

Starts a real ``gameserver serve`` on a free port with temporary data, drives headless
Chromium through the lobby, a match of every game, the replay viewer and a phone-sized
room, and writes one PNG per screen. Run from the repository root:

    python bench/screenshots.py [--out docs/screenshots] [--chromium /usr/bin/chromium]
"""

from __future__ import annotations

import argparse
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import Browser, Page, sync_playwright

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from gameserver.rooms.recording_match import bot_header, record_bot_match  # noqa: E402

ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
DESKTOP = {"width": 1200, "height": 760}
PHONE = {"width": 390, "height": 780}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(tmp: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    replays = tmp / "replays"
    replays.mkdir()
    command = [
        sys.executable, "-m", "gameserver", "serve", "--host", "127.0.0.1", "--port", str(port),
        "--replays", str(replays), "--data-dir", str(tmp / "data"), "--bot-delay", "0.05",
        "--fsync", "never",
    ]  # fmt: skip
    process = subprocess.Popen(command, cwd=ROOT)
    url = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=1):
                return process, url
        except OSError:
            time.sleep(0.05)
    process.kill()
    raise SystemExit("the server did not start")


def sign_in(page: Page, url: str, name: str, path: str = "/") -> None:
    page.bring_to_front()
    page.goto(url + path)
    page.fill("#name-input", name)
    page.click("#name-submit")
    page.wait_for_selector('#net-status[data-status="online"]')


def my_turn(page: Page) -> None:
    page.wait_for_selector('#room[data-my-turn="true"]')


def create(page: Page, game: str, players: int, seats: list[str], private: bool = False) -> None:
    page.select_option("#create-game", game)
    if players != 2:
        page.fill("#create-players", str(players))
    for seat, choice in enumerate(seats):
        page.select_option(f'#create-seats select[data-seat="{seat}"]', choice)
    if private:
        page.check("#create-private")
    page.click("#create-submit")
    page.wait_for_selector("#room")


def shoot(page: Page, out: Path, name: str, *, full_page: bool = False) -> None:
    page.wait_for_timeout(150)  # let the last frame paint
    page.screenshot(path=str(out / f"{name}.png"), full_page=full_page)
    print("wrote", out / f"{name}.png")


def lobby(browser: Browser, url: str, out: Path) -> None:
    context = browser.new_context(viewport=DESKTOP)
    others = [context.new_page() for _ in range(3)]
    sign_in(others[0], url, "Ben")
    create(others[0], "connect4", 2, ["me", "open"])
    sign_in(others[1], url, "Cleo")
    create(others[1], "liarsdice", 4, ["me", "open", "bot:best", "open"])
    sign_in(others[2], url, "Dan")
    others[2].click('[data-action="vs-computer"][data-game="tictactoe"]')
    page = context.new_page()
    sign_in(page, url, "Ann")
    page.wait_for_selector('#room-list[data-count="3"]')
    shoot(page, out, "lobby")
    context.close()


def games(browser: Browser, url: str, out: Path, tmp: Path) -> None:
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    sign_in(page, url, "Ann")
    page.click('[data-action="vs-computer"][data-game="tictactoe"]')
    for cell in (4, 0):
        my_turn(page)
        if page.get_attribute(f'[data-cell="{cell}"]', "data-legal") != "true":
            cell = int(page.get_attribute('[data-cell][data-legal="true"]', "data-cell") or 0)
        page.click(f'[data-cell="{cell}"]')
    my_turn(page)
    page.fill("#chat-input", "good luck!")
    page.press("#chat-input", "Enter")
    page.wait_for_selector("#chat-log li")
    shoot(page, out, "tictactoe")

    page.click("#leave")
    page.click("#leave")  # leaving a running match resigns it: confirm
    page.wait_for_selector("#lobby")
    page.select_option("#create-game", "connect4")
    page.select_option("#create-clock", "rapid")
    page.click("#create-submit")
    for column in (3, 3, 2, 4):
        my_turn(page)
        if page.get_attribute(f'[data-column="{column}"]', "data-legal") == "true":
            page.click(f'[data-column="{column}"]')
        else:
            page.click('[data-column][data-legal="true"]')
    my_turn(page)
    shoot(page, out, "connect4")

    page.click("#leave")
    page.click("#leave")  # leaving a running match resigns it: confirm
    page.wait_for_selector("#lobby")
    create(page, "liarsdice", 3, ["me", "bot:best", "bot:random"])
    my_turn(page)
    page.click("#ld-bid-button")  # the lowest opening bid
    my_turn(page)
    page.click("#ld-liar")  # call the computers' bid: the round is revealed
    page.wait_for_selector("#ld-last")
    my_turn(page)
    shoot(page, out, "liarsdice")
    context.close()


def replay(browser: Browser, url: str, out: Path, replays: Path) -> None:
    record_bot_match(replays, bot_header("connect4", ["best", "random"], seed=11, match_id="screenshot-c4"))
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    page.goto(url + "/#/replays")
    page.wait_for_selector('#replay-list[data-loaded="true"]')
    shoot(page, out, "replays")
    page.goto(url + "/#/replays/screenshot-c4?step=6")
    page.wait_for_selector('#replay[data-loaded="true"][data-step="6"]')
    shoot(page, out, "replay-viewer")
    context.close()


def phone(browser: Browser, url: str, out: Path) -> None:
    context = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True)
    host = context.new_page()
    sign_in(host, url, "Quinn")
    create(host, "liarsdice", 3, ["me", "open", "bot:best"])
    page = context.new_page()
    sign_in(page, url, "Pip")
    page.wait_for_selector("#room-list tbody tr")
    shoot(page, out, "phone-lobby", full_page=True)
    page.click('[data-action="vs-computer"][data-game="connect4"]')
    for column in (3, 2):
        my_turn(page)
        page.click(f'[data-column="{column}"]') if page.get_attribute(
            f'[data-column="{column}"]', "data-legal"
        ) == "true" else page.click('[data-column][data-legal="true"]')
    my_turn(page)
    shoot(page, out, "phone-connect4")
    context.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        process, url = start_server(tmp)
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=args.chromium, args=ARGS)
                lobby(browser, url, args.out)
                games(browser, url, args.out, tmp)
                replay(browser, url, args.out, tmp / "replays")
                phone(browser, url, args.out)
                browser.close()
        finally:
            process.terminate()
            process.wait(timeout=10)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
