"""Telling a player it is their turn: the tab title, a turn sound, low-time clocks."""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import Page

from .ui import RunningServer, act_on, sign_in, wait_room

BASE_TITLE = "gameserver"
TURN_TITLE = "● Your turn — gameserver"

# Counts the tones the page starts (the turn sound is made with WebAudio oscillators).
COUNT_TONES = """
window.tonesStarted = 0;
const create = AudioContext.prototype.createOscillator;
AudioContext.prototype.createOscillator = function () {
  const oscillator = create.call(this);
  const start = oscillator.start;
  oscillator.start = function (...args) {
    window.tonesStarted += 1;
    return start.apply(this, args);
  };
  return oscillator;
};
"""


def test_the_title_says_whose_turn_it_is(server: RunningServer, new_page: Callable[[], Page]) -> None:
    ann, ben = new_page(), new_page()
    sign_in(ann, server.url, "Ann")
    assert ann.title() == BASE_TITLE
    ann.select_option("#create-game", "tictactoe")
    ann.select_option('#create-seats select[data-seat="1"]', "open")
    ann.check("#create-private")
    ann.click("#create-submit")
    wait_room(ann, seat="0", status="waiting")
    assert ann.title() == BASE_TITLE  # nobody's turn yet
    invite = ann.input_value("#invite-link")

    sign_in(ben, invite, "Ben", path="")
    wait_room(ben, seat="1", status="playing")
    wait_room(ann, my_turn="true")
    ann.wait_for_function("title => document.title === title", arg=TURN_TITLE)
    assert ben.title() == BASE_TITLE

    act_on(ann).click('[data-cell="0"]')
    wait_room(ben, version="1", my_turn="true")
    ben.wait_for_function("title => document.title === title", arg=TURN_TITLE)
    wait_room(ann, version="1", my_turn="false")
    assert ann.title() == BASE_TITLE

    # Back in the lobby nothing claims a turn.
    act_on(ben).click('a[data-nav="lobby"]')
    ben.wait_for_selector("#lobby")
    assert ben.title() == BASE_TITLE


def test_the_turn_sound_is_off_by_default_remembered_and_plays_on_your_turn(
    server: RunningServer, new_page: Callable[[], Page]
) -> None:
    page = new_page()
    page.add_init_script(COUNT_TONES)
    sign_in(page, server.url, "Cal")
    page.click('[data-action="vs-computer"][data-game="connect4"]')
    wait_room(page, seat="0", my_turn="true", version="0")
    assert not page.is_checked("#turn-sound")
    page.click("#board [data-column='3']")
    wait_room(page, version="2", my_turn="true")
    assert page.evaluate("window.tonesStarted") == 0  # off: silent

    page.check("#turn-sound")
    assert page.evaluate("localStorage.getItem('gs.turnSound')") == "on"
    page.reload()
    wait_room(page, seat="0", my_turn="true")
    assert page.is_checked("#turn-sound")  # remembered
    page.click("#board [data-column='3']")
    wait_room(page, version="4", my_turn="true")
    page.wait_for_function("window.tonesStarted > 0")


def test_a_per_move_clock_turns_red_when_time_runs_low(
    server: RunningServer, new_page: Callable[[], Page]
) -> None:
    page = new_page()
    sign_in(page, server.url, "Dee")
    page.select_option("#create-game", "tictactoe")
    page.select_option("#create-clock", "move15")
    page.click("#create-submit")
    wait_room(page, seat="0", my_turn="true")
    clock = page.locator('[data-clock-seat="0"]')
    page.wait_for_selector('[data-clock-seat="0"].running')
    assert "low" not in (clock.get_attribute("class") or "")
    # 15 s per move: under 10 s left, the running clock shows it.
    page.wait_for_selector('[data-clock-seat="0"].running.low')
    assert "to move" in clock.inner_text()


# Records the notifications the page shows, and lets the test say whether the tab is
# hidden (headless Chromium keeps every tab visible).
RECORD_NOTIFICATIONS = """
window.shownNotes = [];
window.tabHidden = false;
Object.defineProperty(Document.prototype, "hidden", { get: () => window.tabHidden });
const Real = window.Notification;
window.Notification = class extends Real {
  constructor(title, options) {
    super(title, options);
    window.shownNotes.push({ title, body: options && options.body });
  }
};
"""


def test_a_notification_says_it_is_your_turn_while_the_tab_is_hidden(
    server: RunningServer, new_page: Callable[[], Page]
) -> None:
    page = new_page()
    page.context.grant_permissions(["notifications"], origin=server.url)
    page.add_init_script(RECORD_NOTIFICATIONS)
    sign_in(page, server.url, "Eve")
    page.click('[data-action="vs-computer"][data-game="connect4"]')
    wait_room(page, seat="0", my_turn="true", version="0")
    assert not page.is_checked("#turn-notify")  # off until asked for
    page.check("#turn-notify")
    assert page.is_checked("#turn-notify")

    page.click("#board [data-column='3']")  # visible tab: no notification
    wait_room(page, version="2", my_turn="true")
    assert page.evaluate("window.shownNotes") == []

    page.evaluate("window.tabHidden = true")
    page.click("#board [data-column='3']")
    wait_room(page, version="4", my_turn="true")
    notes = page.evaluate("window.shownNotes")
    assert [note["title"] for note in notes] == ["Your turn"]
    assert "Connect four" in notes[0]["body"]
