"""Room ids are short (they travel in every message about a room) and still unguessable."""

from __future__ import annotations

import re

from gameserver.replays.recorder import _MATCH_ID
from gameserver.rooms.lobby import new_room_id


def test_room_ids_are_8_letters_and_digits_and_make_valid_match_ids() -> None:
    ids = {new_room_id() for _ in range(2000)}
    assert len(ids) == 2000
    for room_id in ids:
        assert re.fullmatch(r"[A-Za-z0-9]{8}", room_id)
        assert _MATCH_ID.fullmatch(f"{room_id}-12")
    # every letter and digit shows up: the ids use the whole alphabet
    assert len(set("".join(ids))) == 62
