"""The player-data interface: accounts, API keys, sessions, ratings, rated matches,
leaderboards.

``PlayerStore`` is what the server needs from a backend; ``sqlite.SQLitePlayerStore`` is
the default (a file in the data directory), ``AsyncPlayerStore`` runs any store's calls
off the Trio thread. A cluster backend (Redis: sorted sets for leaderboards) implements
the same protocol.

Exception tree::

    Exception
     └── StoreError                the store refused a write; the caller maps it
          └── NameTaken            another account already has that name

Every write is one transaction: after a crash a rated match is stored with every
participant's new rating, or not at all.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from typing import Protocol

import attrs

from gameserver.glicko2 import Rating
from gameserver.protocol.messages import AccountKind

__all__ = [
    "Account",
    "AccountKind",
    "Board",
    "LeaderboardRow",
    "MatchRecord",
    "NameTaken",
    "Participant",
    "PlayerStore",
    "RatingPoint",
    "SessionRecord",
    "StoreError",
    "StoredRating",
    "result_of",
]


class StoreError(Exception):
    """The store refused a write (the message says why)."""


class NameTaken(StoreError):
    """Another account already holds that name (names compare case-insensitively)."""


class Board(str, enum.Enum):
    """Which accounts a leaderboard lists."""

    HUMANS = "humans"
    BOTS = "bots"
    ALL = "all"


@attrs.frozen(kw_only=True)
class Account:
    """A registered player. ``account_id`` is also its ``player_id`` on the wire."""

    account_id: str
    """Stable id (the player id the account was claimed with)."""
    name: str
    """Display name, unique among accounts (case-insensitively)."""
    kind: AccountKind
    """human or bot."""
    created_at: int
    """Milliseconds since the Unix epoch."""


@attrs.frozen(kw_only=True)
class SessionRecord:
    """One session of an account: the chain of resume tokens one login started (the
    tokens themselves are never stored)."""

    session_id: str
    """The id every token of the session carries."""
    account_id: str
    """Whose session."""
    created_at: int
    """When the session started (its first token), microseconds since the Unix epoch."""
    last_used_at: int
    """When its newest token was issued (a login or resume), µs since the Unix epoch."""
    address: str
    """The client's IP address at that last use."""
    label: str | None
    """The short client label the latest ``hello`` gave (None: none given yet)."""


@attrs.frozen(kw_only=True)
class StoredRating:
    """An account's rating in one pool, with its record."""

    pool: str
    """The rating pool (``ratings.matches.rating_pool``: a game, or a game and seat count)."""
    rating: Rating
    """The current Glicko-2 rating."""
    wins: int = 0
    draws: int = 0
    losses: int = 0

    @property
    def games(self) -> int:
        """Rated matches played in this pool."""
        return self.wins + self.draws + self.losses


@attrs.frozen(kw_only=True)
class Participant:
    """One account's part in a rated match."""

    account_id: str
    seat: int
    score: float
    """Average pairwise score: 1 won, 0.5 drew, 0 lost (multi-player: in between)."""
    before: Rating
    after: Rating


def result_of(score: float) -> str:
    """"win", "draw" or "loss" for a participant's average pairwise ``score`` (a
    multi-player seat counts as winning when it beat at least three quarters of the
    pairs, losing at most a quarter, drawing in between)."""
    return "win" if score >= 0.75 else "loss" if score <= 0.25 else "draw"


@attrs.frozen(kw_only=True)
class MatchRecord:
    """A rated match with every participant's rating change (written in one transaction)."""

    match_id: str
    """The match log's id (its replay id)."""
    game: str
    pool: str
    ended_at: int
    """``Ended.at`` of the log: milliseconds since the Unix epoch."""
    participants: tuple[Participant, ...]


@attrs.frozen(kw_only=True)
class RatingPoint:
    """One point of an account's rating history (after ``match_id``)."""

    match_id: str
    at: int
    rating: float
    deviation: float


@attrs.frozen(kw_only=True)
class LeaderboardRow:
    """One line of a leaderboard."""

    account: Account
    rating: StoredRating


class PlayerStore(Protocol):
    """Durable player data. Every method may block (disk): call it off the Trio thread
    (``AsyncPlayerStore`` does)."""

    def create_account(
        self, account: Account, credential: str | None
    ) -> None:
        """Store a new account with its password credential (None for bots); raise
        ``NameTaken`` when its name is an account's already."""

    def account_by_name(self, name: str) -> tuple[Account, str | None] | None:
        """The account named ``name`` (any case) and its credential, or None."""

    def account_by_id(self, account_id: str) -> Account | None:
        """The account with that id, or None."""

    def rename(self, account_id: str, name: str) -> None:
        """Change an account's name; raise ``NameTaken`` when another account has it."""

    def add_api_key(self, account_id: str, key_id: str, key_hash: str, at: int) -> None:
        """Store a new API key's hash (the key itself is never stored)."""

    def revoke_api_keys(self, account_id: str, at: int) -> int:
        """Revoke every live key of the account; return how many were revoked."""

    def account_by_key(self, key_hash: str) -> Account | None:
        """The account of a live (not revoked) key with that hash, or None."""

    def record_session(self, session: SessionRecord, *, forget_before: int) -> None:
        """Store a session, or update a stored one's ``last_used_at`` and ``address``
        (and ``label`` when the new one has one; ``created_at`` stays). In the same
        transaction, forget the account's sessions last used before ``forget_before``
        (µs; their tokens have expired)."""

    def account_sessions(self, account_id: str) -> list[SessionRecord]:
        """The account's stored sessions, most recently used first."""

    def forget_session(self, account_id: str, session_id: str) -> bool:
        """Forget the account's session ``session_id``; False when it has none such."""

    def ratings(self, account_ids: Sequence[str], pool: str) -> dict[str, Rating]:
        """Current ratings in ``pool`` of those accounts that have one."""

    def record_match(self, match: MatchRecord) -> bool:
        """Store a rated match and its participants' new ratings atomically; False (and
        nothing changes) when that match id is stored already."""

    def rated_match_ids(self) -> set[str]:
        """Ids of every stored rated match."""

    def latest_rated_end(self) -> int | None:
        """``ended_at`` of the latest stored rated match; None when there is none."""

    def clear_ratings(self) -> None:
        """Forget every rating and rated match (accounts stay): before a rebuild."""

    def account_ratings(self, account_id: str) -> list[StoredRating]:
        """Every pool's rating of the account."""

    def rating_history(self, account_id: str, pool: str) -> list[RatingPoint]:
        """The account's rating after each of its rated matches in ``pool``, oldest first."""

    def recent_matches(self, account_id: str, limit: int) -> list[MatchRecord]:
        """The account's latest rated matches, newest first."""

    def leaderboard(self, pool: str, board: Board, limit: int) -> list[LeaderboardRow]:
        """The best ratings of ``pool`` (highest first), of humans, bots or both."""

    def close(self) -> None:
        """Release the backend (the store is unusable afterwards)."""
