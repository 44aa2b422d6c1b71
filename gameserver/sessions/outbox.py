"""Per-connection bounded outbox with coalescing of superseded updates.

Rooms and the lobby never await a client: they ``put`` already-encoded payloads into the
recipient's outbox and move on. The connection's writer task ``await get()``s them and
writes them to the socket at whatever pace the client reads.

Updates that carry a ``key`` (e.g. ``"state:<room_id>"``) supersede any queued update with
the same key: the old one is dropped and the new one goes to the back of the queue, so a
stalled client costs at most one queued state per room. Items without a key (replies,
chat) count against ``limit``; when a client falls that far behind, the outbox marks
itself ``overflowed`` and the writer must close the connection (the player can resume).
"""

from __future__ import annotations

from collections import OrderedDict

import trio

from gameserver.rooms.errors import OutboxOverflow
from gameserver.rooms.members import Payload
from gameserver.ws.codes import Opcode
from gameserver.ws.frames import encode_frame

# Enough for bursts of replies and chat; a client this far behind is not reading.
DEFAULT_OUTBOX_LIMIT = 256


def frame_of(payload: Payload) -> bytes:
    """The unmasked binary WebSocket frame for ``payload``, made once and cached on it
    (every recipient of the same payload shares the frame)."""
    frame = payload.frame
    if frame is None:
        frame = payload.frame = encode_frame(Opcode.BINARY, payload.data)
    return frame


class Outbox:
    """Bounded, coalescing queue of payloads for one connection.

    ``put`` never blocks. ``get`` waits for the next payload and raises
    ``trio.EndOfChannel`` once the outbox is closed and drained.
    """

    # Every idle connection has an outbox: slots, and the queue made on first put.
    __slots__ = (
        "limit", "_items", "_seq", "_unkeyed", "_event", "_overflow", "closed",
        "overflowed", "coalesced",
    )

    def __init__(self, limit: int = DEFAULT_OUTBOX_LIMIT) -> None:
        self.limit = limit
        # seq or key -> payload, in send order; None until something is queued
        self._items: OrderedDict[object, Payload] | None = None
        self._seq = 0
        self._unkeyed = 0
        # Created when first waited on: most connections never need them.
        self._event: trio.Event | None = None
        self._overflow: trio.Event | None = None
        self.closed = False
        #: True once an unkeyed put found the outbox full; the writer closes the connection.
        self.overflowed = False
        #: Payloads dropped because a newer one with the same key replaced them.
        self.coalesced = 0

    def __len__(self) -> int:
        items = self._items
        return 0 if items is None else len(items)

    def put(self, payload: Payload, *, key: str | None = None) -> bool:
        """Queue ``payload``; return False when it was not queued (closed or overflowed)."""
        if self.closed or self.overflowed:
            return False
        items = self._items
        if items is None:
            items = self._items = OrderedDict()
        if key is None:
            if self._unkeyed >= self.limit:
                self.overflowed = True
                if self._overflow is not None:
                    self._overflow.set()
                self._wake()
                return False
            self._unkeyed += 1
            self._seq += 1
            items[self._seq] = payload
        else:
            slot = ("key", key)
            if items.pop(slot, None) is not None:
                self.coalesced += 1
            items[slot] = payload
        self._wake()
        return True

    def _wake(self) -> None:
        if self._event is not None:
            self._event.set()

    async def wait_overflow(self) -> None:
        """Return once the outbox has overflowed (the writer may be stuck in a send)."""
        if self.overflowed:
            await trio.lowlevel.checkpoint()
            return
        if self._overflow is None:
            self._overflow = trio.Event()
        await self._overflow.wait()

    def close(self) -> None:
        """Stop accepting payloads; ``get`` drains what is queued, then ends."""
        self.closed = True
        self._wake()

    def get_nowait(self) -> Payload | None:
        """Return the next queued payload, or None when the outbox is empty."""
        items = self._items
        if not items:
            return None
        slot, payload = items.popitem(last=False)
        if not isinstance(slot, tuple):
            self._unkeyed -= 1
        return payload

    async def get(self) -> Payload:
        """Wait for the next payload; raise ``trio.EndOfChannel`` when closed and empty,
        or ``OutboxOverflow`` when the client fell too far behind."""
        while True:
            if self.overflowed:
                raise OutboxOverflow()
            payload = self.get_nowait()
            if payload is not None:
                return payload
            if self.closed:
                raise trio.EndOfChannel
            self._event = trio.Event()
            await self._event.wait()
