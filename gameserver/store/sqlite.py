"""``PlayerStore`` on SQLite (standard library): one file in the data directory.

The database runs in WAL mode with ``synchronous=FULL``: a commit is on disk when
``commit`` returns, and a process killed mid-transaction leaves the previous state
(SQLite rolls the unfinished transaction back on the next open). Every write is one
transaction (``with self._db:``).

Schema migrations: ``MIGRATIONS[n]`` takes the schema from version n to n + 1; the
version lives in ``schema_version``. Opening a file runs the missing ones, each in its
own transaction; a file from a newer server is refused (``StoreError``).

One connection serves every call; ``AsyncPlayerStore`` makes sure only one thread uses
it at a time.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from pathlib import Path

from gameserver.glicko2 import Rating
from gameserver.store.players import (
    Account,
    AccountKind,
    Board,
    LeaderboardRow,
    MatchRecord,
    NameTaken,
    Participant,
    RatingPoint,
    SessionRecord,
    StoreError,
    StoredRating,
    result_of,
)

__all__ = ["DATABASE_FILE", "MIGRATIONS", "SQLitePlayerStore"]

#: The database's file name inside the data directory.
DATABASE_FILE = "players.sqlite3"
# Another process may hold the write lock for a while (``sqlite3 .backup``, a rebuild):
# wait rather than fail a rating update.
BUSY_TIMEOUT = 60.0

MIGRATIONS: tuple[str, ...] = (
    # 0 -> 1: accounts, keys, ratings, rated matches
    """
    CREATE TABLE accounts (
        account_id TEXT PRIMARY KEY,
        name TEXT NOT NULL UNIQUE COLLATE NOCASE,
        kind TEXT NOT NULL CHECK (kind IN ('human', 'bot')),
        credential TEXT,
        created_at INTEGER NOT NULL
    );
    CREATE TABLE api_keys (
        key_id TEXT PRIMARY KEY,
        account_id TEXT NOT NULL REFERENCES accounts (account_id),
        key_hash TEXT NOT NULL UNIQUE,
        created_at INTEGER NOT NULL,
        revoked_at INTEGER
    );
    CREATE TABLE ratings (
        account_id TEXT NOT NULL,
        pool TEXT NOT NULL,
        rating REAL NOT NULL,
        deviation REAL NOT NULL,
        volatility REAL NOT NULL,
        wins INTEGER NOT NULL DEFAULT 0,
        draws INTEGER NOT NULL DEFAULT 0,
        losses INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (account_id, pool)
    );
    CREATE INDEX ratings_by_pool ON ratings (pool, rating DESC);
    CREATE TABLE matches (
        match_id TEXT PRIMARY KEY,
        game TEXT NOT NULL,
        pool TEXT NOT NULL,
        ended_at INTEGER NOT NULL
    );
    CREATE TABLE match_players (
        match_id TEXT NOT NULL REFERENCES matches (match_id),
        account_id TEXT NOT NULL,
        seat INTEGER NOT NULL,
        score REAL NOT NULL,
        rating_before REAL NOT NULL,
        deviation_before REAL NOT NULL,
        volatility_before REAL NOT NULL,
        rating_after REAL NOT NULL,
        deviation_after REAL NOT NULL,
        volatility_after REAL NOT NULL,
        PRIMARY KEY (match_id, account_id)
    );
    CREATE INDEX match_players_by_account ON match_players (account_id);
    """,
    # 1 -> 2: the sessions (login token chains) of accounts
    """
    CREATE TABLE sessions (
        session_id TEXT PRIMARY KEY,
        account_id TEXT NOT NULL REFERENCES accounts (account_id),
        created_at INTEGER NOT NULL,
        last_used_at INTEGER NOT NULL,
        address TEXT NOT NULL,
        label TEXT
    );
    CREATE INDEX sessions_by_account ON sessions (account_id, last_used_at);
    """,
)

_COLUMNS = {"win": "wins", "draw": "draws", "loss": "losses"}


class SQLitePlayerStore:
    """The default ``PlayerStore``: ``DATABASE_FILE`` in a data directory.

    Open with ``SQLitePlayerStore.open(data_dir)``; call ``close`` when done.
    """

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    @classmethod
    def open(cls, data_dir: Path) -> SQLitePlayerStore:
        """Open (creating and migrating as needed) the database in ``data_dir``.

        Raises ``StoreError`` for a database written by a newer server, ``sqlite3.Error``
        or ``OSError`` when the file cannot be used.
        """
        data_dir.mkdir(parents=True, exist_ok=True)
        # isolation_level=None: transactions are explicit (BEGIN in ``_transaction``).
        db = sqlite3.connect(
            data_dir / DATABASE_FILE,
            check_same_thread=False,
            isolation_level=None,
            timeout=BUSY_TIMEOUT,
        )
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=FULL")
            db.execute("PRAGMA foreign_keys=ON")
            _migrate(db)
        except BaseException:
            db.close()
            raise
        return cls(db)

    def close(self) -> None:
        self._db.close()

    @property
    def schema_version(self) -> int:
        """The schema version of the open database."""
        return _version(self._db)

    # -- accounts -----------------------------------------------------------------------

    def create_account(self, account: Account, credential: str | None) -> None:
        try:
            with _transaction(self._db):
                self._db.execute(
                    "INSERT INTO accounts (account_id, name, kind, credential, created_at)"
                    " VALUES (?, ?, ?, ?, ?)",
                    (account.account_id, account.name, account.kind.value, credential,
                     account.created_at),
                )
        except sqlite3.IntegrityError as exc:
            raise _integrity_error(exc, account.name) from None

    def account_by_name(self, name: str) -> tuple[Account, str | None] | None:
        row = self._db.execute(
            "SELECT account_id, name, kind, created_at, credential FROM accounts WHERE name = ?",
            (name,),
        ).fetchone()
        return None if row is None else (_account(row), row[4])

    def account_by_id(self, account_id: str) -> Account | None:
        row = self._db.execute(
            "SELECT account_id, name, kind, created_at FROM accounts WHERE account_id = ?",
            (account_id,),
        ).fetchone()
        return None if row is None else _account(row)

    def rename(self, account_id: str, name: str) -> None:
        try:
            with _transaction(self._db):
                self._db.execute(
                    "UPDATE accounts SET name = ? WHERE account_id = ?", (name, account_id)
                )
        except sqlite3.IntegrityError as exc:
            raise _integrity_error(exc, name) from None

    def add_api_key(self, account_id: str, key_id: str, key_hash: str, at: int) -> None:
        with _transaction(self._db):
            self._db.execute(
                "INSERT INTO api_keys (key_id, account_id, key_hash, created_at)"
                " VALUES (?, ?, ?, ?)",
                (key_id, account_id, key_hash, at),
            )

    def revoke_api_keys(self, account_id: str, at: int) -> int:
        with _transaction(self._db):
            cursor = self._db.execute(
                "UPDATE api_keys SET revoked_at = ? WHERE account_id = ? AND revoked_at IS NULL",
                (at, account_id),
            )
        return cursor.rowcount

    def account_by_key(self, key_hash: str) -> Account | None:
        row = self._db.execute(
            "SELECT a.account_id, a.name, a.kind, a.created_at FROM api_keys k"
            " JOIN accounts a USING (account_id)"
            " WHERE k.key_hash = ? AND k.revoked_at IS NULL",
            (key_hash,),
        ).fetchone()
        return None if row is None else _account(row)

    # -- sessions -------------------------------------------------------------------------

    def record_session(self, session: SessionRecord, *, forget_before: int) -> None:
        with _transaction(self._db):
            self._db.execute(
                "INSERT INTO sessions (session_id, account_id, created_at, last_used_at,"
                " address, label) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (session_id) DO UPDATE"
                " SET last_used_at = excluded.last_used_at, address = excluded.address,"
                " label = COALESCE(excluded.label, label)",
                (session.session_id, session.account_id, session.created_at,
                 session.last_used_at, session.address, session.label),
            )
            self._db.execute(
                "DELETE FROM sessions WHERE account_id = ? AND last_used_at < ?",
                (session.account_id, forget_before),
            )

    def account_sessions(self, account_id: str) -> list[SessionRecord]:
        rows = self._db.execute(
            "SELECT session_id, account_id, created_at, last_used_at, address, label"
            " FROM sessions WHERE account_id = ? ORDER BY last_used_at DESC, session_id",
            (account_id,),
        )
        return [
            SessionRecord(
                session_id=r[0], account_id=r[1], created_at=r[2], last_used_at=r[3],
                address=r[4], label=r[5],
            )
            for r in rows
        ]

    def forget_session(self, account_id: str, session_id: str) -> bool:
        with _transaction(self._db):
            cursor = self._db.execute(
                "DELETE FROM sessions WHERE account_id = ? AND session_id = ?",
                (account_id, session_id),
            )
        return cursor.rowcount > 0

    # -- ratings --------------------------------------------------------------------------

    def ratings(self, account_ids: Sequence[str], pool: str) -> dict[str, Rating]:
        found: dict[str, Rating] = {}
        for account_id in account_ids:
            row = self._db.execute(
                "SELECT rating, deviation, volatility FROM ratings"
                " WHERE account_id = ? AND pool = ?",
                (account_id, pool),
            ).fetchone()
            if row is not None:
                found[account_id] = Rating(*row)
        return found

    def record_match(self, match: MatchRecord) -> bool:
        db = self._db
        with _transaction(db):
            if db.execute(
                "SELECT 1 FROM matches WHERE match_id = ?", (match.match_id,)
            ).fetchone():
                return False
            db.execute(
                "INSERT INTO matches (match_id, game, pool, ended_at) VALUES (?, ?, ?, ?)",
                (match.match_id, match.game, match.pool, match.ended_at),
            )
            for part in match.participants:
                _record_participant(db, match, part)
        return True

    def rated_match_ids(self) -> set[str]:
        return {row[0] for row in self._db.execute("SELECT match_id FROM matches")}

    def latest_rated_end(self) -> int | None:
        row = self._db.execute("SELECT MAX(ended_at) FROM matches").fetchone()
        return None if row[0] is None else int(row[0])

    def clear_ratings(self) -> None:
        with _transaction(self._db):
            self._db.execute("DELETE FROM match_players")
            self._db.execute("DELETE FROM matches")
            self._db.execute("DELETE FROM ratings")

    def account_ratings(self, account_id: str) -> list[StoredRating]:
        rows = self._db.execute(
            "SELECT pool, rating, deviation, volatility, wins, draws, losses FROM ratings"
            " WHERE account_id = ? ORDER BY pool",
            (account_id,),
        )
        return [_stored_rating(row) for row in rows]

    def rating_history(self, account_id: str, pool: str) -> list[RatingPoint]:
        rows = self._db.execute(
            "SELECT m.match_id, m.ended_at, p.rating_after, p.deviation_after"
            " FROM match_players p JOIN matches m USING (match_id)"
            " WHERE p.account_id = ? AND m.pool = ? ORDER BY m.ended_at, m.match_id",
            (account_id, pool),
        )
        return [RatingPoint(match_id=r[0], at=r[1], rating=r[2], deviation=r[3]) for r in rows]

    def recent_matches(self, account_id: str, limit: int) -> list[MatchRecord]:
        rows = self._db.execute(
            "SELECT m.match_id, m.game, m.pool, m.ended_at FROM matches m"
            " JOIN match_players p USING (match_id) WHERE p.account_id = ?"
            " ORDER BY m.ended_at DESC, m.match_id DESC LIMIT ?",
            (account_id, limit),
        ).fetchall()
        return [
            MatchRecord(
                match_id=match_id, game=game, pool=pool, ended_at=ended_at,
                participants=self._participants(match_id),
            )
            for match_id, game, pool, ended_at in rows
        ]

    def _participants(self, match_id: str) -> tuple[Participant, ...]:
        rows = self._db.execute(
            "SELECT account_id, seat, score, rating_before, deviation_before,"
            " volatility_before, rating_after, deviation_after, volatility_after"
            " FROM match_players WHERE match_id = ? ORDER BY seat",
            (match_id,),
        )
        return tuple(
            Participant(
                account_id=r[0], seat=r[1], score=r[2],
                before=Rating(r[3], r[4], r[5]), after=Rating(r[6], r[7], r[8]),
            )
            for r in rows
        )

    def leaderboard(self, pool: str, board: Board, limit: int) -> list[LeaderboardRow]:
        kinds = {
            Board.HUMANS: ("human",), Board.BOTS: ("bot",), Board.ALL: ("human", "bot"),
        }[board]
        rows = self._db.execute(
            "SELECT a.account_id, a.name, a.kind, a.created_at,"
            " r.pool, r.rating, r.deviation, r.volatility, r.wins, r.draws, r.losses"
            " FROM ratings r JOIN accounts a USING (account_id)"
            f" WHERE r.pool = ? AND a.kind IN ({','.join('?' * len(kinds))})"
            " ORDER BY r.rating DESC, a.name LIMIT ?",
            (pool, *kinds, limit),
        )
        return [
            LeaderboardRow(account=_account(row[:4]), rating=_stored_rating(row[4:]))
            for row in rows
        ]


class _transaction:
    """``with _transaction(db):`` runs the block in BEGIN IMMEDIATE ... COMMIT, or
    ROLLBACK when it raises."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def __enter__(self) -> None:
        self._db.execute("BEGIN IMMEDIATE")

    def __exit__(self, kind: object, value: object, traceback: object) -> None:
        self._db.execute("COMMIT" if kind is None else "ROLLBACK")


def _record_participant(db: sqlite3.Connection, match: MatchRecord, part: Participant) -> None:
    before, after = part.before, part.after
    db.execute(
        "INSERT INTO match_players VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (match.match_id, part.account_id, part.seat, part.score,
         before.rating, before.deviation, before.volatility,
         after.rating, after.deviation, after.volatility),
    )
    column = _COLUMNS[result_of(part.score)]
    db.execute(
        "INSERT INTO ratings (account_id, pool, rating, deviation, volatility, wins, draws,"
        " losses) VALUES (?, ?, ?, ?, ?, 0, 0, 0) ON CONFLICT (account_id, pool) DO UPDATE"
        " SET rating = excluded.rating, deviation = excluded.deviation,"
        " volatility = excluded.volatility",
        (part.account_id, match.pool, after.rating, after.deviation, after.volatility),
    )
    db.execute(
        f"UPDATE ratings SET {column} = {column} + 1 WHERE account_id = ? AND pool = ?",
        (part.account_id, match.pool),
    )


def _integrity_error(exc: sqlite3.IntegrityError, name: str) -> StoreError:
    if "accounts.name" in str(exc):
        return NameTaken(f"the name {name!r} belongs to an account already")
    return StoreError(str(exc))


def _account(row: Sequence[object]) -> Account:
    account_id, name, kind, created_at = row[:4]
    assert isinstance(account_id, str) and isinstance(name, str) and isinstance(kind, str)
    assert isinstance(created_at, int)
    return Account(
        account_id=account_id, name=name, kind=AccountKind(kind), created_at=created_at
    )


def _stored_rating(row: Sequence[object]) -> StoredRating:
    pool, rating, deviation, volatility, wins, draws, losses = row
    assert isinstance(pool, str)
    assert isinstance(rating, float) and isinstance(deviation, float)
    assert isinstance(volatility, float)
    assert isinstance(wins, int) and isinstance(draws, int) and isinstance(losses, int)
    return StoredRating(
        pool=pool, rating=Rating(rating, deviation, volatility),
        wins=wins, draws=draws, losses=losses,
    )


def _version(db: sqlite3.Connection) -> int:
    row = db.execute("SELECT version FROM schema_version").fetchone()
    return 0 if row is None else int(row[0])


def _migrate(db: sqlite3.Connection) -> None:
    """Bring the schema to ``len(MIGRATIONS)``, one transaction per step."""
    db.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
    version = _version(db)
    if version > len(MIGRATIONS):
        raise StoreError(
            f"the player database has schema version {version}; this server knows up to "
            f"{len(MIGRATIONS)}: upgrade the server"
        )
    for step in range(version, len(MIGRATIONS)):
        with _transaction(db):
            for statement in MIGRATIONS[step].split(";"):
                if statement.strip():
                    db.execute(statement)
            db.execute("DELETE FROM schema_version")
            db.execute("INSERT INTO schema_version (version) VALUES (?)", (step + 1,))
