"""A real game server in-process on a free port, and a TCP proxy (``support.proxy``) in
front of it that can cut connections."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import attrs
import pytest
import trio

from gameserver.app import ServerConfig, run_server
from gameserver.rooms.config import RoomConfig
from gameserver.sessions.service import ServiceConfig
from support.proxy import Proxy


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
