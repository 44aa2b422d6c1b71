"""``gameserver selfplay``: play strategies against each other in-process and summarise."""

from __future__ import annotations

import argparse
import json
from typing import Any

from gameserver.commands import flags
from gameserver.commands.flags import FlagError
from gameserver.games.base import GameError
from gameserver.games.registry import get_game, list_games
from gameserver.games.strategy import list_strategies
from gameserver.games.selfplay import SelfplayReport, run_selfplay

HELP = "Play N matches between strategies in-process and print win rates and timings."


def configure(parser: argparse.ArgumentParser) -> None:
    """Add the selfplay arguments to ``parser``."""
    parser.add_argument(
        "--game", type=flags.game_name, required=True, help=f"one of: {', '.join(list_games())}"
    )
    parser.add_argument(
        "--games", type=flags.positive_int, default=100, help="matches to play (default 100)"
    )
    parser.add_argument("--seed", type=int, default=0, help="series seed (default 0)")
    parser.add_argument(
        "--players", type=flags.positive_int, default=None,
        help="seats per match (default: the game's minimum)",
    )
    parser.add_argument(
        "--strategies",
        default="best,random",
        help="comma-separated strategy names, cycled over the seats (default best,random)",
    )
    parser.add_argument(
        "--option",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a game option; VALUE is JSON (e.g. --option ones_wild=false); repeatable",
    )
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")


def parse_options(pairs: list[str]) -> dict[str, Any]:
    """Turn ``KEY=VALUE`` strings into an options dict; raise GameError if one is bad."""
    options: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not key:
            raise GameError(f"option {pair!r} is not KEY=VALUE")
        try:
            options[key] = json.loads(raw)
        except json.JSONDecodeError:
            raise GameError(f"option {key!r}: {raw!r} is not a JSON value") from None
    return options


def format_report(report: SelfplayReport) -> str:
    """Return the human-readable summary."""
    data = report.to_data()
    lines = [
        f"{report.game}: {report.games} matches, {report.players} players, seed {report.seed}",
        f"options: {json.dumps(report.options, sort_keys=True)}",
        "entries (seats rotate every match):",
    ]
    for index, entry in enumerate(data["entries"]):
        rate = 100 * entry["wins"] / report.games if report.games else 0.0
        lines.append(f"  #{index} {entry['strategy']:<10} wins {entry['wins']:>6}  ({rate:.1f} %)")
    lines.append("wins by seat: " + ", ".join(str(w) for w in report.wins_by_seat))
    lines.append(f"draws: {report.draws}")
    lines.append(f"average length: {data['average_moves']} moves")
    lines.append(
        "endings: " + ", ".join(f"{reason} {count}" for reason, count in data["reasons"].items())
    )
    lines.append("time per move:")
    for name, timing in data["timings"].items():
        lines.append(f"  {name:<10} {timing['ms_per_move']:.3f} ms over {timing['moves']} moves")
    return "\n".join(lines)


def check_game_flags(args: argparse.Namespace) -> tuple[int, list[str], dict[str, Any]]:
    """Check ``--players``, ``--strategies`` and ``--option`` against the game.

    Returns (players, strategy names, options); raises ``FlagError`` naming the flag the
    game cannot take.
    """
    players = flags.player_count(args.game, args.players)
    game = get_game(args.game)
    names = [name.strip() for name in args.strategies.split(",") if name.strip()]
    known = list_strategies(game.name)
    for name in names or [""]:
        if name not in known:
            raise FlagError(
                "--strategies", f"unknown strategy {name!r} for {game.name}; allowed: "
                f"comma-separated names of {', '.join(known)}",
            )
    try:
        options = parse_options(args.option)
        game.validate_options(options)
    except GameError as error:
        raise FlagError("--option", str(error)) from None
    return players, names, options


def run(args: argparse.Namespace) -> int:
    """Run the series and print the summary; raises ``FlagError`` for a bad flag."""
    players, names, options = check_game_flags(args)
    report = run_selfplay(
        get_game(args.game),
        games=args.games,
        seed=args.seed,
        players=players,
        strategy_names=names,
        options=options,
    )
    if args.json:
        print(json.dumps(report.to_data(), indent=2, sort_keys=True))
    else:
        print(format_report(report))
    return 0
