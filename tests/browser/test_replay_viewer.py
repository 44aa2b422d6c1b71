"""The replay viewer: browse finished matches, step, jump, autoplay, change perspective."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import attrs
from playwright.sync_api import Page

from gameserver.rooms.recording_match import RecordingMatch, bot_header, record_bot_match
from .ui import RunningServer

# Seat 0 (X) wins with the middle row on the seventh move.
MOVES = [(0, 4), (1, 0), (0, 2), (1, 6), (0, 3), (1, 1), (0, 5)]


def board_at(step: int) -> list[str]:
    board = [""] * 9
    for seat, cell in MOVES[:step]:
        board[cell] = "XO"[seat]
    return board


def shown_board(page: Page) -> list[str]:
    cells = page.locator("#replay-board [data-cell]")
    return [cells.nth(i).get_attribute("data-mark") or "" for i in range(cells.count())]


def wait_step(page: Page, step: int) -> None:
    page.wait_for_selector(f'#replay[data-step="{step}"]')


def test_step_through_a_finished_match(server: RunningServer, new_page: Callable[[], Page]) -> None:
    match_id = f"viewer-{uuid.uuid4().hex[:8]}"
    match = RecordingMatch(server.replays, bot_header("tictactoe", ["best", "random"], seed=1, match_id=match_id))
    for seat, cell in MOVES:
        match.move(seat, {"cell": cell})
    match.finish()

    page = new_page()
    page.goto(server.url + "/#/replays")
    row = page.locator(f'#replay-list tr[data-replay-id="{match_id}"]')
    assert "best-0 won" in row.inner_text()
    row.locator('[data-action="open-replay"]').click()

    page.wait_for_selector('#replay[data-loaded="true"]')
    wait_step(page, 0)
    assert shown_board(page) == board_at(0)
    for step in (1, 2, 3):
        page.click("#replay-next")
        wait_step(page, step)
        assert shown_board(page) == board_at(step)
    page.click("#replay-prev")
    wait_step(page, 2)
    assert shown_board(page) == board_at(2)

    # Jump straight to move 5 from the move list, then with the slider and the keyboard.
    page.click('#replay-moves [data-step="5"] button')
    wait_step(page, 5)
    assert shown_board(page) == board_at(5)
    assert "Move 5 of 7" in page.inner_text("#replay-position")
    page.fill("#replay-slider", "6")
    wait_step(page, 6)
    assert shown_board(page) == board_at(6)
    page.locator("#replay-board").click()
    page.keyboard.press("End")
    wait_step(page, 7)
    assert shown_board(page) == board_at(7)
    assert page.locator("#replay-board .ttt-cell.win").count() == 3
    page.keyboard.press("ArrowLeft")
    wait_step(page, 6)
    page.keyboard.press("Home")
    wait_step(page, 0)
    # Nothing in a replay is clickable as a move.
    assert page.locator('#replay-board [data-legal="true"]').count() == 0

    # Autoplay at the fastest speed runs to the end by itself and stops there.
    page.select_option("#replay-speed", "250")
    page.click("#replay-play")
    page.wait_for_selector('#replay[data-step="7"][data-playing="false"]')
    assert shown_board(page) == board_at(7)


def test_perspective_hides_or_reveals_dice(server: RunningServer, new_page: Callable[[], Page]) -> None:
    match_id = f"dice-{uuid.uuid4().hex[:8]}"
    record_bot_match(server.replays, bot_header("liarsdice", ["best", "random", "random"], seed=5, match_id=match_id))

    page = new_page()
    # The list can show one game only.
    page.goto(f"{server.url}/#/replays")
    page.wait_for_selector(f'#replay-list tr[data-replay-id="{match_id}"]')
    page.select_option("#replay-filter", "tictactoe")
    page.wait_for_selector(f'#replay-list tr[data-replay-id="{match_id}"]', state="detached")
    page.select_option("#replay-filter", "liarsdice")
    page.wait_for_selector(f'#replay-list tr[data-replay-id="{match_id}"]')
    games = page.locator("#replay-list tbody tr")
    assert {games.nth(i).get_attribute("data-game") for i in range(games.count())} == {"liarsdice"}

    page.goto(f"{server.url}/#/replays/{match_id}?seat=1")
    page.wait_for_selector('#replay[data-loaded="true"][data-perspective="1"]')
    page.click("#replay-next")
    wait_step(page, 1)
    revealed = [page.get_attribute(f'.ld-player[data-seat="{s}"]', "data-revealed") for s in range(3)]
    assert revealed == ["false", "true", "false"]
    assert page.locator('.ld-players [data-cup="0"] [data-face]').count() == 0

    page.select_option("#replay-seat", "all")
    page.wait_for_selector('#replay[data-perspective="all"]')
    wait_step(page, 1)
    revealed = [page.get_attribute(f'.ld-player[data-seat="{s}"]', "data-revealed") for s in range(3)]
    assert revealed == ["true", "true", "true"]
    assert page.locator('.ld-players [data-cup="0"] [data-face]').count() == 5


def test_the_list_shows_fifty_at_a_time(server: RunningServer, new_page: Callable[[], Page]) -> None:
    for n in range(55):
        match = RecordingMatch(
            server.replays,
            bot_header("tictactoe", ["best", "best"], seed=n, match_id=f"page-{uuid.uuid4().hex[:8]}"),
        )
        for seat, cell in MOVES:
            match.move(seat, {"cell": cell})
        match.finish()

    page = new_page()
    page.goto(server.url + "/#/replays")
    page.wait_for_selector('#replay-list[data-loaded="true"]')
    total = int(page.get_attribute("#replay-list", "data-total") or "0")
    assert total >= 55
    assert page.locator("#replay-list tbody tr").count() == 50
    while page.is_visible("#replay-more"):
        shown = page.locator("#replay-list tbody tr").count()
        page.click("#replay-more")
        page.wait_for_function(
            "n => document.querySelectorAll('#replay-list tbody tr').length > n", arg=shown
        )
    assert page.locator("#replay-list tbody tr").count() == total


def record_tictactoe(server: RunningServer) -> str:
    match_id = f"ttt-{uuid.uuid4().hex[:8]}"
    match = RecordingMatch(server.replays, bot_header("tictactoe", ["best", "random"], seed=1, match_id=match_id))
    for seat, cell in MOVES:
        match.move(seat, {"cell": cell})
    match.finish()
    return match_id


def inside(page: Page, inner: str, outer: str) -> bool:
    """Whether the box of ``inner`` lies within the box of ``outer`` (both CSS selectors)."""
    return bool(
        page.evaluate(
            """([inner, outer]) => {
                const a = document.querySelector(inner).getBoundingClientRect();
                const b = document.querySelector(outer).getBoundingClientRect();
                return a.left >= b.left && a.right <= b.right && a.top >= b.top && a.bottom <= b.bottom;
            }""",
            [inner, outer],
        )
    )


def test_seen_by_is_offered_only_for_hidden_information_and_fits_its_card(
    server: RunningServer, new_page: Callable[[], Page]
) -> None:
    page = new_page()
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(f"{server.url}/#/replays/{record_tictactoe(server)}")
    page.wait_for_selector('#replay[data-loaded="true"]')
    assert page.is_hidden("#replay-seat")  # tic-tac-toe hides nothing: one perspective

    match_id = f"seen-{uuid.uuid4().hex[:8]}"
    record_bot_match(server.replays, bot_header("liarsdice", ["best", "random", "random"], seed=5, match_id=match_id))
    page.goto(f"{server.url}/#/replays/{match_id}")
    page.wait_for_selector('#replay[data-loaded="true"][data-game="liarsdice"]')
    assert page.is_visible("#replay-seat")
    assert inside(page, "#replay-seat", ".replay-controls")


def test_the_move_list_follows_the_current_move(
    server: RunningServer, new_page: Callable[[], Page]
) -> None:
    match_id = f"follow-{uuid.uuid4().hex[:8]}"
    record_bot_match(server.replays, bot_header("liarsdice", ["best", "random", "random"], seed=5, match_id=match_id))
    page = new_page()
    page.goto(f"{server.url}/#/replays/{match_id}")
    page.wait_for_selector('#replay[data-loaded="true"]')
    last = int(page.get_attribute("#replay-slider", "max") or "0")
    assert last > 25  # more moves than the list shows at once
    page.click("#replay-last")
    wait_step(page, last)
    assert inside(page, "#replay-moves li.current", "#replay-moves")
    page.keyboard.press("Home")
    wait_step(page, 0)
    assert inside(page, "#replay-moves li.current", "#replay-moves")


def test_a_missing_replay_gets_a_message_page(
    server: RunningServer, new_page: Callable[[], Page]
) -> None:
    page = new_page()
    page.goto(f"{server.url}/#/replays/no-such-match")
    card = page.wait_for_selector("#replay-missing")
    text = card.inner_text().strip()
    assert text.startswith("Replay not found")
    assert all(line[0].isupper() for line in text.splitlines() if line.strip())
    assert page.get_attribute("#replay-missing", "data-code") == "not_found"
    assert page.locator('#replay-missing a[href="#/replays"]').count() == 1
    for control in ("#replay-slider", "#replay-seat", "#replay-play", "#replay-moves"):
        assert page.locator(control).count() == 0, control


def test_computer_seats_are_named_once(server: RunningServer, new_page: Callable[[], Page]) -> None:
    """The server names its computers "Computer (best)", "Computer 2 (random)": no "(bot)" on top."""
    match_id = f"names-{uuid.uuid4().hex[:8]}"
    header = bot_header("tictactoe", ["best", "random"], seed=1, match_id=match_id)
    seats = (
        attrs.evolve(header.seats[0], name="Computer (best)"),
        attrs.evolve(header.seats[1], name="Computer 2 (random)"),
    )
    match = RecordingMatch(server.replays, attrs.evolve(header, seats=seats))
    for seat, cell in MOVES:
        match.move(seat, {"cell": cell})
    match.finish()

    page = new_page()
    # The viewer's title lists the players as the replay list does (the list may page it away).
    page.goto(f"{server.url}/#/replays/{match_id}")
    page.wait_for_selector('#replay[data-loaded="true"]')
    assert page.inner_text("#replay-title") == "Tic-tac-toe: Computer (best) vs Computer 2 (random)"
    assert "(bot)" not in page.inner_text("#replay")
