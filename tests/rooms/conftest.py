"""Fixtures for room-level tests: a lobby in a nursery and in-process fake connections.

A ``FakeClient`` is a player whose connection is just its outbox: the test reads what
the room sent by draining the outbox and decoding each payload with the SDK-side codec.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, TypeVar

import pytest
import trio
import trio.testing

from gameserver.protocol.codec import decode_result, decode_server_message
from gameserver.protocol.messages import (
    Error,
    JoinResult,
    MatchOver,
    Reply,
    Result,
    ServerMessage,
    State,
)
from gameserver.rooms.commands import Attached, Detached
from gameserver.rooms.config import RoomConfig
from gameserver.rooms.lobby import Lobby
from gameserver.sessions.metrics import Metrics
from gameserver.sessions.outbox import Outbox
from gameserver.sessions.players import Client, Player
from gameserver.sessions.tokens import new_player_id

M = TypeVar("M", bound=ServerMessage)
R = TypeVar("R", bound=Result)


class FakeClient:
    """A player plus a fake connection (its outbox) that the test reads."""

    def __init__(self, name: str) -> None:
        self.player = Player(new_player_id(), name, Client(Outbox()))
        self.received: list[ServerMessage] = []
        self.raw: list[bytes] = []

    @property
    def outbox(self) -> Outbox:
        assert self.player.client is not None
        return self.player.client.outbox

    def drain(self) -> list[ServerMessage]:
        """Decode everything queued since the last drain."""
        new: list[ServerMessage] = []
        if self.player.client is None:
            return new
        while (payload := self.outbox.get_nowait()) is not None:
            self.raw.append(payload.data)
            new.append(decode_server_message(payload.data))
        self.received.extend(new)
        return new

    def of_type(self, cls: type[M]) -> list[M]:
        """Every received message of ``cls`` so far (drains first)."""
        self.drain()
        return [m for m in self.received if isinstance(m, cls)]

    def last_state(self) -> State:
        states = self.of_type(State)
        assert states, "no state received"
        return states[-1]

    def reply(self, request_id: int) -> Reply | Error:
        """The answer to ``request_id`` (drains first); fails if there is none."""
        self.drain()
        for message in self.received:
            if isinstance(message, (Reply, Error)) and message.id == request_id:
                return message
        raise AssertionError(f"no answer to request {request_id}")

    def result(self, request_id: int, cls: type[R]) -> R:
        answer = self.reply(request_id)
        assert isinstance(answer, Reply), answer
        return decode_result(cls, answer.result)

    def error_code(self, request_id: int) -> str:
        answer = self.reply(request_id)
        assert isinstance(answer, Error), answer
        return answer.code

    def disconnect(self, lobby: Lobby) -> None:
        """Drop the connection; rooms get ``Detached``."""
        assert self.player.client is not None
        self.player.client.outbox.close()
        self.player.client = None
        for room_id in list(self.player.rooms):
            lobby.rooms[room_id].submit(Detached(self.player))

    def reconnect(self, lobby: Lobby) -> None:
        """A new connection for the same player; rooms get ``Attached``."""
        self.player.client = Client(Outbox())
        for room_id in list(self.player.rooms):
            lobby.rooms[room_id].submit(Attached(self.player))


class LobbyHarness:
    """A lobby whose rooms run in the test's nursery."""

    def __init__(self, lobby: Lobby, metrics: Metrics) -> None:
        self.lobby = lobby
        self.metrics = metrics

    def client(self, name: str) -> FakeClient:
        return FakeClient(name)


@pytest.fixture
def room_config() -> RoomConfig:
    return RoomConfig(bot_delay=0.0, grace_period=30.0)


@pytest.fixture
async def harness(room_config: RoomConfig) -> AsyncIterator[LobbyHarness]:
    metrics = Metrics()
    async with trio.open_nursery() as nursery:
        lobby = Lobby(nursery, room_config, metrics)
        yield LobbyHarness(lobby, metrics)
        nursery.cancel_scope.cancel()


async def settle() -> None:
    """Let every room task handle what is queued."""
    await trio.testing.wait_all_tasks_blocked()


def join_result(value: Any) -> JoinResult:
    assert isinstance(value, JoinResult)
    return value


__all__ = ["FakeClient", "LobbyHarness", "settle", "MatchOver"]


async def until(condition: Any, timeout: float = 5.0) -> None:
    """Wait (really) until ``condition()`` holds: for rooms that write logs in threads."""
    with trio.fail_after(timeout):
        while not condition():
            await trio.sleep(0.002)
