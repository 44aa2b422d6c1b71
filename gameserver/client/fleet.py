"""Many SDK bots in one process: each quick-matches and plays until all have played enough.

This is what ``gameserver bot`` runs. Every bot is its own connection (its own player).
Bots pair up through the server's quick match, so a bot that has finished its own
matches keeps playing as an opponent until every bot has played its quota; then bots
still waiting alone in a room leave it. The report sums everything up.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Sequence

import attrs
import trio

from gameserver.client.bot import MatchResult, StrategyBot, leave_seat, play_room, quick_match_seat
from gameserver.client.client import Backoff, GameClient, connect
from gameserver.client.errors import ClientError

__all__ = ["FleetReport", "percentile", "run_fleet"]

logger = logging.getLogger(__name__)

# After the last quick match of the fleet has been answered, a room that is about to
# start still needs its first state to reach every seat: wait this long before deciding
# a bot is waiting alone.
SETTLE_SECONDS = 0.3


@attrs.frozen(kw_only=True)
class FleetReport:
    """What a fleet run did."""

    game: str
    """The game played."""
    bots: int
    """How many bots ran."""
    quota: int
    """Matches each bot had to play."""
    results: tuple[MatchResult, ...]
    """One entry per bot per match it played (a 2-player match appears twice)."""
    failures: tuple[str, ...]
    """Bots that stopped early, with the reason."""
    seconds: float
    """Wall time of the whole run."""

    @property
    def matches(self) -> int:
        """Distinct matches played."""
        return len({(r.room_id, r.match) for r in self.results})

    @property
    def completed(self) -> int:
        """Bot-matches that ended normally."""
        return sum(1 for r in self.results if r.completed)

    @property
    def ok(self) -> bool:
        """True when every bot played its quota and every match ended normally (or
        ended while the bot was away, see ``MatchResult.ended_away``)."""
        return (
            not self.failures
            and all(r.completed or r.ended_away for r in self.results)
            and len(self.results) >= self.bots * self.quota
        )

    def to_data(self) -> dict[str, object]:
        """The summary as plain data (what ``--json`` prints)."""
        latencies = sorted(value for r in self.results for value in r.latencies)
        moves = sum(r.moves for r in self.results)
        return {
            "game": self.game,
            "bots": self.bots,
            "quota": self.quota,
            "matches": self.matches,
            "bot_matches": len(self.results),
            "completed": self.completed,
            "wins": sum(1 for r in self.results if r.won),
            "draws": sum(1 for r in self.results if r.outcome is not None and r.outcome.draw),
            "losses": sum(
                1 for r in self.results if r.outcome is not None and not r.outcome.draw and not r.won
            ),
            "ended_away": sum(1 for r in self.results if r.ended_away),
            "errors": sum(len(r.errors) for r in self.results) + len(self.failures),
            "reconnects": sum(r.reconnects for r in self.results),
            "moves": moves,
            "seconds": round(self.seconds, 3),
            "moves_per_second": round(moves / self.seconds, 1) if self.seconds > 0 else 0.0,
            "latency_ms_p50": _ms(percentile(latencies, 50)),
            "latency_ms_p99": _ms(percentile(latencies, 99)),
            "failures": list(self.failures),
            "ok": self.ok,
        }

    def summary(self) -> str:
        """A few human-readable lines."""
        data = self.to_data()
        lines = [
            f"{data['game']}: {data['bots']} bots x {data['quota']} matches -> "
            f"{data['matches']} matches ({data['completed']}/{data['bot_matches']} seats "
            f"completed) in {data['seconds']} s",
            f"wins {data['wins']}, losses {data['losses']}, draws {data['draws']}, "
            f"ended while away {data['ended_away']}, errors {data['errors']}, "
            f"reconnects {data['reconnects']}",
            f"moves {data['moves']} ({data['moves_per_second']} moves/s), move-to-update "
            f"latency p50 {data['latency_ms_p50']} ms, p99 {data['latency_ms_p99']} ms",
        ]
        lines += [f"failure: {failure}" for failure in self.failures]
        lines.append("OK" if self.ok else "FAILED")
        return "\n".join(lines)


def percentile(sorted_values: Sequence[float], pct: float) -> float | None:
    """Nearest-rank percentile of already sorted values; None when there are none."""
    if not sorted_values:
        return None
    rank = max(1, math.ceil(pct / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 2)


class _Fleet:
    """What the bots of one run share. Waiting bots are woken only when it matters:
    with thousands of bots, waking every waiter on every finished match would cost
    O(bots x matches)."""

    def __init__(self, count: int, quota: int, players: int) -> None:
        self.needed = [quota] * count
        self.needy = count if quota > 0 else 0
        self.players = players
        self.all_done = trio.Event()
        self.help_wanted = trio.Event()
        """Set once the bots short of matches are too few to fill one by themselves."""
        self.quick_matches_in_flight = 0
        self.helpers = 0
        self.changed = trio.Event()
        self.results: list[MatchResult] = []
        self.failures: list[str] = []
        self.unconnected = count
        self.all_connected = trio.Event()
        """Set once every bot has connected or given up: play starts together."""
        self._update()

    def connected(self) -> None:
        """One more bot has connected (or given up connecting)."""
        self.unconnected -= 1
        if self.unconnected == 0:
            self.all_connected.set()

    def _update(self) -> None:
        if self.needy < self.players:
            self.help_wanted.set()
        if self.needy == 0:
            self.all_done.set()

    def may_help(self, players: int) -> bool:
        """Whether a bot that has played its quota should play again as an opponent.

        Only when the bots still short of matches are too few to fill a match among
        themselves, and only as many helpers as that match needs.
        """
        return 0 < self.needy < players and self.helpers < players - self.needy

    def poke(self) -> None:
        self.changed.set()
        self.changed = trio.Event()

    def finished(self, index: int, result: MatchResult) -> None:
        self.results.append(result)
        self.needed[index] -= 1
        if self.needed[index] == 0:
            self.needy -= 1
            self._update()
        self.poke()

    def give_up(self, index: int, reason: str) -> None:
        self.failures.append(f"bot {index}: {reason}")
        # A bot that cannot play any more must not leave the others waiting forever.
        if self.needed[index] > 0:
            self.needed[index] = 0
            self.needy -= 1
            self._update()
        self.poke()

    async def wait_alone(self, client: GameClient, room_id: str) -> None:
        """Return once the fleet is done and nobody will ever join ``room_id``."""
        await self.all_done.wait()
        while True:
            if (
                self.all_done.is_set()
                and self.quick_matches_in_flight == 0
                and room_id not in client.states
            ):
                await trio.sleep(SETTLE_SECONDS)
                if room_id not in client.states and self.quick_matches_in_flight == 0:
                    return
            await self.changed.wait()


async def run_fleet(
    url: str,
    *,
    game: str,
    strategy: str = "best",
    count: int = 2,
    matches: int = 1,
    players: int = 2,
    name_prefix: str = "bot",
    seed: int | None = None,
    think: float = 0.0,
    backoff: Backoff = Backoff(),
    on_connected: Callable[[], None] | None = None,
    api_keys: Sequence[str] = (),
    rated: bool = False,
) -> FleetReport:
    """Run ``count`` bots against the server at ``url``; return when all are done.

    Each bot plays at least ``matches`` matches of ``game`` with ``players`` seats via
    quick match, using the built-in ``strategy``, pausing about ``think`` seconds before
    each move (see ``StrategyBot``). Every bot connects before any quick-matches, so
    the connections' storm does not weigh on the first moves; ``on_connected`` is
    called then (``gameserver bot`` freezes the collector's view of the connections).
    Never raises for match or connection problems: they are in the report
    (``report.ok`` is False). With ``api_keys`` bot ``i`` logs in to the bot account of
    ``api_keys[i]`` (give one key per bot); ``rated`` quick-matches rated rooms, which
    needs keys.
    """
    if api_keys and len(api_keys) != count:
        raise ValueError(f"{len(api_keys)} API keys for {count} bots: give one per bot")
    fleet = _Fleet(count, matches, players)
    started = trio.current_time()
    async with trio.open_nursery() as nursery:
        if on_connected is not None:

            async def when_connected() -> None:
                await fleet.all_connected.wait()
                on_connected()

            nursery.start_soon(when_connected)
        for index in range(count):
            bot_seed = None if seed is None else seed * 1000 + index
            nursery.start_soon(
                _run_bot, url, fleet, index, StrategyBot(game, strategy, seed=bot_seed, think=think),
                game, players, f"{name_prefix}-{index}", backoff,
                api_keys[index] if api_keys else None, rated,
            )
    return FleetReport(
        game=game,
        bots=count,
        quota=matches,
        results=tuple(fleet.results),
        failures=tuple(fleet.failures),
        seconds=trio.current_time() - started,
    )


async def _run_bot(
    url: str,
    fleet: _Fleet,
    index: int,
    bot: StrategyBot,
    game: str,
    players: int,
    name: str,
    backoff: Backoff,
    api_key: str | None,
    rated: bool,
) -> None:
    arrived = False
    try:
        async with connect(url, name=name, backoff=backoff, api_key=api_key) as client:
            arrived = True
            fleet.connected()
            await fleet.all_connected.wait()
            while not fleet.all_done.is_set():
                helping = fleet.needed[index] <= 0
                if helping:
                    if not fleet.may_help(players):
                        if fleet.help_wanted.is_set():
                            await fleet.changed.wait()
                        else:
                            await fleet.help_wanted.wait()
                        continue
                    fleet.helpers += 1
                try:
                    result = await _play_one(client, fleet, bot, game, players, rated)
                finally:
                    if helping:
                        fleet.helpers -= 1
                        fleet.poke()
                if result is None:
                    break  # waited alone after everyone was done
                client.forget(result.room_id)
                if result.seat_lost and result.match == 0:
                    continue  # a server restart lost the room before its match began
                fleet.finished(index, result)
                if not result.completed:
                    logger.warning("%s: match in %s ended abnormally: %s", name, result.room_id, result)
    except ClientError as error:
        fleet.give_up(index, f"{type(error).__name__}: {error}")
    except Exception as error:  # a bug or a strategy failure: report it, keep the fleet going
        logger.exception("%s failed", name)
        fleet.give_up(index, f"{type(error).__name__}: {error}")
    finally:
        if not arrived:
            fleet.connected()  # the others need not wait for a bot that never connected


async def _play_one(
    client: GameClient, fleet: _Fleet, bot: StrategyBot, game: str, players: int, rated: bool
) -> MatchResult | None:
    """Quick-match and play; None when left waiting alone once the fleet was done."""
    fleet.quick_matches_in_flight += 1
    seated: tuple[str, int] | None = None
    try:
        async with trio.open_nursery() as nursery:

            async def quick_match() -> None:
                nonlocal seated
                seated = await quick_match_seat(client, game, players, rated=rated)
                nursery.cancel_scope.cancel()

            async def give_up_when_done() -> None:
                # A rated quick match waits in the server's queue until an opponent
                # comes: once the fleet is done, none will (the queue forgets this bot
                # when it disconnects).
                await fleet.all_done.wait()
                nursery.cancel_scope.cancel()

            nursery.start_soon(quick_match)
            if rated:
                nursery.start_soon(give_up_when_done)
    finally:
        fleet.quick_matches_in_flight -= 1
        fleet.poke()
    if seated is None:
        return None
    room_id, seat = seated
    result: MatchResult | None = None
    async with trio.open_nursery() as nursery:

        async def play() -> None:
            nonlocal result
            result = await play_room(client, bot, room_id, seat)
            nursery.cancel_scope.cancel()

        async def watch() -> None:
            await fleet.wait_alone(client, room_id)
            nursery.cancel_scope.cancel()

        nursery.start_soon(play)
        nursery.start_soon(watch)
    if result is None:
        await leave_seat(client, room_id)
    return result
