"""The player registry keeps only players that are connected or in a room."""

from __future__ import annotations

from gameserver.rooms.members import Payload
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


def held_client(socket_idle: bool) -> tuple[Client, list[list[bytes]]]:
    """A client whose socket takes whole writes while ``socket_idle``; returns the writes."""
    writes: list[list[bytes]] = []

    def write_all_now(payloads: list[Payload]) -> bool:
        if socket_idle:
            writes.append([payload.data for payload in payloads])
        return socket_idle

    return Client(Outbox(), write_now=lambda payload: write_all_now([payload]),
                  write_all_now=write_all_now), writes


def test_what_is_sent_while_held_leaves_in_one_write_on_release() -> None:
    client, writes = held_client(socket_idle=True)
    client.hold()
    client.send(Payload(b"reply"))
    client.send(Payload(b"state"), key="state:r")
    assert writes == []
    client.release()
    assert writes == [[b"reply", b"state"]] and not client.outbox
    client.send(Payload(b"later"))  # no longer held: written at once
    assert writes[-1] == [b"later"]


def test_held_payloads_queue_in_order_when_the_socket_is_busy() -> None:
    client, writes = held_client(socket_idle=False)
    client.hold()
    client.send(Payload(b"one"))
    client.send(Payload(b"two"), key="state:r")
    client.release()
    assert writes == []
    assert [client.outbox.get_nowait().data for _ in range(2)] == [b"one", b"two"]  # type: ignore[union-attr]


def test_a_kick_sends_what_was_held_before_closing() -> None:
    client, writes = held_client(socket_idle=True)
    client.hold()
    client.send(Payload(b"error"))
    client.send(Payload(b"notice"))
    client.kick(1008, "too many messages")
    assert writes == [[b"error", b"notice"]] and client.outbox.closed
