"""A server that cannot record moves (a real full disk): the room page says the match is
paused, takes no moves meanwhile, and plays on by itself once the disk has room again.

The server records into a real 256 KiB tmpfs, filled with a filler file and emptied again.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from conftest import SmallDisk, mounted_tmpfs
from playwright.sync_api import Page

from .conftest import running_server
from .ui import RunningServer, act_on, room_attr, sign_in, wait_room

BANNER = "The server can't record moves right now; the match is paused and resumes by itself."
# Our turns at most before the disk must have filled: five computers bidding at random
# with ten dice a cup fill the match log's last page (4 KiB) within a few rounds.
MOVES_BOUND = 100


@pytest.fixture(scope="module")
def disk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SmallDisk]:
    with mounted_tmpfs(tmp_path_factory.mktemp("pause") / "disk", "256k") as small:
        yield small


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory, disk: SmallDisk
) -> Iterator[RunningServer]:
    root = tmp_path_factory.mktemp("pause-server")
    with running_server(root, disk.path / "replays", "--storage-retry", "0.1") as running:
        yield running


def banner_shown(page: Page) -> bool:
    return page.is_visible("#room-paused") and page.inner_text("#room-paused") == BANNER


def play_one(page: Page) -> None:
    """The smallest bid, or call liar once no bid is left."""
    act_on(page).click("#ld-liar" if page.is_disabled("#ld-bid-button") else "#ld-bid-button")


def bid_until_paused(page: Page) -> None:
    """Make the smallest bid (or call liar if none is left) on each turn until the room pauses."""
    for _ in range(MOVES_BOUND):
        page.wait_for_selector('#room[data-my-turn="true"], #room[data-paused="storage_unavailable"]')
        if room_attr(page, "paused"):
            return
        version = room_attr(page, "version")
        assert room_attr(page, "status") == "playing", "the match ended before the disk filled"
        play_one(page)
        page.wait_for_function(
            "v => document.querySelector('#room').dataset.version !== v"
            " || document.querySelector('#room').dataset.paused !== ''",
            arg=version,
        )
    pytest.fail("the disk never filled up")


def test_a_full_disk_pauses_the_room_page_and_play_resumes_after(
    server: RunningServer, disk: SmallDisk, new_page: Callable[[], Page]
) -> None:
    page = new_page()
    sign_in(page, server.url, "Pia")
    page.select_option("#create-game", "liarsdice")
    page.fill("#create-players", "6")
    page.fill('[data-option="dice"]', "10")
    for seat in range(1, 6):
        page.select_option(f'#create-seats select[data-seat="{seat}"]', "bot:random")

    # The match log cannot even be created: the room waits, every seat taken, paused.
    disk.fill()
    page.click("#create-submit")
    wait_room(page, seat="0", paused="storage_unavailable", status="waiting")
    assert banner_shown(page)
    disk.free()
    wait_room(page, paused="", status="playing")
    assert page.is_hidden("#room-paused")

    # Mid-match: the move that finds the disk full is undone and the room pauses.
    disk.fill()
    bid_until_paused(page)
    assert banner_shown(page)
    paused_at = int(room_attr(page, "version"))
    assert page.locator("#ld-actions").count() == 0  # nothing to click while paused
    assert room_attr(page, "status") == "playing"
    refused = page.locator('.toast-error[data-code="storage_unavailable"]')
    if refused.count():  # our own bid was the one refused (not the computer's)
        assert refused.first.inner_text() == (
            "The server couldn't record your move, so it did not count."
            " Play it again when the match resumes."
        )

    # Room on the disk again: the banner goes and the match goes on.
    disk.free()
    wait_room(page, paused="")
    assert page.is_hidden("#room-paused")
    page.wait_for_selector('#room[data-my-turn="true"]')
    play_one(page)
    page.wait_for_function(
        "v => Number(document.querySelector('#room').dataset.version) > v", arg=paused_at
    )
