"""Matches played in-process between strategies: for testing, tuning and bot seats.

Everything except the timings is a pure function of the arguments: the same seed gives
the same matches, move for move. Each match draws its own seed from the series seed; the
game and every seat's strategy get separate rngs derived from it, so a strategy's random
choices never shift the dice.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any, Generic

import attrs

from gameserver.games.base import Game, GameError, Outcome, S, check_players
from gameserver.games.strategy import Strategy, get_strategy

# No game here needs more than a few hundred moves; a runaway loop is a bug, not a match.
MAX_MOVES = 100_000


@attrs.frozen
class SelfplayResult(Generic[S]):
    """One finished match of a game whose states are ``S``."""

    outcome: Outcome
    """How it ended."""
    moves: int
    """Moves made (timeouts and resignations are not moves)."""
    seconds: tuple[float, ...]
    """Per seat: time spent choosing moves."""
    choices: tuple[int, ...]
    """Per seat: moves chosen."""
    final: S
    """The final state."""


def strategy_rng(match_seed: int, seat: int) -> random.Random:
    """Return the rng a seat's strategy uses in the match with ``match_seed``."""
    return random.Random(f"strategy:{match_seed}:{seat}")


def play_selfplay_match(
    game: Game[S],
    strategies: Sequence[Strategy],
    seed: int,
    options: Mapping[str, Any] | None = None,
) -> SelfplayResult[S]:
    """Play one match, seat ``i`` choosing with ``strategies[i]``, until it is over.

    The game uses ``random.Random(seed)`` exactly as a room would. Raises InvalidOptions
    for a bad player count or options, and GameError if a strategy picks an illegal move
    or the match does not end within MAX_MOVES.
    """
    players = len(strategies)
    rng = random.Random(seed)
    state = game.setup(players, rng, game.validate_options(options or {}))
    rngs = [strategy_rng(seed, seat) for seat in range(players)]
    seconds = [0.0] * players
    choices = [0] * players
    moves = 0
    while (outcome := game.outcome(state)) is None:
        if moves >= MAX_MOVES:
            raise GameError(f"{game.name} match did not end within {MAX_MOVES} moves")
        for seat in sorted(game.to_act(state)):
            legal = game.legal_moves(state, seat)
            view = game.view(state, seat)
            start = time.perf_counter()
            move = strategies[seat].choose(view, legal, rngs[seat])
            seconds[seat] += time.perf_counter() - start
            choices[seat] += 1
            state = game.apply(state, seat, move, rng)
            moves += 1
            if game.outcome(state) is not None:
                break
    return SelfplayResult(outcome, moves, tuple(seconds), tuple(choices), state)


@attrs.frozen
class SelfplayReport:
    """The summary of a series of matches."""

    game: str
    games: int
    seed: int
    players: int
    options: dict[str, Any]
    entries: tuple[str, ...]
    """The strategy name of each entry; in match ``i`` seat ``s`` is played by entry
    ``(s + i) % players`` (see ``entry_at``)."""
    wins_by_seat: tuple[int, ...]
    wins_by_entry: tuple[int, ...]
    draws: int
    total_moves: int
    reasons: dict[str, int]
    seconds_by_strategy: dict[str, float]
    moves_by_strategy: dict[str, int]

    @property
    def by_strategy(self) -> dict[str, dict[str, int]]:
        """Strategy name -> {"wins", "seats"}: wins and seat-matches, summed over entries."""
        result: dict[str, dict[str, int]] = {}
        for name, wins in zip(self.entries, self.wins_by_entry):
            row = result.setdefault(name, {"wins": 0, "seats": 0})
            row["wins"] += wins
            row["seats"] += self.games
        return result

    def to_data(self) -> dict[str, Any]:
        """Return the report as JSON-able data; everything but ``timings`` is deterministic."""
        return {
            "game": self.game,
            "games": self.games,
            "seed": self.seed,
            "players": self.players,
            "options": self.options,
            "entries": [
                {"strategy": name, "wins": wins}
                for name, wins in zip(self.entries, self.wins_by_entry)
            ],
            "wins_by_strategy": {name: row["wins"] for name, row in self.by_strategy.items()},
            "wins_by_seat": list(self.wins_by_seat),
            "draws": self.draws,
            "average_moves": round(self.total_moves / self.games, 3) if self.games else 0,
            "reasons": dict(sorted(self.reasons.items())),
            "timings": {
                name: {
                    "moves": self.moves_by_strategy[name],
                    "ms_per_move": round(
                        1000 * self.seconds_by_strategy[name] / self.moves_by_strategy[name], 4
                    )
                    if self.moves_by_strategy[name]
                    else 0.0,
                }
                for name in sorted(self.moves_by_strategy)
            },
        }


def entry_at(seat: int, match_index: int, players: int) -> int:
    """Return which entry plays ``seat`` in match ``match_index`` (seats rotate each match)."""
    return (seat + match_index) % players


def run_selfplay(
    game: Game[S],
    *,
    games: int,
    seed: int,
    players: int,
    strategy_names: Sequence[str],
    strategies: Sequence[Strategy | None] | None = None,
    options: Mapping[str, Any] | None = None,
) -> SelfplayReport:
    """Play ``games`` matches and summarise them.

    ``strategy_names`` is cycled to fill ``players`` entries (``["best", "random"]`` with
    four players gives best, random, best, random). ``strategies`` may supply instances
    for some entries (None: look the name up). Seats rotate every match so no entry keeps
    the first move. Raises UnknownStrategy, InvalidOptions or GameError.
    """
    if not strategy_names:
        raise GameError("at least one strategy is needed")
    if games < 0:
        raise GameError("the number of games cannot be negative")
    merged = game.validate_options(options or {})
    check_players(game, players)
    names = tuple(strategy_names[e % len(strategy_names)] for e in range(players))
    given = list(strategies or [])
    instances: list[Strategy] = []
    for e, name in enumerate(names):
        supplied = given[e] if e < len(given) else None
        instances.append(supplied if supplied is not None else get_strategy(game.name, name))

    series = random.Random(seed)
    wins_by_seat = [0] * players
    wins_by_entry = [0] * players
    draws = total_moves = 0
    reasons: Counter[str] = Counter()
    seconds: dict[str, float] = {name: 0.0 for name in names}
    counts: dict[str, int] = {name: 0 for name in names}
    for index in range(games):
        match_seed = series.getrandbits(63)
        seating = [entry_at(seat, index, players) for seat in range(players)]
        result = play_selfplay_match(game, [instances[e] for e in seating], match_seed, merged)
        total_moves += result.moves
        reasons[result.outcome.reason] += 1
        draws += result.outcome.draw
        for seat in result.outcome.winners:
            wins_by_seat[seat] += 1
            wins_by_entry[seating[seat]] += 1
        for seat, entry in enumerate(seating):
            seconds[names[entry]] += result.seconds[seat]
            counts[names[entry]] += result.choices[seat]
    return SelfplayReport(
        game=game.name,
        games=games,
        seed=seed,
        players=players,
        options=merged,
        entries=names,
        wins_by_seat=tuple(wins_by_seat),
        wins_by_entry=tuple(wins_by_entry),
        draws=draws,
        total_moves=total_moves,
        reasons=dict(reasons),
        seconds_by_strategy=seconds,
        moves_by_strategy=counts,
    )
