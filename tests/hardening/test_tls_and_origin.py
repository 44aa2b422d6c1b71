"""TLS (``--certfile``/``--keyfile``) and the browser origin allowlist (403)."""

from __future__ import annotations

import signal
import ssl
import subprocess
import sys
from pathlib import Path

import attrs
import pytest
import trio

from gameserver.web.origins import OriginPolicy, normalize_origin
from gameserver.protocol.messages import CreateRoom, JoinResult, JoinRoom, Move, MoveResult
from gameserver.protocol.version import SUBPROTOCOL
from gameserver.ws.client import connect
from gameserver.ws.exceptions import HandshakeError

from .conftest import RunningServer, WireClient, make_config, pair_in_room, serve_process, start_server


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for localhost and 127.0.0.1."""
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-days", "1", "-subj", "/CN=localhost", "-keyout", str(key), "-out", str(cert),
         "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
        check=True,
        capture_output=True,
    )
    return cert, key


async def https_get(port: int, path: str, context: ssl.SSLContext) -> bytes:
    stream = await trio.open_ssl_over_tcp_stream(
        "localhost", port, ssl_context=context, https_compatible=True
    )
    await stream.send_all(f"GET {path} HTTP/1.1\r\nHost: localhost\r\n\r\n".encode())
    data = b""
    with trio.fail_after(5):
        while chunk := await stream.receive_some(65536):
            data += chunk
    await trio.aclose_forcefully(stream)
    return data


async def test_serve_with_certfile_speaks_https_and_wss(
    tmp_path: Path, certificate: tuple[Path, Path]
) -> None:
    cert, key = certificate
    process, port, scheme = await serve_process(
        tmp_path, "--certfile", str(cert), "--keyfile", str(key)
    )
    try:
        assert scheme == "https"
        trusted = ssl.create_default_context(cafile=str(cert))
        response = await https_get(port, "/healthz", trusted)
        assert response.startswith(b"HTTP/1.1 200") and response.endswith(b"ok\n")
        url = f"wss://localhost:{port}/ws"
        async with trio.open_nursery() as nursery:
            clients = []
            for name in ("alice", "bob"):
                ws = await connect(url, nursery=nursery, subprotocols=[SUBPROTOCOL],
                                   ssl_context=trusted)
                client = WireClient(ws)
                await client.hello(name)
                clients.append(client)
            alice, bob = clients
            room = (await alice.call(CreateRoom, JoinResult, game="connect4", players=2)).room
            await bob.call(JoinRoom, JoinResult, room_id=room.room_id)
            moved = await alice.call(
                Move, MoveResult, room_id=room.room_id, version=0, move={"column": 3}
            )
            assert moved.version == 1
            # plain TCP to the TLS port gets no game
            plain = await trio.open_tcp_stream("127.0.0.1", port)
            await plain.send_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            with trio.fail_after(5):
                answer = await plain.receive_some(100)
            assert not answer.startswith(b"HTTP/1.1 200")
            await plain.aclose()
            # an untrusting client fails the TLS handshake
            with pytest.raises((trio.BrokenResourceError, ssl.SSLError)):
                await https_get(port, "/healthz", ssl.create_default_context())
            for client in clients:
                await client.ws.close()
            nursery.cancel_scope.cancel()
    finally:
        process.send_signal(signal.SIGTERM)
        with trio.fail_after(10):
            assert await process.wait() == 0


async def test_serve_refuses_a_missing_key_file(tmp_path: Path, certificate: tuple[Path, Path]) -> None:
    cert, _key = certificate
    for args in (["--certfile", str(cert)], ["--certfile", str(cert), "--keyfile", str(tmp_path / "no")]):
        result = await trio.run_process(
            [sys.executable, "-m", "gameserver", "serve", "--port", "0", "--data-dir", str(tmp_path), *args],
            capture_stdout=True, capture_stderr=True, check=False,
        )
        assert result.returncode == 2
        assert result.stderr.startswith(b"gameserver serve: "), result.stderr


async def open_with_origin(server: RunningServer, nursery: trio.Nursery, origin: str) -> WireClient:
    ws = await connect(server.url, nursery=nursery, subprotocols=[SUBPROTOCOL], origin=origin)
    return WireClient(ws)


async def test_foreign_origins_get_403_and_others_play_on(tmp_path: Path) -> None:
    config = attrs.evolve(
        make_config(tmp_path), origins=OriginPolicy(("https://games.example.org",))
    )
    async with trio.open_nursery() as nursery:
        server = await start_server(nursery, config)
        pair = await pair_in_room(server, nursery)  # no Origin header: programs are allowed
        for origin in ("https://evil.example", "null", "http://games.example.org",
                       "https://games.example.org.evil.example", "file://", "https://x/path"):
            with pytest.raises(HandshakeError) as refused:
                await open_with_origin(server, nursery, origin)
            assert refused.value.status == 403, origin
        allowed = (
            f"http://127.0.0.1:{server.port}",  # the server's own origin
            "http://localhost:5173",  # a local development server
            "http://[::1]:8080",
            "HTTPS://Games.Example.Org:443",  # the configured one, however it is spelled
        )
        for origin in allowed:
            client = await open_with_origin(server, nursery, origin)
            await client.hello("browser")
            await client.ws.close()
        assert await pair.play(2) == 2
        nursery.cancel_scope.cancel()


async def test_origin_policy_without_loopback_and_with_wildcard(tmp_path: Path) -> None:
    strict = OriginPolicy(allow_loopback=False).bind("127.0.0.1", 8000, tls=False)
    assert strict.permits("http://127.0.0.1:8000")
    assert not strict.permits("http://127.0.0.1:8001")
    assert not strict.permits("http://localhost:8000")
    assert strict.permits(None)
    assert OriginPolicy(("*",)).permits("https://anything.example")
    assert not OriginPolicy().bind("0.0.0.0", 80, tls=False).permits("http://10.0.0.5")
    with pytest.raises(ValueError, match="not an origin"):
        OriginPolicy(("games.example.org",))
    assert normalize_origin("https://[::1]:443") == "https://[::1]"
    assert normalize_origin("http://x:99999") is None
    # on the wire, a refused handshake is a plain HTTP 403 answer
    config = attrs.evolve(make_config(tmp_path), origins=OriginPolicy(allow_loopback=False))
    async with trio.open_nursery() as nursery:
        server = await start_server(nursery, config)
        stream = await trio.open_tcp_stream("127.0.0.1", server.port)
        await stream.send_all(
            b"GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
            b"Origin: http://localhost:3000\r\n\r\n"
        )
        data = b""
        with trio.fail_after(5):
            while chunk := await stream.receive_some(4096):
                data += chunk
        assert data.startswith(b"HTTP/1.1 403") and data.endswith(b"origin not allowed\n")
        nursery.cancel_scope.cancel()
