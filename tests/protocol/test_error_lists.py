"""Every error code the server sends for a request is listed for it in docs/protocol.md.

A real server is driven into each error a request can get; the code it answers must
be among those section 4 lists for that request, or among the codes any request can
get. The lists are read from the document itself.
"""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path
from typing import Any

import attrs
import trio

from e2e.conftest import WireClient, make_config, open_client, start_server
from gameserver.protocol import messages as m
from gameserver.protocol.errors import ErrorCode

DOC = (Path(__file__).resolve().parents[2] / "docs" / "protocol.md").read_text()
CODES = {code.value for code in ErrorCode}


def _codes_in(text: str) -> set[str]:
    return {word for word in re.findall(r"`([a-z_]+)`", text) if word in CODES}


def documented_errors() -> tuple[set[str], dict[str, set[str]]]:
    """(codes any request can get, codes listed per request type) from section 4."""
    start = DOC.index("## 4. Requests and their replies")
    section = DOC[start : DOC.index("\n## 5.", start)]
    intro = section[: section.index("\n### ")]
    paragraph = intro[intro.index("Any request can\nalso get") :]
    general = _codes_in(re.split(r"\.\s", paragraph, maxsplit=1)[0])
    per_request: dict[str, set[str]] = {}
    for heading in re.finditer(r"^### `([a-z_]+)`.*$", section, re.MULTILINE):
        end = section.find("\n### ", heading.end())
        body = section[heading.end() : end if end != -1 else None]
        listed = body[body.index("Errors") :] if "Errors" in body else ""
        per_request[heading.group(1)] = _codes_in(listed)
    return general, per_request


def test_the_lists_are_read_from_the_document() -> None:
    general, per_request = documented_errors()
    assert general == {
        "bad_message", "unknown_type", "invalid_field", "too_large", "too_deep",
        "not_authenticated", "rate_limited", "internal_error",
    }
    assert set(per_request) == set(m.CLIENT_MESSAGE_TYPES)
    assert "room_not_found" in per_request["move"] and "not_in_room" in per_request["move"]


async def test_every_error_the_server_sends_is_listed_for_its_request(tmp_path: Path) -> None:
    config = make_config(tmp_path)
    config = attrs.evolve(
        config,
        service=attrs.evolve(config.service, max_rooms_per_player=3, invite_failures=2),
    )
    seen: dict[str, set[str]] = defaultdict(set)

    async def expect_error(client: WireClient, cls: type[m.ClientMessage], **fields: Any) -> str:
        answer = await client.answer(await client.send(cls, **fields))
        assert isinstance(answer, m.Error), (cls.TYPE, fields, answer)
        seen[cls.TYPE].add(answer.code)
        return answer.code

    async with trio.open_nursery() as nursery:
        server = await start_server(nursery, config)
        ann = await open_client(server, nursery, "ann")
        ben = await open_client(server, nursery, "ben")
        cat = await open_client(server, nursery, "cat")
        nobody = await open_client(server, nursery)

        # session
        await expect_error(nobody, m.Hello, name="")
        await expect_error(nobody, m.Hello, name="x", token="forged.token")
        await expect_error(ann, m.Hello, name="ann")
        await expect_error(nobody, m.ListRooms)
        # lobby
        await expect_error(ann, m.ListRooms, game="chess")
        await expect_error(ann, m.WatchLobby, game="chess")
        await expect_error(ann, m.CreateRoom, game="chess", players=2)
        await expect_error(ann, m.CreateRoom, game="connect4", players=5)
        await expect_error(
            ann, m.CreateRoom, game="connect4", players=2, bots=(m.BotSeat(seat=1, strategy="x"),)
        )
        await expect_error(ann, m.CreateRoom, game="connect4", players=2, seat=4)
        await expect_error(ann, m.QuickMatch, game="chess", players=2)
        await expect_error(ann, m.QuickMatch, game="tictactoe", players=3)
        # a running match between ann and ben, a waiting room of ann's
        playing = await ann.call(m.CreateRoom, m.JoinResult, game="connect4", players=2)
        room_id = playing.room.room_id
        await ben.call(m.JoinRoom, m.JoinResult, room_id=room_id)
        waiting = await ann.call(m.CreateRoom, m.JoinResult, game="liarsdice", players=3)
        private = await ann.call(
            m.CreateRoom, m.JoinResult, game="tictactoe", players=2, private=True
        )
        await expect_error(ann, m.JoinRoom, room_id=room_id, invite_code="X")
        await expect_error(ann, m.JoinRoom, room_id="no-such-room")
        await expect_error(cat, m.JoinRoom, room_id=room_id)  # full
        await expect_error(ann, m.JoinRoom, room_id=waiting.room.room_id)  # already in
        await expect_error(cat, m.JoinRoom, room_id=waiting.room.room_id, seat=9)
        await expect_error(ann, m.CreateRoom, game="connect4", players=2)  # 3 rooms held
        await expect_error(ann, m.QuickMatch, game="connect4", players=2)
        await expect_error(ann, m.JoinRoom, invite_code="WRONG1")
        await expect_error(ann, m.JoinRoom, invite_code="WRONG2")
        await expect_error(ann, m.JoinRoom, invite_code=private.invite_code)  # rate limited
        await expect_error(ann, m.Spectate, room_id="no-such-room")
        await expect_error(ann, m.Spectate, room_id=room_id)
        # room requests: no such room, not in it, and each request's own refusals
        for cls, fields in (
            (m.Move, {"version": 0, "move": {"column": 0}}),
            (m.Chat, {"text": "hi"}),
            (m.Resign, {}),
            (m.Rematch, {}),
            (m.Sync, {}),
            (m.LeaveRoom, {}),
        ):
            await expect_error(cat, cls, room_id="no-such-room", **fields)
            await expect_error(cat, cls, room_id=room_id, **fields)
        await expect_error(ann, m.Move, room_id=waiting.room.room_id, version=0, move={"column": 0})
        await expect_error(ann, m.Resign, room_id=waiting.room.room_id)
        await expect_error(ann, m.Move, room_id=room_id, version=5, move={"column": 0})
        await expect_error(ann, m.Move, room_id=room_id, version=0, move={"column": 1.5})
        await expect_error(ann, m.Move, room_id=room_id, version=0, move={"column": None})
        await expect_error(ben, m.Move, room_id=room_id, version=0, move={"column": 0})
        await expect_error(ann, m.Move, room_id=room_id, version=0, move={"column": 9})
        for version in range(6):  # fill column 0, alternating: nobody wins
            mover = ann if version % 2 == 0 else ben
            await mover.call(m.Move, m.MoveResult, room_id=room_id, version=version, move={"column": 0})
        await expect_error(ann, m.Move, room_id=room_id, version=6, move={"column": 0})
        await expect_error(ann, m.Chat, room_id=room_id, text=" ")
        await expect_error(ann, m.Rematch, room_id=room_id)
        await ann.call(m.Resign, m.EmptyResult, room_id=room_id)
        await expect_error(ann, m.Resign, room_id=room_id)
        await expect_error(ann, m.Move, room_id=room_id, version=7, move={"column": 1})
        # sessions: for accounts only, and only live ones
        await expect_error(cat, m.ListSessions)
        await expect_error(cat, m.RevokeSession, session_id="s")
        await cat.call(m.Register, m.AccountResult, password="correct horse battery")
        await expect_error(cat, m.RevokeSession, session_id="no-such-session")
        await expect_error(nobody, m.Hello, name="x", client_label="\x00")
        nursery.cancel_scope.cancel()

    general, per_request = documented_errors()
    undocumented = {
        (request, code)
        for request, codes in seen.items()
        for code in codes
        if code not in general and code not in per_request[request]
    }
    assert not undocumented, sorted(undocumented)
    # the scenarios reach every room request's room_not_found and the limits
    assert all("room_not_found" in seen[t] for t in ("move", "chat", "resign", "rematch", "leave_room"))
    assert {"too_many_rooms", "rate_limited"} <= seen["join_room"] | seen["create_room"]
    assert seen["move"] >= {"malformed_move", "illegal_move", "not_your_turn", "stale_version"}
    assert seen["revoke_session"] == {"not_registered", "unknown_session"}
