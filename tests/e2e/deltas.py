"""A wire client of protocol version 2 for e2e tests: it applies deltas as
docs/protocol.md ("Deltas") tells a client to, and shows the result as ``State`` messages.

``V2Client`` is a ``WireClient`` (so ``call``, ``state`` and ``wait_for`` work) that
offers ``gameserver.v2``. Each delta it receives either turns the document it holds of
that room into the next one (and a rebuilt ``State`` lands in its buffer), or, when it
does not fit, makes it drop the document and send ``sync``. A mover's delta is also put
in the buffer as the ``reply`` it stands for. ``drop_next_delta`` loses one delta on
purpose, to force a gap.
"""

from __future__ import annotations

from typing import Any

import msgpack
import trio

from gameserver.protocol import delta
from gameserver.protocol.codec import decode_delta, decode_server_message, encode_client_message, is_delta
from gameserver.protocol.messages import Delta, Reply, ServerMessage, State, Sync
from gameserver.protocol.version import SUBPROTOCOL_V2
from gameserver.ws.client import connect

from .conftest import RunningServer, WireClient, _close_at_exit


class Held:
    """The document of one room a client holds, with the state fields beside it."""

    def __init__(self, state: dict[str, Any]) -> None:
        self.match: int = state["match"]
        self.seat: int | None = state["seat"]
        self.version: int = state["version"]
        self.document = delta.document_of(
            view=state["view"], to_act=state["to_act"], legal=state["legal_moves"],
            seats=state["seats"], clock=state["clock"], outcome=state["outcome"],
        )

    def state(self, room_id: str) -> dict[str, Any]:
        """The full ``state`` (as decoded msgpack) this document shows."""
        document = self.document
        return {
            "type": "state", "room_id": room_id, "match": self.match, "version": self.version,
            "seat": self.seat, "view": document["view"], "to_act": document["to_act"],
            "legal_moves": delta.legal_moves_of(document, self.seat),
            "seats": document["seats"], "clock": document["clock"],
            "outcome": document["outcome"],
        }


class V2Client(WireClient):
    """A ``WireClient`` speaking protocol version 2 (see the module docstring)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.held: dict[str, Held] = {}
        self.deltas: list[Delta] = []
        self.applied = 0
        self.syncs = 0
        self.drop_next_delta = False

    async def _read_one(self) -> ServerMessage:
        data = await self.ws.receive()
        assert isinstance(data, bytes), "the server sends binary messages only"
        self.raw.append(data)
        if not is_delta(data):
            message = decode_server_message(data)
            if isinstance(message, State):
                self.held[message.room_id] = Held(msgpack.unpackb(data))
            self.buffer.append(message)
            return message
        received = decode_delta(data)
        self.deltas.append(received)
        answer: ServerMessage | None = None
        if received.id is not None:
            answer = Reply(id=received.id, result={"version": received.version})
            self.buffer.append(answer)
        if self.drop_next_delta and received.id is None:
            self.drop_next_delta = False
            return answer or message_placeholder(received)
        shown = await self._apply(received)
        return shown or answer or message_placeholder(received)

    async def _apply(self, received: Delta) -> State | None:
        """Apply a delta to the held document; on a mismatch drop it and ask for a sync."""
        held = self.held.get(received.room_id)
        if held is None:
            return None  # waiting for a full state
        if received.base != held.version:
            if received.id is not None:
                return None  # a retried move's answer, sent again as it was: only the reply
            return await self._resync(received.room_id)
        try:
            held.document = delta.apply(held.document, received.ops)
        except delta.DeltaError:
            return await self._resync(received.room_id)
        held.version = received.version
        self.applied += 1
        shown = decode_server_message(msgpack.packb(held.state(received.room_id)))
        assert isinstance(shown, State)
        self.buffer.append(shown)
        return shown

    async def _resync(self, room_id: str) -> None:
        del self.held[room_id]
        self.syncs += 1
        await self.ws.send(encode_client_message(Sync(id=next(self.ids), room_id=room_id)))
        return None


def message_placeholder(received: Delta) -> ServerMessage:
    """What ``_read_one`` returns for a delta that showed nothing new (callers ignore it)."""
    return Reply(id=-1, result={"ignored delta": received.version})


async def open_v2_client(server: RunningServer, nursery: trio.Nursery, name: str) -> V2Client:
    """Connect offering ``gameserver.v2`` (and v1, as a real client would) and say hello."""
    ws = await connect(server.url, nursery=nursery, subprotocols=[SUBPROTOCOL_V2, "gameserver.v1"])
    assert ws.subprotocol == SUBPROTOCOL_V2
    nursery.start_soon(_close_at_exit, ws)
    client = V2Client(ws)
    await client.hello(name)
    return client
