"""play_room's handling of refusals, against a scripted server (our own WebSocket server)."""

from __future__ import annotations

import functools
from typing import Any

import msgpack
import pytest
import trio

from gameserver.client import StrategyBot, connect, play_room
from gameserver.client import bot as bot_module
from gameserver.protocol.codec import encode
from gameserver.protocol.messages import (
    EmptyResult,
    HelloResult,
    MatchOver,
    MoveResult,
    OutcomeInfo,
    Reply,
    SeatInfo,
    SeatKind,
    State,
)
from gameserver.protocol.version import SUBPROTOCOL
from gameserver.ws.server import serve_websocket
from gameserver.ws.websocket import WebSocket

SEATS = (SeatInfo(seat=0, kind=SeatKind.HUMAN, name="ada"), SeatInfo(seat=1, kind=SeatKind.BOT, name="bot"))
OUTCOME = OutcomeInfo(winners=(0,), draw=False, reason="three in a row")


def state(version: int, *, to_act: tuple[int, ...] = (0,), outcome: OutcomeInfo | None = None) -> bytes:
    legal = ({"cell": 4},) if to_act and outcome is None else None
    return encode(
        State(room_id="r", match=1, version=version, seat=0, view={"you": 0}, to_act=to_act,
              legal_moves=legal, seats=SEATS, outcome=outcome)  # fmt: skip
    )


async def scripted_server(
    nursery: trio.Nursery, refusals: list[str], left: list[str] | None = None
) -> str:
    """Refuse moves with ``refusals`` (in order), then accept one and end the match.

    ``leave_room`` is answered, and its room id appended to ``left``.
    """

    async def handler(ws: WebSocket) -> None:
        hello = msgpack.unpackb(await ws.receive())
        result = HelloResult(player_id="p", name="ada", token="t", resumed=False)
        await ws.send(encode(Reply(id=hello["id"], result=result)))
        await ws.send(state(0))
        while True:
            request: dict[str, Any] = msgpack.unpackb(await ws.receive())
            if request["type"] == "leave_room" and left is not None:
                left.append(request["room_id"])
                await ws.send(encode(Reply(id=request["id"], result=EmptyResult())))
                continue
            assert request["type"] == "move"
            if refusals:
                code = refusals.pop(0)
                await ws.send(msgpack.packb({"type": "error", "id": request["id"], "code": code, "message": code}))
                continue
            await ws.send(state(1, to_act=(), outcome=OUTCOME))
            await ws.send(encode(Reply(id=request["id"], result=MoveResult(version=1))))
            await ws.send(encode(MatchOver(room_id="r", match=1, version=1, outcome=OUTCOME)))

    server = await nursery.start(functools.partial(serve_websocket, handler, "127.0.0.1", 0, subprotocols=[SUBPROTOCOL]))
    return f"ws://127.0.0.1:{server.port}/ws"


async def test_refusals_that_pass_are_retried_and_not_counted(nursery: trio.Nursery) -> None:
    left: list[str] = []
    url = await scripted_server(nursery, ["rate_limited", "internal_error"], left)
    with trio.fail_after(10):
        async with connect(url, name="ada") as client:
            await client.wait_connected()
            result = await play_room(client, StrategyBot("tictactoe", "random"), "r", 0)
    assert result.completed
    assert left == ["r"]  # done with the match: the room is left, so it can be released
    assert result.errors == ()
    assert result.moves == 1 and result.won


async def test_a_refusal_that_does_not_pass_ends_the_match_as_an_error(
    nursery: trio.Nursery, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bot_module, "STALL_SECONDS", 1.2)
    left: list[str] = []
    url = await scripted_server(nursery, ["room_not_found"] * 100, left)
    with trio.fail_after(10):
        async with connect(url, name="ada") as client:
            result = await play_room(client, StrategyBot("tictactoe", "random"), "r", 0)
    assert left == ["r"]  # giving up on a running match leaves (resigns) the seat
    assert not result.completed
    assert result.errors == ("room_not_found",)
    assert result.outcome is None


async def test_an_illegal_move_falls_back_to_a_legal_one(nursery: trio.Nursery) -> None:
    url = await scripted_server(nursery, ["illegal_move"])
    with trio.fail_after(10):
        async with connect(url, name="ada") as client:
            result = await play_room(client, StrategyBot("tictactoe", "random"), "r", 0)
    assert result.errors == ("illegal_move",)  # recorded: the bot chose badly
    assert result.outcome == OUTCOME and not result.completed


def test_time_left_is_the_tighter_of_bank_and_move_limit() -> None:
    from gameserver.client import time_left_ms
    from gameserver.protocol.messages import ClockState

    def timed(clock: ClockState | None, seat: int | None = 0) -> State:
        return State(room_id="r", match=1, version=0, seat=seat, view={}, to_act=(0,),
                     legal_moves=None, seats=SEATS, clock=clock)  # fmt: skip

    assert time_left_ms(timed(ClockState(banks_ms=(9000, 5000), move_ms=3000, running=(0,)))) == 3000
    assert time_left_ms(timed(ClockState(banks_ms=(2000, 5000), move_ms=3000, running=(0,)))) == 2000
    assert time_left_ms(timed(ClockState(banks_ms=None, move_ms=700, running=(0,)))) == 700
    assert time_left_ms(timed(ClockState(banks_ms=(1, 2), move_ms=None, running=(1,)))) is None
    assert time_left_ms(timed(None)) is None
    assert time_left_ms(timed(ClockState(banks_ms=(1, 2), move_ms=None, running=(0,)), seat=None)) is None


def test_think_pauses_vary_around_the_mean_and_leave_the_moves_alone() -> None:
    thinker = StrategyBot("connect4", "random", seed=5, think=1.0)
    pauses = [thinker.think_seconds() for _ in range(200)]
    assert all(0.5 <= pause <= 1.5 for pause in pauses)
    assert len(set(pauses)) > 100  # drawn, not fixed
    assert StrategyBot("connect4", "random", seed=5).think_seconds() == 0.0
    # Pauses come from their own generator: the same seed plays the same moves.
    view = {"board": [[None] * 7 for _ in range(6)], "you": 0, "turn": 0, "last": None, "line": None}
    legal = [{"column": c} for c in range(7)]
    plain = StrategyBot("connect4", "random", seed=5)
    for _ in range(20):
        thinker.think_seconds()
        assert thinker.choose(view, legal) == plain.choose(view, legal)
    with pytest.raises(ValueError):
        StrategyBot("connect4", "random", think=-1)
