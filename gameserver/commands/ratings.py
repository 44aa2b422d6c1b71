"""``gameserver ratings rebuild``: recompute every rating from the match logs.

Ratings are derived data: the match logs are the truth. ``rebuild`` forgets the stored
ratings, rated matches and histories (accounts and API keys stay) and rates every rated
match in the logs again, in order of end time. Run it with the server stopped.

Exit codes: 0 done; 1 the database or the logs could not be used; 2 bad usage.
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
from pathlib import Path

from gameserver.commands.flags import FlagError
from gameserver.ratings.ledger import rebuild
from gameserver.store.players import StoreError
from gameserver.store.sqlite import SQLitePlayerStore

HELP = "recompute every rating from the match logs"


def configure(parser: argparse.ArgumentParser) -> None:
    """Add the ``rebuild`` action and its directories."""
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    action = sub.add_parser("rebuild", help=HELP, description=__doc__.split("\n\n")[1])
    action.add_argument(
        "--replays", type=Path, default=Path("replays"), metavar="DIR",
        help="directory of match logs (default: %(default)s)",
    )  # fmt: skip
    action.add_argument(
        "--data", type=Path, default=Path("data"), metavar="DIR",
        help="data directory holding the player database (default: %(default)s)",
    )  # fmt: skip


def run(args: argparse.Namespace) -> int:
    """Rebuild; print how many matches were rated."""
    replays, data = args.replays, args.data
    if not replays.is_dir():
        raise FlagError("--replays", f"{replays} is not a directory")
    if not data.is_dir():
        raise FlagError("--data", f"{data} is not a directory")
    try:
        store = SQLitePlayerStore.open(data)
    except (sqlite3.Error, OSError, StoreError) as exc:
        print(f"gameserver ratings: cannot open the player database: {exc}", file=sys.stderr)
        return 1
    try:
        count = rebuild(store, replays)
    except (sqlite3.Error, OSError) as exc:
        print(f"gameserver ratings: rebuild failed: {exc}", file=sys.stderr)
        return 1
    finally:
        store.close()
    print(f"rated {count} matches from {replays}")
    return 0
