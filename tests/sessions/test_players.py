"""The player registry keeps only players that are connected or in a room."""

from __future__ import annotations

from gameserver.sessions.outbox import Outbox
from gameserver.sessions.players import Client, Player, PlayerRegistry


def test_an_offline_player_leaving_its_last_room_is_forgotten() -> None:
    registry = PlayerRegistry()
    ann = registry.add(Player("a1", "ann"))
    ann.entered_room("r1")
    ann.entered_room("r2")
    ann.left_room("r1")
    assert registry.get("a1") is ann  # still seated in r2
    ann.left_room("r2")
    assert registry.get("a1") is None and len(registry) == 0


def test_a_connected_player_is_kept_without_rooms() -> None:
    registry = PlayerRegistry()
    ben = registry.add(Player("b1", "ben", Client(Outbox())))
    ben.entered_room("r1")
    ben.left_room("r1")
    assert registry.get("b1") is ben and not ben.rooms


def test_forgetting_an_old_object_keeps_a_newer_one_with_the_same_id() -> None:
    registry = PlayerRegistry()
    old = registry.add(Player("c1", "cleo"))
    registry.discard(old)
    new = registry.add(Player("c1", "cleo"))
    old.left_room("r1")  # a late event for the forgotten object
    registry.discard(old)
    assert registry.get("c1") is new and len(registry) == 1
