"""The SDK's side of protocol version 2 (gameserver/client/deltas.py): documents that
turn deltas into exactly the ``State`` a full state gives, and the delta arrays the SDK
reads (``codec.decode_delta``)."""

from __future__ import annotations

import random
from typing import Any

import msgpack
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gameserver.client.deltas import Documents
from gameserver.games.registry import get_game, list_games
from gameserver.protocol import delta
from gameserver.protocol.codec import decode_delta, decode_server_message, encode, is_delta
from gameserver.protocol.errors import ErrorCode, RequestError
from gameserver.protocol.limits import SERVER_MESSAGE_LIMITS, DecodeLimits
from gameserver.protocol.messages import (
    AccountKind,
    ClockState,
    Delta,
    SeatInfo,
    SeatKind,
    State,
)
from gameserver.rooms.fanout import outcome_info

ROOM = "r1"


def full_states(game_name: str, players: int, seed: int) -> list[dict[int | None, State]]:
    """A random match of ``game_name``: per version, the full state of every seat and of
    a spectator (None), as the server builds them; seats and clocks change along."""
    game = get_game(game_name)
    rng = random.Random(seed)
    state = game.setup(players, rng, game.default_options())
    versions: list[dict[int | None, State]] = []
    version = 0
    while True:
        outcome = game.outcome(state)
        to_act = () if outcome is not None else tuple(sorted(game.to_act(state)))
        seats = tuple(
            SeatInfo(seat=s, kind=SeatKind.HUMAN, name=f"p{s}", player_id=f"id{s}",
                     connected=rng.random() < 0.8, account=rng.choice([None, AccountKind.HUMAN]))
            for s in range(players)
        )  # fmt: skip
        clock = rng.choice([None, ClockState(banks_ms=(rng.randrange(9000),) * players,
                                             move_ms=None, running=to_act[:1])])  # fmt: skip
        versions.append({
            seat: State(
                room_id=ROOM, match=1, version=version, seat=seat, view=game.view(state, seat),
                to_act=to_act,
                legal_moves=tuple(game.legal_moves(state, seat)) if seat in to_act else None,
                seats=seats, clock=clock,
                outcome=None if outcome is None else outcome_info(outcome),
            )
            for seat in [*range(players), None]
        })  # fmt: skip
        if outcome is not None:
            return versions
        seat = rng.choice(to_act)
        state = game.apply(state, seat, rng.choice(game.legal_moves(state, seat)), rng)
        version += 1


class Server:
    """What the server keeps for one member: the document last sent, and how it turns
    each new full state into a delta (docs/protocol.md, "Deltas")."""

    def __init__(self, first: State) -> None:
        self.document = self.document_of(first, held_legal=())
        self.version = first.version

    @staticmethod
    def document_of(state: State, held_legal: Any) -> dict[str, Any]:
        wire = msgpack.unpackb(encode(state), raw=False)
        return delta.document_of(
            view=wire["view"], to_act=wire["to_act"], legal=wire["legal_moves"],
            seats=wire["seats"], clock=wire["clock"], outcome=wire["outcome"],
            held_legal=held_legal,
        )  # fmt: skip

    def delta_to(self, state: State, request_id: int | None = None) -> bytes:
        new = self.document_of(state, held_legal=self.document["legal"])
        message = [ROOM, self.version, state.version, None, delta.diff(self.document, new)]
        if request_id is not None:
            message.append(request_id)
        self.document, self.version = new, state.version
        return msgpack.packb(message)


def decoded(state: State) -> State:
    """``state`` as the SDK decodes its full-state bytes."""
    message = decode_server_message(encode(state))
    assert isinstance(message, State)
    return message


def hold(documents: Documents, state: State) -> None:
    data = encode(state)
    message = decode_server_message(data)
    assert isinstance(message, State)
    documents.hold(message, data)


@settings(max_examples=30, deadline=None)
@given(st.sampled_from(list_games()), st.integers(2, 4), st.integers(0, 2**32))
def test_every_delta_gives_exactly_the_full_state_of_that_version(
    game_name: str, players: int, seed: int
) -> None:
    game = get_game(game_name)
    players = max(game.min_players, min(players, game.max_players))
    versions = full_states(game_name, players, seed)
    for seat in versions[0]:
        documents = Documents()
        hold(documents, versions[0][seat])
        server = Server(versions[0][seat])
        for states in versions[1:]:
            data = server.delta_to(states[seat])
            assert is_delta(data)
            shown = documents.apply(decode_delta(data, SERVER_MESSAGE_LIMITS))
            assert shown == decoded(states[seat])
        assert documents.take_resyncs() == []


def test_a_full_state_is_not_a_delta_and_a_delta_reads_back() -> None:
    state = full_states("tictactoe", 2, 1)[0][0]
    assert not is_delta(encode(state))
    assert not is_delta(b"")
    data = msgpack.packb([ROOM, 3, 4, [0, {"cell": 4}], [[5, 0, 4, 0]], 17])
    assert decode_delta(data, SERVER_MESSAGE_LIMITS) == Delta(
        room_id=ROOM, base=3, version=4, cause=[0, {"cell": 4}], ops=[[5, 0, 4, 0]], id=17
    )
    assert decode_delta(msgpack.packb([ROOM, 4, 4, None, []]), SERVER_MESSAGE_LIMITS).id is None


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ([ROOM, 1, 2, None], ErrorCode.BAD_MESSAGE),
        ([ROOM, 1, 2, None, [], 5, 6], ErrorCode.BAD_MESSAGE),
        ({"type": "state"}, ErrorCode.BAD_MESSAGE),
        ([7, 1, 2, None, []], ErrorCode.INVALID_FIELD),
        ([ROOM, -1, 2, None, []], ErrorCode.INVALID_FIELD),
        ([ROOM, 1, True, None, []], ErrorCode.INVALID_FIELD),
        ([ROOM, 3, 2, None, []], ErrorCode.INVALID_FIELD),
        ([ROOM, 1, 2, "timeout", []], ErrorCode.INVALID_FIELD),
        ([ROOM, 1, 2, None, {}], ErrorCode.INVALID_FIELD),
        ([ROOM, 1, 2, None, [5]], ErrorCode.INVALID_FIELD),
        ([ROOM, 1, 2, None, [], "7"], ErrorCode.INVALID_FIELD),
        ([ROOM, 1, 2, None, [[5, {b"k": 1}]]], ErrorCode.INVALID_FIELD),
        ([ROOM, 1, 2, None, [[5, [[[[[[[[1]]]]]]]]]]], ErrorCode.TOO_DEEP),
    ],
)
def test_a_malformed_delta_is_refused_with_its_code(value: Any, code: ErrorCode) -> None:
    data = msgpack.packb(value, use_bin_type=True)
    with pytest.raises(RequestError) as caught:
        decode_delta(data, DecodeLimits(max_depth=6))
    assert caught.value.code is code


def test_undecodable_and_oversized_deltas_are_refused() -> None:
    with pytest.raises(RequestError) as caught:
        decode_delta(b"\x95\xc1", SERVER_MESSAGE_LIMITS)
    assert caught.value.code is ErrorCode.BAD_MESSAGE
    data = msgpack.packb([ROOM, 1, 2, None, [[5, "x" * 100]]])
    with pytest.raises(RequestError) as caught:
        decode_delta(data, DecodeLimits(max_message_bytes=50))
    assert caught.value.code is ErrorCode.TOO_LARGE


def match_and_server(seat: int | None = 0) -> tuple[list[State], Documents, Server]:
    states = [by_seat[seat] for by_seat in full_states("connect4", 2, 7)]
    documents = Documents()
    hold(documents, states[0])
    return states, documents, Server(states[0])


def apply(documents: Documents, data: bytes) -> State | None:
    return documents.apply(decode_delta(data, SERVER_MESSAGE_LIMITS))


def test_a_gap_drops_the_document_asks_for_one_sync_and_waits_for_a_full_state() -> None:
    states, documents, server = match_and_server()
    assert apply(documents, server.delta_to(states[1])) == decoded(states[1])
    server.delta_to(states[2])  # lost on the way
    assert apply(documents, server.delta_to(states[3])) is None
    assert documents.take_resyncs() == [ROOM]
    # Further deltas are ignored without asking again: one sync is under way.
    assert apply(documents, server.delta_to(states[4])) is None
    assert documents.take_resyncs() == []
    hold(documents, states[4])
    server = Server(states[4])
    assert apply(documents, server.delta_to(states[5])) == decoded(states[5])


def test_ops_that_do_not_fit_drop_the_document_too() -> None:
    states, documents, server = match_and_server()
    bad = msgpack.packb([ROOM, 0, 1, None, [[5, 99, 0]]])
    assert apply(documents, bad) is None
    assert documents.take_resyncs() == [ROOM]


def test_a_document_that_no_longer_makes_a_state_is_dropped() -> None:
    states, documents, server = match_and_server()
    bad = msgpack.packb([ROOM, 0, 1, None, [[3, "not seats"]]])
    assert apply(documents, bad) is None
    assert documents.take_resyncs() == [ROOM]


def test_a_move_answer_that_does_not_fit_is_a_reply_only() -> None:
    states, documents, server = match_and_server()
    first = server.delta_to(states[1], request_id=9)
    assert apply(documents, first) == decoded(states[1])
    apply(documents, server.delta_to(states[2]))
    # A resent move's answer is the same stored bytes: the document stays as it is.
    assert apply(documents, first) is None
    assert documents.take_resyncs() == []
    assert apply(documents, server.delta_to(states[3])) == decoded(states[3])
    # Without an id, the same old bytes mean something was missed.
    old = msgpack.packb(msgpack.unpackb(first)[:5])
    assert apply(documents, old) is None
    assert documents.take_resyncs() == [ROOM]


def test_a_delta_for_a_room_without_document_asks_for_a_sync() -> None:
    documents = Documents()
    assert apply(documents, msgpack.packb([ROOM, 0, 1, None, []])) is None
    assert documents.take_resyncs() == [ROOM]
    documents.clear()
    assert documents.take_resyncs() == []


def test_a_spectator_and_a_waiting_seat_show_no_legal_moves() -> None:
    for seat in (None, 1):
        states, documents, server = match_and_server(seat)
        shown = apply(documents, server.delta_to(states[2]))
        assert shown is not None and shown.legal_moves is None
        assert shown == decoded(states[2])
