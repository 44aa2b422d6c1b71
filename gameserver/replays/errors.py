"""Exceptions raised by the match log.

::

    ReplayError                  root: anything that goes wrong with a match log
     ├── CorruptReplay           the file is not a readable match log (missing file, wrong
     │    │                      magic, torn or malformed header, damage with records after
     │    │                      it, an invalid record); nothing can be loaded
     │    └── UnsupportedVersion the header names a format version newer than this code
     ├── CorruptRecord           one record frame is whole but its content is not a valid
     │                           record; the loader turns it into CorruptReplay
     ├── RecorderError           the recorder cannot append (closed, ended, a failed write)
     │    ├── WriteFailed        the disk refused the write (full, I/O error); nothing was
     │    │                      added to the file, and a later append may succeed
     │    └── InvalidRecord      the caller passed a record that would not load back
     └── ReplayMismatch          re-simulation disagrees with the log (``.index`` says where)

A torn *tail* (a cut-short or garbled last record: a crash mid-append) is never an
exception: ``load_match`` reports it in ``LoadedMatch.torn_tail`` and returns every whole
record before it. Damage followed by whole records is corruption: ``CorruptReplay``.
"""

from __future__ import annotations


class ReplayError(Exception):
    """Root of every match-log error."""


class CorruptReplay(ReplayError):
    """The file cannot be used at all: no magic, no whole, valid header record, a damaged
    record with whole records after it, or a whole frame that is not a valid record.

    Callers listing or recovering many files should log this and skip the file.
    """


class UnsupportedVersion(CorruptReplay):
    """The file was written by a newer format version than this code reads.

    Upgrade the server to read it; the file itself may be perfectly sound.
    """


class CorruptRecord(ReplayError):
    """A whole frame (its CRC matched) holds something that is not a valid record."""


class RecorderError(ReplayError):
    """The recorder refused an append: it is closed, the match has ended, or a write failed."""


class WriteFailed(RecorderError):
    """The operating system refused to write or sync the records (disk full, I/O error).

    None of the records is in the file: any part of them that reached it was cut off
    again, so the file ends on the last whole record and loads normally. The recorder
    stays open; append again (e.g. once the disk has room) and the file continues.
    ``__cause__`` is the ``OSError``.
    """


class InvalidRecord(RecorderError, ValueError):
    """A record (or header) given to the recorder would not load back: a float time, a
    seat out of range, data msgpack cannot hold. Nothing was written; fix the caller.
    """


class ReplayMismatch(ReplayError):
    """Re-simulating the log through the game disagrees with what the log recorded.

    ``index`` is the position of the offending record in ``LoadedMatch.records``
    (-1 when the match cannot even be set up: unknown game or invalid options);
    ``reason`` says what disagreed.
    """

    def __init__(self, index: int, reason: str) -> None:
        super().__init__(f"record {index}: {reason}")
        self.index = index
        self.reason = reason
