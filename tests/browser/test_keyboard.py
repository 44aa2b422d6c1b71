"""Keyboard play: focus stays on the board from one move to the next."""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import Page

from .ui import RunningServer, sign_in, wait_room

# Short: before the fix the second key press simply did nothing.
MOVE_TIMEOUT_MS = 10_000


def focused_key(page: Page) -> str | None:
    return page.evaluate("document.activeElement && document.activeElement.dataset.key || null")


def test_two_connect_four_moves_in_a_row_with_the_keyboard(
    server: RunningServer, new_page: Callable[[], Page]
) -> None:
    page = new_page()
    sign_in(page, server.url, "Kay")
    page.click('[data-action="vs-computer"][data-game="connect4"]')
    wait_room(page, seat="0", my_turn="true", version="0")
    page.focus('[data-column="3"]')
    page.keyboard.press("ArrowLeft")
    assert focused_key(page) == "col-2"
    page.keyboard.press("Enter")
    wait_room(page, version="2", my_turn="true")
    assert focused_key(page) == "col-2"  # the column keeps the focus across the re-render

    page.keyboard.press("Enter")  # no click in between
    page.wait_for_selector('#room[data-version="4"][data-my-turn="true"]', timeout=MOVE_TIMEOUT_MS)
    mine = page.locator('[data-cell-col="2"][data-owner="0"]')
    assert mine.count() == 2
    page.keyboard.press("ArrowRight")
    assert focused_key(page) == "col-3"


def test_two_tic_tac_toe_moves_in_a_row_with_the_arrow_keys(
    server: RunningServer, new_page: Callable[[], Page]
) -> None:
    page = new_page()
    sign_in(page, server.url, "Lou")
    page.click('[data-action="vs-computer"][data-game="tictactoe"]')
    wait_room(page, seat="0", my_turn="true", version="0")
    page.focus('[data-cell="0"]')
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("Enter")
    wait_room(page, version="2", my_turn="true")
    # The played cell is taken: focus moves on to a free cell, and Enter plays it.
    assert page.get_attribute('[data-cell="0"]', "data-mark") == "X"
    key = focused_key(page)
    assert key is not None and key != "cell-0"
    assert page.get_attribute(f'[data-key="{key}"]', "data-legal") == "true"
    page.keyboard.press("Enter")
    page.wait_for_selector('#room[data-version="4"], #room[data-status="over"]', timeout=MOVE_TIMEOUT_MS)
    assert page.get_attribute(f'[data-key="{key}"]', "data-mark") == "X"
