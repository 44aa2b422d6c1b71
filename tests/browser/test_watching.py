"""Watching a room: the lobby's Watch and a bots-only room ask to spectate exactly once."""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import Page

from .ui import (
    RunningServer,
    act_on,
    error_toasts,
    record_requests,
    room_attr,
    requests_of,
    sign_in,
    wait_room,
)


def chat_round_trip(page: Page, text: str) -> None:
    """Say ``text`` in the room and wait until it comes back: every earlier reply is in."""
    page.fill("#chat-input", text)
    page.press("#chat-input", "Enter")
    page.wait_for_selector(f'#chat-log li:has-text("{text}")')


def test_watch_from_the_lobby_spectates_once_and_shows_no_error(
    server: RunningServer, new_page: Callable[[], Page]
) -> None:
    mia, ned = new_page(), new_page()
    sign_in(mia, server.url, "Mia")
    mia.click('[data-action="vs-computer"][data-game="tictactoe"]')
    wait_room(mia, seat="0", my_turn="true")
    room_id = room_attr(mia, "room-id")

    sent = record_requests(ned)
    sign_in(ned, server.url, "Ned")
    row = f'#room-list tr[data-room-id="{room_id}"]'
    ned.wait_for_selector(row)
    ned.click(f'{row} [data-action="watch"]')
    wait_room(ned, room_id=room_id, seat="spectator", status="playing")
    chat_round_trip(ned, "just watching")

    assert len(requests_of(sent, "spectate")) == 1
    assert error_toasts(ned) == []

    # The spectator follows the match live.
    act_on(mia).click('[data-cell="4"]')
    ned.wait_for_selector('#board [data-cell="4"][data-mark="X"]')
    assert ned.locator('[data-cell][data-legal="true"]').count() == 0

    # Back to the lobby and Watch again: still the same spectator place, no new request.
    act_on(ned).click('a[data-nav="lobby"]')
    ned.click(f'{row} [data-action="watch"]')
    wait_room(ned, room_id=room_id, seat="spectator")
    ned.wait_for_selector('#board [data-cell="4"][data-mark="X"]')
    chat_round_trip(ned, "still watching")
    assert len(requests_of(sent, "spectate")) == 1
    assert error_toasts(ned) == []


def test_a_bots_only_room_is_watched_without_an_error(
    server: RunningServer, new_page: Callable[[], Page]
) -> None:
    page = new_page()
    sent = record_requests(page)
    sign_in(page, server.url, "Ola")
    page.select_option("#create-game", "connect4")
    page.select_option('#create-seats select[data-seat="0"]', "bot:best")
    page.select_option('#create-seats select[data-seat="1"]', "bot:random")
    page.click("#create-submit")
    wait_room(page, seat="spectator")
    page.wait_for_selector('#room:not([data-version=""]):not([data-version="0"])')
    chat_round_trip(page, "go bots")

    assert requests_of(sent, "spectate") == []  # creating the room already made us a spectator
    assert error_toasts(page) == []
