"""At-most-once across restarts: which move requests a match log says were applied.

A room remembers the last ``window`` moves its players' requests applied, as
``(player id, request id) -> version after the move``, and answers a request it
remembers with ``MoveResult(version)`` instead of applying it again (docs/protocol.md
section 7). A restarted server rebuilds that memory from the log with
``applied_requests``, so a move resent after a crash gets its original reply.

The log names the request (``Moved.request_id``, format version 2); the sender is the
seat's player: the ``player_id`` of the header's seat, replaced by a later ``Joined``
whose occupant has one. A bot taking the seat over (a ``Joined`` without a player id)
does not change it: the seat stays its player's, who takes it back by resuming.
"""

from __future__ import annotations

from collections.abc import Iterable

from .records import Header, Joined, Moved, Record

#: ``(player id, request id) -> state version after the move``.
AppliedRequests = dict[tuple[str, int], int]


def applied_requests(
    header: Header, records: Iterable[Record], *, window: int
) -> AppliedRequests:
    """The last ``window`` moves of ``records`` that a player's request made, oldest first.

    Pass the result to the recovered room, which answers a resent move it names with
    ``MoveResult(version=...)``. Moves without a request id (bots, logs older than
    version 2) and moves of a seat with no known player are left out. A request id
    that appears twice for one player counts once, with its latest move.
    """
    players = {index: seat.player_id for index, seat in enumerate(header.seats)}
    applied: AppliedRequests = {}
    if window <= 0:
        return applied
    for record in records:
        if isinstance(record, Joined) and record.occupant.player_id is not None:
            players[record.seat] = record.occupant.player_id
        elif isinstance(record, Moved) and record.request_id is not None:
            player = players.get(record.seat)
            if player is None:
                continue
            key = (player, record.request_id)
            applied.pop(key, None)  # re-inserted last: the window keeps the newest
            applied[key] = record.version
            if len(applied) > window:
                del applied[next(iter(applied))]
    return applied
