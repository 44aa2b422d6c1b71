"""The browser client on protocol version 2: a match runs on deltas, the state they
build is the full state the server would send, moves are answered by deltas, and a
version gap recovers through one ``sync``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from playwright.sync_api import Page

from .ui import (
    RunningServer,
    record_requests,
    requests_of,
    room_attr,
    sign_in,
    wait_my_turn_or_over,
    wait_room,
)

SHOWN_STATE = "(id) => gameApp.rooms.get(id).state"
# Ask for the room's full state; it is pushed before the reply, so it is shown by then.
FULL_STATE = """async (id) => {
  await gameApp.conn.request("sync", { room_id: id });
  return gameApp.rooms.get(id).state;
}"""
# Make the page believe it holds an older version: the next delta does not fit.
LOSE_A_VERSION = "(id) => { gameApp.conn.documents.held.get(id).version -= 1; }"


def connection(page: Page) -> dict[str, Any]:
    info: dict[str, Any] = page.evaluate(
        """() => ({ protocol: gameApp.conn.ws.protocol, deltas: gameApp.conn.deltas,
                   resyncs: gameApp.conn.resyncs, pending: gameApp.conn.pending.size })"""
    )
    return info


def test_connect_four_against_the_computer_runs_on_deltas_and_recovers_a_gap(
    server: RunningServer, new_page: Callable[[], Page]
) -> None:
    page = new_page()
    sent = record_requests(page)
    sign_in(page, server.url, "Dee")
    page.click('[data-action="vs-computer"][data-game="connect4"]')
    wait_room(page, seat="0", game="connect4")
    room_id = page.get_attribute("#room", "data-room-id")

    moves = checks = 0
    while wait_my_turn_or_over(page) == "turn":
        version = room_attr(page, "version")
        if moves in (1, 3):
            # Between moves nothing changes: what the deltas built is the full state.
            shown = page.evaluate(SHOWN_STATE, room_id)
            assert page.evaluate(FULL_STATE, room_id) == shown
            checks += 1
        if moves == 2:
            page.evaluate(LOSE_A_VERSION, room_id)
        page.locator('[data-column][data-legal="true"]').first.click()
        moves += 1
        page.wait_for_selector(f'#room:not([data-version="{version}"])')

    shown = page.evaluate(SHOWN_STATE, room_id)
    assert shown["outcome"] is not None
    assert page.evaluate(FULL_STATE, room_id) == shown
    info = connection(page)
    assert info["protocol"] == "gameserver.v2"
    # Our moves and the computer's came as deltas, except around the forced gap.
    assert info["deltas"] >= 2 * moves - 4
    assert info["resyncs"] == 1
    assert len(requests_of(sent, "sync")) == 1 + checks + 1  # the gap's, and the test's
    # Every move was answered (by its delta), so nothing waits for a reply.
    assert info["pending"] == 0
    assert room_attr(page, "version") == str(shown["version"])
