"""``gameserver echo``: a WebSocket server that sends every message back as it came.

Text comes back as text and binary as binary; permessage-deflate is accepted when a
client offers it. Made for conformance suites (Autobahn|Testsuite) and benchmarks.

Each connection is read by its handler (``read_inline=True``), as ``gameserver serve``
reads its players: one task per connection, so an echo costs one task switch, and
the benchmarks measure the WebSocket layer the game server runs on.
"""

from __future__ import annotations

import argparse
import functools
import logging
import signal
import sys

import trio

from gameserver.commands import flags
from gameserver.ws.config import WebSocketServerConfig
from gameserver.ws.server import serve_websocket
from gameserver.ws.websocket import WebSocket

HELP = "run a WebSocket echo server (for conformance suites and benchmarks)"

logger = logging.getLogger(__name__)


def configure(parser: argparse.ArgumentParser) -> None:
    """Add the echo command's options to ``parser``."""
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument(
        "--port", type=flags.port, default=9001, help="TCP port (0 picks a free one; it is printed)"
    )
    parser.add_argument(
        "--max-message-size",
        type=flags.positive_int,
        default=16 * 2**20,
        help="largest message accepted, in bytes (bigger ones close with 1009)",
    )
    parser.add_argument(
        "--no-compression", action="store_true", help="decline permessage-deflate"
    )
    parser.add_argument("--verbose", "-v", action="store_true", help="log at DEBUG level")


async def echo(ws: WebSocket) -> None:
    """Send every message back with its type until the peer closes."""
    async for message in ws:
        await ws.send(message)


async def _serve(args: argparse.Namespace) -> None:
    config = WebSocketServerConfig(
        max_message_size=args.max_message_size,
        compression=not args.no_compression,
        # A conformance suite or benchmark peer may be busy for a long time: no keepalive.
        ping_interval=None,
    )
    with trio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
        async with trio.open_nursery() as nursery:
            serve = functools.partial(serve_websocket, config=config, read_inline=True)
            server = await nursery.start(serve, echo, args.host, args.port)
            print(f"echo server listening on ws://{args.host}:{server.port}/", flush=True)
            async for signum in signals:
                logger.info("stopping on signal %d", signum)
                # Cancelling the server closes every connection with 1001 "going away".
                nursery.cancel_scope.cancel()
                break


def run(args: argparse.Namespace) -> int:
    """Serve until SIGINT (Ctrl-C) or SIGTERM; return the exit code (0 after a clean stop)."""
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(asctime)s %(name)s %(levelname)s %(message)s",
    )
    trio.run(_serve, args)
    print("echo server stopped", file=sys.stderr, flush=True)
    return 0
