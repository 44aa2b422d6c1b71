"""The ``gameserver`` command line: one subcommand per module in ``gameserver.commands``.

Each command module defines ``HELP`` (a one-line summary), ``configure(parser)`` to
add its arguments and ``run(args) -> int`` returning the process exit code.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import sys
from collections.abc import Sequence

# Subcommand name -> module. A module that is not present yet is simply not offered.
COMMANDS: dict[str, str] = {
    "serve": "gameserver.commands.serve",
    "echo": "gameserver.commands.echo",
    "selfplay": "gameserver.commands.selfplay",
    "bot": "gameserver.commands.bot",
    "replay": "gameserver.commands.replay",
}


def build_parser() -> argparse.ArgumentParser:
    """Return the top-level parser with every available subcommand attached."""
    parser = argparse.ArgumentParser(
        prog="gameserver", description="Turn-based multiplayer game server."
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, module_name in COMMANDS.items():
        if importlib.util.find_spec(module_name) is None:
            continue
        module = importlib.import_module(module_name)
        sub = subparsers.add_parser(name, help=module.HELP, description=module.HELP)
        module.configure(sub)
        sub.set_defaults(_run=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv`` (default: ``sys.argv[1:]``), run the subcommand, return its exit code."""
    parser = build_parser()
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    try:
        return int(args._run(args))
    except KeyboardInterrupt:
        return 130
