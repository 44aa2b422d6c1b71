"""One-line facts about a match log: who played what, how it ended, how long, when."""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from pathlib import Path

import attrs

from .loader import LoadedMatch
from .records import Ended, Header, Joined, Occupant, OccupantKind, Record


@attrs.frozen
class MatchSummary:
    """What ``gameserver replay list`` shows for one log."""

    path: Path | None
    match_id: str
    game: str
    #: Seat names in seat order (bots as ``name [bot:strategy]``).
    players: tuple[str, ...]
    #: e.g. "ann won (three in a row)", "draw (board full)", "aborted", "unfinished".
    result: str
    #: Moves, timeouts and resignations recorded.
    moves: int
    started_at: int
    complete: bool
    torn_tail: bool


def format_time(ms: int) -> str:
    """``YYYY-MM-DD HH:MM:SS`` in UTC for a time in ms since the epoch ("?" if out of range)."""
    try:
        moment = datetime.datetime.fromtimestamp(ms / 1000, datetime.UTC)
    except (OverflowError, OSError, ValueError):
        return "?"
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def _label(seat: Occupant) -> str:
    return seat.name if seat.kind is OccupantKind.HUMAN else f"{seat.name} [bot:{seat.strategy}]"


def player_names(header: Header, records: Sequence[Record] = ()) -> tuple[str, ...]:
    """Seat names, bots marked with their strategy; a seat taken over reads ``old -> new``."""
    names = [_label(seat) for seat in header.seats]
    for record in records:
        if isinstance(record, Joined) and record.seat < len(names):
            names[record.seat] += f" -> {_label(record.occupant)}"
    return tuple(names)


def final_seats(header: Header, records: Sequence[Record]) -> tuple[Occupant, ...]:
    """Who occupied each seat at the end of the log."""
    seats = list(header.seats)
    for record in records:
        if isinstance(record, Joined) and record.seat < len(seats):
            seats[record.seat] = record.occupant
    return tuple(seats)


def describe_end(
    header: Header, end: Ended | None, seats: Sequence[Occupant] | None = None
) -> str:
    """The result in words, naming winners by ``seats`` (default: the header's)."""
    if end is None:
        return "unfinished"
    if end.aborted:
        return "aborted"
    reason = f" ({end.reason})" if end.reason else ""
    if end.draw or not end.winners:
        return f"draw{reason}"
    seats = header.seats if seats is None else seats
    names = [seats[w].name if w < len(seats) else f"seat {w}" for w in end.winners]
    return f"{' and '.join(names)} won{reason}"


def summarize(loaded: LoadedMatch) -> MatchSummary:
    """The summary of one loaded log (no re-simulation)."""
    header = loaded.header
    return MatchSummary(
        path=loaded.path,
        match_id=header.match_id,
        game=header.game,
        players=player_names(header, loaded.records),
        result=describe_end(header, loaded.end, final_seats(header, loaded.records)),
        moves=loaded.moves,
        started_at=header.started_at,
        complete=loaded.complete,
        torn_tail=loaded.torn_tail,
    )
