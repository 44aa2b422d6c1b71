"""The replay HTTP API: listing finished matches and serving one match step by step."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import attrs
import pytest
import trio
from hypothesis import given, settings
from hypothesis import strategies as st

from gameserver.games.registry import get_game
from gameserver.rooms.recording_match import RecordingMatch, bot_header, record_bot_match
from gameserver.web.replay_api import handle_replay_request
from gameserver.ws.http import HTTPRequest, HTTPResponse

TTT_MOVES = [(0, 4), (1, 0), (0, 2), (1, 6), (0, 3), (1, 1), (0, 5)]  # seat 0 wins: 3,4,5


def ttt_match(
    directory: Path,
    match_id: str = "ttt-1",
    started_at: int = 1_767_225_600_000,
    private: bool | None = None,
) -> None:
    header = attrs.evolve(
        bot_header("tictactoe", ["best", "random"], seed=7, match_id=match_id, started_at=started_at),
        private=private,
    )
    match = RecordingMatch(directory, header)
    for seat, cell in TTT_MOVES:
        match.move(seat, {"cell": cell})
    match.finish()


async def get(target: str, directory: Path | None, method: str = "GET") -> HTTPResponse:
    response = await handle_replay_request(HTTPRequest(method, target), directory)
    assert response is not None
    return response


def body(response: HTTPResponse) -> Any:
    assert response.get("Content-Type") == "application/json; charset=utf-8"
    return json.loads(response.body)


async def test_other_paths_are_not_ours(tmp_path: Path) -> None:
    for target in ("/", "/ws", "/api/replaysx", "/api", "/index.html"):
        assert await handle_replay_request(HTTPRequest("GET", target), tmp_path) is None


async def test_list_has_only_finished_matches_newest_first(tmp_path: Path) -> None:
    ttt_match(tmp_path, "old", started_at=1_767_225_600_000)
    ttt_match(tmp_path, "new", started_at=1_767_225_700_000)
    running = RecordingMatch(tmp_path, bot_header("tictactoe", ["best", "best"], seed=1, match_id="running"))
    running.move(0, {"cell": 4})
    (tmp_path / "junk.gsr").write_bytes(b"not a log")
    (tmp_path / "notes.txt").write_text("ignored")

    listing = body(await get("/api/replays", tmp_path))["replays"]

    assert [r["id"] for r in listing] == ["new", "old"]
    first = listing[0]
    assert first["game"] == "tictactoe"
    assert first["title"] == "Tic-tac-toe"
    assert first["players"] == [
        {"seat": 0, "name": "best-0", "kind": "bot"},
        {"seat": 1, "name": "random-1", "kind": "bot"},
    ]
    assert first["result"] == {
        "winners": [0], "draw": False, "scores": None, "reason": "three in a row", "aborted": False,
        "termination": "normal",
    }
    assert first["length"] == len(TTT_MOVES)
    assert first["date"] == "2026-01-01T00:01:40Z"


async def test_a_private_rooms_match_is_served_by_id_but_never_listed(tmp_path: Path) -> None:
    ttt_match(tmp_path, "public", private=False)
    ttt_match(tmp_path, "secret", private=True)

    listing = body(await get("/api/replays", tmp_path))

    assert [r["id"] for r in listing["replays"]] == ["public"] and listing["total"] == 1
    served = body(await get("/api/replays/secret?seat=all", tmp_path))
    assert served["header"]["id"] == "secret" and len(served["steps"]) == len(TTT_MOVES) + 1


async def test_list_without_a_directory_is_empty(tmp_path: Path) -> None:
    empty = {"replays": [], "total": 0, "offset": 0}
    assert body(await get("/api/replays/", None)) == empty
    assert body(await get("/api/replays", tmp_path / "missing")) == empty


async def test_list_pages(tmp_path: Path) -> None:
    for n in range(5):
        ttt_match(tmp_path, f"m{n}", started_at=1_767_225_600_000 + n)
    page = body(await get("/api/replays?offset=1&limit=2", tmp_path))
    assert [r["id"] for r in page["replays"]] == ["m3", "m2"]
    assert page["total"] == 5 and page["offset"] == 1
    assert body(await get("/api/replays?offset=9", tmp_path))["replays"] == []
    record_bot_match(tmp_path, bot_header("connect4", ["random", "random"], seed=2, match_id="c4"))
    only = body(await get("/api/replays?game=connect4", tmp_path))
    assert [r["id"] for r in only["replays"]] == ["c4"] and only["total"] == 1
    assert body(await get("/api/replays?game=tictactoe&limit=1", tmp_path))["total"] == 5
    bad = ("limit=1001", "limit=-1", "offset=x", "limit=1&limit=2", "limit", "game=chess")
    for query in bad:
        response = await get(f"/api/replays?{query}", tmp_path)
        assert response.status == 400, query
        assert body(response)["error"] == "invalid_field"


async def test_match_steps_show_the_board_at_every_move(tmp_path: Path) -> None:
    ttt_match(tmp_path)

    doc = body(await get("/api/replays/ttt-1?seat=0", tmp_path))

    assert doc["seat"] == 0
    assert doc["header"]["id"] == "ttt-1"
    assert doc["header"]["options"] == {}
    assert doc["header"]["clock"] == {"initial_ms": None, "increment_ms": 0, "per_move_ms": None}
    steps = doc["steps"]
    assert len(steps) == len(TTT_MOVES) + 1
    assert steps[0]["kind"] == "start" and steps[0]["view"]["board"] == [None] * 9
    board: list[int | None] = [None] * 9
    for n, (seat, cell) in enumerate(TTT_MOVES, start=1):
        board[cell] = seat
        assert steps[n]["index"] == n
        assert steps[n]["version"] == n
        assert steps[n]["kind"] == "move"
        assert steps[n]["seat"] == seat
        assert steps[n]["move"] == {"cell": cell}
        assert steps[n]["view"]["board"] == board
        assert steps[n]["view"]["you"] == 0
        assert "views" not in steps[n]
    assert steps[-1]["view"]["line"] == [3, 4, 5]


async def test_all_perspective_carries_every_seat_view(tmp_path: Path) -> None:
    ttt_match(tmp_path)
    for target in ("/api/replays/ttt-1", "/api/replays/ttt-1?seat=all"):
        doc = body(await get(target, tmp_path))
        assert doc["seat"] == "all"
        step = doc["steps"][3]
        assert step["view"]["you"] is None
        assert [v["you"] for v in step["views"]] == [0, 1]


async def test_step_views_are_exactly_the_game_views(tmp_path: Path) -> None:
    """Every step's view is exactly what game.view gives that seat at that point."""
    game = get_game("connect4")
    match = record_bot_match(tmp_path, bot_header("connect4", ["random", "random"], seed=3, match_id="c4"))
    doc = body(await get("/api/replays/c4?seat=1", tmp_path))
    assert doc["steps"][-1]["view"] == json.loads(json.dumps(game.view(match.state, 1)))


@pytest.mark.parametrize(
    ("target", "status", "code"),
    [
        ("/api/replays/nope", 404, "not_found"),
        ("/api/replays/running", 404, "not_found"),
        ("/api/replays/..%2F..%2Fetc%2Fpasswd", 404, "not_found"),
        ("/api/replays/../secrets", 404, "not_found"),
        ("/api/replays/.hidden", 404, "not_found"),
        ("/api/replays/a/b", 404, "not_found"),
        ("/api/replays/" + "x" * 200, 404, "not_found"),
        ("/api/replays/ttt-1?seat=2", 400, "invalid_field"),
        ("/api/replays/ttt-1?seat=-1", 400, "invalid_field"),
        ("/api/replays/ttt-1?seat=one", 400, "invalid_field"),
        ("/api/replays/ttt-1?seat=0&seat=1", 400, "invalid_field"),
    ],
)
async def test_bad_requests_get_clear_errors(
    tmp_path: Path, target: str, status: int, code: str
) -> None:
    ttt_match(tmp_path)
    running = RecordingMatch(tmp_path, bot_header("tictactoe", ["best", "best"], seed=1, match_id="running"))
    running.move(0, {"cell": 4})
    response = await get(target, tmp_path)
    assert response.status == status
    error = body(response)
    assert error["error"] == code
    assert error["message"]


async def test_only_get_and_head(tmp_path: Path) -> None:
    ttt_match(tmp_path)
    response = await get("/api/replays", tmp_path, method="POST")
    assert response.status == 405
    assert response.get("Allow") == "GET, HEAD"
    head = await get("/api/replays/ttt-1", tmp_path, method="HEAD")
    full = await get("/api/replays/ttt-1", tmp_path)
    assert head.status == 200 and head.body == b""
    assert head.get("Content-Length") == str(len(full.body))


async def test_a_damaged_log_is_an_error_not_a_crash(tmp_path: Path) -> None:
    (tmp_path / "broken.gsr").write_bytes(b"garbage")
    response = await get("/api/replays/broken", tmp_path)
    assert response.status == 500
    assert body(response)["error"] == "corrupt_replay"


@settings(max_examples=150, deadline=None)
@given(
    rest=st.text(
        alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E), max_size=60
    ),
    method=st.sampled_from(["GET", "HEAD", "POST", "DELETE"]),
)
def test_any_target_gets_a_json_answer_never_a_crash(
    tmp_path_factory: pytest.TempPathFactory, rest: str, method: str
) -> None:
    directory = tmp_path_factory.getbasetemp() / "fuzz-replays"
    if not directory.exists():
        directory.mkdir()
        ttt_match(directory)
    request = HTTPRequest(method, "/api/replays/" + rest)
    response = trio.run(handle_replay_request, request, directory)
    assert response is not None
    assert response.status in (200, 400, 404, 405)
    if method != "HEAD":
        answer = json.loads(response.body)
        assert isinstance(answer, dict)
        if response.status != 200:
            assert answer["error"] and answer["message"]
