"""Leaderboards and profiles as protocol records (shared by the protocol and /api/)."""

from __future__ import annotations

from gameserver.protocol.errors import ErrorCode, RequestError
from gameserver.protocol.messages import (
    AccountInfo,
    Board,
    HistoryPoint,
    LeaderboardEntry,
    LeaderboardResult,
    PoolRating,
    ProfileResult,
    RecentMatch,
)
from gameserver.ratings.matches import is_provisional, rating_pool
from gameserver.store.players import Account, Board as StoreBoard, PlayerStore, result_of

__all__ = ["MAX_LEADERBOARD", "RECENT_MATCHES", "account_info", "leaderboard", "profile"]

#: Most rows one leaderboard request returns.
MAX_LEADERBOARD = 100
#: Recent rated matches a profile lists.
RECENT_MATCHES = 20


def account_info(account: Account) -> AccountInfo:
    """The wire form of ``account``."""
    return AccountInfo(
        player_id=account.account_id, name=account.name, kind=account.kind
    )


def leaderboard(
    store: PlayerStore, game: str, players: int, board: Board, limit: int
) -> LeaderboardResult:
    """The leaderboard of ``game`` at ``players`` seats (blocking: call off the Trio thread).
    Raises invalid_field for a limit outside 1..MAX_LEADERBOARD."""
    if not 1 <= limit <= MAX_LEADERBOARD:
        raise RequestError(ErrorCode.INVALID_FIELD, f"limit must be 1 to {MAX_LEADERBOARD}")
    pool = rating_pool(game, players)
    rows = store.leaderboard(pool, StoreBoard(board.value), limit)
    entries = tuple(
        LeaderboardEntry(
            rank=rank,
            player_id=row.account.account_id,
            name=row.account.name,
            kind=row.account.kind,
            rating=row.rating.rating.rating,
            deviation=row.rating.rating.deviation,
            provisional=is_provisional(row.rating.rating),
            wins=row.rating.wins,
            draws=row.rating.draws,
            losses=row.rating.losses,
        )
        for rank, row in enumerate(rows, start=1)
    )
    return LeaderboardResult(pool=pool, entries=entries)


def profile(store: PlayerStore, player_id: str) -> ProfileResult:
    """The profile of the account ``player_id`` (blocking); raises unknown_account."""
    account = store.account_by_id(player_id)
    if account is None:
        raise RequestError(ErrorCode.UNKNOWN_ACCOUNT, f"no account has the id {player_id!r}")
    ratings = store.account_ratings(player_id)
    history = sorted(
        (
            HistoryPoint(
                pool=stored.pool, match_id=point.match_id, at=point.at,
                rating=point.rating, deviation=point.deviation,
            )
            for stored in ratings
            for point in store.rating_history(player_id, stored.pool)
        ),
        key=lambda point: (point.at, point.match_id),
    )
    recent = []
    for match in store.recent_matches(player_id, RECENT_MATCHES):
        mine = next(p for p in match.participants if p.account_id == player_id)
        recent.append(
            RecentMatch(
                match_id=match.match_id, game=match.game, pool=match.pool, at=match.ended_at,
                seat=mine.seat,
                result=result_of(mine.score),
                rating_before=mine.before.rating, rating_after=mine.after.rating,
                opponents=tuple(
                    p.account_id for p in match.participants if p.account_id != player_id
                ),
            )
        )
    return ProfileResult(
        account=account_info(account),
        ratings=tuple(
            PoolRating(
                pool=stored.pool, rating=stored.rating.rating,
                deviation=stored.rating.deviation, provisional=is_provisional(stored.rating),
                wins=stored.wins, draws=stored.draws, losses=stored.losses,
            )
            for stored in ratings
        ),
        history=tuple(history),
        recent=tuple(recent),
    )
