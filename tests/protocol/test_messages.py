"""Every message class survives encode -> decode unchanged."""

from __future__ import annotations

from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gameserver.games.base import Termination
from gameserver.protocol import messages as m
from gameserver.protocol.codec import (
    decode_client_message,
    decode_result,
    decode_server_message,
    encode,
    encode_client_message,
    to_wire,
)
from gameserver.protocol.errors import RequestError

from .strategies import records

RESULT_CLASSES = [
    m.EmptyResult, m.HelloResult, m.RoomsResult, m.JoinResult, m.MoveResult, m.AccountResult,
    m.LeaderboardResult, m.ProfileResult, m.SessionsResult,
]
ACCOUNT = m.AccountInfo(player_id="p1", name="ada", kind=m.AccountKind.BOT)

SEATS = (
    m.SeatInfo(seat=0, kind=m.SeatKind.HUMAN, name="ada", player_id="p1", connected=True),
    m.SeatInfo(seat=1, kind=m.SeatKind.BOT, name="best"),
)
ROOM = m.RoomSummary(
    room_id="r1",
    game="connect4",
    players=2,
    seats=SEATS,
    status=m.RoomStatus.PLAYING,
    options={"rows": 6},
    clock=m.ClockSettings(initial_ms=60_000, increment_ms=2_000),
    match=1,
)
OUTCOME = m.OutcomeInfo(
    winners=(0,), draw=False, reason="four in a row", termination=Termination.NORMAL
)

CLIENT_EXAMPLES: list[m.ClientMessage] = [
    m.Hello(id=1, name="ada"),
    m.Hello(id=2, name="ada", token="t.o.k"),
    m.Hello(id=2, name="ada", token="t.o.k", revoke_others=True),
    m.Logout(id=9),
    m.ListRooms(id=3),
    m.ListRooms(id=3, game="tictactoe"),
    m.WatchLobby(id=4, game=None, on=False),
    m.CreateRoom(
        id=5,
        game="liarsdice",
        players=3,
        options={"ones_wild": False},
        private=True,
        bots=(m.BotSeat(seat=2, strategy="random"),),
        clock=m.ClockSettings(per_move_ms=30_000),
        seat=1,
    ),
    m.JoinRoom(id=6, room_id="r1"),
    m.JoinRoom(id=7, invite_code="ABCD", seat=1),
    m.QuickMatch(id=8, game="connect4", players=2),
    m.Spectate(id=9, room_id="r1"),
    m.LeaveRoom(id=10, room_id="r1"),
    m.Move(id=11, room_id="r1", version=4, move={"column": 3}),
    m.Move(id=12, room_id="r1", version=0, move={"bid": [3, 5]}),
    m.Chat(id=13, room_id="r1", text="gg"),
    m.Resign(id=14, room_id="r1"),
    m.Rematch(id=15, room_id="r1"),
    m.Sync(id=15, room_id="r1"),
    m.Hello(id=16, name="ada", password="correct horse"),
    m.Hello(id=17, name="x", api_key="gsk_1234abcd_xyz"),
    m.CreateRoom(id=18, game="connect4", players=2, rated=True),
    m.QuickMatch(id=19, game="connect4", players=2, rated=True),
    m.Register(id=20, password="correct horse", bot=True),
    m.Rename(id=21, name="ada2"),
    m.CreateApiKey(id=22),
    m.RevokeApiKeys(id=23),
    m.Leaderboard(id=24, game="liarsdice", players=3, board=m.Board.BOTS, limit=5),
    m.Profile(id=25, player_id="p1"),
    m.Hello(id=26, name="ada", password="pw", client_label="Firefox on Linux"),
    m.ListSessions(id=27),
    m.RevokeSession(id=28, session_id="Zm9vYmFyYmF6"),
]

SERVER_EXAMPLES: list[m.ServerMessage] = [
    m.Error(id=3, code="room_full", message="every seat is taken"),
    m.Error(id=None, code="bad_message", message="not a valid msgpack value"),
    m.State(
        room_id="r1",
        match=1,
        version=7,
        seat=0,
        view={"board": [[None] * 7] * 6, "you": 0, "turn": 0},
        to_act=(0,),
        legal_moves=({"column": 0}, {"column": 6}),
        seats=SEATS,
        clock=m.ClockState(banks_ms=(59_000, 60_000), move_ms=None, running=(0,)),
    ),
    m.State(
        room_id="r1",
        match=1,
        version=9,
        seat=None,
        view={"board": []},
        to_act=(),
        legal_moves=None,
        seats=SEATS,
        outcome=OUTCOME,
    ),
    m.RoomUpdate(room=ROOM),
    m.ChatMessage(room_id="r1", player_id="p1", name="ada", seat=None, text="hi", seq=1),
    m.MatchOver(room_id="r1", match=1, version=9, outcome=OUTCOME, replay_id="x"),
    m.LobbyUpdate(rooms=(ROOM,), removed=("r0",)),
    m.LobbyUpdate(),
    m.RatingUpdate(
        room_id="r1", match=2, pool="connect4",
        changes=(
            m.RatingChange(seat=0, player_id="p1", before=1500.0, after=1662.3,
                           deviation=290.3, provisional=True),
        ),
    ),
]

RESULT_EXAMPLES: list[m.Result] = [
    m.EmptyResult(),
    m.HelloResult(
        player_id="p1", name="ada", token="tok", resumed=True, seats=(m.SeatRef(room_id="r1", seat=0),)
    ),
    m.RoomsResult(rooms=(ROOM,)),
    m.JoinResult(room=ROOM, seat=None),
    m.JoinResult(room=ROOM, seat=1, invite_code="ABCD"),
    m.MoveResult(version=8),
    m.HelloResult(player_id="p1", name="ada", token="tok", resumed=True, account=ACCOUNT),
    m.AccountResult(account=ACCOUNT, api_key="gsk_1234abcd_xyz"),
    m.HelloResult(player_id="p1", name="ada", token="tok", resumed=False, session_id="s1"),
    m.SessionsResult(
        sessions=(
            m.SessionInfo(session_id="s1", created_at=5, last_used_at=9, address="::1",
                          label="Firefox on Linux", current=True),
            m.SessionInfo(session_id="s2", created_at=1, last_used_at=2, address="10.0.0.2",
                          label=None, current=False),
        ),
    ),
    m.LeaderboardResult(
        pool="connect4",
        entries=(
            m.LeaderboardEntry(rank=1, player_id="p1", name="ada", kind=m.AccountKind.HUMAN,
                               rating=1612.5, deviation=80.25, provisional=False, wins=3,
                               draws=1, losses=0),
        ),
    ),
    m.ProfileResult(
        account=ACCOUNT,
        ratings=(m.PoolRating(pool="connect4", rating=1612.5, deviation=80.0, provisional=False,
                              wins=3, draws=1, losses=0),),
        history=(m.HistoryPoint(pool="connect4", match_id="r1-1", at=5, rating=1612.5,
                                deviation=80.0),),
        recent=(m.RecentMatch(match_id="r1-1", game="connect4", pool="connect4", at=5, seat=0,
                              result="win", rating_before=1500.0, rating_after=1612.5,
                              opponents=("p2",)),),
    ),
]


def test_every_request_type_is_registered_once() -> None:
    classes = [cls for cls in vars(m).values() if isinstance(cls, type) and issubclass(cls, m.ClientMessage)]
    assert set(m.CLIENT_MESSAGE_TYPES.values()) == {cls for cls in classes if cls is not m.ClientMessage}
    assert {type(example) for example in CLIENT_EXAMPLES} == set(m.CLIENT_MESSAGE_TYPES.values())
    assert {type(example) for example in SERVER_EXAMPLES} | {m.Reply} == set(
        m.SERVER_MESSAGE_TYPES.values()
    )


def test_every_field_has_a_one_line_docstring() -> None:
    import ast
    import inspect

    tree = ast.parse(inspect.getsource(m))
    checked = 0
    for node in tree.body:
        if not isinstance(node, ast.ClassDef):
            continue
        body = node.body
        for index, statement in enumerate(body):
            if isinstance(statement, ast.AnnAssign) and "ClassVar" not in ast.unparse(statement.annotation):
                following = body[index + 1]
                assert isinstance(following, ast.Expr), (node.name, ast.unparse(statement))
                assert isinstance(following.value, ast.Constant)
                assert "\n" not in following.value.value.strip()
                checked += 1
    assert checked >= 60


@pytest.mark.parametrize("message", CLIENT_EXAMPLES, ids=lambda msg: type(msg).__name__)
def test_request_round_trip(message: m.ClientMessage) -> None:
    data = encode_client_message(message)
    assert decode_client_message(data) == message
    assert to_wire(message)["type"] == message.TYPE


@pytest.mark.parametrize("message", SERVER_EXAMPLES, ids=lambda msg: type(msg).__name__)
def test_server_message_round_trip(message: m.ServerMessage) -> None:
    assert decode_server_message(encode(message)) == message


@pytest.mark.parametrize("result", RESULT_EXAMPLES, ids=lambda r: type(r).__name__)
def test_reply_result_round_trip(result: m.Result) -> None:
    decoded = decode_server_message(encode(m.Reply(id=42, result=result)))
    assert isinstance(decoded, m.Reply)
    assert decoded.id == 42
    assert isinstance(decoded.result, dict)
    assert decode_result(type(result), decoded.result) == result


def test_wire_form_uses_plain_names_and_values() -> None:
    wire = to_wire(m.RoomUpdate(room=ROOM))
    assert wire == {
        "type": "room",
        "room": {
            "room_id": "r1",
            "game": "connect4",
            "players": 2,
            "seats": [
                {"seat": 0, "kind": "human", "name": "ada", "player_id": "p1", "connected": True, "wants_rematch": False, "account": None},
                {"seat": 1, "kind": "bot", "name": "best", "player_id": None, "connected": False, "wants_rematch": False, "account": None},
            ],
            "status": "playing",
            "private": False,
            "spectators": 0,
            "options": {"rows": 6},
            "clock": {"initial_ms": 60_000, "increment_ms": 2_000, "per_move_ms": None},
            "match": 1,
            "paused": None,
            "rated": False,
        },
    }


def test_an_outcome_carries_its_termination_as_a_lowercase_string() -> None:
    import msgpack

    over = m.MatchOver(room_id="r1", match=1, version=9, outcome=OUTCOME, replay_id=None)
    wire = to_wire(over)
    assert wire["outcome"] == {
        "winners": [0],
        "draw": False,
        "scores": None,
        "reason": "four in a row",
        "termination": "normal",
    }
    # An older v1 server sends no termination: the client decodes it as None.
    del wire["outcome"]["termination"]
    decoded = decode_server_message(msgpack.packb(wire))
    assert isinstance(decoded, m.MatchOver) and decoded.outcome.termination is None
    wire["outcome"]["termination"] = "checkmate"
    with pytest.raises(RequestError, match="termination"):
        decode_server_message(msgpack.packb(wire))


def test_optional_fields_may_be_omitted_on_the_wire() -> None:
    import msgpack

    data = msgpack.packb({"type": "create_room", "id": 1, "game": "tictactoe", "players": 2})
    assert decode_client_message(data) == m.CreateRoom(id=1, game="tictactoe", players=2)


def test_unknown_extra_fields_are_ignored() -> None:
    import msgpack

    data = msgpack.packb({"type": "resign", "id": 1, "room_id": "r", "future": [1, 2]})
    assert decode_client_message(data) == m.Resign(id=1, room_id="r")


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_any_request_round_trips(data: st.DataObject) -> None:
    cls = data.draw(st.sampled_from(sorted(m.CLIENT_MESSAGE_TYPES.values(), key=lambda c: c.TYPE)))
    message = data.draw(records(cls, signed=False))
    assert decode_client_message(encode_client_message(message), _roomy()) == message


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_any_server_message_round_trips(data: st.DataObject) -> None:
    classes = [cls for cls in m.SERVER_MESSAGE_TYPES.values() if cls is not m.Reply]
    cls = data.draw(st.sampled_from(sorted(classes, key=lambda c: c.TYPE)))
    message = data.draw(records(cls, signed=True))
    assert decode_server_message(encode(message)) == message


@settings(max_examples=30, deadline=None)
@given(st.sampled_from(RESULT_CLASSES).flatmap(lambda cls: records(cls, signed=True)))
def test_any_result_round_trips(result: Any) -> None:
    decoded = decode_server_message(encode(m.Reply(id=1, result=result)))
    assert isinstance(decoded, m.Reply)
    assert decode_result(type(result), decoded.result) == result


def _roomy() -> Any:
    from gameserver.protocol.limits import DecodeLimits

    return DecodeLimits(max_depth=32)
