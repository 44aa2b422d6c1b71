"""Small steps the browser tests share: sign in, wait for a room, read the board."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import attrs
import msgpack
from playwright.sync_api import Page, WebSocket


@attrs.frozen
class RunningServer:
    """The server under test."""

    url: str
    """Base URL, e.g. http://127.0.0.1:43123 (no trailing slash)."""
    replays: Path
    """The directory the server records matches into and serves replays from."""


def sign_in(page: Page, url: str, name: str, path: str = "/") -> None:
    """Open the client at ``path`` and enter ``name``; returns once connected."""
    page.bring_to_front()
    page.goto(url + path)
    page.fill("#name-input", name)
    page.click("#name-submit")
    page.wait_for_selector('#net-status[data-status="online"]')


def room_attr(page: Page, name: str) -> str:
    """A data-* attribute of the room element (e.g. "version", "status", "seat")."""
    value = page.get_attribute("#room", f"data-{name}")
    return value or ""


def wait_room(page: Page, **values: str) -> None:
    """Wait until the room element carries every given data-* value."""
    selector = "#room" + "".join(
        f'[data-{key.replace("_", "-")}="{value}"]' for key, value in values.items()
    )
    page.wait_for_selector(selector)


def wait_my_turn_or_over(page: Page) -> str:
    """Wait until it is this player's turn or the match is over; return which."""
    page.wait_for_selector('#room[data-my-turn="true"], #room[data-status="over"]')
    return "over" if room_attr(page, "status") == "over" else "turn"


def act_on(page: Page) -> Page:
    """Bring ``page``'s tab to the front before driving it.

    Chromium pauses animation frames in background tabs, and Playwright waits for a
    frame before every click, so acting on a background tab stalls for seconds.
    """
    page.bring_to_front()
    return page


def record_requests(page: Page) -> list[dict[str, Any]]:
    """Collect every message ``page`` sends over its game WebSockets, decoded.

    Call it before the page connects; the returned list fills as the page talks.
    """
    sent: list[dict[str, Any]] = []

    def on_socket(socket: WebSocket) -> None:
        def on_frame(payload: str | bytes) -> None:
            if isinstance(payload, bytes):
                sent.append(msgpack.unpackb(payload))

        socket.on("framesent", on_frame)

    page.on("websocket", on_socket)
    return sent


def requests_of(sent: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    """The recorded requests of type ``kind`` (e.g. "spectate")."""
    return [message for message in sent if message.get("type") == kind]


def error_toasts(page: Page) -> list[str]:
    """The texts of the error toasts now on screen."""
    toasts = page.locator(".toast-error")
    return [toasts.nth(i).inner_text() for i in range(toasts.count())]
