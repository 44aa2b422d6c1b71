"""docs/replays.md against the real thing: the JSON layouts, parameters and status codes it
documents for the HTTP replay API (a real ``gameserver serve``, real HTTP) and for
``gameserver replay export`` (a real subprocess), so the page and the code cannot drift.

The page's object tables (a ``#### `Name``` heading, then ``| `field` | type | meaning |``
rows) are read by ``documented_objects``; a type is ``string``, ``integer``, ``boolean``,
``null``, ``object``, ``array of T``, ``map of T``, a documented `Name`, or several joined
by ``or``; ``; only with X`` marks a field present exactly when X was asked for.
"""

from __future__ import annotations

import http.client
import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest

from gameserver.protocol.messages import ClockSettings
from gameserver.replays import framing
from gameserver.rooms.recording_match import RecordingMatch, bot_header, record_bot_match

from .conftest import SAMPLES

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "replays.md"
# Hang guard only.
START_SECONDS = 30

# -- reading the page -------------------------------------------------------------------


@attrs.frozen
class Field:
    name: str
    #: Alternatives, e.g. ("array of integer", "null").
    types: tuple[str, ...]
    #: The request option this field depends on (e.g. "`seat=all`"), or None: always there.
    only_with: str | None


def _cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def documented_objects(text: str) -> dict[str, list[Field]]:
    """Every ``#### `Name``` object table of the page, by name."""
    objects: dict[str, list[Field]] = {}
    current: list[Field] | None = None
    for line in text.splitlines():
        heading = re.fullmatch(r"#### `(\w+)`", line)
        if heading:
            current = objects.setdefault(heading[1], [])
        elif line.startswith("#"):
            current = None
        elif current is not None and (inherit := re.match(r"Every field of `(\w+)`", line)):
            current.extend(objects[inherit[1]])
        elif current is not None and line.startswith("| `"):
            name, kind = _cells(line)[:2]
            types, _, condition = kind.partition("; only with ")
            current.append(
                Field(name.strip("`"), tuple(types.split(" or ")), condition or None)
            )
    return objects


def section(text: str, title: str) -> str:
    """The page's text from the heading starting with ``title`` to the next heading of
    the same or a higher level."""
    match = re.search(rf"^(#+) {re.escape(title)}.*$", text, re.M)
    assert match, title
    level = len(match[1])
    rest = text[match.end() :]
    end = re.search(rf"^#{{1,{level}}} ", rest, re.M)
    return rest[: end.start() if end else len(rest)]


def parameter_ranges(text: str) -> dict[str, tuple[int, int]]:
    """``| `name` | default | integer A to B | ... |`` rows: name -> (A, B)."""
    ranges = {}
    for line in text.splitlines():
        if line.startswith("| `"):
            cells = _cells(line)
            bounds = re.fullmatch(r"integer (\d+) to (\d+)", cells[2])
            if bounds:
                ranges[cells[0].strip("`")] = (int(bounds[1]), int(bounds[2]))
    return ranges


def documented_statuses(text: str) -> set[tuple[int, str | None]]:
    """The status code table: {(status, error code or None)}."""
    statuses = set()
    for line in section(text, "Status codes").splitlines():
        cells = _cells(line) if line.startswith("| ") else []
        if cells and cells[0].isdigit():
            code = cells[1].strip("`") if cells[1].startswith("`") else None
            statuses.add((int(cells[0]), code))
    return statuses


# -- checking a value against the page --------------------------------------------------


@attrs.define
class Checker:
    objects: dict[str, list[Field]]
    #: The request options in force, e.g. {"`seat=all`"}.
    asked: frozenset[str] = frozenset()
    problems: list[str] = attrs.field(factory=list)

    def check(self, value: Any, types: tuple[str, ...], where: str) -> None:
        if not any(self._fits(value, kind, where) for kind in types):
            self.problems.append(f"{where}: {value!r:.60} is not {' or '.join(types)}")

    def _fits(self, value: Any, kind: str, where: str) -> bool:
        simple = {"string": str, "boolean": bool, "object": dict}
        if kind in simple:
            return isinstance(value, simple[kind])
        if kind == "integer":
            return isinstance(value, int) and not isinstance(value, bool)
        if kind == "null":
            return value is None
        if kind.startswith("array of "):
            if not isinstance(value, list):
                return False
            for n, item in enumerate(value):
                self.check(item, (kind.removeprefix("array of "),), f"{where}[{n}]")
            return True
        if kind.startswith("map of "):
            if not isinstance(value, dict):
                return False
            for key, item in value.items():
                self.check(item, (kind.removeprefix("map of "),), f"{where}.{key}")
            return True
        name = kind.strip("`")
        assert name in self.objects, f"the page uses {kind} but documents no such object"
        if not isinstance(value, dict):
            return False
        self.check_object(value, name, where)
        return True

    def check_object(self, value: dict[str, Any], name: str, where: str) -> None:
        fields = self.objects[name]
        expected = {f.name for f in fields if f.only_with is None or f.only_with in self.asked}
        if set(value) != expected:
            missing, extra = sorted(expected - set(value)), sorted(set(value) - expected)
            self.problems.append(f"{where} ({name}): missing {missing}, undocumented {extra}")
        for field in fields:
            if field.name in value:
                self.check(value[field.name], field.types, f"{where}.{field.name}")


def check(value: Any, name: str, asked: frozenset[str] = frozenset()) -> list[str]:
    """Problems of ``value`` as the documented object ``name`` (empty: it matches)."""
    checker = Checker(documented_objects(DOC.read_text()), asked)
    checker.check(value, (f"`{name}`",), name)
    return checker.problems


# -- a real server with real logs -------------------------------------------------------


def record_matches(directory: Path) -> None:
    """Finished public matches of every game (timed and untimed), a private one, a running
    one and a damaged one."""
    directory.mkdir()
    timed = ClockSettings(initial_ms=60_000, increment_ms=1_000, per_move_ms=20_000)
    record_bot_match(directory, bot_header("tictactoe", ["best", "random"], seed=1, match_id="ttt"))
    record_bot_match(
        directory,
        bot_header("connect4", ["random", "best"], seed=2, match_id="c4", clock=timed),
    )
    record_bot_match(
        directory,
        bot_header("liarsdice", ["random"] * 3, seed=3, match_id="dice", started_at=1),
    )
    secret = bot_header("tictactoe", ["random", "random"], seed=4, match_id="secret")
    record_bot_match(directory, attrs.evolve(secret, private=True))
    running = RecordingMatch(
        directory, bot_header("tictactoe", ["best", "best"], seed=5, match_id="running")
    )
    running.move(0, {"cell": 4})
    running.recorder.close()
    record_bot_match(directory, bot_header("tictactoe", ["random"] * 2, seed=6, match_id="damaged"))
    path = directory / "damaged.gsr"
    data = bytearray(path.read_bytes())
    data[framing.scan(bytes(data)).offsets[2] + 9] ^= 0x01
    path.write_bytes(bytes(data))


@attrs.frozen
class Answer:
    status: int
    headers: dict[str, str]
    body: Any


@attrs.frozen
class Server:
    port: int

    def get(self, target: str, method: str = "GET") -> Answer:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            connection.request(method, target)
            response = connection.getresponse()
            raw = response.read()
            headers = {key.lower(): value for key, value in response.getheaders()}
        finally:
            connection.close()
        return Answer(response.status, headers, json.loads(raw) if raw else None)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    root = tmp_path_factory.mktemp("api-doc")
    record_matches(root / "replays")
    process = subprocess.Popen(
        [
            sys.executable, "-m", "gameserver", "serve", "--port", "0", "--no-recover",
            "--replays", str(root / "replays"), "--data-dir", str(root / "data"),
            "--log-level", "ERROR",
        ],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        line = process.stdout.readline()  # "gameserver listening on http://127.0.0.1:PORT/"
        assert "listening on" in line, line + process.communicate(timeout=START_SECONDS)[1]
        yield Server(int(line.rstrip().rstrip("/").rsplit(":", 1)[1]))
    finally:
        process.terminate()
        process.communicate(timeout=START_SECONDS)


FINISHED_PUBLIC = ["ttt", "c4", "dice"]  # newest first: "dice" started in 1970


# -- the tests --------------------------------------------------------------------------


def test_the_list_is_as_documented(server: Server) -> None:
    answer = server.get("/api/replays")
    assert answer.status == 200
    assert check(answer.body, "ReplayList") == []
    assert sorted(r["id"] for r in answer.body["replays"]) == sorted(FINISHED_PUBLIC)
    assert answer.body["replays"][-1]["id"] == "dice"
    assert answer.body["replays"][0]["date"].endswith("Z")
    # bots played every match out: the rules ended them all
    assert {r["result"]["termination"] for r in answer.body["replays"]} == {"normal"}


def test_paging_is_as_documented(server: Server) -> None:
    pages, offset, total = [], 0, None
    while total is None or offset < total:
        answer = server.get(f"/api/replays?offset={offset}&limit=2")
        assert check(answer.body, "ReplayList") == [] and answer.body["offset"] == offset
        total = answer.body["total"]
        pages.append([r["id"] for r in answer.body["replays"]])
        offset += 2
    assert pages == [FINISHED_PUBLIC[:2], FINISHED_PUBLIC[2:]]
    past = server.get("/api/replays?offset=50")
    assert past.status == 200 and past.body["replays"] == [] and past.body["total"] == 3
    only = server.get("/api/replays?game=connect4").body
    assert [r["id"] for r in only["replays"]] == ["c4"] and only["total"] == 1


def test_the_documented_parameter_ranges_are_the_real_ones(server: Server) -> None:
    ranges = parameter_ranges(section(DOC.read_text(), "`GET /api/replays`"))
    assert set(ranges) == {"offset", "limit"}
    for name, (low, high) in ranges.items():
        for value in (low, high):
            assert server.get(f"/api/replays?{name}={value}").status == 200, (name, value)
        refused = server.get(f"/api/replays?{name}={high + 1}")
        assert (refused.status, refused.body["error"]) == (400, "invalid_field"), name


@pytest.mark.parametrize("match_id", [*FINISHED_PUBLIC, "secret"])
def test_a_match_is_as_documented_for_one_seat_and_for_all(
    server: Server, match_id: str
) -> None:
    one = server.get(f"/api/replays/{match_id}?seat=1")
    assert one.status == 200
    assert check(one.body, "ReplayDocument") == []
    assert one.body["seat"] == 1 and one.body["steps"][0]["kind"] == "start"
    every = server.get(f"/api/replays/{match_id}?seat=all")
    assert check(every.body, "ReplayDocument", frozenset({"`seat=all`"})) == []
    assert every.body == server.get(f"/api/replays/{match_id}").body  # the default is all


def test_every_documented_status_and_error_code_is_what_the_server_answers(
    server: Server,
) -> None:
    requests = {
        ("GET", "/api/replays"): (200, None),
        ("GET", "/api/replays/ttt?seat=0"): (200, None),
        ("GET", "/api/replays?sort=oldest"): (200, None),  # unknown parameters are ignored
        ("GET", "/api/replays?limit=x"): (400, "invalid_field"),
        ("GET", "/api/replays?limit=1&limit=2"): (400, "invalid_field"),
        ("GET", "/api/replays?game=chess"): (400, "invalid_field"),
        ("GET", "/api/replays/ttt?seat=2"): (400, "invalid_field"),
        ("GET", "/api/replays/ttt?seat=one"): (400, "invalid_field"),
        ("GET", "/api/replays/nothing-here"): (404, "not_found"),
        ("GET", "/api/replays/running"): (404, "not_found"),
        ("GET", "/api/replays/.hidden"): (404, "not_found"),
        ("GET", "/api/replays/ttt/steps"): (404, "not_found"),
        ("POST", "/api/replays"): (405, "method_not_allowed"),
        ("DELETE", "/api/replays/ttt"): (405, "method_not_allowed"),
        ("GET", "/api/replays/damaged"): (500, "corrupt_replay"),
    }
    seen = set()
    for (method, target), expected in requests.items():
        answer = server.get(target, method)
        assert answer.headers["content-type"] == "application/json; charset=utf-8"
        assert answer.headers["cache-control"] == "no-store"
        assert answer.headers["x-content-type-options"] == "nosniff"
        code = None if answer.status == 200 else answer.body["error"]
        assert (answer.status, code) == expected, target
        if answer.status != 200:
            assert check(answer.body, "Error") == [], target
        if answer.status == 405:
            assert answer.headers["allow"] == "GET, HEAD"
        seen.add(expected)
    assert seen == documented_statuses(DOC.read_text())


def test_head_has_the_status_and_length_of_get_and_no_body(server: Server) -> None:
    for target in ("/api/replays", "/api/replays/c4?seat=0", "/api/replays/nothing-here"):
        head, get = server.get(target, "HEAD"), server.get(target)
        assert head.status == get.status and head.body is None
        length = len(json.dumps(get.body, separators=(",", ":"), ensure_ascii=False).encode())
        assert int(head.headers["content-length"]) == length


@pytest.mark.parametrize("views", [False, True])
def test_replay_export_is_as_documented(views: bool) -> None:
    for path in sorted(SAMPLES.glob("*.gsr")):
        run = subprocess.run(
            [sys.executable, "-m", "gameserver", "replay", "export", str(path)]
            + (["--views"] if views else []),
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert run.returncode == 0, run.stderr
        asked = frozenset({"`--views`"} if views else ())
        assert check(json.loads(run.stdout), "Export", asked) == [], path.name


def test_the_checker_catches_drift() -> None:
    """The page reader and checker must see a missing, an extra or a mistyped field."""
    objects = documented_objects(DOC.read_text())
    assert {"ReplayList", "ReplaySummary", "Step", "Export", "Position", "Error"} <= set(objects)
    assert {f.name for f in objects["ReplayHeader"]} >= {"id", "started_at", "options", "clock"}
    good = {"error": "not_found", "message": "no such replay"}
    assert check(good, "Error") == []
    assert check({"error": "not_found"}, "Error") != []
    assert check({**good, "detail": 1}, "Error") != []
    assert check({**good, "message": None}, "Error") != []
    step = {
        "index": 0, "version": 0, "kind": "start", "seat": None, "move": None, "at": 1,
        "clocks": None, "view": {},
    }  # fmt: skip
    assert check(step, "Step") == []
    assert check(step, "Step", frozenset({"`seat=all`"})) != []  # views missing
    assert check({**step, "clocks": [1.5]}, "Step") != []
