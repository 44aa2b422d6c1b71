"""Frame header parsing, frame encoding and masking (RFC 6455 sections 5.2, 5.3, 5.7)."""

from __future__ import annotations

import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gameserver.ws.codes import Opcode
from gameserver.ws.exceptions import LocalProtocolError, ProtocolError
from gameserver.ws.frames import encode_frame, parse_header
from gameserver.ws.mask import apply_mask, rotate_mask

from .strategies import RFC_MASK

HELLO = b"Hello"
PAYLOAD_256 = bytes(range(256))
PAYLOAD_64K = os.urandom(65536)

# RFC 6455 section 5.7, byte for byte: (opcode, payload, fin, mask, wire bytes).
RFC_EXAMPLES = [
    pytest.param(Opcode.TEXT, HELLO, True, None, bytes.fromhex("810548656c6c6f"), id="text"),
    pytest.param(
        Opcode.TEXT, HELLO, True, RFC_MASK, bytes.fromhex("818537fa213d7f9f4d5158"),
        id="masked-text",
    ),
    pytest.param(Opcode.TEXT, b"Hel", False, None, bytes.fromhex("010348656c"), id="frag-1"),
    pytest.param(Opcode.CONTINUATION, b"lo", True, None, bytes.fromhex("80026c6f"), id="frag-2"),
    pytest.param(Opcode.PING, HELLO, True, None, bytes.fromhex("890548656c6c6f"), id="ping"),
    pytest.param(
        Opcode.PONG, HELLO, True, RFC_MASK, bytes.fromhex("8a8537fa213d7f9f4d5158"),
        id="masked-pong",
    ),
    pytest.param(
        Opcode.BINARY, PAYLOAD_256, True, None, bytes.fromhex("827e0100") + PAYLOAD_256,
        id="256-bytes-16-bit-length",
    ),
    pytest.param(
        Opcode.BINARY, PAYLOAD_64K, True, None,
        bytes.fromhex("827f0000000000010000") + PAYLOAD_64K, id="64KiB-64-bit-length",
    ),
]


@pytest.mark.parametrize(("opcode", "payload", "fin", "mask", "wire"), RFC_EXAMPLES)
def test_encode_matches_rfc_examples(
    opcode: Opcode, payload: bytes, fin: bool, mask: bytes | None, wire: bytes
) -> None:
    assert encode_frame(opcode, payload, fin=fin, mask=mask) == wire


@pytest.mark.parametrize(("opcode", "payload", "fin", "mask", "wire"), RFC_EXAMPLES)
def test_parse_matches_rfc_examples(
    opcode: Opcode, payload: bytes, fin: bool, mask: bytes | None, wire: bytes
) -> None:
    header = parse_header(wire)
    assert header is not None
    assert (header.opcode, header.fin, header.mask, header.length) == (
        opcode, fin, mask, len(payload),
    )
    body = wire[header.header_length :]
    assert (apply_mask(body, mask) if mask else body) == payload


@pytest.mark.parametrize(("opcode", "payload", "fin", "mask", "wire"), RFC_EXAMPLES)
def test_parse_waits_for_a_whole_header(
    opcode: Opcode, payload: bytes, fin: bool, mask: bytes | None, wire: bytes
) -> None:
    full = parse_header(wire)
    assert full is not None
    for cut in range(full.header_length):
        assert parse_header(wire[:cut]) is None
    assert parse_header(bytearray(wire[: full.header_length])) == full


BAD_HEADERS = [
    pytest.param(b"\xa1\x00", "RSV2", id="rsv2"),
    pytest.param(b"\x91\x00", "RSV3", id="rsv3"),
    pytest.param(b"\xc1\x00", "RSV1", id="rsv1-without-extension"),
    *[
        pytest.param(bytes((0x80 | op, 0)), "reserved opcode", id=f"opcode-{op:#x}")
        for op in (3, 4, 5, 6, 7, 0xB, 0xC, 0xD, 0xE, 0xF)
    ],
    pytest.param(b"\x09\x00", "fragmented control", id="ping-without-fin"),
    pytest.param(b"\x08\x00", "fragmented control", id="close-without-fin"),
    pytest.param(b"\x89\x7e\x00\x7e", "125", id="ping-126-bytes"),
    pytest.param(b"\x8a\x7f" + (70000).to_bytes(8, "big"), "125", id="pong-64-bit"),
    pytest.param(b"\x82\x7e\x00\x7d", "non-minimal 16-bit", id="non-minimal-16"),
    pytest.param(
        b"\x82\x7f" + (65535).to_bytes(8, "big"), "non-minimal 64-bit", id="non-minimal-64"
    ),
    pytest.param(b"\x82\x7f" + (2**63).to_bytes(8, "big"), "top bit", id="64-bit-top-bit"),
]


@pytest.mark.parametrize(("wire", "message"), BAD_HEADERS)
def test_bad_headers_are_protocol_errors(wire: bytes, message: str) -> None:
    with pytest.raises(ProtocolError) as info:
        parse_header(wire)
    assert info.value.code == 1002
    assert message in str(info.value)


def test_rsv1_is_allowed_on_data_frames_once_negotiated() -> None:
    header = parse_header(b"\xc1\x00", allow_rsv1=True)
    assert header is not None and header.rsv1 and header.opcode is Opcode.TEXT
    with pytest.raises(ProtocolError, match="control"):
        parse_header(b"\xc9\x00", allow_rsv1=True)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"opcode": Opcode.PING, "payload": b"x" * 126}, "125"),
        ({"opcode": Opcode.CLOSE, "payload": b"", "fin": False}, "unfragmented"),
        ({"opcode": Opcode.TEXT, "payload": b"", "mask": b"abc"}, "4 bytes"),
        ({"opcode": 0x3, "payload": b""}, "reserved"),
        ({"opcode": 0xB, "payload": b""}, "reserved"),
        ({"opcode": 0x10, "payload": b""}, "out of range"),
    ],
)
def test_encode_refuses_frames_rfc6455_forbids(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(LocalProtocolError, match=message):
        encode_frame(**kwargs)  # type: ignore[arg-type]


def test_encode_sets_rsv1_and_keeps_every_length_boundary() -> None:
    for length in (0, 125, 126, 65535, 65536):
        wire = encode_frame(Opcode.BINARY, b"\0" * length, rsv1=True)
        header = parse_header(wire, allow_rsv1=True)
        assert header is not None and header.rsv1 and header.length == length
        assert len(wire) == header.header_length + length


@settings(max_examples=150)
@given(
    opcode=st.sampled_from([Opcode.CONTINUATION, Opcode.TEXT, Opcode.BINARY]),
    payload=st.binary(max_size=70000),
    fin=st.booleans(),
    rsv1=st.booleans(),
    mask=st.none() | st.binary(min_size=4, max_size=4),
)
def test_encode_parse_round_trip(
    opcode: Opcode, payload: bytes, fin: bool, rsv1: bool, mask: bytes | None
) -> None:
    wire = encode_frame(opcode, payload, fin=fin, rsv1=rsv1, mask=mask)
    header = parse_header(wire, allow_rsv1=True)
    assert header is not None
    assert (header.opcode, header.fin, header.rsv1, header.mask) == (opcode, fin, rsv1, mask)
    body = wire[header.header_length :]
    assert len(body) == header.length == len(payload)
    assert (apply_mask(body, mask) if mask else body) == payload


@settings(max_examples=100)
@given(data=st.binary(max_size=20000), mask=st.binary(min_size=4, max_size=4))
def test_apply_mask_is_a_repeated_xor(data: bytes, mask: bytes) -> None:
    expected = bytes(b ^ mask[i % 4] for i, b in enumerate(data))
    assert apply_mask(data, mask) == expected
    assert apply_mask(expected, mask) == data


@pytest.mark.parametrize("size", [0, 1, 3, 4, 5, 8191, 8192, 8193, 100_003])
def test_apply_mask_on_both_sides_of_the_method_switch(size: int) -> None:
    data = os.urandom(size)
    mask = os.urandom(4)
    expected = bytes(b ^ mask[i % 4] for i, b in enumerate(data))
    # Three times: large sizes go translate, then build the key integer, then reuse it.
    for _ in range(3):
        assert apply_mask(data, mask) == expected
        assert apply_mask(memoryview(bytearray(data)), mask) == expected


@settings(max_examples=50)
@given(
    data=st.binary(max_size=200), mask=st.binary(min_size=4, max_size=4), cut=st.integers(0, 200)
)
def test_rotated_mask_unmasks_a_slice(data: bytes, mask: bytes, cut: int) -> None:
    cut = min(cut, len(data))
    masked = apply_mask(data, mask)
    assert apply_mask(masked[cut:], rotate_mask(mask, cut)) == data[cut:]


@settings(max_examples=200)
@given(st.binary(max_size=20))
def test_parse_header_on_arbitrary_bytes_returns_or_raises_protocol_error(wire: bytes) -> None:
    try:
        header = parse_header(wire, allow_rsv1=True)
    except ProtocolError as exc:
        assert exc.code == 1002
    else:
        assert header is None or header.header_length <= len(wire)
