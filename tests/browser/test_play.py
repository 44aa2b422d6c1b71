"""Whole matches played in real Chromium against a real server."""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import Browser, Page

from .ui import RunningServer, act_on, room_attr, sign_in, wait_my_turn_or_over, wait_room


def test_two_pages_play_connect_four_through_an_invite_link(
    server: RunningServer, new_page: Callable[[], Page]
) -> None:
    ann, ben = new_page(), new_page()
    sign_in(ann, server.url, "Ann")
    ann.select_option("#create-game", "connect4")
    ann.select_option('#create-seats select[data-seat="1"]', "open")
    ann.check("#create-private")
    ann.click("#create-submit")
    wait_room(ann, seat="0", status="waiting")
    invite = ann.input_value("#invite-link")
    assert "#/join/" in invite

    sign_in(ben, invite, "Ben", path="")
    wait_room(ben, seat="1", status="playing")
    wait_room(ann, status="playing", my_turn="true")
    assert ben.locator('[data-column][data-legal="true"]').count() == 0  # not Ben's turn
    assert ann.locator('[data-column][data-legal="true"]').count() == 7

    # Ann stacks column 1, Ben column 2; Ann's fourth disc wins. Ann's first disc goes
    # in with the arrow keys and Enter, Ben plays with the number keys, the rest by mouse.
    wait_room(ann, my_turn="true")
    act_on(ann).focus('[data-column="1"]')
    ann.keyboard.press("ArrowLeft")
    ann.keyboard.press("Enter")
    moves = [(ann, 0), (ben, 1), (ann, 0), (ben, 1), (ann, 0), (ben, 1), (ann, 0)]
    for version, (page, column) in enumerate(moves, start=1):
        if version > 1:
            wait_room(page, my_turn="true")
            if page is ben:
                act_on(ben).keyboard.press(str(column + 1))
            else:
                act_on(page).click(f'[data-column="{column}"]')
        wait_room(ann, version=str(version))
        wait_room(ben, version=str(version))

    for page in (ann, ben):
        wait_room(page, status="over")
        owners = [
            page.get_attribute(f'[data-cell-row="{row}"][data-cell-col="0"]', "data-owner")
            for row in range(6)
        ]
        assert owners == ["", "", "0", "0", "0", "0"]
        assert page.locator('[data-column][data-legal="true"]').count() == 0
    assert ann.get_attribute("#result strong", "data-outcome") == "win"
    assert ben.get_attribute("#result strong", "data-outcome") == "loss"
    assert "You won" in ann.inner_text("#turn-status")
    assert "Ann won" in ben.inner_text("#turn-status")

    act_on(ann).fill("#chat-input", "good game!")
    ann.press("#chat-input", "Enter")
    ben.wait_for_selector('#chat-log li:has-text("good game!")')
    assert "Ann" in ben.inner_text("#chat-log")

    # Ann asks for a rematch: Ben sees it by her seat and can accept it.
    act_on(ann).click("#rematch")
    ben.wait_for_selector('#seats [data-rematch="0"]')
    assert ben.inner_text("#rematch") == "Accept rematch"
    assert ann.inner_text("#rematch") == "Rematch asked…"
    act_on(ben).click("#rematch")
    for page in (ann, ben):
        wait_room(page, match="2", version="0", status="playing")
        assert page.locator("[data-rematch]").count() == 0


def test_tic_tac_toe_against_the_computer_to_the_end(
    server: RunningServer, new_page: Callable[[], Page]
) -> None:
    page = new_page()
    sign_in(page, server.url, "Cleo")
    page.click('[data-action="vs-computer"][data-game="tictactoe"]')
    wait_room(page, seat="0", game="tictactoe")

    moves = 0
    while wait_my_turn_or_over(page) == "turn":
        version = int(room_attr(page, "version"))
        free = page.locator('[data-cell][data-legal="true"]')
        empty = page.locator('[data-cell][data-mark=""]')
        assert free.count() == empty.count() > 0  # exactly the empty cells are playable
        taken = page.locator('[data-cell]:not([data-mark=""])')
        for i in range(taken.count()):
            assert taken.nth(i).is_disabled()
        if moves == 0:
            # The keyboard works too: 5 is the centre cell.
            page.locator("#board").focus()
            page.keyboard.press("5")
        else:
            free.first.click()
        moves += 1
        page.wait_for_selector(f'#room:not([data-version="{version}"])')

    room_version_at_end = room_attr(page, "version")
    # The perfect player never loses: a draw or a loss for us.
    outcome = page.get_attribute("#result strong", "data-outcome")
    assert outcome in ("draw", "loss")
    assert page.get_attribute('[data-cell="4"]', "data-mark") == "X"
    assert moves >= 3
    assert page.is_visible("#rematch") and not page.is_visible("#resign")

    # The finished match was recorded: its replay ends on the very same board.
    final = [
        page.get_attribute(f'#board [data-cell="{cell}"]', "data-mark") for cell in range(9)
    ]
    page.click('#result [data-action="replay"]')
    page.wait_for_selector('#replay[data-loaded="true"]')
    page.click("#replay-last")
    last = int(page.get_attribute("#replay-slider", "max") or "0")
    page.wait_for_selector(f'#replay[data-step="{last}"]')
    shown = [
        page.get_attribute(f'#replay-board [data-cell="{cell}"]', "data-mark")
        for cell in range(9)
    ]
    assert shown == final
    assert last == int(room_version_at_end)


def test_a_phone_sized_screen_fits_the_board_and_taps_play(
    server: RunningServer, browser: Browser
) -> None:
    context = browser.new_context(
        viewport={"width": 390, "height": 780}, is_mobile=True, has_touch=True
    )
    try:
        page = context.new_page()
        sign_in(page, server.url, "Pat")
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        page.tap('[data-action="vs-computer"][data-game="connect4"]')
        wait_room(page, seat="0", my_turn="true")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390  # nothing sticks out sideways
        board = page.locator(".c4-board").bounding_box()
        assert board is not None and board["x"] >= 0 and board["x"] + board["width"] <= 390
        page.tap('[data-column="3"]')
        wait_room(page, version="2", my_turn="true")
        assert page.get_attribute('[data-cell-row="5"][data-cell-col="3"]', "data-owner") == "0"
    finally:
        context.close()
