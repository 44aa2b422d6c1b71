"""Every game the server offers, by name."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from gameserver.games import connect4, liarsdice, tictactoe
from gameserver.games.base import Game, GameError


class UnknownGame(GameError):
    """No game is registered under that name."""


GAMES: Mapping[str, Game] = MappingProxyType(
    {game.name: game for game in (tictactoe.GAME, connect4.GAME, liarsdice.GAME)}
)


def get_game(name: str) -> Game:
    """Return the game called ``name``; raise UnknownGame if there is none."""
    try:
        return GAMES[name]
    except (KeyError, TypeError):
        known = ", ".join(sorted(GAMES))
        raise UnknownGame(f"unknown game {name!r} (known: {known})") from None


def list_games() -> list[str]:
    """Return the registered game names, sorted."""
    return sorted(GAMES)
