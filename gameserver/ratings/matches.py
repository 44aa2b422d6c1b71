"""From a finished match log to rating changes: which matches count, and how.

Both the live server (at the end of each rated match) and ``gameserver ratings
rebuild`` go through ``rated_result`` and ``rate``, reading the same match logs, so a
rebuild reproduces the stored ratings exactly when it applies the matches in the same
order (``rebuild_order``).

A match counts (``rated_result`` is not None) when its log header says ``rated``, every
seat held a registered account at the start, it ended with a result (not aborted), and
no computer took a seat over during it, unless every seat was a registered bot account
(a bot's own takeover does not make a bot match casual).

Pools: a game played by two seats is rated in the pool named after the game
("connect4"); other seat counts have a pool each ("liarsdice-3p"), since a three-player
rating says little about a two-player one.

Places: a draw ties everybody; otherwise, when the game keeps scores, the higher score
places higher; else the winners share first place and everybody else shares the next.
Each seat then gets one Glicko-2 game against every other seat (``pairwise_scores``),
all in one rating period, with the opponents' ratings from before the match.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import attrs

from gameserver.glicko2 import DEFAULT_RATING, Game, Rating, pairwise_scores, update
from gameserver.replays.records import Ended, Header, Joined, OccupantKind, Record
from gameserver.store.players import MatchRecord, Participant

__all__ = [
    "PROVISIONAL_DEVIATION",
    "RatedResult",
    "is_provisional",
    "rate",
    "rated_result",
    "rating_pool",
    "rebuild_order",
]

# lichess's threshold: above this deviation a rating is shown as provisional ("?").
PROVISIONAL_DEVIATION = 110.0


def rating_pool(game: str, players: int) -> str:
    """The pool a match of ``game`` with ``players`` seats is rated in."""
    return game if players == 2 else f"{game}-{players}p"


def is_provisional(rating: Rating) -> bool:
    """True while a rating is too uncertain to be taken at face value."""
    return rating.deviation > PROVISIONAL_DEVIATION


@attrs.frozen(kw_only=True)
class RatedResult:
    """What rating needs from a finished rated match's log."""

    match_id: str
    game: str
    pool: str
    ended_at: int
    accounts: tuple[str, ...]
    """The account id of every seat, in seat order."""
    places: tuple[int, ...]
    """Each seat's finishing place: 0 first; equal places tie."""


def rated_result(header: Header, records: Sequence[Record]) -> RatedResult | None:
    """The rated result of a match log, or None when the match does not count."""
    end = next((r for r in reversed(records) if isinstance(r, Ended)), None)
    if not header.rated or end is None or end.aborted:
        return None
    accounts = tuple(seat.account_id for seat in header.seats)
    if any(account is None for account in accounts) or len(set(accounts)) != len(accounts):
        return None
    all_bots = all(seat.account_kind == "bot" for seat in header.seats)
    takeover = any(
        isinstance(r, Joined) and r.occupant.kind is OccupantKind.BOT for r in records
    )
    if takeover and not all_bots:
        return None
    return RatedResult(
        match_id=header.match_id,
        game=header.game,
        pool=rating_pool(header.game, len(header.seats)),
        ended_at=end.at,
        accounts=tuple(a for a in accounts if a is not None),
        places=_places(end, len(header.seats)),
    )


def _places(end: Ended, seats: int) -> tuple[int, ...]:
    if end.draw:
        return (0,) * seats
    if end.scores is not None and len(end.scores) == seats:
        ranking = sorted(set(end.scores), reverse=True)
        return tuple(ranking.index(score) for score in end.scores)
    return tuple(0 if seat in end.winners else 1 for seat in range(seats))


def rate(result: RatedResult, current: Mapping[str, Rating]) -> MatchRecord:
    """Every seat's rating change (``current``: ratings before the match; accounts
    missing from it start at ``DEFAULT_RATING``)."""
    before = [current.get(account, DEFAULT_RATING) for account in result.accounts]
    participants = []
    for seat, pairs in enumerate(pairwise_scores(result.places)):
        games = [Game(before[other], score) for other, score in pairs]
        participants.append(
            Participant(
                account_id=result.accounts[seat],
                seat=seat,
                score=sum(score for _, score in pairs) / len(pairs),
                before=before[seat],
                after=update(before[seat], games),
            )
        )
    return MatchRecord(
        match_id=result.match_id,
        game=result.game,
        pool=result.pool,
        ended_at=result.ended_at,
        participants=tuple(participants),
    )


def rebuild_order(result: RatedResult) -> tuple[int, str]:
    """The sort key a rebuild applies matches in: end time, then match id. The live
    server rates matches as they end, which is the same order."""
    return (result.ended_at, result.match_id)
