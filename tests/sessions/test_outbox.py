"""The per-connection outbox: coalescing, bounds, shared frames."""

from __future__ import annotations

import pytest
import trio
import trio.testing

from gameserver.rooms.errors import OutboxOverflow
from gameserver.rooms.members import Payload
from gameserver.sessions.outbox import Outbox, frame_of
from gameserver.ws.frames import encode_frame
from gameserver.ws.codes import Opcode


def test_keyed_updates_supersede_older_ones() -> None:
    outbox = Outbox(limit=10)
    outbox.put(Payload(b"state1"), key="state:r")
    outbox.put(Payload(b"chat"))
    outbox.put(Payload(b"state2"), key="state:r")
    outbox.put(Payload(b"other"), key="state:q")
    drained = []
    while (payload := outbox.get_nowait()) is not None:
        drained.append(payload.data)
    assert drained == [b"chat", b"state2", b"other"]
    assert outbox.coalesced == 1


async def test_unkeyed_overflow_marks_the_outbox() -> None:
    outbox = Outbox(limit=2)
    assert outbox.put(Payload(b"a")) and outbox.put(Payload(b"b"))
    assert outbox.put(Payload(b"k"), key="state:r")  # keyed items never overflow
    assert not outbox.put(Payload(b"c"))
    assert outbox.overflowed
    with trio.fail_after(1):
        await outbox.wait_overflow()
    with pytest.raises(OutboxOverflow):
        await outbox.get()


async def test_get_waits_and_ends_after_close() -> None:
    outbox = Outbox()
    got = []

    async def reader() -> None:
        try:
            while True:
                got.append((await outbox.get()).data)
        except trio.EndOfChannel:
            got.append(b"end")

    async with trio.open_nursery() as nursery:
        nursery.start_soon(reader)
        await trio.testing.wait_all_tasks_blocked()
        outbox.put(Payload(b"x"))
        outbox.close()
        assert not outbox.put(Payload(b"late"))
    assert got == [b"x", b"end"]


def test_a_payload_is_framed_once() -> None:
    payload = Payload(b"\x81\xa4type\xa5state")
    assert frame_of(payload) is frame_of(payload)
    assert frame_of(payload) == encode_frame(Opcode.BINARY, payload.data)
