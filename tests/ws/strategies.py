"""Hypothesis strategies and frame builders shared by the WebSocket core tests."""

from __future__ import annotations

from hypothesis import strategies as st

from gameserver.ws.codes import Opcode
from gameserver.ws.connection import Connection, Role
from gameserver.ws.deflate import DeflateParams
from gameserver.ws.events import CloseReceived, Event
from gameserver.ws.frames import encode_frame

# The mask of RFC 6455 section 5.7's examples.
RFC_MASK = bytes.fromhex("37fa213d")


def frame_to(
    receiver: Role,
    opcode: int,
    payload: bytes = b"",
    *,
    fin: bool = True,
    rsv1: bool = False,
    mask: bytes = RFC_MASK,
) -> bytes:
    """Encode a frame as the peer of ``receiver`` must send it (masked toward a server).

    Any 4-bit ``opcode`` goes, reserved ones included, to build invalid input.
    """
    frame = encode_frame(
        Opcode.BINARY, payload, mask=mask if receiver is Role.SERVER else None
    )
    return bytes(((0x80 if fin else 0) | (0x40 if rsv1 else 0) | opcode,)) + frame[1:]


def peer_of(role: Role) -> Role:
    """The other role."""
    return Role.CLIENT if role is Role.SERVER else Role.SERVER


def decode_sent(sender: Role, data: bytes, deflate: DeflateParams | None = None) -> list[Event]:
    """Decode what a connection of role ``sender`` wrote, as its peer would see it."""
    receiver = Connection(peer_of(sender), deflate=deflate)
    receiver.receive_data(data)
    assert receiver.failure is None, receiver.failure
    return receiver.events_received()


def sent_close_code(sender: Role, data: bytes) -> int | None:
    """The code of the close frame at the end of what ``sender`` wrote (None if none)."""
    events = decode_sent(sender, data)
    if events and isinstance(events[-1], CloseReceived):
        return events[-1].code
    return None


messages = st.one_of(
    st.text(max_size=300).map(lambda t: (Opcode.TEXT, t)),
    st.binary(max_size=300).map(lambda b: (Opcode.BINARY, b)),
)
"""A (opcode, data) pair for one message."""


@st.composite
def fragmented(draw: st.DrawFn, receiver: Role) -> tuple[bytes, list[tuple[Opcode, object]]]:
    """A valid byte stream toward ``receiver``: messages cut into frames, with pings
    interleaved; returns the stream and the messages/pings it must yield in order."""
    stream = b""
    expected: list[tuple[Opcode, object]] = []
    for opcode, data in draw(st.lists(messages, max_size=6)):
        raw = data.encode("utf-8") if isinstance(data, str) else data
        assert isinstance(raw, bytes)
        cuts = sorted(draw(st.lists(st.integers(0, len(raw)), max_size=4)))
        pieces = [raw[a:b] for a, b in zip([0, *cuts], [*cuts, len(raw)], strict=True)]
        for i, piece in enumerate(pieces):
            first, last = i == 0, i == len(pieces) - 1
            stream += frame_to(
                receiver, opcode if first else Opcode.CONTINUATION, piece, fin=last
            )
            if not last and draw(st.booleans()):
                ping = draw(st.binary(max_size=125))
                stream += frame_to(receiver, Opcode.PING, ping)
                expected.append((Opcode.PING, ping))
        expected.append((opcode, data))
    return stream, expected


@st.composite
def splits(draw: st.DrawFn, data: bytes) -> list[bytes]:
    """``data`` cut at arbitrary points (possibly into single bytes)."""
    cuts = sorted(set(draw(st.lists(st.integers(0, len(data)), max_size=20))))
    return [data[a:b] for a, b in zip([0, *cuts], [*cuts, len(data)], strict=True)]
