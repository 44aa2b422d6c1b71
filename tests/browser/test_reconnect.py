"""A player keeps their seat through a page reload and through a network outage."""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import BrowserContext, Page

from .ui import RunningServer, room_attr, sign_in, wait_room


def marks(page: Page) -> list[str]:
    cells = page.locator("[data-cell]")
    return [cells.nth(i).get_attribute("data-mark") or "" for i in range(cells.count())]


def test_reload_mid_match_resumes_the_seat(
    server: RunningServer, new_page: Callable[[], Page]
) -> None:
    page = new_page()
    sign_in(page, server.url, "Dora")
    page.click('[data-action="vs-computer"][data-game="tictactoe"]')
    wait_room(page, seat="0", my_turn="true")
    room_id = room_attr(page, "room-id")
    page.click('[data-cell="0"]')
    wait_room(page, version="2", my_turn="true")  # the computer has answered
    before = marks(page)
    page.fill("#chat-input", "back in a second")
    page.press("#chat-input", "Enter")
    page.wait_for_selector('#chat-log li:has-text("back in a second")')

    page.reload()

    # No name prompt: the tab's session token brings the same seat back.
    wait_room(page, room_id=room_id, seat="0", version="2", my_turn="true")
    assert page.locator("#name-form").count() == 0
    assert marks(page) == before
    assert page.get_attribute("#net-status", "data-status") == "online"
    # The chat comes back with the seat, each line once.
    page.wait_for_selector('#chat-log li:has-text("back in a second")')
    assert page.locator('#chat-log li:has-text("back in a second")').count() == 1
    free = page.locator('[data-cell][data-legal="true"]').first
    cell = free.get_attribute("data-cell")
    free.click()
    page.wait_for_selector(f'[data-cell="{cell}"][data-mark="X"]')
    # Version 3 lasts only until the computer answers (50 ms here): wait for its answer.
    wait_room(page, version="4", my_turn="true")

    # The lobby lists the match under "Your games", and leads back to it.
    page.click('[data-nav="lobby"]')
    page.click(f'#my-rooms li[data-room-id="{room_id}"] a')
    wait_room(page, room_id=room_id, seat="0")


def test_network_loss_shows_offline_and_resumes_with_the_pending_move(
    server: RunningServer, context: BrowserContext, new_page: Callable[[], Page]
) -> None:
    page = new_page()
    sign_in(page, server.url, "Eve")
    page.click('[data-action="vs-computer"][data-game="connect4"]')
    wait_room(page, seat="0", my_turn="true")

    context.set_offline(True)
    page.wait_for_selector("#offline-banner", state="visible")
    assert page.get_attribute("#net-status", "data-status") != "online"
    # A move made while offline waits (the board locks meanwhile) and is sent on resume.
    page.click('[data-column="3"]')
    page.wait_for_selector('[data-column="4"][data-legal="false"]')
    assert room_attr(page, "version") == "0"

    context.set_offline(False)
    page.wait_for_selector('#net-status[data-status="online"]')
    page.wait_for_selector("#offline-banner", state="hidden")
    wait_room(page, seat="0", version="2", my_turn="true")  # our move and the reply
    assert page.get_attribute('[data-cell-row="5"][data-cell-col="3"]', "data-owner") == "0"


def test_the_same_player_in_a_second_tab_takes_over_without_a_tug_of_war(
    server: RunningServer, new_page: Callable[[], Page]
) -> None:
    first = new_page()
    sign_in(first, server.url, "Finn")
    first.click('[data-action="vs-computer"][data-game="tictactoe"]')
    wait_room(first, seat="0", my_turn="true")
    room_id = room_attr(first, "room-id")
    session = first.evaluate("JSON.stringify(Object.assign({}, sessionStorage))")

    # A duplicated tab starts with a copy of the first tab's sessionStorage.
    second = new_page()
    second.add_init_script(
        f"if (!sessionStorage.getItem('gs.token')) {{"
        f" const saved = {session};"
        f" for (const [k, v] of Object.entries(saved)) sessionStorage.setItem(k, v); }}"
    )
    second.goto(f"{server.url}/#/room/{room_id}")
    wait_room(second, room_id=room_id, seat="0", my_turn="true")

    first.wait_for_selector('#net-status[data-status="replaced"]')
    assert first.is_hidden("#offline-banner")  # it does not pretend to reconnect
    assert first.evaluate("window.gameApp.conn.stopped") is True
    second.click('[data-cell="4"]')
    wait_room(second, version="2")
    assert second.get_attribute("#net-status", "data-status") == "online"


def test_a_move_whose_reply_was_lost_is_retried_and_applied_once(
    server: RunningServer, new_page: Callable[[], Page]
) -> None:
    page = new_page()
    sign_in(page, server.url, "Gil")
    page.click('[data-action="vs-computer"][data-game="connect4"]')
    wait_room(page, seat="0", version="0", my_turn="true")
    room_id = room_attr(page, "room-id")

    # Send a move and drop the connection at once, before its reply can arrive; the
    # client resumes and sends the very same request again.
    result = page.evaluate(
        """roomId => {
            const conn = window.gameApp.conn;
            const reply = conn.request("move", {room_id: roomId, version: 0, move: {column: 3}});
            conn.ws.close();
            return reply;
        }""",
        room_id,
    )
    assert result == {"version": 1}
    wait_room(page, version="2", my_turn="true")  # our move once, then the computer's
    ours = page.locator('.c4-cell[data-owner="0"]').count()
    theirs = page.locator('.c4-cell[data-owner="1"]').count()
    assert (ours, theirs) == (1, 1)
    assert page.locator(".toast").count() == 0
