"""The account page's session list in real Chromium: two tabs logged in to one account
see two sessions; one signs the other out (that tab's token no longer resumes: reloaded,
it is a visitor without the account), then signs itself out."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from playwright.sync_api import Page, expect

from .conftest import UI_TIMEOUT_MS
from .ui import RunningServer, act_on, sign_in

PASSWORD = "correct horse battery"


def _account_page(page: Page) -> None:
    act_on(page).click('[data-nav="account"]')


def _sessions(page: Page, count: int) -> list[tuple[str, str]]:
    """Wait for the list to show ``count`` sessions; return (id, current) of each."""
    page.wait_for_selector('#sessions[data-loaded="true"]')
    rows = page.locator("#sessions-list li")
    # (not wait_for_function: the page's CSP forbids the eval it polls with)
    expect(rows).to_have_count(count, timeout=UI_TIMEOUT_MS)
    return [
        (rows.nth(i).get_attribute("data-session-id") or "", rows.nth(i).get_attribute("data-current") or "")
        for i in range(rows.count())
    ]


def test_a_tab_lists_the_sessions_and_signs_out_another_then_itself(
    server: RunningServer, new_page: Callable[[], Page]
) -> None:
    name = f"Tess-{uuid.uuid4().hex[:6]}"
    first, second = new_page(), new_page()
    sign_in(first, server.url, name)
    _account_page(first)
    first.fill("#register-password", PASSWORD)
    first.click("#register-submit")
    first.wait_for_selector('#account[data-loaded="true"]')
    [(first_session, current)] = _sessions(first, 1)
    assert current == "true"
    assert "Chrome" in first.inner_text("#sessions-list li")  # the browser's label

    # the second tab logs in to the same account: two sessions, its own marked
    act_on(second).goto(server.url + "/")
    second.fill("#name-input", name)
    second.fill("#password-input", PASSWORD)
    second.click("#name-submit")
    second.wait_for_selector('#net-status[data-status="online"]')
    _account_page(second)
    listed = dict(_sessions(second, 2))
    assert listed[first_session] == "false" and list(listed.values()).count("true") == 1
    assert "(this tab)" in second.inner_text('#sessions-list li[data-current="true"]')

    # sign the first tab's session out: the list shrinks, and that tab's token is dead
    second.click(f'#sessions-list li[data-session-id="{first_session}"] [data-action="sign-out"]')
    [(_, current)] = _sessions(second, 1)
    assert current == "true"
    act_on(first).reload()
    first.wait_for_selector('#net-status[data-status="online"]')
    _account_page(first)
    first.wait_for_selector("#register-form")  # a visitor again, not the account

    # sign itself out: back to the start, asked for a name
    second.click('#sessions-list li[data-current="true"] [data-action="sign-out"]')
    second.wait_for_selector("#name-input")
