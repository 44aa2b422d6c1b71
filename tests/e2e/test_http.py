"""The plain-HTTP side of the server port: health, metrics, static files, traversal."""

from __future__ import annotations

from pathlib import Path

import pytest
import trio

from gameserver.protocol.messages import CreateRoom, JoinResult

from .conftest import RunningServer, open_client


async def http_get(port: int, target: str, method: str = "GET") -> tuple[int, dict[str, str], bytes]:
    """Send one raw HTTP/1.1 request (the target exactly as given) and read the answer."""
    stream = await trio.open_tcp_stream("127.0.0.1", port)
    async with stream:
        request = f"{method} {target} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
        await stream.send_all(request.encode("latin-1"))
        data = b""
        with trio.fail_after(5):
            while chunk := await stream.receive_some(65536):
                data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return status, headers, body


@pytest.fixture
def static_files(server: RunningServer) -> Path:
    static = server.config.static_dir
    assert static is not None
    (static / "index.html").write_text("<!doctype html><title>games</title>")
    (static / "js").mkdir()
    (static / "js" / "app.js").write_text("export const x = 1;")
    (static / "style.css").write_text("body{}")
    (static.parent / "secret.txt").write_text("top secret")
    return static


async def test_healthz(server: RunningServer) -> None:
    status, headers, body = await http_get(server.port, "/healthz")
    assert status == 200 and body == b"ok\n"


async def test_metrics_in_prometheus_text_format(server: RunningServer) -> None:
    async with trio.open_nursery() as nursery:
        client = await open_client(server, nursery, "m")
        await client.call(CreateRoom, JoinResult, game="tictactoe", players=2)
        assert await client.fail(CreateRoom, game="nope", players=2) == "unknown_game"
        status, headers, body = await http_get(server.port, "/metrics")
        nursery.cancel_scope.cancel()
    assert status == 200 and headers["content-type"].startswith("text/plain; version=0.0.4")
    text = body.decode()
    assert "# TYPE gameserver_connections gauge" in text
    assert "gameserver_connections 1" in text
    assert "gameserver_rooms 1" in text
    assert 'gameserver_errors_total{code="unknown_game"} 1' in text
    assert "gameserver_messages_in_total 3" in text
    for line in text.splitlines():
        assert line.startswith("#") or len(line.split(" ")) == 2


@pytest.mark.parametrize(
    ("target", "content_type"),
    [
        ("/", "text/html; charset=utf-8"),
        ("/index.html", "text/html; charset=utf-8"),
        ("/js/app.js", "text/javascript; charset=utf-8"),
        ("/style.css", "text/css; charset=utf-8"),
    ],
)
async def test_static_files_with_content_types(
    server: RunningServer, static_files: Path, target: str, content_type: str
) -> None:
    status, headers, body = await http_get(server.port, target)
    assert status == 200 and headers["content-type"] == content_type
    expected = static_files / (target.lstrip("/") or "index.html")
    assert body == expected.read_bytes()
    assert headers["x-content-type-options"] == "nosniff"


async def test_head_has_no_body(server: RunningServer, static_files: Path) -> None:
    status, headers, body = await http_get(server.port, "/js/app.js", method="HEAD")
    assert status == 200 and body == b"" and headers["content-length"] == "19"


@pytest.mark.parametrize(
    "target",
    [
        "/../secret.txt",
        "/js/../../secret.txt",
        "/%2e%2e/secret.txt",
        "/%2E%2E%2Fsecret.txt",
        "/js/%2e%2e/%2e%2e/secret.txt",
        "/..%5csecret.txt",
        "/%00index.html",
        "//etc/passwd",
        "/.hidden",
        "/nothing-here.js",
        "/js",
        "/%ff%fe",
    ],
)
async def test_path_traversal_is_impossible(
    server: RunningServer, static_files: Path, target: str
) -> None:
    status, _headers, body = await http_get(server.port, target)
    assert status in (400, 404)
    assert b"top secret" not in body and b"root:" not in body


async def test_other_methods_and_the_ws_path(server: RunningServer, static_files: Path) -> None:
    status, headers, _ = await http_get(server.port, "/index.html", method="POST")
    assert status == 405 and headers["allow"] == "GET, HEAD"
    status, _, _ = await http_get(server.port, "/ws")
    assert status == 426
