"""Around a room: the invite panel, late visitors to a private match, rooms that are gone."""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import Page

from .ui import RunningServer, act_on, error_toasts, sign_in, wait_room


def assert_clean_message_page(page: Page, selector: str, back: str) -> str:
    """A message card with a capitalised text and a link back, and no room or replay controls."""
    card = page.wait_for_selector(selector)
    text = card.inner_text().strip()
    assert text[0].isupper()
    assert page.locator(f'{selector} a[href="{back}"]').count() == 1
    for control in ("#board", "#chat-form", "#seats", "#leave", "#replay-slider", "#replay-seat"):
        assert page.locator(control).count() == 0, control
    return text


def test_the_invite_panel_goes_once_the_room_is_full_and_late_visitors_are_told(
    server: RunningServer, new_page: Callable[[], Page]
) -> None:
    ann, ben, cy = new_page(), new_page(), new_page()
    sign_in(ann, server.url, "Ann")
    ann.select_option("#create-game", "tictactoe")
    ann.select_option('#create-seats select[data-seat="1"]', "open")
    ann.check("#create-private")
    ann.click("#create-submit")
    wait_room(ann, seat="0", status="waiting")
    assert ann.is_visible("#invite")
    invite = ann.input_value("#invite-link")

    sign_in(ben, invite, "Ben", path="")
    wait_room(ben, seat="1", status="playing")
    wait_room(ann, status="playing")
    assert ann.is_hidden("#invite")  # nobody else can join now
    assert ben.is_hidden("#invite")

    # A third visitor with the same link: the match has started, and private rooms cannot
    # be watched, so the page says so instead of dropping them in the lobby.
    sign_in(cy, invite, "Cy", path="")
    text = assert_clean_message_page(cy, "#join-failed", "#/")
    assert "already started" in text
    assert "watch" in text
    assert cy.get_attribute("#join-failed", "data-code") == "room_full"
    assert error_toasts(cy) == []
    act_on(cy).click("#join-failed a")
    cy.wait_for_selector("#lobby")


def test_a_bad_invite_code_gets_a_message_page(
    server: RunningServer, new_page: Callable[[], Page]
) -> None:
    page = new_page()
    sign_in(page, server.url, "Kim", path="/#/join/NOSUCHCODE")
    assert_clean_message_page(page, "#join-failed", "#/")
    assert page.get_attribute("#join-failed", "data-code") == "room_not_found"


def test_a_missing_room_gets_a_message_page(
    server: RunningServer, new_page: Callable[[], Page]
) -> None:
    page = new_page()
    sign_in(page, server.url, "Lu")
    page.goto(server.url + "/#/room/no-such-room")
    text = assert_clean_message_page(page, "#room-missing", "#/")
    assert "does not exist" in text
    assert error_toasts(page) == []
