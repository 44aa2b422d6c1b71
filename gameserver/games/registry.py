"""Every game the server offers, by name."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from gameserver.games import connect4, liarsdice, tictactoe
from gameserver.games.base import AnyGame, GameError


class UnknownGame(GameError):
    """No game is registered under that name."""


_GAMES: dict[str, AnyGame] = {
    game.name: game for game in (tictactoe.GAME, connect4.GAME, liarsdice.GAME)
}

GAMES: Mapping[str, AnyGame] = MappingProxyType(_GAMES)
"""Every registered game by name (read-only; use ``register_game`` to add one)."""


def register_game(game: AnyGame) -> None:
    """Offer ``game`` under ``game.name`` from now on (plug-ins, tests).

    Raises ValueError when another game already has that name. Call ``unregister_game``
    to withdraw it; rooms already playing it keep their instance.
    """
    existing = _GAMES.get(game.name)
    if existing is not None and existing is not game:
        raise ValueError(f"a game named {game.name!r} is already registered")
    _GAMES[game.name] = game


def unregister_game(name: str) -> None:
    """Stop offering the game called ``name`` (no error when there is none)."""
    _GAMES.pop(name, None)


def get_game(name: str) -> AnyGame:
    """Return the game called ``name``; raise UnknownGame if there is none."""
    try:
        return GAMES[name]
    except (KeyError, TypeError):
        known = ", ".join(sorted(GAMES))
        raise UnknownGame(f"unknown game {name!r} (known: {known})") from None


def list_games() -> list[str]:
    """Return the registered game names, sorted."""
    return sorted(GAMES)
