"""Issue 18's acceptance in real Chromium: two pages register, play a rated connect-four
match, see their new ratings, find the match in their profiles (with a working replay
link and an SVG rating chart), and the leaderboard lists them."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from playwright.sync_api import Page

from .ui import RunningServer, act_on, sign_in, wait_room

PASSWORD = "correct horse battery"


def register(page: Page, url: str, name: str) -> None:
    """Sign in as ``name`` and claim it as an account on the account page."""
    sign_in(page, url, name)
    act_on(page).click('[data-nav="account"]')
    page.fill("#register-password", PASSWORD)
    page.click("#register-submit")
    page.wait_for_selector('#account[data-loaded="true"][data-kind="human"]')
    assert page.inner_text("#account-name") == name


def test_two_pages_register_play_rated_and_see_ratings_profiles_and_leaderboard(
    server: RunningServer, new_page: Callable[[], Page]
) -> None:
    suffix = uuid.uuid4().hex[:6]
    names = (f"Ria-{suffix}", f"Sam-{suffix}")
    ria, sam = new_page(), new_page()
    register(ria, server.url, names[0])
    register(sam, server.url, names[1])

    act_on(ria).click('[data-nav="lobby"]')
    ria.select_option("#create-game", "connect4")
    ria.select_option('#create-seats select[data-seat="1"]', "open")
    ria.check("#create-private")
    ria.check("#create-rated")
    ria.click("#create-submit")
    wait_room(ria, seat="0", status="waiting")
    invite = ria.input_value("#invite-link")
    act_on(sam).goto(invite)
    wait_room(sam, seat="1", status="playing")

    moves = [(ria, 0), (sam, 1), (ria, 0), (sam, 1), (ria, 0), (sam, 1), (ria, 0)]
    for version, (page, column) in enumerate(moves, start=1):
        wait_room(page, my_turn="true")
        act_on(page).click(f'[data-column="{column}"]')
        wait_room(ria, version=str(version))
        wait_room(sam, version=str(version))

    for page, direction in ((ria, 1), (sam, -1)):
        page.wait_for_selector("#rating-change")
        before = int(page.get_attribute("#rating-change", "data-before") or "0")
        after = int(page.get_attribute("#rating-change", "data-after") or "0")
        assert before == 1500 and (after - before) * direction > 0
        assert page.get_attribute("#rating-change", "data-provisional") == "true"
        assert "?" in page.inner_text("#rating-change")  # provisional is marked

    # The profile: the rating, the chart, the match with a replay link that works.
    act_on(ria).click('[data-nav="account"]')
    ria.click("#my-profile")
    ria.wait_for_selector('#profile[data-loaded="true"]')
    assert ria.locator("#rating-chart circle").count() == 1
    assert ria.get_attribute('#profile-ratings tr[data-pool="connect4"]', "data-provisional") == "true"
    match = ria.locator("#profile-matches li").first
    assert match.get_attribute("data-result") == "win"
    match.locator('[data-action="replay"]').click()
    ria.wait_for_selector('#replay[data-loaded="true"]')

    act_on(sam).click('[data-nav="account"]')
    sam.click("#my-profile")
    sam.wait_for_selector('#profile[data-loaded="true"]')
    assert sam.locator("#profile-matches li").first.get_attribute("data-result") == "loss"
    assert sam.locator("#rating-chart polyline").count() == 1

    # The leaderboard lists both, the winner above the loser.
    act_on(sam).click('[data-nav="leaderboard"]')
    sam.wait_for_selector('#leaderboard[data-loaded="true"][data-pool="connect4"]')
    listed = sam.locator("#leaderboard tbody tr td:nth-child(2) a").all_inner_texts()
    assert listed.index(names[0]) < listed.index(names[1])
    sam.select_option("#leaderboard-board", "bots")
    sam.wait_for_selector('#leaderboard[data-loaded="true"] #leaderboard-empty')


def test_log_in_from_another_page_with_the_password(
    server: RunningServer, new_page: Callable[[], Page]
) -> None:
    name = f"Uma-{uuid.uuid4().hex[:6]}"
    first = new_page()
    register(first, server.url, name)
    other = new_page()
    other.goto(server.url + "/")
    other.fill("#name-input", name.upper())
    other.fill("#password-input", PASSWORD)
    other.click("#name-submit")
    other.wait_for_selector('#net-status[data-status="online"]')
    assert other.inner_text("#player-name").startswith(name)  # the account's own spelling
    assert other.get_attribute("#player-name", "data-account") == "human"
    act_on(other).click('[data-nav="account"]')
    other.wait_for_selector('#account[data-loaded="true"]')

    wrong = new_page()
    wrong.goto(server.url + "/")
    wrong.fill("#name-input", name)
    wrong.fill("#password-input", "not the password")
    wrong.click("#name-submit")
    wrong.wait_for_selector('#name-error[data-code="wrong_password"]')
