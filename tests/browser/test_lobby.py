"""The lobby's forms: computer strength for one-click play, game defaults, seat names."""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import Page

from .ui import RunningServer, record_requests, requests_of, sign_in, wait_room


def test_play_the_computer_offers_the_strengths(
    server: RunningServer, new_page: Callable[[], Page]
) -> None:
    page = new_page()
    sent = record_requests(page)
    sign_in(page, server.url, "Max")
    strengths = page.locator("#vs-strength option")
    offered = {strengths.nth(i).get_attribute("value") for i in range(strengths.count())}
    assert offered == {"best", "random"}
    assert page.input_value("#vs-strength") == "best"  # strongest unless asked otherwise

    page.select_option("#vs-strength", "random")
    page.click('[data-action="vs-computer"][data-game="liarsdice"]')
    wait_room(page, seat="0", game="liarsdice")
    created = requests_of(sent, "create_room")
    assert len(created) == 1
    assert created[0]["players"] == 3
    assert created[0]["bots"] == [{"seat": 1, "strategy": "random"}, {"seat": 2, "strategy": "random"}]

    # The choice is kept for the next game.
    page.click('a[data-nav="lobby"]')
    page.wait_for_selector("#lobby")
    assert page.input_value("#vs-strength") == "random"


def test_seat_names_are_shown_as_the_server_sends_them(
    server: RunningServer, new_page: Callable[[], Page]
) -> None:
    page = new_page()
    sign_in(page, server.url, "Nia")
    page.select_option("#create-game", "liarsdice")
    page.fill("#create-players", "3")
    page.select_option('#create-seats select[data-seat="1"]', "bot:best")
    page.select_option('#create-seats select[data-seat="2"]', "bot:best")
    page.click("#create-submit")
    wait_room(page, seat="0", status="playing")
    sent_names = page.evaluate(
        "id => window.gameApp.rooms.get(id).state.seats.map((s) => s.name)",
        page.get_attribute("#room", "data-room-id"),
    )
    shown = page.locator("#seats .seat-name")
    names = [shown.nth(i).inner_text().removesuffix(" (you)") for i in range(shown.count())]
    assert names == sent_names  # no "#2" or other suffix made up by the browser
    cups = page.locator(".ld-player h4")
    for seat in (1, 2):
        assert sent_names[seat] in cups.nth(seat).inner_text()
        assert "#" not in cups.nth(seat).inner_text()


def test_the_create_form_takes_each_games_player_count(
    server: RunningServer, new_page: Callable[[], Page]
) -> None:
    page = new_page()
    sign_in(page, server.url, "Oda")
    assert page.input_value("#create-players") == "2"
    page.select_option("#create-game", "liarsdice")
    assert page.input_value("#create-players") == "3"  # liar's dice's default
    assert page.locator("#create-seats select").count() == 3
    assert page.get_attribute("#create-players", "max") == "6"
    page.fill("#create-players", "5")
    page.select_option("#create-game", "connect4")
    assert page.input_value("#create-players") == "2"
    assert page.locator("#create-seats select").count() == 2
    page.select_option("#create-game", "liarsdice")
    assert page.input_value("#create-players") == "3"
