"""``gameserver replay verify`` and ``export`` on match logs in Redis, as real subprocesses
against a real redis-server."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from gameserver.cluster.coredis_api import CoredisAPI
from gameserver.cluster.keys import KeyLayout
from gameserver.cluster.match_stream import MatchStreams
from gameserver.cluster.redis_api import RedisAPI
from gameserver.replays.loader import load_match
from gameserver.replays.recorder import FsyncPolicy, MatchRecorder

from .conftest import SAMPLE, UNFINISHED, RedisServer, owner, write_log


def replay(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gameserver", "replay", *args],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip


async def test_a_stream_verifies_and_exports_to_the_file_the_recorder_writes(
    redis_server: RedisServer, redis_api: RedisAPI, tmp_path: Path
) -> None:
    _node, claim = await owner(redis_api, "room-1")
    original = load_match(SAMPLE)
    await write_log(MatchStreams(redis_api), claim, original)
    source = f"{redis_server.url}#{original.header.match_id}"

    verified = replay("verify", source)
    assert verified.returncode == 0, verified
    assert verified.stdout.startswith(f"OK   {source}: "), verified.stdout
    assert "hashes checked" in verified.stdout and "no end record" not in verified.stdout

    exported = tmp_path / "exported.gsr"
    assert replay("export", source, "--gsr", str(exported)).returncode == 0
    # The same bytes as today's recorder writes for these records.
    (tmp_path / "file").mkdir()
    written = MatchRecorder.create(tmp_path / "file", original.header, fsync=FsyncPolicy.NEVER)
    written.append_many(original.records)
    written.close()
    assert exported.read_bytes() == written.path.read_bytes()
    assert replay("verify", str(exported)).returncode == 0

    as_json = replay("export", source)
    assert as_json.returncode == 0, as_json
    document = json.loads(as_json.stdout)
    assert document["header"]["match_id"] == original.header.match_id
    assert len(document["records"]) == len(original.records) and document["complete"]

    again = replay("export", source, "--gsr", str(exported))
    assert again.returncode == 1 and "exists" in again.stderr


async def test_verify_reads_every_stream_and_fails_a_damaged_one(
    redis_server: RedisServer, redis_api: RedisAPI
) -> None:
    streams = MatchStreams(redis_api)
    _node, claim = await owner(redis_api, "room-1")
    await write_log(streams, claim, load_match(SAMPLE))
    unfinished = load_match(UNFINISHED)
    await write_log(streams, claim, unfinished)
    # A record that is valid msgpack but not a record, written behind the fence's back.
    assert isinstance(redis_api, CoredisAPI)
    damaged = KeyLayout().log("damaged")
    header = (await streams.payloads(unfinished.header.match_id))[0]
    await redis_api.client.xadd(damaged, {"r": header}, identifier="0-1")
    await redis_api.client.xadd(damaged, {"r": b"\x81\xa1t\xa5bogus"}, identifier="0-2")

    result = replay("verify", redis_server.url)
    assert result.returncode == 1, result
    lines = sorted(result.stdout.splitlines())
    assert len(lines) == 3, lines
    assert lines[0].startswith(f"FAIL {redis_server.url}#damaged: ") and "0-2" in lines[0]
    assert lines[1].startswith(f"OK   {redis_server.url}#{unfinished.header.match_id}: ")
    assert lines[1].endswith("; no end record")
    assert lines[2].startswith(f"OK   {redis_server.url}#v2-liarsdice-three-bots: ")
    strict = replay("verify", "--strict", f"{redis_server.url}#{unfinished.header.match_id}")
    assert strict.returncode == 1

    missing = replay("verify", f"{redis_server.url}#no-such-match")
    assert missing.returncode == 1 and "no such match log" in missing.stdout


def test_an_unreachable_redis_is_one_line_and_status_1(redis_server: RedisServer) -> None:
    url = redis_server.url
    redis_server.kill()
    for args in (["verify", url], ["export", f"{url}#m-1"]):
        result = replay(*args)
        assert result.returncode == 1, result
        [line] = result.stderr.splitlines()
        assert line.startswith("gameserver replay: Redis did not answer"), line


def test_a_bad_source_is_status_2() -> None:
    for args in (["verify", "redis://127.0.0.1:0/0"], ["export", "redis://127.0.0.1:6379/0"]):
        result = replay(*args)
        assert result.returncode == 2, result
        assert len(result.stderr.splitlines()) == 1, result.stderr
