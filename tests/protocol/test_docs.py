"""docs/protocol.md documents every message, field and error code the code defines."""

from __future__ import annotations

import re
from pathlib import Path

import attrs

from gameserver.protocol import messages as m
from gameserver.protocol.errors import ErrorCode
from gameserver.protocol.limits import CLIENT_MESSAGE_LIMITS
from gameserver.protocol.version import SUBPROTOCOL, WS_PATH

DOC = (Path(__file__).resolve().parents[2] / "docs" / "protocol.md").read_text()


def _section(title_fragment: str) -> str:
    start = DOC.index(title_fragment)
    end = DOC.find("\n## ", start + 1)
    return DOC[start : end if end != -1 else None]


def test_every_error_code_has_a_row() -> None:
    table = _section("## 12. Error codes")
    for code in ErrorCode:
        assert f"| `{code.value}` |" in table, code


def test_every_message_type_has_a_heading_and_every_field_a_row() -> None:
    for cls in (*m.CLIENT_MESSAGE_TYPES.values(), *m.SERVER_MESSAGE_TYPES.values()):
        if cls in (m.Reply, m.Error):
            continue
        # "chat" is both a request and a push: one of its sections must fit the class
        bodies = [
            DOC[heading.end() : DOC.index("\n### ", heading.end())]
            for heading in re.finditer(rf"^### `{cls.TYPE}`.*$", DOC, re.MULTILINE)
        ]
        assert bodies, cls.TYPE
        fields = [f"| `{field.name}` |" for field in attrs.fields(cls) if field.name != "id"]
        assert any(all(row in body for row in fields) for body in bodies), cls.TYPE


def test_every_shared_record_field_is_documented() -> None:
    records = _section("## 6. Shared records")
    for cls in (m.RoomSummary, m.SeatInfo, m.ClockSettings, m.ClockState, m.OutcomeInfo):
        for field in attrs.fields(cls):
            assert f"| `{field.name}` |" in records, (cls.__name__, field.name)
    for cls in (m.HelloResult, m.RoomsResult, m.JoinResult, m.MoveResult):
        row = next(line for line in records.splitlines() if line.startswith(f"| {cls.__name__} |"))
        for field in attrs.fields(cls):
            assert field.name in row, (cls.__name__, field.name)


def test_transport_and_limits_match_the_code() -> None:
    assert f"**`{SUBPROTOCOL}`**" in DOC
    assert f"**`{WS_PATH}`**" in DOC
    limits = _section("## 13. Limits")
    assert f"| {CLIENT_MESSAGE_LIMITS.max_message_bytes // 1024} KiB |" in limits
    assert f"| {CLIENT_MESSAGE_LIMITS.max_depth} |" in limits
    assert f"| {CLIENT_MESSAGE_LIMITS.max_str_len // 1024} KiB |" in limits
    assert f"| {CLIENT_MESSAGE_LIMITS.max_array_len} |" in limits
    assert f"| {CLIENT_MESSAGE_LIMITS.max_map_len} keys |" in limits


def test_every_installed_game_has_a_section() -> None:
    from gameserver.games.registry import GAMES

    games = _section("## 16. Games")
    for name in GAMES:
        assert f"### `{name}`" in games, name


def test_server_defaults_quoted_in_the_limits_table_match_the_server() -> None:
    from gameserver.app import DEFAULT_WS_MESSAGE_SIZE
    from gameserver.rooms.config import RoomConfig
    from gameserver.sessions.outbox import DEFAULT_OUTBOX_LIMIT
    from gameserver.sessions.service import ServiceConfig

    limits = _section("## 13. Limits")
    service, rooms = ServiceConfig(), RoomConfig()
    assert DEFAULT_WS_MESSAGE_SIZE == 2**20 and "| 1 MiB | close 1009 |" in limits
    assert f"| {service.message_rate:g} per second per connection, bursts of {service.message_burst:g} |" in limits
    assert f"the {service.flood_refusals}th refusal within {service.flood_window:g} s" in limits
    assert f"The {service.flood_refusals}th refused request within {service.flood_window:g} seconds" in limits
    assert f"refused for **{service.flood_penalty:g} seconds**" in limits
    assert f"up to\n{service.flood_penalty_max:g} s)" in limits
    assert f"| pending requests per room | {rooms.inbox_size} |" in limits
    assert f"| {DEFAULT_OUTBOX_LIMIT} per connection" in limits
    assert f"the last {rooms.dedupe_window} applied moves per room" in limits
    assert f"| chat text | {rooms.chat_max_length} characters (code points) |" in limits
    assert f"| display name | {service.max_name_length} characters (code points) |" in limits
    assert f"| open rooms on the server | {service.max_rooms} |" in limits
    assert f"| open rooms per player | {service.max_rooms_per_player} waiting" in limits
    assert f"| open rooms per client address | {service.max_rooms_per_address}," in limits
    assert (
        f"| wrong invite codes | {service.invite_failures} per address within "
        f"{service.invite_failure_window:g} s |" in limits
    )
    assert f"**grace period** ({rooms.grace_period:g} s by default" in DOC


def _example_lines(prefix: str) -> list[dict[str, object]]:
    """The complete (no "...") one-line JSON messages of the examples in section 15."""
    import json

    examples = _section("## 15. Example exchanges")
    found = []
    for line in examples.splitlines():
        if not line.startswith(prefix) or "..." in line:
            continue
        text = line[len(prefix) :].split("  (")[0].strip()
        try:
            found.append(json.loads(text))
        except json.JSONDecodeError:
            continue
    return found


def test_example_requests_decode_or_fail_as_the_example_says() -> None:
    import json

    import msgpack

    from gameserver.protocol.codec import decode_client_message
    from gameserver.protocol.errors import RequestError

    codec_codes = {"bad_message", "unknown_type", "invalid_field", "too_large", "too_deep"}
    lines = [line for line in _section("## 15. Example exchanges").splitlines() if line[:3] in ("C: ", "S: ")]
    checked = 0
    for index, line in enumerate(lines):
        if not line.startswith("C: ") or "..." in line:
            continue
        try:
            request = json.loads(line[3:].split("  (")[0])
        except json.JSONDecodeError:
            continue
        def answer_to(request_id: object) -> str | None:
            for later in lines[index + 1 :]:
                if later.startswith("C: "):
                    return None
                if f'"id": {json.dumps(request_id)},' in later:
                    return later
            return None

        try:
            decoded = decode_client_message(msgpack.packb(request))
        except RequestError as error:
            answer = answer_to(error.request_id)  # None when the id was unreadable: null
            assert answer is not None and f'"code": "{error.code.value}"' in answer, request
        else:
            answer = answer_to(request["id"])
            assert decoded.TYPE == request["type"]
            assert answer is None or not any(f'"code": "{code}"' in answer for code in codec_codes)
        checked += 1
    assert checked >= 8


def test_complete_example_server_messages_decode() -> None:
    import msgpack

    from gameserver.protocol.codec import decode_server_message

    messages = _example_lines("S: ")
    assert len(messages) >= 5
    for message in messages:
        assert decode_server_message(msgpack.packb(message)).TYPE == message["type"]
