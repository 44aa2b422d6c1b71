"""Token revocations: per player, a time before which its tokens are refused.

``logout`` revokes every token of its player issued so far; ``hello`` with
``revoke_others`` revokes those issued before the new one. A revocation is one number
per player, its *not before* time (microseconds since the Unix epoch): a token issued
earlier is refused. They live in memory and, given a data directory, in its file
``revocations``: one line ``<player_id> <not_before_us>`` per revocation, appended and
forced to disk before the client is told, so they survive a restart. Loading drops
lines older than the token lifetime (those tokens have expired anyway) and a torn last
line, and rewrites the file when it dropped any.
"""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path

log = logging.getLogger(__name__)

REVOCATIONS_FILE = "revocations"


class Revocations:
    """The *not before* time of each player that revoked its tokens."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path
        """The file they are kept in; None keeps them in memory only."""
        self._not_before: dict[str, int] = {}
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
            player_id, _, number = line.partition(" ")
            if not number.isdigit():
                continue  # a torn last line, or garbage
            not_before = int(number)
            if not_before > oldest:
                revocations.revoke(player_id, not_before)
        if len(revocations._not_before) < len(lines):
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

    def write(self, player_id: str) -> None:
        """Append ``player_id``'s revocation to the file and force it to disk (blocking:
        run it in a thread). Raises ``OSError`` when it cannot be made durable."""
        if self.path is None:
            return
        line = f"{player_id} {self.not_before(player_id)}\n".encode("ascii")
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
        body = "".join(f"{player} {at}\n" for player, at in self._not_before.items())
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.write(fd, body.encode("ascii"))
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, self.path)
        log.info("kept %d token revocations in %s", len(self._not_before), self.path)
