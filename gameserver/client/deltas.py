"""Protocol version 2 on the SDK side: the document held per room, updated by deltas.

Once a room's full ``State`` has arrived, the server sends later versions of it as
*deltas* (``codec.decode_delta`` reads them). :class:`Documents` keeps one document per
room (``gameserver.protocol.delta``), applies each delta to it and turns the result into
the same ``State`` a version 1 connection would have received.

The apply rule (docs/protocol.md, "Deltas"): a delta applies only to a document of
version ``base``. One carrying a move's ``id`` that does not fit is the stored answer
to a resent move: it is the reply only, and the document stays as it is. Any other
mismatch, or ops that do not fit, drops the room's document: the caller then sends
``sync`` for the rooms :meth:`Documents.take_resyncs` names, and the room's deltas are
ignored until its next full state.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs
import msgpack

from gameserver.protocol import delta
from gameserver.protocol.errors import RequestError
from gameserver.protocol.messages import Delta, State
from gameserver.protocol.schema import record_from_wire

__all__ = ["Documents"]


@attrs.define
class _Held:
    """A room's document and what the full state said beside it."""

    match: int
    seat: int | None
    version: int
    document: dict[str, Any]


class Documents:
    """The documents of one connection, one per room (sans-IO: no trio, no socket).

    Call :meth:`hold` with every full ``State`` (and its bytes), :meth:`apply` with
    every delta, then send ``sync`` for each room :meth:`take_resyncs` returns. Call
    :meth:`clear` when the connection ends: the next one starts from full states.
    """

    def __init__(self) -> None:
        self._held: dict[str, _Held] = {}
        # Rooms whose document was dropped: their deltas wait for a full state.
        self._dropped: set[str] = set()
        self._resyncs: list[str] = []

    def hold(self, state: State, data: bytes) -> None:
        """Start the room's document from a full state (``data``: the message as received,
        so the document holds exactly what the server sent, fields this SDK does not
        know included)."""
        wire = msgpack.unpackb(data, raw=False)
        document = delta.document_of(
            view=wire.get("view"), to_act=wire.get("to_act") or [],
            legal=wire.get("legal_moves") or [], seats=wire.get("seats") or [],
            clock=wire.get("clock"), outcome=wire.get("outcome"),
        )  # fmt: skip
        self._held[state.room_id] = _Held(state.match, state.seat, state.version, document)
        self._dropped.discard(state.room_id)

    def apply(self, change: Delta) -> State | None:
        """The room's new ``State`` after ``change``, or None when it does not apply to
        what is held (then :meth:`take_resyncs` may name the room)."""
        held = self._held.get(change.room_id)
        if held is None or change.base != held.version:
            if change.id is None:
                self._drop(change.room_id)
            return None
        try:
            document = delta.apply(held.document, change.ops)
            state = _state_of(change.room_id, held, change.version, document)
        except (delta.DeltaError, RequestError):
            self._drop(change.room_id)
            return None
        held.version, held.document = change.version, document
        return state

    def take_resyncs(self) -> list[str]:
        """The rooms to send ``sync`` for now (each named once per dropped document)."""
        rooms, self._resyncs = self._resyncs, []
        return rooms

    def forget(self, room_id: str) -> None:
        """Stop holding ``room_id``'s document (the client no longer follows the room)."""
        self._held.pop(room_id, None)
        self._dropped.discard(room_id)

    def clear(self) -> None:
        """Drop every document: the connection they belonged to has ended."""
        self._held.clear()
        self._dropped.clear()
        self._resyncs.clear()

    def _drop(self, room_id: str) -> None:
        self._held.pop(room_id, None)
        if room_id not in self._dropped:
            self._dropped.add(room_id)
            self._resyncs.append(room_id)


def _state_of(room_id: str, held: _Held, version: int, document: Mapping[str, Any]) -> State:
    """The ``State`` a full state of this document would have decoded to."""
    wire = {
        "room_id": room_id,
        "match": held.match,
        "version": version,
        "seat": held.seat,
        "view": document["view"],
        "to_act": document["to_act"],
        "legal_moves": delta.legal_moves_of(document, held.seat),
        "seats": document["seats"],
        "clock": document["clock"],
        "outcome": document["outcome"],
    }
    state: State = record_from_wire(wire, State, "state", signed=True)
    return state
