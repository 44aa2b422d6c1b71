"""The SQLite player store on real files: migrations, WAL, accounts, atomic rated matches."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import trio

from gameserver.glicko2 import Rating
from gameserver.store.async_store import AsyncPlayerStore
from gameserver.store.players import (
    Account,
    AccountKind,
    Board,
    MatchRecord,
    NameTaken,
    Participant,
    SessionRecord,
    StoreError,
)
from gameserver.store.sqlite import DATABASE_FILE, MIGRATIONS, SQLitePlayerStore


def _account(account_id: str, name: str, kind: AccountKind = AccountKind.HUMAN) -> Account:
    return Account(account_id=account_id, name=name, kind=kind, created_at=1)


def _match(match_id: str, winner: str, loser: str, at: int = 10) -> MatchRecord:
    return MatchRecord(
        match_id=match_id, game="connect4", pool="connect4", ended_at=at,
        participants=(
            Participant(account_id=winner, seat=0, score=1.0, before=Rating(),
                        after=Rating(1662.3, 290.3, 0.06)),
            Participant(account_id=loser, seat=1, score=0.0, before=Rating(),
                        after=Rating(1337.7, 290.3, 0.06)),
        ),
    )


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SQLitePlayerStore]:
    opened = SQLitePlayerStore.open(tmp_path)
    yield opened
    opened.close()


def test_a_new_file_is_migrated_in_wal_mode(store: SQLitePlayerStore, tmp_path: Path) -> None:
    assert store.schema_version == len(MIGRATIONS)
    db = sqlite3.connect(tmp_path / DATABASE_FILE)
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    db.close()


def test_a_database_from_a_newer_server_is_refused(tmp_path: Path) -> None:
    SQLitePlayerStore.open(tmp_path).close()
    db = sqlite3.connect(tmp_path / DATABASE_FILE)
    db.execute("UPDATE schema_version SET version = 99")
    db.commit()
    db.close()
    with pytest.raises(StoreError, match="schema version 99"):
        SQLitePlayerStore.open(tmp_path)


def test_accounts_are_found_by_name_in_any_case_and_names_stay_unique(
    store: SQLitePlayerStore,
) -> None:
    store.create_account(_account("p1", "Alice"), "cred")
    found = store.account_by_name("aLiCe")
    assert found is not None and found[0].account_id == "p1" and found[1] == "cred"
    with pytest.raises(NameTaken):
        store.create_account(_account("p2", "ALICE"), "x")
    store.create_account(_account("p2", "Bob"), "x")
    with pytest.raises(NameTaken):
        store.rename("p2", "alice")
    store.rename("p2", "Bobby")
    assert store.account_by_id("p2") == _account("p2", "Bobby")
    assert store.account_by_name("nobody") is None


def test_api_keys_find_their_account_until_revoked(store: SQLitePlayerStore) -> None:
    store.create_account(_account("b1", "Botty", AccountKind.BOT), None)
    store.add_api_key("b1", "k1", "hash1", 5)
    account = store.account_by_key("hash1")
    assert account is not None and account.kind is AccountKind.BOT
    assert store.revoke_api_keys("b1", 6) == 1
    assert store.account_by_key("hash1") is None
    assert store.revoke_api_keys("b1", 7) == 0


def test_a_database_of_schema_1_gains_sessions_and_keeps_its_accounts(tmp_path: Path) -> None:
    db = sqlite3.connect(tmp_path / DATABASE_FILE)
    db.executescript(MIGRATIONS[0])
    db.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
    db.execute("INSERT INTO schema_version VALUES (1)")
    db.execute("INSERT INTO accounts VALUES ('p1', 'Alice', 'human', 'cred', 1)")
    db.commit()
    db.close()
    store = SQLitePlayerStore.open(tmp_path)
    try:
        assert store.schema_version == 2 == len(MIGRATIONS)
        assert store.account_by_id("p1") == _account("p1", "Alice")
        store.record_session(_session("s1", "p1", 10), forget_before=0)
        assert [s.session_id for s in store.account_sessions("p1")] == ["s1"]
    finally:
        store.close()


def _session(
    session_id: str, account_id: str, at: int, label: str | None = None, address: str = "1.2.3.4"
) -> SessionRecord:
    return SessionRecord(
        session_id=session_id, account_id=account_id, created_at=at, last_used_at=at,
        address=address, label=label,
    )


def test_sessions_are_recorded_touched_listed_and_forgotten(store: SQLitePlayerStore) -> None:
    store.create_account(_account("p1", "Alice"), "c")
    store.create_account(_account("p2", "Bob"), "c")
    store.record_session(_session("old", "p1", 5, "Firefox"), forget_before=0)
    store.record_session(_session("s1", "p1", 10, "Firefox"), forget_before=0)
    store.record_session(_session("s2", "p1", 20, "SDK"), forget_before=0)
    store.record_session(_session("b1", "p2", 30), forget_before=0)
    # a resume of s1: used later, from elsewhere, without a label (the old one stays)
    store.record_session(_session("s1", "p1", 40, None, "5.6.7.8"), forget_before=6)
    assert store.account_sessions("p1") == [
        SessionRecord(
            session_id="s1", account_id="p1", created_at=10, last_used_at=40,
            address="5.6.7.8", label="Firefox",
        ),
        _session("s2", "p1", 20, "SDK"),
    ]  # "old" was last used before 6: forgotten
    assert not store.forget_session("p2", "s1")  # not Bob's
    assert store.forget_session("p1", "s1")
    assert not store.forget_session("p1", "s1")
    assert [s.session_id for s in store.account_sessions("p1")] == ["s2"]
    assert [s.session_id for s in store.account_sessions("p2")] == ["b1"]


def test_a_rated_match_is_stored_once_with_records_history_and_leaderboard(
    store: SQLitePlayerStore,
) -> None:
    store.create_account(_account("p1", "Alice"), "c")
    store.create_account(_account("b1", "Botty", AccountKind.BOT), None)
    assert store.record_match(_match("m1", "p1", "b1"))
    assert not store.record_match(_match("m1", "b1", "p1"))  # a second time: no change
    assert store.ratings(["p1", "b1", "ghost"], "connect4") == {
        "p1": Rating(1662.3, 290.3, 0.06), "b1": Rating(1337.7, 290.3, 0.06),
    }
    [alice] = store.account_ratings("p1")
    assert (alice.wins, alice.draws, alice.losses, alice.games) == (1, 0, 0, 1)
    assert [p.match_id for p in store.rating_history("p1", "connect4")] == ["m1"]
    [recent] = store.recent_matches("b1", 10)
    assert recent == _match("m1", "p1", "b1")
    assert [r.account.name for r in store.leaderboard("connect4", Board.ALL, 10)] == [
        "Alice", "Botty"
    ]
    assert [r.account.name for r in store.leaderboard("connect4", Board.BOTS, 10)] == ["Botty"]
    assert store.rated_match_ids() == {"m1"}
    assert store.latest_rated_end() == 10
    store.clear_ratings()
    assert store.latest_rated_end() is None
    assert store.rated_match_ids() == set() and store.account_ratings("p1") == []


async def test_the_async_store_runs_calls_in_worker_threads(tmp_path: Path) -> None:
    import threading

    store = AsyncPlayerStore(SQLitePlayerStore.open(tmp_path))
    main = threading.get_ident()
    await store.call(store.sync.create_account, _account("p1", "Alice"), None)

    def where() -> int:
        return threading.get_ident()

    assert await store.call(where) != main
    async with trio.open_nursery() as nursery:
        for index in range(10):
            nursery.start_soon(
                store.call, store.sync.create_account, _account(f"q{index}", f"Q{index}"), None
            )
    assert (await store.call(store.sync.account_by_name, "q7")) is not None
    await store.aclose()


_WRITER = """
import sys
from pathlib import Path
from gameserver.glicko2 import Rating
from gameserver.store.players import MatchRecord, Participant
from gameserver.store.sqlite import SQLitePlayerStore
store = SQLitePlayerStore.open(Path(sys.argv[1]))
n = 0
while True:
    parts = tuple(
        Participant(account_id=f"p{seat}", seat=seat, score=float(seat == 0),
                    before=Rating(), after=Rating(1500.0 + n, 100.0, 0.06))
        for seat in range(6)
    )
    store.record_match(MatchRecord(match_id=f"m{n}", game="liarsdice", pool="liarsdice-6",
                                   ended_at=n, participants=parts))
    n += 1
    if n == 20:
        print("writing", flush=True)
"""


def test_kill_9_while_writing_leaves_only_whole_matches(tmp_path: Path) -> None:
    """A process killed mid-write leaves every rated match whole (all six rows and every
    rating at the same match) or absent."""
    proc = subprocess.Popen(
        [sys.executable, "-c", _WRITER, str(tmp_path)], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None and proc.stdout.readline() == "writing\n"
    time.sleep(0.3)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    store = SQLitePlayerStore.open(tmp_path)
    ids = store.rated_match_ids()
    assert len(ids) >= 20
    last = max(int(match_id[1:]) for match_id in ids)
    assert ids == {f"m{n}" for n in range(last + 1)}
    for seat in range(6):
        [rating] = store.account_ratings(f"p{seat}")
        assert rating.rating.rating == 1500.0 + last and rating.games == last + 1
    store.close()
