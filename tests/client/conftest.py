"""A real game server in-process on a free port, and a TCP proxy that can cut connections."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import attrs
import pytest
import trio

from gameserver.app import ServerConfig, run_server
from gameserver.rooms.config import RoomConfig
from gameserver.sessions.service import ServiceConfig


def server_config(tmp_path: Path, **rooms: object) -> ServerConfig:
    """A server on port 0 with instant bots, writing its files under ``tmp_path``."""
    room_config = attrs.evolve(RoomConfig(), bot_delay=0.0, **rooms)
    return ServerConfig(
        port=0,
        replays_dir=tmp_path / "replays",
        data_dir=tmp_path / "data",
        static_dir=None,
        recover=False,
        service=ServiceConfig(rooms=room_config),
    )


@pytest.fixture
async def server_url(nursery: trio.Nursery, tmp_path: Path) -> str:
    port = await nursery.start(run_server, server_config(tmp_path))
    return f"ws://127.0.0.1:{port}/ws"


class Proxy:
    """Forwards TCP connections to a target port; ``cut()`` aborts every live one."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = 0
        self.connections = 0
        self.drop_server_data = False
        """While True, bytes from the server are thrown away (replies get lost)."""
        self._streams: list[trio.SocketStream] = []

    @property
    def url(self) -> str:
        """The server's URL through the proxy."""
        return f"ws://127.0.0.1:{self.port}/ws"

    @property
    def direct_url(self) -> str:
        """The same server's URL without the proxy."""
        return f"ws://127.0.0.1:{self.target_port}/ws"

    async def serve(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        listeners = await trio.open_tcp_listeners(0, host="127.0.0.1")
        self.port = listeners[0].socket.getsockname()[1]
        task_status.started()
        await trio.serve_listeners(self._handle, listeners)

    async def _handle(self, downstream: trio.SocketStream) -> None:
        self.connections += 1
        try:
            upstream = await trio.open_tcp_stream("127.0.0.1", self.target_port)
        except OSError:
            # The server is down (e.g. restarting): the client sees its connection end.
            await trio.aclose_forcefully(downstream)
            return
        self._streams += [downstream, upstream]
        async with trio.open_nursery() as nursery:
            nursery.start_soon(self._pipe, downstream, upstream, False)
            nursery.start_soon(self._pipe, upstream, downstream, True)

    async def _pipe(self, source: trio.SocketStream, sink: trio.SocketStream, from_server: bool) -> None:
        try:
            while data := await source.receive_some(65536):
                if from_server and self.drop_server_data:
                    continue
                await sink.send_all(data)
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            pass
        finally:
            await trio.aclose_forcefully(sink)
            await trio.aclose_forcefully(source)

    async def cut(self) -> None:
        """Abort every proxied connection at once, like a network failure."""
        streams, self._streams = self._streams, []
        for stream in streams:
            await trio.aclose_forcefully(stream)
        self.drop_server_data = False


@pytest.fixture
async def server_port(nursery: trio.Nursery, tmp_path: Path) -> int:
    port: int = await nursery.start(run_server, server_config(tmp_path))
    return port


@pytest.fixture
async def proxy(nursery: trio.Nursery, server_port: int) -> AsyncIterator[Proxy]:
    proxy = Proxy(server_port)
    await nursery.start(proxy.serve)
    yield proxy


__all__ = ["Proxy", "server_config"]
