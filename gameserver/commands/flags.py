"""Checked flag values: one argparse ``type=`` function per kind of value, for every command.

argparse calls ``type(text)`` for each flag given on the command line. When the text is
not allowed, these functions raise ``argparse.ArgumentTypeError`` with a message saying
what is allowed; the parser then prints one line, ``gameserver serve: error: argument
--port: ...``, and exits with status 2 before the command runs.

A check that needs more than the flag's own text (a player count the game cannot seat,
a strategy the chosen game lacks) raises ``FlagError`` from the command's ``run``;
``gameserver.cli`` prints it in the same one-line form with the same status 2.

Numbers are finite (``nan`` and ``inf`` are refused everywhere).
"""

from __future__ import annotations

import argparse
import math
import os
from pathlib import Path
from urllib.parse import urlsplit

from gameserver.cluster.keys import check_node_id
from gameserver.cluster.urls import check_redis_url
from gameserver.games.base import InvalidOptions, check_players
from gameserver.games.registry import get_game, list_games
from gameserver.games.strategy import list_strategies
from gameserver.web.origins import normalize_origin

__all__ = [
    "FlagError",
    "common_strategy",
    "existing_directory",
    "game_name",
    "log_level",
    "node_id",
    "non_negative_float",
    "non_negative_int",
    "origin",
    "player_count",
    "port",
    "positive_float",
    "positive_int",
    "rate_burst",
    "readable_file",
    "redis_url",
    "websocket_url",
]

Invalid = argparse.ArgumentTypeError

MAX_PORT = 65535

#: Names ``--log-level`` accepts, in any letter case.
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


class FlagError(Exception):
    """A flag value that only the command can judge (it depends on other flags).

    Raise it from a command's ``run``; ``gameserver.cli`` prints
    ``<prog>: error: argument <flag>: <message>`` on one line and exits with status 2.
    """

    def __init__(self, flag: str, message: str) -> None:
        super().__init__(f"argument {flag}: {message}")
        self.flag = flag


def player_count(game: str, players: int | None) -> int:
    """The ``--players`` value for ``game``: as given, or the game's minimum when not.

    Raises ``FlagError`` for ``--players`` when the game cannot seat that many.
    """
    rules = get_game(game)
    count = rules.min_players if players is None else players
    try:
        check_players(rules, count)
    except InvalidOptions as error:
        raise FlagError("--players", str(error)) from None
    return count


def _whole_number(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise Invalid(f"{text!r} is not a whole number") from None


def _finite_number(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise Invalid(f"{text!r} is not a number") from None
    if not math.isfinite(value):
        raise Invalid(f"{text!r} is not a finite number")
    return value


def port(text: str) -> int:
    """A TCP port, 0-65535 (0 lets the system pick a free one)."""
    value = _whole_number(text)
    if not 0 <= value <= MAX_PORT:
        raise Invalid(f"{text} is not a TCP port; allowed: 0-{MAX_PORT}, 0 picks a free one")
    return value


def positive_int(text: str) -> int:
    """A whole number >= 1: counts and limits where 0 would refuse or do everything."""
    value = _whole_number(text)
    if value < 1:
        raise Invalid(f"{text} is too small; allowed: a whole number >= 1")
    return value


def non_negative_int(text: str) -> int:
    """A whole number >= 0: counts where 0 means none."""
    value = _whole_number(text)
    if value < 0:
        raise Invalid(f"{text} is negative; allowed: a whole number >= 0")
    return value


def positive_float(text: str) -> float:
    """A finite number > 0: timeouts, lifetimes and rates."""
    value = _finite_number(text)
    if not value > 0:
        raise Invalid(f"{text} is too small; allowed: a number > 0")
    return value


def non_negative_float(text: str) -> float:
    """A finite number >= 0: delays and periods where 0 means at once (or off)."""
    value = _finite_number(text)
    if value < 0:
        raise Invalid(f"{text} is negative; allowed: a number >= 0")
    return value


def rate_burst(text: str) -> float:
    """A finite number >= 1: every request costs one credit, so a smaller burst refuses all."""
    value = _finite_number(text)
    if not value >= 1:
        raise Invalid(f"{text} is too small; allowed: a number >= 1, one request costs 1")
    return value


def existing_directory(text: str) -> Path:
    """A path to a directory that exists now."""
    path = Path(text)
    if not path.exists():
        raise Invalid(f"{text}: no such directory")
    if not path.is_dir():
        raise Invalid(f"{text}: not a directory")
    return path


def readable_file(text: str) -> Path:
    """A path to a regular file this process can open for reading."""
    path = Path(text)
    if not path.exists():
        raise Invalid(f"{text}: no such file")
    if not path.is_file():
        raise Invalid(f"{text}: not a file")
    if not os.access(path, os.R_OK):
        raise Invalid(f"{text}: not readable (permission denied)")
    return path


def log_level(text: str) -> str:
    """A Python logging level name, in any letter case; returned in upper case."""
    name = text.upper()
    if name not in LOG_LEVELS:
        raise Invalid(f"{text!r} is not a log level; allowed: {', '.join(LOG_LEVELS)}")
    return name


def websocket_url(text: str) -> str:
    """A ``ws://`` or ``wss://`` URL with a host and, if given, a port 1-65535."""
    allowed = "allowed: ws://HOST[:PORT]/PATH or wss://HOST[:PORT]/PATH"
    try:
        parts = urlsplit(text)
        given_port = parts.port
    except ValueError:
        raise Invalid(f"{text!r} has a bad port; {allowed} with PORT 1-{MAX_PORT}") from None
    if parts.scheme not in ("ws", "wss"):
        raise Invalid(f"{text!r} is not a WebSocket URL; {allowed}")
    if not parts.hostname:
        raise Invalid(f"{text!r} names no host; {allowed}")
    if given_port == 0:
        raise Invalid(f"{text!r} has port 0; {allowed} with PORT 1-{MAX_PORT}")
    return text


def redis_url(text: str) -> str:
    """A ``redis://`` or ``rediss://`` URL with a host and, if given, a port and a database."""
    if "#" in text:
        raise Invalid(f"{text!r} has a '#' part; the server takes a Redis URL only")
    try:
        return check_redis_url(text)
    except ValueError as exc:
        raise Invalid(str(exc)) from None


def node_id(text: str) -> str:
    """A cluster node id: 1 to 64 letters, digits, '_', '-' or '.'."""
    try:
        return check_node_id(text)
    except ValueError as exc:
        raise Invalid(str(exc)) from None


def origin(text: str) -> str:
    """A browser origin ``scheme://host[:port]`` (http, https, ws or wss), or ``*``."""
    if text != "*" and normalize_origin(text) is None:
        raise Invalid(f"{text!r} is not an origin; allowed: scheme://host[:port] or *")
    return text


def game_name(text: str) -> str:
    """The name of a built-in game."""
    games = list_games()
    if text not in games:
        raise Invalid(f"unknown game {text!r}; allowed: {', '.join(games)}")
    return text


def _strategies_of_every_game() -> list[str]:
    games = list_games()
    common = set(list_strategies(games[0])).intersection(*map(list_strategies, games[1:]))
    return sorted(common)


def common_strategy(text: str) -> str:
    """A strategy name every game has.

    A room looks up its takeover strategy by its own game's name with no fallback, so a
    name some game lacks would fail in that game's rooms long after the server started.
    """
    common = _strategies_of_every_game()
    if text not in common:
        raise Invalid(
            f"{text!r} is not a strategy of every game; allowed: {', '.join(common)}"
        )
    return text
