"""Assembly: one port serving the game WebSocket at ``/ws`` and plain HTTP beside it.

The parts live in their layers (see docs/architecture.md): the per-connection game
protocol in ``gameserver.sessions``, the HTTP routes in ``gameserver.web``, the rooms in
``gameserver.rooms``. This module only builds them from a ``ServerConfig`` and runs them.

Start a server in-process (tests, SDK examples) with::

    port = await nursery.start(run_server, ServerConfig(port=0, ...))

With ``redis_url`` set the server is a node of a cluster (docs/cluster.md): match logs
go to Redis streams, the token secret and the lobby's rooms are in Redis, and rooms of
gone nodes are taken over at start. ``gameserver.cluster`` is imported only then.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import sqlite3
import ssl
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING

import attrs
import trio

from gameserver.protocol.version import SERVER_PREFERENCE, WS_PATH
from gameserver.ratings.ledger import catch_up
from gameserver.rooms.recovery import recover_rooms
from gameserver.sessions.elsewhere import PlayerRelays
from gameserver.sessions.metrics import Metrics
from gameserver.sessions.revocations import Revocations
from gameserver.sessions.service import GameService, ServiceConfig
from gameserver.sessions.tokens import TokenSigner, load_or_create_secret
from gameserver.store.async_store import AsyncPlayerStore
from gameserver.store.players import StoreError
from gameserver.store.sqlite import SQLitePlayerStore
from gameserver.startup import (
    StartupError,
    address,
    describe_os_error,
    first_os_error,
    writable_directory,
)
from gameserver.web.origins import OriginPolicy
from gameserver.web.routes import HTTPRoutes
from gameserver.web.static import DEFAULT_STATIC_DIR, check_static_dir
from gameserver.web.tls import TLSFileError, load_tls
from gameserver.ws.config import WebSocketServerConfig
from gameserver.ws.server import serve_websocket

if TYPE_CHECKING:
    from gameserver.cluster.node import ClusterNode

__all__ = ["DEFAULT_WS_MESSAGE_SIZE", "ServerConfig", "run_server"]

log = logging.getLogger(__name__)

# A game message is small; 1 MiB bounds per-connection memory with room to spare.
DEFAULT_WS_MESSAGE_SIZE = 2**20


@attrs.frozen(kw_only=True)
class ServerConfig:
    """Everything ``gameserver serve`` can be told."""

    host: str = "127.0.0.1"
    """Interface to listen on (loopback by default; put a reverse proxy in front)."""
    port: int = 8000
    """TCP port; 0 picks a free one (reported by ``run_server``)."""
    replays_dir: Path | None = Path("replays")
    """Where match logs are written and recovered from; None disables recording."""
    data_dir: Path = Path("data")
    """Where the token secret lives."""
    static_dir: Path | None = DEFAULT_STATIC_DIR
    """Files served at ``/``; None serves none."""
    recover: bool = True
    """Rebuild unfinished matches from ``replays_dir`` at start."""
    service: ServiceConfig = attrs.field(factory=ServiceConfig)
    """Game limits and room policies (``replays_dir`` above overrides its own)."""
    websocket: WebSocketServerConfig = attrs.field(
        factory=lambda: WebSocketServerConfig(max_message_size=DEFAULT_WS_MESSAGE_SIZE)
    )
    """Transport limits (message size, handshake, keepalive, connection caps)."""
    origins: OriginPolicy = attrs.field(factory=OriginPolicy)
    """Browser origins allowed to open the game WebSocket (others get 403)."""
    certfile: Path | None = None
    """PEM certificate chain; with ``keyfile`` the port serves ``https://`` and ``wss://``."""
    keyfile: Path | None = None
    """PEM private key of ``certfile``."""
    redis_url: str | None = None
    """Cluster mode: the Redis every node shares (None: a single process, no Redis)."""
    node_id: str | None = None
    """This node's id in the cluster (with ``redis_url``)."""
    lease_time: float = 5.0
    """Seconds a node counts as alive after its last heartbeat (with ``redis_url``)."""
    reuse_port: bool = False
    """Share ``port`` (not 0) with other processes: a worker of ``serve --workers``."""

    def __attrs_post_init__(self) -> None:
        if (self.certfile is None) != (self.keyfile is None):
            raise ValueError("TLS needs both a certificate file and a key file")

    @property
    def tls(self) -> bool:
        """True when the server speaks TLS."""
        return self.certfile is not None

    def ssl_context(self) -> ssl.SSLContext | None:
        """The server's TLS context, or None without TLS.

        Raises ``TLSFileError`` naming the file that cannot be used and why.
        """
        if self.certfile is None or self.keyfile is None:
            return None
        return load_tls(self.certfile, self.keyfile)


async def run_server(
    config: ServerConfig, *, task_status: trio.TaskStatus[int] = trio.TASK_STATUS_IGNORED
) -> None:
    """Run the game server until cancelled; report the bound TCP port via ``task_status``.

    Cancelling it (Ctrl-C, SIGTERM in ``gameserver serve``) closes every WebSocket with
    1001; match logs are closed without an end record so the matches are recovered on
    the next start. Raises ``StartupError`` before reporting the port when the address
    or a directory cannot be used.
    """
    check_static_dir(config.static_dir)
    writable_directory(config.data_dir, "data directory")
    if config.replays_dir is not None:
        writable_directory(config.replays_dir, "replays directory")
    async with _cluster_node(config) as node:
        await _run_node(config, node, task_status)


@contextlib.asynccontextmanager
async def _cluster_node(config: ServerConfig) -> AsyncIterator[ClusterNode | None]:
    """This server's node of the cluster for the block, or None without ``redis_url``."""
    if config.redis_url is None:
        yield None
        return
    from gameserver.cluster.node import NodeSettings, open_node

    assert config.node_id is not None and config.replays_dir is not None
    settings = NodeSettings(
        redis_url=config.redis_url,
        node_id=config.node_id,
        lease_time=config.lease_time,
        retry=config.service.rooms.storage_retry,
        replays_dir=config.replays_dir,
    )
    async with open_node(settings) as node:
        yield node


async def _run_node(
    config: ServerConfig, node: ClusterNode | None, task_status: trio.TaskStatus[int]
) -> None:
    """The rest of ``run_server``, with the cluster's parts when ``node`` is given."""
    if node is not None:
        secret = node.secret
    else:
        try:
            secret = load_or_create_secret(config.data_dir)
        except (OSError, ValueError) as exc:
            reason = describe_os_error(exc) if isinstance(exc, OSError) else str(exc)
            raise StartupError(f"cannot read the token secret: {reason}") from None
    rooms = attrs.evolve(
        config.service.rooms,
        replays_dir=config.replays_dir,
        match_logs=None if node is None else node.logs,
    )
    service_config = attrs.evolve(config.service, rooms=rooms, data_dir=config.data_dir)
    try:
        revocations = Revocations.load(
            config.data_dir, ttl=service_config.token_ttl, now=time.time()
        )
    except OSError as exc:
        raise StartupError(f"cannot read the token revocations: {describe_os_error(exc)}") from None
    signer = TokenSigner(secret, ttl=service_config.token_ttl, revocations=revocations)
    store = await _open_player_store(config)
    try:
        await _serve(config, service_config, signer, store, node, task_status)
    finally:
        with trio.CancelScope(shield=True):
            await store.aclose()


async def _open_player_store(config: ServerConfig) -> AsyncPlayerStore:
    """Open the player database and rate the matches that ended before the last stop
    without their rating update (a crash between the two); raise ``StartupError``."""
    try:
        store = SQLitePlayerStore.open(config.data_dir)
    except (OSError, sqlite3.Error, StoreError) as exc:
        raise StartupError(f"cannot open the player database: {exc}") from None
    if config.replays_dir is not None:
        try:
            await trio.to_thread.run_sync(catch_up, store, config.replays_dir)
        except (OSError, sqlite3.Error) as exc:
            store.close()
            raise StartupError(f"cannot bring the ratings up to date: {exc}") from None
    return AsyncPlayerStore(store)


async def _serve(
    config: ServerConfig,
    service_config: ServiceConfig,
    signer: TokenSigner,
    store: AsyncPlayerStore,
    node: ClusterNode | None,
    task_status: trio.TaskStatus[int],
) -> None:
    """Run the service and the listener until cancelled (the rest of ``run_server``)."""
    metrics = Metrics()
    ssl_context = config.ssl_context()
    # The own origin needs the bound port; a fixed port is known before binding.
    origins = [config.origins.bind(config.host, config.port, tls=config.tls)]
    async with trio.open_nursery() as nursery:
        service = GameService(nursery, signer, service_config, metrics, store)
        metrics.gauge(
            "gameserver_players_known",
            "Players kept in memory: connected, or holding a seat or watching.",
            lambda: len(service.players),
        )
        if node is not None:
            service.lobby.directory = node.registry
            service.elsewhere = await node.attach(
                service.lobby, service.players, PlayerRelays()
            )
            if config.recover:
                recovered = await node.take_over(service)
                if recovered:
                    log.info("took over %d unfinished matches", recovered)
                node.watch_orphans(service)
        elif config.recover and config.replays_dir is not None:
            recovered = await recover_rooms(service, config.replays_dir)
            if recovered:
                log.info("recovered %d unfinished matches", recovered)
        try:
            server = await nursery.start(
                functools.partial(
                    serve_websocket,
                    service.handle,
                    config.host,
                    config.port,
                    subprotocols=SERVER_PREFERENCE,
                    http_handler=HTTPRoutes(
                        config.replays_dir, config.static_dir, metrics, store
                    ),
                    origin_check=lambda origin: origins[0].permits(origin),
                    config=config.websocket,
                    ssl_context=ssl_context,
                    # The game handler always waits in receive(): one task per connection.
                    read_inline=True,
                    address_gate=service.refuse_for,
                    reuse_port=config.reuse_port,
                )
            )
        except* OSError as group:
            # Binding is the only thing that can fail before the listener reports in.
            where = address(config.host, config.port)
            raise StartupError(
                f"cannot listen on {where}: {describe_os_error(first_os_error(group))}"
            ) from None
        origins[0] = config.origins.bind(config.host, server.port, tls=config.tls)
        scheme = "https" if config.tls else "http"
        log.info("serving on %s://%s:%d (WebSocket at %s)", scheme, config.host, server.port, WS_PATH)
        task_status.started(server.port)
        try:
            await trio.sleep_forever()
        finally:
            service.lobby.accepting = False
