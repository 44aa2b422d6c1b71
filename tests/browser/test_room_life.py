"""The end of a room's life in the browser: aborted matches, released rooms, room limits.

The server here runs with a one-second first-move deadline, finished rooms kept three
seconds, and one room per player, so each of those happens within a test.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import Page

from .conftest import running_server
from .ui import RunningServer, act_on, error_toasts, sign_in, wait_room


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    root = tmp_path_factory.mktemp("room-life-server")
    flags = ("--first-move-timeout", "1", "--finished-room-ttl", "3", "--max-rooms-per-player", "1")
    with running_server(root, root / "replays", *flags) as running:
        yield running


def play_the_computer_and_wait(page: Page) -> str:
    """Start tic-tac-toe against the computer (we move first), make no move; the room id."""
    act_on(page).click('[data-action="vs-computer"][data-game="tictactoe"]')
    wait_room(page, seat="0", status="playing")
    return page.get_attribute("#room", "data-room-id") or ""


def test_a_match_aborted_for_no_first_move_says_so(
    server: RunningServer, new_page: Callable[[], Page]
) -> None:
    page = new_page()
    sign_in(page, server.url, "Abe")
    play_the_computer_and_wait(page)
    wait_room(page, status="over")
    assert page.get_attribute("#result strong", "data-outcome") == "aborted"
    assert page.inner_text("#result strong") == "Match aborted: no first move"
    assert page.inner_text("#turn-status") == "Match aborted: no first move"


def test_a_released_room_says_it_has_closed_and_leaves_the_lobby(
    server: RunningServer, new_page: Callable[[], Page]
) -> None:
    page = new_page()
    sign_in(page, server.url, "Cleo")
    room_id = play_the_computer_and_wait(page)
    wait_room(page, status="over")
    assert page.is_visible("#rematch") and not page.is_visible("#room-closed")

    wait_room(page, closed="true")  # the server's last `room` push: status "closed"
    assert page.inner_text("#room-closed").startswith("This room has closed")
    assert not page.is_visible("#rematch")
    assert page.is_disabled("#chat-input") and page.is_disabled('#chat-form button[type="submit"]')
    assert page.inner_text("#result strong") == "Match aborted: no first move"  # still shown

    page.click('#room-closed a[data-action="lobby"]')
    page.wait_for_selector("#lobby")
    assert error_toasts(page) == []
    assert page.locator(f'#my-rooms [data-room-id="{room_id}"]').count() == 0
    assert page.is_hidden("#my-rooms")
    assert page.locator(f'#room-list [data-room-id="{room_id}"]').count() == 0


def test_one_room_too_many_reads_as_a_sentence(
    server: RunningServer, new_page: Callable[[], Page]
) -> None:
    page = new_page()
    sign_in(page, server.url, "Dov")
    page.select_option('#create-seats select[data-seat="1"]', "open")
    page.click("#create-submit")
    wait_room(page, seat="0", status="waiting")  # the one room this player may hold

    page.click('a[data-nav="lobby"]')
    page.wait_for_selector("#lobby")
    page.click('[data-action="vs-computer"][data-game="tictactoe"]')
    page.wait_for_selector('.toast-error[data-code="too_many_rooms"]')
    assert error_toasts(page) == ["You already hold 1 open room, the most allowed; leave one first"]
