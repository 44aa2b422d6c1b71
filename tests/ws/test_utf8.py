"""Incremental UTF-8 validation: fail fast at the first byte that proves a sequence bad."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gameserver.ws.codes import Opcode
from gameserver.ws.connection import Connection, Role
from gameserver.ws.events import TextMessage
from gameserver.ws.exceptions import ProtocolError
from gameserver.ws.utf8 import Utf8Decoder, decode_utf8

from .strategies import frame_to, splits

ROLES = pytest.mark.parametrize("role", [Role.SERVER, Role.CLIENT], ids=["server", "client"])

# "κόσμε" (with U+1F79), the valid prefix of Autobahn's case 6.4.x payloads.
KOSME = b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5"

# (bytes, index of the first byte at which the sequence is certainly invalid)
INVALID = [
    pytest.param(b"\x80", 0, id="lone-continuation"),
    pytest.param(b"\xc0\x80", 0, id="overlong-c0"),
    pytest.param(b"\xc1\xbf", 0, id="overlong-c1"),
    pytest.param(b"\xe0\x80\x80", 1, id="overlong-3-byte"),
    pytest.param(b"\xf0\x8f\xbf\xbf", 1, id="overlong-4-byte"),
    pytest.param(b"\xed\xa0\x80", 1, id="high-surrogate"),
    pytest.param(b"\xed\xbf\xbf", 1, id="low-surrogate"),
    pytest.param(b"\xf4\x90\x80\x80", 1, id="above-10ffff"),
    pytest.param(b"\xf5\x80\x80\x80", 0, id="f5"),
    pytest.param(b"\xff", 0, id="ff"),
    pytest.param(b"\xce\x41", 1, id="missing-continuation"),
    pytest.param(b"\xe1\xbd\x41", 2, id="missing-third-byte"),
    pytest.param(KOSME + b"\xf4\x90\x80\x80", 12, id="kosme-then-bad"),
]


@pytest.mark.parametrize(("data", "bad_at"), INVALID)
def test_invalid_sequences_fail_at_the_first_bad_byte(data: bytes, bad_at: int) -> None:
    decoder = Utf8Decoder()
    for i in range(bad_at):
        decoder.feed(data[i : i + 1])
    with pytest.raises(ProtocolError) as info:
        decoder.feed(data[bad_at : bad_at + 1])
    assert info.value.code == 1007


@pytest.mark.parametrize("data", [b"\xce", b"\xe1\xbd", b"\xf0\x9f\x98"])
def test_ending_inside_a_sequence_is_1007(data: bytes) -> None:
    decoder = Utf8Decoder()
    assert decoder.feed(data) == ""
    with pytest.raises(ProtocolError, match="ends inside") as info:
        decoder.finish()
    assert info.value.code == 1007


@settings(max_examples=150)
@given(data=st.data(), text=st.text(max_size=200))
def test_any_split_of_valid_text_decodes_to_the_text(data: st.DataObject, text: str) -> None:
    decoder = Utf8Decoder()
    pieces = data.draw(splits(text.encode("utf-8")))
    assert "".join(decoder.feed(p) for p in pieces) + decoder.finish() == text


@settings(max_examples=150)
@given(st.binary(max_size=50))
def test_arbitrary_bytes_decode_or_fail_with_1007(data: bytes) -> None:
    decoder = Utf8Decoder()
    try:
        text = decoder.feed(data) + decoder.finish()
    except ProtocolError as exc:
        assert exc.code == 1007
        with pytest.raises(UnicodeDecodeError):
            data.decode("utf-8")
    else:
        assert text == data.decode("utf-8")


def test_decode_utf8_names_what_it_decodes() -> None:
    assert decode_utf8("✓".encode(), "close reason") == "✓"
    with pytest.raises(ProtocolError, match="close reason") as info:
        decode_utf8(b"\xff", "close reason")
    assert info.value.code == 1007


@ROLES
def test_fail_fast_at_the_fragment_holding_the_bad_sequence(role: Role) -> None:
    # Autobahn 6.4.2's shape: the sequence turns invalid in the second of four frames.
    conn = Connection(role)
    conn.receive_data(
        frame_to(role, Opcode.TEXT, KOSME + b"\xf4", fin=False)
    )
    assert conn.failure is None
    conn.receive_data(frame_to(role, Opcode.CONTINUATION, b"\x90", fin=False))
    assert conn.failure is not None and conn.failure.code == 1007


@ROLES
def test_fail_fast_inside_one_frame_delivered_in_chops(role: Role) -> None:
    # Autobahn 6.4.3's shape: one frame, the bad bytes arrive in the middle chop.
    wire = frame_to(role, Opcode.TEXT, KOSME + b"\xf4\x90\x80\x80edited")
    conn = Connection(role)
    header_and_valid = len(wire) - len(b"\xf4\x90\x80\x80edited")
    conn.receive_data(wire[:header_and_valid])
    assert conn.failure is None
    conn.receive_data(wire[header_and_valid : header_and_valid + 4])
    assert conn.failure is not None and conn.failure.code == 1007


@ROLES
def test_valid_text_split_across_fragments_mid_character(role: Role) -> None:
    data = "κόσμε 😀".encode()
    conn = Connection(role)
    conn.receive_data(
        b"".join(
            frame_to(role, Opcode.TEXT if i == 0 else Opcode.CONTINUATION, data[i : i + 1],
                     fin=i == len(data) - 1)
            for i in range(len(data))
        )
    )
    assert conn.events_received() == [TextMessage("κόσμε 😀")]
