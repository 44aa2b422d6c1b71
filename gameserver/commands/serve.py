"""``gameserver serve``: the game server (WebSocket at /ws, browser client at /).

Every flag and its default is listed in docs/operations.md. SIGINT (Ctrl-C) and
SIGTERM shut down cleanly: every connection is closed with 1001 and match logs are
closed whole, so unfinished matches are recovered on the next start. With
``--workers N`` (N > 1, cluster mode) this process only supervises N workers sharing
the port (``gameserver.commands.workers``).
"""

from __future__ import annotations

import argparse
import functools
import logging
import resource
import os
import signal
import socket
import sys
from pathlib import Path

import trio

from gameserver.app import DEFAULT_WS_MESSAGE_SIZE, ServerConfig, run_server
from gameserver.cluster.errors import ClusterError, ExtraMissing, LeaseLost
from gameserver.cluster.extra import require_extra
from gameserver.commands import flags
from gameserver.commands.collector import freeze_long_lived, tune_collector
from gameserver.commands.flags import FlagError
from gameserver.web.origins import OriginPolicy
from gameserver.protocol.limits import DecodeLimits
from gameserver.replays.recorder import FsyncPolicy
from gameserver.rooms.config import AbandonPolicy, RoomConfig
from gameserver.sessions.service import ServiceConfig
from gameserver.startup import StartupError
from gameserver.web.static import DEFAULT_STATIC_DIR, check_static_dir
from gameserver.web.tls import TLSFileError
from gameserver.ws.config import WebSocketServerConfig

HELP = "run the game server (WebSocket at /ws, browser client at /)"

log = logging.getLogger(__name__)


def configure(parser: argparse.ArgumentParser) -> None:
    """Add the serve command's options to ``parser``."""
    rooms, service, ws = RoomConfig(), ServiceConfig(), WebSocketServerConfig()
    limits = DecodeLimits()
    add = parser.add_argument
    add("--host", default="127.0.0.1", help="address to listen on (default: %(default)s)")
    add("--port", type=flags.port, default=8000,
        help="TCP port 0-65535; 0 picks a free one (default: %(default)s)")
    add("--replays", type=Path, default=Path("replays"),
        help="directory for match logs (default: %(default)s)")
    add("--no-replays", action="store_true", help="record no match logs (and recover nothing)")
    add("--data-dir", type=Path, default=Path("data"),
        help="directory for the token secret (default: %(default)s)")
    add("--static", type=flags.existing_directory, default=DEFAULT_STATIC_DIR,
        help="directory served at / (default: the bundled client_web)")
    add("--no-recover", action="store_true", help="do not resume unfinished matches at start")
    add("--fsync", choices=[p.value for p in FsyncPolicy], default=rooms.fsync.value,
        help="when match logs are forced to disk (default: %(default)s)")
    add("--grace", type=flags.non_negative_float, default=rooms.grace_period,
        help="seconds a disconnected player keeps its seat (default: %(default)s)")
    add("--abandon", choices=[p.value for p in AbandonPolicy], default=rooms.abandon_policy.value,
        help="what happens to a seat after the grace period (default: %(default)s)")
    add("--takeover-strategy", type=flags.common_strategy, default=rooms.takeover_strategy,
        help="strategy that plays abandoned seats with --abandon bot; one every game has "
             "(default: %(default)s)")
    add("--bot-delay", type=flags.non_negative_float, default=rooms.bot_delay,
        help="seconds a server-filled seat waits before moving (default: %(default)s)")
    add("--finished-room-ttl", type=flags.non_negative_float, default=rooms.finished_room_ttl,
        help="seconds a finished room is kept for a rematch; 0 releases it at once "
             "(default: %(default)s)")
    add("--first-move-timeout", type=flags.non_negative_float,
        default=rooms.first_move_timeout or 0.0,
        help="seconds a human seat has for its first move in an untimed match; 0: no "
             "deadline (default: %(default)s)")
    add("--storage-retry", type=flags.positive_float, default=rooms.storage_retry,
        help="seconds between a paused room's tries to write its match log again "
             "(default: %(default)s)")
    add("--chat-max", type=flags.positive_int, default=rooms.chat_max_length,
        help="longest chat text in characters (default: %(default)s)")
    add("--chat-history", type=flags.non_negative_int, default=rooms.chat_history,
        help="latest chat messages sent again to a member who (re)joins (default: %(default)s)")
    add("--room-queue", type=flags.positive_int, default=rooms.inbox_size,
        help="pending requests per room before rate_limited (default: %(default)s)")
    add("--max-rooms", type=flags.positive_int, default=service.max_rooms,
        help="rooms open at once (default: %(default)s)")
    add("--max-rooms-per-player", type=flags.non_negative_int,
        default=service.max_rooms_per_player,
        help="waiting or playing rooms one player may hold; 0: no limit (default: %(default)s)")
    add("--max-rooms-per-address", type=flags.non_negative_int,
        default=service.max_rooms_per_address,
        help="waiting or playing rooms the players of one address may hold; 0: no limit "
             "(default: %(default)s)")
    add("--invite-failures", type=flags.non_negative_int, default=service.invite_failures,
        help="wrong invite codes per address in --invite-failure-window before invite "
             "joins are refused; 0: no limit (default: %(default)s)")
    add("--invite-failure-window", type=flags.positive_float,
        default=service.invite_failure_window,
        help="seconds over which wrong invite codes are counted (default: %(default)s)")
    add("--outbox", type=flags.positive_int, default=service.outbox_limit,
        help="unread messages per connection before it is closed (default: %(default)s)")
    add("--rate", type=flags.positive_float, default=service.message_rate,
        help="sustained requests per second per connection (default: %(default)s)")
    add("--burst", type=flags.rate_burst, default=service.message_burst,
        help="request burst per connection (default: %(default)s)")
    add("--flood-refusals", type=flags.non_negative_int, default=service.flood_refusals,
        help="rate_limited refusals within --flood-window that close the connection with "
             "1008; 0: never (default: %(default)s)")
    add("--flood-window", type=flags.positive_float, default=service.flood_window,
        help="seconds over which refusals are counted (default: %(default)s)")
    add("--flood-penalty", type=flags.non_negative_float, default=service.flood_penalty,
        help="seconds an address that flooded gets 429 on new connections, doubling on "
             "repeat; 0: none (default: %(default)s)")
    add("--flood-penalty-max", type=flags.positive_float, default=service.flood_penalty_max,
        help="longest flood penalty in seconds (default: %(default)s)")
    add("--token-ttl", type=flags.positive_float, default=service.token_ttl,
        help="seconds a session token stays valid (default: %(default)s)")
    add("--max-request-bytes", type=flags.positive_int, default=limits.max_message_bytes,
        help="largest protocol request (default: %(default)s)")
    add("--max-request-depth", type=flags.positive_int, default=limits.max_depth,
        help="deepest nesting of arrays and maps in a request (default: %(default)s)")
    add("--max-request-string", type=flags.positive_int, default=limits.max_str_len,
        help="longest string or binary in a request, in bytes (default: %(default)s)")
    add("--max-request-items", type=flags.positive_int, default=limits.max_array_len,
        help="most items in one array of a request (default: %(default)s)")
    add("--max-request-keys", type=flags.positive_int, default=limits.max_map_len,
        help="most keys in one map of a request (default: %(default)s)")
    add("--max-name", type=flags.positive_int, default=service.max_name_length,
        help="longest display name in characters (default: %(default)s)")
    add("--max-message-size", type=flags.positive_int, default=DEFAULT_WS_MESSAGE_SIZE,
        help="largest WebSocket message; bigger ones close with 1009 (default: %(default)s)")
    add("--max-connections", type=flags.positive_int, default=ws.max_connections,
        help="open connections in total (default: %(default)s)")
    add("--max-connections-per-ip", type=flags.positive_int, default=ws.max_connections_per_ip,
        help="open connections per client address (default: %(default)s)")
    add("--ping-interval", type=flags.non_negative_float, default=ws.ping_interval,
        help="seconds between keepalive pings; 0 disables (default: %(default)s)")
    add("--ping-timeout", type=flags.positive_float, default=ws.ping_timeout,
        help="seconds to wait for a pong (default: %(default)s)")
    add("--handshake-timeout", type=flags.positive_float, default=ws.handshake_timeout,
        help="seconds a client has to complete the HTTP upgrade (default: %(default)s)")
    add("--max-header-bytes", type=flags.positive_int, default=ws.max_header_bytes,
        help="largest HTTP request head; 431 beyond (default: %(default)s)")
    add("--max-headers", type=flags.positive_int, default=ws.max_headers,
        help="most HTTP header fields; 431 beyond (default: %(default)s)")
    add("--no-compression", action="store_true", help="decline permessage-deflate")
    add("--certfile", type=flags.readable_file, metavar="PEM",
        help="PEM certificate chain: serve https:// and wss:// (needs --keyfile)")
    add("--keyfile", type=flags.readable_file, metavar="PEM",
        help="unencrypted PEM private key of --certfile")
    add("--allow-origin", type=flags.origin, action="append", default=[], metavar="ORIGIN",
        help="browser origin allowed besides the server's own and localhost "
             "(repeatable; * allows any)")
    add("--no-localhost-origins", action="store_true",
        help="refuse browser pages served from localhost/127.0.0.1 (other than this server)")
    add("--redis", type=flags.redis_url, metavar="URL",
        help="cluster mode: share rooms, lobby and match logs with every node on this Redis, "
             "redis://[:PASSWORD@]HOST:PORT/DB (needs pip install 'gameserver[cluster]')")
    add("--node-id", type=flags.node_id, metavar="ID",
        help="this node's id in the cluster (with --redis; default: the host name and "
             "process id). A node restarted under the same id takes its rooms back at once")
    add("--lease-time", type=flags.positive_float, default=None, metavar="SECONDS",
        help="with --redis: seconds a node counts as alive after its last heartbeat; its "
             "rooms are taken over once it is silent that long (default: 5.0)")
    add("--workers", type=flags.positive_int, default=1, metavar="N",
        help="with --redis: N processes, each a node of the cluster, share --port "
             "(SO_REUSEPORT) so every core serves (default: %(default)s)")
    # Set by --workers on the command line of each worker it starts.
    add("--reuse-port", action="store_true", help=argparse.SUPPRESS)
    add("--log-level", type=flags.log_level, default="INFO",
        help=f"one of {', '.join(flags.LOG_LEVELS)} (default: %(default)s)")


def build_config(args: argparse.Namespace) -> ServerConfig:
    """Turn parsed arguments into a ``ServerConfig``."""
    rooms = RoomConfig(
        grace_period=args.grace,
        abandon_policy=AbandonPolicy(args.abandon),
        takeover_strategy=args.takeover_strategy,
        bot_delay=args.bot_delay,
        chat_max_length=args.chat_max,
        chat_history=args.chat_history,
        inbox_size=args.room_queue,
        fsync=FsyncPolicy(args.fsync),
        finished_room_ttl=args.finished_room_ttl,
        first_move_timeout=args.first_move_timeout or None,
        storage_retry=args.storage_retry,
    )
    service = ServiceConfig(
        outbox_limit=args.outbox,
        message_rate=args.rate,
        message_burst=args.burst,
        token_ttl=args.token_ttl,
        limits=DecodeLimits(
            max_message_bytes=args.max_request_bytes,
            max_depth=args.max_request_depth,
            max_str_len=args.max_request_string,
            max_bin_len=args.max_request_string,
            max_array_len=args.max_request_items,
            max_map_len=args.max_request_keys,
        ),
        max_name_length=args.max_name,
        rooms=rooms,
        max_rooms=args.max_rooms,
        max_rooms_per_player=args.max_rooms_per_player,
        max_rooms_per_address=args.max_rooms_per_address,
        invite_failures=args.invite_failures,
        invite_failure_window=args.invite_failure_window,
        flood_refusals=args.flood_refusals,
        flood_window=args.flood_window,
        flood_penalty=args.flood_penalty,
        flood_penalty_max=args.flood_penalty_max,
    )
    websocket = WebSocketServerConfig(
        max_message_size=args.max_message_size,
        handshake_timeout=args.handshake_timeout,
        ping_interval=args.ping_interval or None,
        ping_timeout=args.ping_timeout,
        compression=not args.no_compression,
        max_connections=args.max_connections,
        max_connections_per_ip=args.max_connections_per_ip,
        max_header_bytes=args.max_header_bytes,
        max_headers=args.max_headers,
    )
    return ServerConfig(
        redis_url=args.redis,
        node_id=args.node_id or _default_node_id() if args.redis else None,
        lease_time=args.lease_time or DEFAULT_LEASE_TIME,
        host=args.host,
        port=args.port,
        replays_dir=None if args.no_replays else args.replays,
        data_dir=args.data_dir,
        static_dir=args.static,
        recover=not args.no_recover,
        service=service,
        websocket=websocket,
        origins=OriginPolicy(
            tuple(args.allow_origin), allow_loopback=not args.no_localhost_origins
        ),
        certfile=args.certfile,
        keyfile=args.keyfile,
        reuse_port=args.reuse_port,
    )


# Long enough that a busy node's heartbeats (three per lease) never all miss; short
# enough that its rooms are taken over within seconds of a crash.
DEFAULT_LEASE_TIME = 5.0


def _default_node_id() -> str:
    """The host name (cut to fit a node id) and the process id."""
    return f"{_host_name()}-{os.getpid()}"


def _host_name() -> str:
    """The host name, cut to fit a node id with a suffix."""
    host = "".join(c if c.isalnum() or c in "_.-" else "-" for c in socket.gethostname())
    return host[:48] or "node"


def raise_open_file_limit() -> tuple[int, int]:
    """Raise the soft RLIMIT_NOFILE to the hard limit; return (before, after).

    Every connection costs a file descriptor and the usual soft limit (1024) is far below
    ``--max-connections``. Failing to raise it is not fatal: the limit stays as it was.
    """
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = hard if hard != resource.RLIM_INFINITY else max(soft, 1 << 20)
    if soft == resource.RLIM_INFINITY or soft >= target:
        return soft, soft
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    except (ValueError, OSError) as exc:
        log.warning("cannot raise the open-file limit from %d: %s", soft, exc)
        return soft, soft
    return soft, target


async def serve(config: ServerConfig) -> None:
    """Run the server until SIGINT or SIGTERM, then shut it down cleanly."""
    tune_collector()
    with trio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
        async with trio.open_nursery() as nursery:
            port = await nursery.start(functools.partial(run_server, config))
            # Modules, games and recovered rooms live as long as the process.
            freeze_long_lived()
            scheme = "https" if config.tls else "http"
            print(f"gameserver listening on {scheme}://{config.host}:{port}/", flush=True)
            async for signum in signals:
                log.info("received %s; shutting down", signal.Signals(signum).name)
                nursery.cancel_scope.cancel()
                break


def _startup_error(error: BaseException) -> StartupError | ClusterError | None:
    """The ``StartupError`` or ``ClusterError`` behind ``error``, looking inside
    nurseries' exception groups."""
    if isinstance(error, (StartupError, ClusterError)):
        return error
    if isinstance(error, BaseExceptionGroup):
        for inner in error.exceptions:
            found = _startup_error(inner)
            if found is not None:
                return found
    return None


def _check_cluster_flags(args: argparse.Namespace) -> None:
    """Cluster mode needs its extra and records every match; ``--node-id``,
    ``--lease-time`` and more than one of ``--workers`` mean nothing without ``--redis``;
    ``--reuse-port`` needs a fixed port."""
    for flag, value in (("--node-id", args.node_id), ("--lease-time", args.lease_time)):
        if value is not None and args.redis is None:
            raise FlagError(flag, "only with --redis (it configures a node of a cluster)")
    if args.workers > 1 and args.redis is None:
        raise FlagError(
            "--workers", "more than 1 only with --redis (worker processes share rooms "
            "and the lobby through Redis)",
        )
    if args.reuse_port and args.port == 0:
        raise FlagError("--reuse-port", "needs a fixed --port (the processes share it)")
    if args.redis is None:
        return
    try:
        require_extra()
    except ExtraMissing as exc:
        raise FlagError("--redis", str(exc)) from None
    if args.no_replays:
        raise FlagError(
            "--no-replays",
            "not with --redis: in cluster mode every match is recorded (its log is how a "
            "room survives its node)",
        )


def checked_config(args: argparse.Namespace) -> ServerConfig:
    """Build the config and check the files it names; raise ``FlagError`` for the flag
    whose file cannot be used (the bundled client may be missing from a broken install)."""
    if (args.certfile is None) != (args.keyfile is None):
        missing = "--keyfile" if args.keyfile is None else "--certfile"
        given = "--certfile" if args.keyfile is None else "--keyfile"
        raise FlagError(missing, f"required with {given} (TLS needs both files)")
    _check_cluster_flags(args)
    config = build_config(args)
    try:
        check_static_dir(config.static_dir)
    except StartupError as exc:
        raise FlagError("--static", str(exc)) from None
    try:
        config.ssl_context()
    except TLSFileError as exc:
        raise FlagError(f"--{exc.field}", str(exc)) from None
    return config


def run(args: argparse.Namespace) -> int:
    """Entry point of ``gameserver serve``: exit 0 after a clean stop, 1 if the server
    cannot start (address, directories); bad flags raise ``FlagError`` (exit 2)."""
    logging.basicConfig(
        level=args.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    config = checked_config(args)  # the workers' flags are checked here, once
    if args.workers > 1:
        return _run_workers(args)
    before, after = raise_open_file_limit()
    if after != before:
        log.info("raised the open-file limit from %d to %d", before, after)
    try:
        trio.run(serve, config)
    except Exception as exc:
        startup = _startup_error(exc)
        if startup is None:
            raise
        # An operator mistake (port taken, unwritable directory, Redis down or not
        # durable), or a node that lost its lease: one line, no traceback.
        print(f"gameserver: {_describe(startup)}", file=sys.stderr)
        return 1
    return 0


def _run_workers(args: argparse.Namespace) -> int:
    """The parent of ``--workers N``: it starts and supervises N worker processes."""
    from gameserver.commands.workers import plan_workers, run_workers

    argv = getattr(args, "_argv", None) or sys.argv[1:]
    return run_workers(plan_workers(args, argv, args.node_id or _host_name()))


def _describe(error: StartupError | ClusterError) -> str:
    if isinstance(error, LeaseLost):
        return f"{error}; stopping (its rooms are taken over from their logs)"
    return str(error)
