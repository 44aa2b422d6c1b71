"""Liar's dice in the browser: each player sees only their own dice, a spectator none."""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import Page

from .ui import RunningServer, act_on, sign_in, wait_room


def cup_faces(page: Page, seat: int) -> list[str | None]:
    """The faces shown in ``seat``'s cup on ``page`` (None for a hidden die)."""
    dice = page.locator(f'.ld-players [data-cup="{seat}"] .die')
    return [dice.nth(i).get_attribute("data-face") for i in range(dice.count())]


def test_three_players_see_only_their_own_dice_and_a_spectator_none(
    server: RunningServer, new_page: Callable[[], Page]
) -> None:
    ann, ben, cleo, spectator = new_page(), new_page(), new_page(), new_page()
    sign_in(ann, server.url, "Ann")
    act_on(ann).select_option("#create-game", "liarsdice")
    ann.fill("#create-players", "3")
    ann.select_option('#create-seats select[data-seat="1"]', "open")
    ann.select_option('#create-seats select[data-seat="2"]', "open")
    ann.click("#create-submit")
    wait_room(ann, seat="0", status="waiting")
    room_id = ann.get_attribute("#room", "data-room-id")
    assert room_id

    # Ben joins from the live lobby list; Cleo by quick match would race, so by id too.
    sign_in(ben, server.url, "Ben")
    act_on(ben).click(f'#room-list tr[data-room-id="{room_id}"] [data-action="join"]')
    wait_room(ben, seat="1")
    sign_in(cleo, server.url, "Cleo")
    act_on(cleo).click(f'#room-list tr[data-room-id="{room_id}"] [data-action="join"]')
    wait_room(cleo, seat="2", status="playing")
    sign_in(spectator, server.url, "Sam", path=f"/#/room/{room_id}")
    wait_room(spectator, seat="spectator", status="playing")

    players = {0: ann, 1: ben, 2: cleo}
    for seat, page in players.items():
        wait_room(page, status="playing")
        page.wait_for_selector(".ld-players")
        for other in range(3):
            faces = cup_faces(page, other)
            assert len(faces) == 5
            if other == seat:
                assert all(face in {"1", "2", "3", "4", "5", "6"} for face in faces), faces
            else:
                assert faces == [None] * 5, (seat, other, faces)
    spectator.wait_for_selector(".ld-players")
    for other in range(3):
        assert cup_faces(spectator, other) == [None] * 5
    # The spectator cannot act, and the page holds no face values at all.
    assert spectator.locator("#ld-actions").count() == 0
    assert spectator.locator(".ld-players [data-face]").count() == 0

    # Ann opens with two 2s, typed on the keyboard; everyone sees the bid, and only Ben
    # may answer it.
    act_on(ann).fill("#ld-quantity", "2")
    ann.press("#ld-quantity", "Enter")
    for page in (ann, ben, cleo, spectator):
        page.wait_for_selector('#ld-bid[data-bid="2,2"]')
    wait_room(ben, my_turn="true")
    assert ann.locator("#ld-actions").count() == 0
    assert cleo.locator("#ld-actions").count() == 0
    assert not ben.is_disabled("#ld-liar")
