"""Connection caps (per address and in total) and the open-file limit at start."""

from __future__ import annotations

import resource
import signal
from pathlib import Path

import trio

from .conftest import (
    RawPeer,
    make_config,
    open_client,
    pair_in_room,
    serve_process,
    start_server,
    upgrade_request,
    with_ws,
)


async def test_per_address_cap_answers_503_and_frees_on_close(tmp_path: Path) -> None:
    config = with_ws(make_config(tmp_path), max_connections_per_ip=4)
    async with trio.open_nursery() as nursery:
        server = await start_server(nursery, config)
        pair = await pair_in_room(server, nursery)  # two of the four
        idle = [await RawPeer.open(server.port) for _ in range(2)]
        refused = await RawPeer.connect(server.port)
        await refused.send_raw(upgrade_request())
        status, body = await refused.read_http()
        assert status == 503 and body == b"too many connections from your address\n"
        assert await pair.play(2) == 2
        await refused.aclose()
        await idle[0].aclose()
        await trio.sleep(0.1)
        again = await RawPeer.open(server.port)  # a freed slot is usable again
        await again.send_message({"type": "hello", "id": 1, "name": "late"})
        assert (await again.next_message())["type"] == "reply"
        nursery.cancel_scope.cancel()


async def test_total_cap_answers_503_for_http_and_websocket(tmp_path: Path) -> None:
    config = with_ws(make_config(tmp_path), max_connections=3)
    async with trio.open_nursery() as nursery:
        server = await start_server(nursery, config)
        pair = await pair_in_room(server, nursery)
        spare = await open_client(server, nursery, "spare")
        for request in (upgrade_request(), b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"):
            refused = await RawPeer.connect(server.port)
            await refused.send_raw(request)
            status, body = await refused.read_http()
            assert status == 503 and body == b"too many connections\n"
        assert await pair.play(2) == 2
        assert spare.ws.closed is None
        nursery.cancel_scope.cancel()


def _lower_open_file_limit() -> None:
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (256, hard))


def _soft_open_file_limit(pid: int) -> int:
    with open(f"/proc/{pid}/limits") as limits:
        for line in limits:
            if line.startswith("Max open files"):
                return int(line.split()[3])
    raise AssertionError("no open-file line")


async def test_serve_raises_its_open_file_soft_limit(tmp_path: Path) -> None:
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    assert hard > 256, "this test needs a hard limit above 256"
    process, _port, _scheme = await serve_process(tmp_path, preexec_fn=_lower_open_file_limit)
    try:
        expected = hard if hard != resource.RLIM_INFINITY else 1 << 20
        assert _soft_open_file_limit(process.pid) == expected
    finally:
        process.send_signal(signal.SIGTERM)
        with trio.fail_after(10):
            assert await process.wait() == 0
