"""Deltas in a client's outbox while it does not read (protocol version 2).

The fake connections here queue everything (no socket), so their outbox coalesces as a
slow client's does: a newer delta that advances the version replaces a queued one, and
the client, applying what is left by the documented rule, sees the gap and syncs; a
delta that advances no version is never replaced, since its loss could not be seen.
"""

from __future__ import annotations

from typing import Any

import msgpack

from gameserver.protocol import delta
from gameserver.protocol.codec import decode_delta, is_delta
from gameserver.protocol.messages import CreateRoom, JoinRoom
from gameserver.rooms.commands import MoveRequest, SyncRequest
from gameserver.rooms.lobby import Lobby
from gameserver.sessions.outbox import Outbox
from gameserver.sessions.players import Client, Player
from gameserver.sessions.tokens import new_player_id

from .conftest import FakeClient, LobbyHarness, settle


class Watcher:
    """A spectator of protocol version 2 that reads only when told to."""

    def __init__(self) -> None:
        self.player = Player(new_player_id(), "watcher", Client(Outbox(), protocol=2))
        self.document: dict[str, Any] | None = None
        self.version: int | None = None
        self.syncs = 0
        #: (base, version) of every delta read.
        self.deltas: list[tuple[int, int]] = []

    @property
    def outbox(self) -> Outbox:
        assert self.player.client is not None
        return self.player.client.outbox

    def read(self) -> bool:
        """Apply everything queued; return True when a delta did not fit (sync now)."""
        gap = False
        while (payload := self.outbox.get_nowait()) is not None:
            if is_delta(payload.data):
                received = decode_delta(payload.data)
                self.deltas.append((received.base, received.version))
                if self.document is None or received.base != self.version:
                    self.document, gap = None, True
                    continue
                self.document = delta.apply(self.document, received.ops)
                self.version = received.version
                continue
            message = msgpack.unpackb(payload.data)
            if message["type"] == "state":
                self.version = message["version"]
                self.document = delta.document_of(
                    view=message["view"], to_act=message["to_act"],
                    legal=message["legal_moves"], seats=message["seats"],
                    clock=message["clock"], outcome=message["outcome"],
                )
        return gap

    async def fresh(self, lobby: Lobby, room_id: str) -> tuple[int | None, dict[str, Any] | None]:
        """Ask for a full state (``sync``) and return what it shows."""
        self.syncs += 1
        lobby.rooms[room_id].submit(SyncRequest(self.player, 1000 + self.syncs))
        await settle()
        self.read()
        return self.version, self.document


async def watched_pair(lobby: Lobby) -> tuple[FakeClient, FakeClient, Watcher, str]:
    alice, bob = FakeClient("alice"), FakeClient("bob")
    room_id = lobby.create_room(
        alice.player, CreateRoom(id=1, game="connect4", players=2)
    ).room.room_id
    lobby.join_room(bob.player, JoinRoom(id=1, room_id=room_id))
    watcher = Watcher()
    lobby.spectate(watcher.player, room_id)
    await settle()
    assert not watcher.read() and watcher.version == 0
    return alice, bob, watcher, room_id


async def test_a_superseded_delta_shows_as_a_gap_and_sync_recovers(harness: LobbyHarness) -> None:
    lobby = harness.lobby
    alice, bob, watcher, room_id = await watched_pair(lobby)
    room = lobby.rooms[room_id]
    for version in range(4):
        mover = (alice, bob)[version % 2]
        room.submit(MoveRequest(mover.player, 10 + version, version, {"column": version}))
        await settle()
    assert watcher.read() is True
    assert watcher.deltas == [(3, 4)]  # only the newest was left: its base is not 0
    version, document = await watcher.fresh(lobby, room_id)
    assert version == 4 and document is not None
    assert document["view"]["board"][5][:4] == [0, 1, 0, 1]


async def test_deltas_that_advance_no_version_are_never_superseded(harness: LobbyHarness) -> None:
    lobby = harness.lobby
    alice, bob, watcher, room_id = await watched_pair(lobby)
    # Two changes at the same version (both players' connections drop): each delta
    # is against the document the one before left, so neither may be dropped.
    alice.disconnect(lobby)
    await settle()
    bob.disconnect(lobby)
    await settle()
    assert watcher.read() is False
    assert watcher.deltas == [(0, 0), (0, 0)]
    shown = watcher.document
    assert shown is not None and [s["connected"] for s in shown["seats"]] == [False, False]
    assert await watcher.fresh(lobby, room_id) == (0, shown)
