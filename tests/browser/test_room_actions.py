"""Resign, rematch, quick match, watching from the lobby, clocks and plain error messages."""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import Page

from .ui import RunningServer, act_on, room_attr, sign_in, wait_room


def test_resign_then_rematch_against_the_computer(
    server: RunningServer, new_page: Callable[[], Page]
) -> None:
    page = new_page()
    sign_in(page, server.url, "Finn")
    page.click('[data-action="vs-computer"][data-game="connect4"]')
    wait_room(page, seat="0", match="1", my_turn="true")

    page.click("#leave")  # leaving a running match would resign it: it asks first
    assert page.get_attribute("#leave", "data-armed") == "true"
    assert "resign" in page.inner_text("#leave")
    assert room_attr(page, "status") == "playing"

    page.click("#resign")  # the first click only asks for confirmation
    assert room_attr(page, "status") == "playing"
    page.click("#resign")
    wait_room(page, status="over")
    assert page.get_attribute("#result strong", "data-outcome") == "loss"
    assert "resigned" in page.inner_text("#turn-status")

    page.click("#rematch")
    # the rematch swaps the seats: the computer moves first, then it is Finn's turn
    wait_room(page, seat="1", match="2", version="1", status="playing", my_turn="true")
    assert page.locator('[data-column][data-legal="true"]').count() == 7
    assert page.is_hidden("#result")

    # Leaving after confirming resigns the new match and goes back to the lobby.
    page.click("#leave")
    page.click("#leave")
    page.wait_for_selector("#lobby")


def test_quick_match_pairs_two_players_and_the_lobby_can_watch(
    server: RunningServer, new_page: Callable[[], Page]
) -> None:
    gus, hal, ivy = new_page(), new_page(), new_page()
    sign_in(ivy, server.url, "Ivy")  # Ivy watches the lobby from the start
    sign_in(gus, server.url, "Gus")
    act_on(gus).click('[data-action="quick-match"][data-game="tictactoe"]')
    wait_room(gus, status="waiting")
    room_id = room_attr(gus, "room-id")
    sign_in(hal, server.url, "Hal")
    act_on(hal).click('[data-action="quick-match"][data-game="tictactoe"]')
    wait_room(hal, room_id=room_id, status="playing")
    wait_room(gus, status="playing")
    assert {room_attr(gus, "seat"), room_attr(hal, "seat")} == {"0", "1"}

    # The room appeared in Ivy's lobby while she was looking, and turned to "playing";
    # filtering by another game hides it.
    ivy.select_option("#room-filter", "connect4")
    assert ivy.locator(f'#room-list tr[data-room-id="{room_id}"]').count() == 0
    ivy.select_option("#room-filter", "tictactoe")
    row = ivy.locator(f'#room-list tr[data-room-id="{room_id}"]')
    ivy.wait_for_selector(f'#room-list tr[data-room-id="{room_id}"][data-status="playing"]')
    assert "Gus" in row.inner_text() and "Hal" in row.inner_text()
    act_on(ivy)
    row.locator('[data-action="watch"]').click()
    wait_room(ivy, room_id=room_id, seat="spectator", status="playing")
    gus.wait_for_selector('#watching[data-count="1"]')  # the players see they are watched
    assert ivy.locator('[data-cell][data-legal="true"]').count() == 0
    assert ivy.is_hidden("#resign")

    first = gus if room_attr(gus, "seat") == "0" else hal
    act_on(first).click('[data-cell="4"]')
    ivy.wait_for_selector('[data-cell="4"][data-mark="X"]')  # the spectator sees it live
    wait_room(ivy, version="1")


def test_clocks_count_down_for_the_player_to_move(
    server: RunningServer, new_page: Callable[[], Page]
) -> None:
    page = new_page()
    sign_in(page, server.url, "Jo")
    page.select_option("#create-game", "tictactoe")
    page.select_option("#create-clock", "blitz")
    page.click("#create-submit")
    wait_room(page, seat="0", my_turn="true")
    clock = page.locator('[data-clock-seat="0"]')
    page.wait_for_selector('[data-clock-seat="0"].running')
    start = int(clock.get_attribute("data-ms") or "0")
    assert 50_000 < start <= 60_000
    page.wait_for_function(
        "start => Number(document.querySelector('[data-clock-seat=\"0\"]').dataset.ms) < start - 300",
        arg=start,
    )
    assert ":" in clock.inner_text()  # shown as m:ss
    assert "running" not in (page.get_attribute('[data-clock-seat="1"]', "class") or "")


def test_server_errors_are_shown_plainly(
    server: RunningServer, new_page: Callable[[], Page]
) -> None:
    page = new_page()
    sign_in(page, server.url, "Kim")
    page.select_option("#create-game", "liarsdice")
    page.fill('[data-option="dice"]', "11")
    # Submitted past the browser's own check of the field's limits: the server refuses.
    page.eval_on_selector("#create-form", "form => form.dispatchEvent(new Event('submit', {cancelable: true}))")
    toast = page.wait_for_selector('.toast[data-code="invalid_options"]')
    assert toast.inner_text().startswith("Option 'dice' must be between 1 and 10")
    assert page.is_visible("#lobby")  # the player stays where they can fix it


def test_room_options_and_computer_strength_reach_the_game(
    server: RunningServer, new_page: Callable[[], Page]
) -> None:
    page = new_page()
    sign_in(page, server.url, "Lea")
    page.select_option("#create-game", "liarsdice")
    page.fill("#create-players", "2")
    page.fill('[data-option="dice"]', "2")
    page.uncheck('[data-option="ones_wild"]')
    page.select_option('#create-seats select[data-seat="1"]', "bot:random")
    page.click("#create-submit")
    wait_room(page, seat="0", my_turn="true")
    assert page.locator('.ld-players [data-cup="0"] [data-face]').count() == 2
    assert page.locator('.ld-players [data-cup="1"] .die').count() == 2
    assert "wild" not in page.inner_text("#ld-bid")
    assert page.locator('.ld-faces [data-face="1"]').count() == 1  # ones may be bid
    computer = page.locator('#seats [data-seat="1"][data-kind="bot"]')
    assert "random" in computer.inner_text()  # the chosen strength plays the seat
