"""The ``gameserver`` command line: one subcommand per module in ``gameserver.commands``.

Each command module defines ``HELP`` (a one-line summary), ``configure(parser)`` to
add its arguments (with the checked types of ``gameserver.commands.flags``) and
``run(args) -> int`` returning the process exit code; ``run`` may raise ``FlagError``.

A bad flag, found by the parser or by ``run``, prints exactly one line on stderr,
``gameserver serve: error: argument --port: ...``, and exits with status 2.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import sys
from collections.abc import Sequence
from typing import NoReturn

from gameserver.commands.flags import FlagError

# Subcommand name -> module. A module that is not present yet is simply not offered.
COMMANDS: dict[str, str] = {
    "serve": "gameserver.commands.serve",
    "echo": "gameserver.commands.echo",
    "selfplay": "gameserver.commands.selfplay",
    "bot": "gameserver.commands.bot",
    "replay": "gameserver.commands.replay",
    "ratings": "gameserver.commands.ratings",
}


class CommandParser(argparse.ArgumentParser):
    """An argument parser whose errors are one line on stderr and exit status 2.

    argparse would print the whole usage first: for ``serve`` that is twenty lines
    burying the one that says what is wrong.
    """

    def one_line_error(self, message: str) -> str:
        """The line printed for a bad flag: ``<prog>: error: <message> (see <prog> --help)``."""
        return f"{self.prog}: error: {message} (see {self.prog} --help)"

    def error(self, message: str) -> NoReturn:
        """Print ``one_line_error(message)`` on stderr and exit with status 2."""
        self.exit(2, self.one_line_error(message) + "\n")


def build_parser() -> argparse.ArgumentParser:
    """Return the top-level parser with every available subcommand attached."""
    parser = CommandParser(prog="gameserver", description="Turn-based multiplayer game server.")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, module_name in COMMANDS.items():
        if importlib.util.find_spec(module_name) is None:
            continue
        module = importlib.import_module(module_name)
        sub = subparsers.add_parser(name, help=module.HELP, description=module.HELP)
        module.configure(sub)
        sub.set_defaults(_run=module.run, _parser=sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv`` (default: ``sys.argv[1:]``), run the subcommand, return its exit code:
    2 after a bad flag (one line on stderr), 0 after ``--help``."""
    parser = build_parser()
    try:
        argv = sys.argv[1:] if argv is None else list(argv)
        args = parser.parse_args(argv)
    except SystemExit as stop:  # argparse stops after --help and after a bad flag
        return stop.code if isinstance(stop.code, int) else 2
    args._argv = argv  # serve --workers starts its workers with the same command line
    try:
        return int(args._run(args))
    except FlagError as error:
        print(args._parser.one_line_error(str(error)), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
