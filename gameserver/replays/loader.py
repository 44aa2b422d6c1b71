"""Loading match logs: every whole record; a torn last record is forgiven, other damage is not.

A crash can only tear the record being appended, so damage at the very end of a file
(a cut-short or garbled last frame) is a *torn tail*: the loader keeps every record before
it and says so. Damage with whole records after it, or a whole frame that is not a valid
record, means the file was corrupted and part of the match is lost: ``CorruptReplay``.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import attrs

from . import framing
from .codec import header_from_data, record_from_data, unpack
from .errors import CorruptRecord, CorruptReplay
from .records import STATE_EVENTS, Ended, Header, Record

logger = logging.getLogger(__name__)

#: File name suffix of a match log: ``<match_id>.gsr``.
SUFFIX = ".gsr"
#: Why: the longest real match is a few hundred kilobytes; a bigger file is not a match
#: log, and reading it whole would cost memory for nothing.
MAX_LOG_BYTES = 64 << 20


@attrs.frozen
class LoadedMatch:
    """A match log as read from disk."""

    #: Where it was read from (None when parsed from bytes).
    path: Path | None
    header: Header
    #: Every whole, valid record after the header, in order.
    records: tuple[Record, ...]
    #: Offset just past the last usable record; an appender truncates to here first.
    valid_bytes: int
    #: True if bytes after ``valid_bytes`` were ignored: the last record was torn.
    torn_tail: bool
    #: What was wrong with the ignored tail (e.g. ``"truncated tail at byte 893"``), or None.
    tail_error: str | None = None

    @property
    def end(self) -> Ended | None:
        """The end record, if the match finished."""
        for record in reversed(self.records):
            if isinstance(record, Ended):
                return record
        return None

    @property
    def complete(self) -> bool:
        """True if the log has its end record."""
        return self.end is not None

    @property
    def moves(self) -> int:
        """How many state-changing events (moves, timeouts, resignations) were recorded."""
        return sum(isinstance(record, STATE_EVENTS) for record in self.records)


def parse_match(data: bytes, path: Path | None = None) -> LoadedMatch:
    """Parse a whole log from memory.

    Raise ``CorruptReplay`` if it has no valid header, if a damaged record has whole
    records after it, or if a whole frame is not a valid record. A torn last record is
    not an error: check ``torn_tail``.
    """
    where = str(path) if path is not None else "log"
    if not framing.has_magic(data):
        raise CorruptReplay(f"{where}: not a match log (bad magic)")
    scan = framing.scan(data)
    if not scan.payloads:
        raise CorruptReplay(f"{where}: no whole header record ({scan.tail.value})")
    try:
        header = header_from_data(unpack(scan.payloads[0]))
    except CorruptRecord as exc:
        raise CorruptReplay(f"{where}: malformed header: {exc}") from None
    except CorruptReplay as exc:
        raise type(exc)(f"{where}: {exc}") from None
    if scan.resumes_at is not None:
        raise CorruptReplay(f"{where}: {_damage_in_the_middle(scan)}")
    records: list[Record] = []
    for payload, offset in zip(scan.payloads[1:], scan.offsets[1:]):
        try:
            records.append(record_from_data(unpack(payload), header.format_version))
        except CorruptRecord as exc:
            raise CorruptReplay(
                f"{where}: record {len(records)} (at byte {offset}) is not a valid record: {exc}"
            ) from None
    tail_error = None
    if scan.torn:
        tail_error = f"{scan.tail.value} tail at byte {scan.end}"
        logger.warning("%s: ignoring a torn last record (%s)", where, tail_error)
    return LoadedMatch(
        path=path,
        header=header,
        records=tuple(records),
        valid_bytes=scan.end,
        torn_tail=scan.torn,
        tail_error=tail_error,
    )


def _damage_in_the_middle(scan: framing.Scan) -> str:
    """Say which record is damaged, how, and where whole records start again."""
    index = len(scan.payloads) - 1  # its position in ``LoadedMatch.records``
    how = "bad CRC or impossible length"
    if scan.tail is framing.Tail.TRUNCATED:
        how = "its length runs past the end of the file"
    return (
        f"record {index} (at byte {scan.end}) is damaged ({how}) and whole records follow "
        f"from byte {scan.resumes_at}: the log is corrupt, not torn, and part of the match "
        "is lost"
    )


def load_match(path: str | os.PathLike[str]) -> LoadedMatch:
    """Read one log; raise ``CorruptReplay`` if it is missing or unreadable, or for
    anything ``parse_match`` refuses (no valid header, damage with records after it).

    A torn last record is not an error: check ``torn_tail``.
    """
    path = Path(path)
    try:
        with open(path, "rb") as file:
            data = file.read(MAX_LOG_BYTES + 1)
    except OSError as exc:
        raise CorruptReplay(f"{path}: cannot read: {exc.strerror or exc}") from None
    if len(data) > MAX_LOG_BYTES:
        raise CorruptReplay(f"{path}: larger than {MAX_LOG_BYTES} bytes, not a match log")
    return parse_match(data, path)


def match_paths(directory: str | os.PathLike[str]) -> list[Path]:
    """Every ``*.gsr`` file in ``directory``, sorted by name (not recursive)."""
    return sorted(p for p in Path(directory).iterdir() if p.suffix == SUFFIX and p.is_file())


def iter_matches(
    directory: str | os.PathLike[str],
    *,
    on_error: Callable[[Path, CorruptReplay], None] | None = None,
) -> Iterator[LoadedMatch]:
    """Yield every readable log in ``directory``, sorted by file name.

    Unreadable files are skipped: each is logged as a warning and passed to ``on_error``
    if given. Raises ``OSError`` only if ``directory`` itself cannot be listed.
    """
    for path in match_paths(directory):
        try:
            loaded = load_match(path)
        except CorruptReplay as exc:
            logger.warning("skipping %s", exc)
            if on_error is not None:
                on_error(path, exc)
            continue
        yield loaded
