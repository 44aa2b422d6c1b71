"""Token revocations: per player, a time before which its tokens are refused; and
revoked sessions, whose tokens are all refused.

``logout`` revokes every token of its player issued so far; ``hello`` with
``revoke_others`` revokes those issued before the new one. A player's revocation is one
number, its *not before* time (microseconds since the Unix epoch): a token issued
earlier is refused. ``revoke_session`` revokes one session of an account: every token
carrying that session id is refused, whenever it was issued.

They live in memory and, given a data directory, in its file ``revocations``: one line
per revocation, ``<player_id> <not_before_us>`` or ``session:<session_id> <revoked_us>``
(player and session ids never hold a ``:``), appended and forced to disk before the
client is told, so they survive a restart. Loading drops lines older than the token
lifetime (those tokens have expired anyway: a session's tokens were all issued before
it was revoked) and a torn last line, and rewrites the file when it dropped any.
"""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path

log = logging.getLogger(__name__)

REVOCATIONS_FILE = "revocations"
# The key of a session's line in the file; player ids never start with it.
SESSION_PREFIX = "session:"


class Revocations:
    """The *not before* time of each player that revoked its tokens, and the revoked
    sessions."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path
        """The file they are kept in; None keeps them in memory only."""
        self._not_before: dict[str, int] = {}
        self._sessions: dict[str, int] = {}
        """Revoked session ids and when they were revoked (µs)."""
        # ``write`` runs in worker threads; appends must not interleave.
        self._lock = threading.Lock()

    @classmethod
    def load(cls, data_dir: Path | None, *, ttl: float, now: float) -> Revocations:
        """Read the revocations kept in ``data_dir`` (none yet is fine); ``ttl`` is the
        token lifetime in seconds, ``now`` the wall clock. Raises ``OSError``."""
        if data_dir is None:
            return cls()
        path = data_dir / REVOCATIONS_FILE
        revocations = cls(path)
        try:
            text = path.read_text(encoding="ascii", errors="replace")
        except FileNotFoundError:
            return revocations
        oldest = int((now - ttl) * 1_000_000)
        lines = [line for line in text.split("\n") if line]
        for line in lines:
            key, _, number = line.partition(" ")
            if not number.isdigit():
                continue  # a torn last line, or garbage
            at = int(number)
            if at <= oldest:
                continue
            if key.startswith(SESSION_PREFIX):
                revocations.revoke_session(key.removeprefix(SESSION_PREFIX), at)
            else:
                revocations.revoke(key, at)
        if len(revocations._not_before) + len(revocations._sessions) < len(lines):
            revocations._rewrite()
        return revocations

    def not_before(self, player_id: str) -> int:
        """Tokens of ``player_id`` issued before this time (µs) are refused; 0: none."""
        return self._not_before.get(player_id, 0)

    def revoke(self, player_id: str, not_before: int) -> None:
        """Refuse the tokens of ``player_id`` issued before ``not_before`` (µs), at once and
        in memory; call ``write`` (in a worker thread) to make it durable."""
        if not_before > self._not_before.get(player_id, 0):
            self._not_before[player_id] = not_before

    def session_revoked(self, session_id: str) -> bool:
        """Whether every token of ``session_id`` is refused."""
        return session_id in self._sessions

    def revoke_session(self, session_id: str, at: int) -> None:
        """Refuse every token of ``session_id`` (revoked at ``at``, µs), at once and in
        memory; call ``write_session`` (in a worker thread) to make it durable."""
        self._sessions.setdefault(session_id, at)

    def write(self, player_id: str) -> None:
        """Append ``player_id``'s revocation to the file and force it to disk (blocking:
        run it in a thread). Raises ``OSError`` when it cannot be made durable."""
        self._append(f"{player_id} {self.not_before(player_id)}\n")

    def write_session(self, session_id: str) -> None:
        """Append the revocation of ``session_id`` to the file and force it to disk
        (blocking: run it in a thread). Raises ``OSError`` when it cannot be made durable."""
        self._append(f"{SESSION_PREFIX}{session_id} {self._sessions[session_id]}\n")

    def _append(self, text: str) -> None:
        if self.path is None:
            return
        line = text.encode("ascii")
        with self._lock:
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            try:
                os.write(fd, line)
                os.fsync(fd)
            finally:
                os.close(fd)

    def _rewrite(self) -> None:
        assert self.path is not None
        tmp = self.path.with_suffix(".tmp")
        body = "".join(f"{player} {at}\n" for player, at in self._not_before.items()) + "".join(
            f"{SESSION_PREFIX}{session} {at}\n" for session, at in self._sessions.items()
        )
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.write(fd, body.encode("ascii"))
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, self.path)
        log.info(
            "kept %d token and %d session revocations in %s", len(self._not_before),
            len(self._sessions), self.path,
        )
