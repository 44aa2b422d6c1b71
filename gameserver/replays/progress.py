"""How far a match log has come: state events since its last state hash, and its end.

Both recorders (files here, Redis streams in cluster mode) keep one ``LogProgress`` to
know when a ``StateHash`` is due and to refuse records after the end record.
"""

from __future__ import annotations

from collections.abc import Iterable

import attrs

from .records import STATE_EVENTS, Ended, Record, StateHash

#: A state hash is due after this many state-changing events (and always before the end).
HASH_EVERY = 10


@attrs.frozen
class LogProgress:
    """An immutable value: ``after`` returns the progress once more records are in."""

    since_hash: int = 0
    """State-changing events appended since the last ``StateHash``."""
    ended: bool = False
    """The end record is in the log: nothing may follow it."""

    @property
    def hash_due(self) -> bool:
        """True once ``HASH_EVERY`` state events came since the last hash: append a
        ``StateHash`` of the current state next."""
        return self.since_hash >= HASH_EVERY

    def after(self, records: Iterable[Record]) -> LogProgress:
        """The progress once ``records`` are appended, in order."""
        since, ended = self.since_hash, self.ended
        for record in records:
            if isinstance(record, STATE_EVENTS):
                since += 1
            elif isinstance(record, StateHash):
                since = 0
            elif isinstance(record, Ended):
                ended = True
        return LogProgress(since, ended)
