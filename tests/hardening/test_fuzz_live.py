"""Fuzz a live server with protocol-shaped but hostile messages.

Every request is a msgpack map with a known (or nearly known) type and fields whose
values are chosen to hurt: wrong types, huge or negative numbers, odd unicode, nested
junk, ids of rooms that exist and do not. Every answer must be a ``reply`` or a
well-formed ``error`` (a known code, a message, the request's id when it had one), never
``internal_error``; the connection stays open and a room of other players plays on.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import msgpack
import pytest
import trio
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gameserver.protocol.errors import ErrorCode

from .conftest import RawPeer, make_config, metric, pair_in_room, start_server

TYPES = ["hello", "list_rooms", "watch_lobby", "create_room", "join_room", "quick_match",
         "spectate", "leave_room", "move", "chat", "resign", "rematch"]
FIELDS = ["id", "name", "token", "game", "on", "players", "options", "private", "bots",
          "clock", "seat", "room_id", "invite_code", "version", "move", "text", "strategy",
          "initial_ms", "increment_ms", "per_move_ms"]
KNOWN_CODES = {code.value for code in ErrorCode}
ROOM = "<room>"  # replaced by the id of the room the players are in

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**63), 2**64 - 1),
    st.sampled_from([0, -1, 1, 2, 3, 6, 7, 2**31, 2**53 + 1]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=40),
    st.sampled_from(["connect4", "tictactoe", "liarsdice", "chess", "", "\x00", "\u202e",
                     "liar", "spot_on", ROOM, "best", "random"]),
    st.binary(max_size=20),
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=6) | st.dictionaries(
        st.sampled_from(FIELDS + ["column", "cell", "bid", "call", "dice"]) | st.text(max_size=5),
        inner, max_size=5,
    ),
    max_leaves=20,
)
requests = st.fixed_dictionaries(
    {"type": st.sampled_from(TYPES) | st.text(max_size=12)},
    optional={"id": st.integers(-(2**40), 2**40) | scalars},
).flatmap(
    lambda base: st.dictionaries(st.sampled_from(FIELDS[1:]), values, max_size=6).map(
        lambda extra: {**extra, **base}
    )
)


def with_room(value: Any, room_id: str) -> Any:
    if value == ROOM:
        return room_id
    if isinstance(value, list):
        return [with_room(item, room_id) for item in value]
    if isinstance(value, dict):
        return {key: with_room(item, room_id) for key, item in value.items()}
    return value


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batch=st.lists(requests, min_size=1, max_size=25), hello_first=st.booleans())
async def test_hostile_requests_get_replies_or_well_formed_errors(
    tmp_path_factory: pytest.TempPathFactory, batch: list[dict[str, Any]], hello_first: bool
) -> None:
    tmp_path: Path = tmp_path_factory.mktemp("fuzz")
    async with trio.open_nursery() as nursery:
        server = await start_server(nursery, make_config(tmp_path))
        pair = await pair_in_room(server, nursery)
        hostile = await RawPeer.open(server.port)
        if hello_first:
            await hostile.send_message({"type": "hello", "id": 0, "name": "fuzzer"})
        for request in batch:
            await hostile.send_message(msgpack.packb(with_room(request, pair.room_id)))
        sentinel = 2**40 + 1
        await hostile.send_message({"type": "list_rooms", "id": sentinel})
        answers = []
        while True:
            message = await hostile.next_message()
            if message.get("id") == sentinel:
                break
            answers.append(message)
        sent_ids = {r.get("id") for r in batch} | {0}
        for message in answers:
            kind = message.get("type")
            if kind == "error":
                assert message["code"] in KNOWN_CODES, message
                assert message["code"] != "internal_error", message
                assert isinstance(message["message"], str) and message["message"], message
                assert message["id"] is None or message["id"] in sent_ids, message
            elif kind == "reply":
                assert message["id"] in sent_ids, message
            else:
                # pushes from rooms or the lobby the fuzzer managed to enter
                assert kind in ("state", "room", "chat", "match_over", "lobby"), message
        assert hostile.connection.state.name == "OPEN"
        assert await pair.play(2) == 2
        assert await metric(server.port, "gameserver_rooms") >= 1
        await hostile.aclose()
        nursery.cancel_scope.cancel()
