"""Write the sample match logs the tests load (fixtures: each must keep loading).

    python bench/make_sample_replays.py [--dir DIR]     # default: tests/replays/samples

The samples are not in the top-level ``replays/``: that is where ``gameserver serve``
records, and a server started from the checkout would recover and rewrite them.

Every sample is deterministic (fixed seeds, simulated wall clock) and played on the
room's own match and clock code (``gameserver.rooms.recording_match``). Existing files are
left alone: a sample written by an older format version must stay exactly as it was,
so new samples get new names (the ``v<N>-`` prefix is the format version that wrote it).
"""

from __future__ import annotations

import argparse
import random
import sys
from collections.abc import Callable
from pathlib import Path

import attrs

from gameserver.games.registry import list_games
from gameserver.protocol.messages import ClockSettings
from gameserver.replays.records import FORMAT_VERSION, Occupant, OccupantKind
from gameserver.rooms.recording_match import RecordingMatch, bot_header, record_bot_match

ROOT = Path(__file__).resolve().parent.parent
#: Where the tests read the samples from.
SAMPLES_DIR = ROOT / "tests" / "replays" / "samples"
PREFIX = f"v{FORMAT_VERSION}-"


def tictactoe_best_vs_random(directory: Path) -> None:
    header = bot_header(
        "tictactoe",
        ["best", "random"],
        seed=1,
        match_id=PREFIX + "tictactoe-best-vs-random",
        clock=ClockSettings(initial_ms=60_000, increment_ms=2_000),
    )
    record_bot_match(directory, header, bot_seed=4)


def tictactoe_eventful(directory: Path) -> None:
    """Disconnects, a reconnect, a bot taking over an abandoned seat, then a resignation."""
    header = bot_header(
        "tictactoe",
        ["random", "random"],
        seed=2,
        match_id=PREFIX + "tictactoe-takeover-resign",
        clock=ClockSettings(initial_ms=120_000, per_move_ms=30_000),
    )
    humans = (Occupant(name="ann", player_id="p-ann"), Occupant(name="bob", player_id="p-bob"))
    header = attrs.evolve(header, seats=humans)
    match = RecordingMatch(directory, header)
    # The players' moves carry the ids of their requests (format 2); the stand-in's none.
    match.move(0, {"cell": 4}, 2_500, request_id=1_767_225_602_500)
    match.disconnect(1, away_ms=4_000)
    match.move(1, {"cell": 0}, 7_000, request_id=1_767_225_613_500)
    match.disconnect(1)
    match.replace(1, Occupant(name="stand-in", kind=OccupantKind.BOT, strategy="best"))
    match.move(0, {"cell": 8}, 3_000, request_id=1_767_225_602_501)
    match.move(1, {"cell": 2}, 100)
    match.resign(0)
    match.finish()


def tictactoe_timeout(directory: Path) -> None:
    header = bot_header(
        "tictactoe",
        ["random", "random"],
        seed=3,
        match_id=PREFIX + "tictactoe-timeout",
        clock=ClockSettings(initial_ms=10_000),
    )
    match = RecordingMatch(directory, header)
    match.move(0, {"cell": 0}, 4_000)
    match.move(1, {"cell": 1}, 9_000)
    match.move(0, {"cell": 3}, 2_000)
    match.timeout(1)
    match.finish()


def connect4_best_vs_random(directory: Path) -> None:
    header = bot_header(
        "connect4",
        ["random", "best"],
        seed=4,
        match_id=PREFIX + "connect4-random-vs-best",
        clock=ClockSettings(initial_ms=300_000, increment_ms=5_000),
    )
    record_bot_match(directory, header, bot_seed=5)


def connect4_unfinished_torn(directory: Path) -> None:
    """A match the server crashed in: no end record and half a record at the end."""
    header = bot_header(
        "connect4",
        ["random", "random"],
        seed=5,
        match_id=PREFIX + "connect4-crashed",
        clock=ClockSettings(initial_ms=300_000, increment_ms=5_000),
    )
    match = RecordingMatch(directory, header)
    choices = random.Random(6)
    for _ in range(6):  # nobody can have four in a row yet
        seat = min(match.game.to_act(match.state))
        move = choices.choice(match.game.legal_moves(match.state, seat))
        match.move(seat, move, choices.randrange(500, 20_000))
    match.recorder.close()
    with open(match.recorder.path, "ab") as file:
        file.write(b"\x00\x00\x00\x2a\x9c\x01")  # the first bytes of a record, then the crash


def liarsdice_three_bots(directory: Path) -> None:
    header = bot_header(
        "liarsdice",
        ["random", "best", "best"],
        seed=6,
        match_id=PREFIX + "liarsdice-three-bots",
    )
    record_bot_match(directory, header, bot_seed=7)


SAMPLES: dict[str, tuple[str, Callable[[Path], None]]] = {
    PREFIX + "tictactoe-best-vs-random": ("tictactoe", tictactoe_best_vs_random),
    PREFIX + "tictactoe-takeover-resign": ("tictactoe", tictactoe_eventful),
    PREFIX + "tictactoe-timeout": ("tictactoe", tictactoe_timeout),
    PREFIX + "connect4-random-vs-best": ("connect4", connect4_best_vs_random),
    PREFIX + "connect4-crashed": ("connect4", connect4_unfinished_torn),
    PREFIX + "liarsdice-three-bots": ("liarsdice", liarsdice_three_bots),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--dir", type=Path, default=SAMPLES_DIR,
        help="where to write the samples (default: tests/replays/samples)",
    )
    args = parser.parse_args(argv)
    args.dir.mkdir(parents=True, exist_ok=True)
    games = set(list_games())
    for match_id, (game, make) in SAMPLES.items():
        path = args.dir / f"{match_id}.gsr"
        if path.exists():
            print(f"kept    {path}")
        elif game not in games:
            print(f"skipped {path} (no game {game!r} yet)")
        else:
            make(args.dir)
            print(f"wrote   {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
