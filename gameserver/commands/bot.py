"""``gameserver bot``: SDK bots that quick-match against a running server and report."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys

import trio

from gameserver.client.fleet import run_fleet
from gameserver.commands import flags
from gameserver.commands.collector import freeze_long_lived, tune_collector
from gameserver.commands.flags import FlagError
from gameserver.games.registry import list_games
from gameserver.games.strategy import list_strategies

HELP = "Run N SDK bots that quick-match on a server, play M matches each and summarise."
#: Bots run without ``--count`` or keys.
DEFAULT_COUNT = 2
#: Environment variable holding API keys (comma-separated), like repeated ``--key``.
KEYS_VARIABLE = "GAMESERVER_BOT_KEYS"


def configure(parser: argparse.ArgumentParser) -> None:
    """Add the bot arguments to ``parser``."""
    parser.add_argument(
        "--url", type=flags.websocket_url, default="ws://127.0.0.1:8000/ws",
        help="server WebSocket URL, ws:// or wss:// (default %(default)s)",
    )
    parser.add_argument(
        "--game", type=flags.game_name, required=True, help=f"one of: {', '.join(list_games())}"
    )
    parser.add_argument("--strategy", default="best", help="built-in strategy (default best)")
    parser.add_argument(
        "--count", type=flags.positive_int, default=None,
        help="bots to run (default 2, or one per --key)",
    )
    parser.add_argument(
        "--matches", type=flags.non_negative_int, default=1, help="matches per bot (default 1)"
    )
    parser.add_argument(
        "--players", type=flags.positive_int, default=None,
        help="seats per match (default: the game's minimum)",
    )
    parser.add_argument("--name", default="bot", help="display name prefix (default bot)")
    parser.add_argument("--seed", type=int, default=None, help="seed for the strategies")
    parser.add_argument(
        "--think", type=flags.non_negative_float, default=0.0, metavar="SECONDS",
        help="mean pause before each move, like a person thinking (default 0: move at once)",
    )
    parser.add_argument(
        "--timeout", type=flags.positive_float, default=600.0,
        help="give up after this many seconds (default 600)",
    )
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    parser.add_argument(
        "--key", action="append", default=[], metavar="KEY",
        help="API key of a bot account; repeat for one key per bot (then --count is the "
        "number of keys). Also read from GAMESERVER_BOT_KEYS (comma-separated)",
    )
    parser.add_argument(
        "--rated", action="store_true", help="play rated quick matches (needs --key)"
    )


def check_game_flags(args: argparse.Namespace) -> int:
    """Check ``--strategy`` and ``--players`` against the game; return the seats per match.

    Raises ``FlagError`` naming the flag the game cannot take.
    """
    strategies = list_strategies(args.game)
    if args.strategy not in strategies:
        raise FlagError(
            "--strategy", f"{args.game} has no strategy {args.strategy!r}; allowed: "
            f"{', '.join(strategies)}",
        )
    return flags.player_count(args.game, args.players)


def api_keys(args: argparse.Namespace) -> list[str]:
    """The API keys from ``--key`` and ``GAMESERVER_BOT_KEYS`` (a key on the command line
    is visible to other users of the machine: prefer the variable). Raises
    ``FlagError`` when keys and ``--count`` disagree or ``--rated`` has no key."""
    keys = list(args.key) + [
        key.strip() for key in os.environ.get(KEYS_VARIABLE, "").split(",") if key.strip()
    ]
    if keys and args.count is not None and args.count != len(keys):
        raise FlagError("--count", f"{args.count} bots but {len(keys)} keys: give one key per bot")
    if args.rated and not keys:
        raise FlagError("--rated", "rated matches need bot accounts: give --key")
    return keys


def run(args: argparse.Namespace) -> int:
    """Run the fleet; exit 0 only if every match ended normally, 1 otherwise; raises
    ``FlagError`` for a strategy or player count the game cannot take."""
    players = check_game_flags(args)
    keys = api_keys(args)
    count = len(keys) if keys else args.count or DEFAULT_COUNT
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")

    tune_collector()

    async def main() -> int:
        with trio.move_on_after(args.timeout) as scope:
            report = await run_fleet(
                args.url,
                game=args.game,
                strategy=args.strategy,
                count=count,
                matches=args.matches,
                players=players,
                name_prefix=args.name,
                seed=args.seed,
                think=args.think,
                # Thousands of clients stay open all run: keep the collector off them.
                on_connected=freeze_long_lived,
                api_keys=keys,
                rated=args.rated,
            )
        if scope.cancelled_caught:
            print(f"gameserver bot: timed out after {args.timeout} s", file=sys.stderr)
            return 1
        if args.json:
            print(json.dumps(report.to_data(), indent=2, sort_keys=True))
        else:
            print(report.summary())
        return 0 if report.ok else 1

    return trio.run(main)
