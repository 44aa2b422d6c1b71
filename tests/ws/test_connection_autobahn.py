"""Autobahn|Testsuite fuzzingclient cases 1-7, replayed in memory against an echo app.

Each row sends the frames of one case (masked, as a client must) to a server-side
Connection driven pull-style by an echo application, and checks what the server
writes back: the echoed messages and pongs in order, then the close code. Cases whose
frames Autobahn sends in separate chops are fed chunk by chunk. The expected outcome
is the case's strict one (OK), never NON-STRICT.
"""

from __future__ import annotations

import functools

import pytest
import trio

from gameserver.ws.codes import Opcode
from gameserver.ws.connection import Connection, Role
from gameserver.ws.events import (
    BinaryMessage,
    CloseReceived,
    Event,
    Pong,
    TextMessage,
)
from gameserver.ws.frames import encode_frame
from gameserver.ws.server import serve_websocket
from gameserver.ws.websocket import WebSocket

from .strategies import RFC_MASK, decode_sent

T, B, C, CLOSE, PING, PONG = (
    Opcode.TEXT, Opcode.BINARY, Opcode.CONTINUATION, Opcode.CLOSE, Opcode.PING, Opcode.PONG,
)
PAYLOAD = b"Hello, world!"
UTF8_HELLO = "Hello-µ@ßöäüàá-UTF-8!!".encode()
KOSME = b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5"
BINARY_PING = b"\x00\xff\xfe\xfd\xfc\xfb\x00\xff"
TEN = [b"p%d" % i for i in range(10)]


def f(opcode: int, payload: bytes = b"", *, fin: bool = True, rsv: int = 0) -> bytes:
    """One masked client frame; ``rsv`` is the 3-bit RSV field (4 = RSV1)."""
    frame = encode_frame(Opcode.BINARY, payload, mask=RFC_MASK)
    return bytes(((0x80 if fin else 0) | rsv << 4 | opcode,)) + frame[1:]


def close(code: int, reason: bytes = b"") -> bytes:
    return f(CLOSE, code.to_bytes(2, "big") + reason)


def echo_server(chunks: list[bytes]) -> tuple[list[Event], int | None]:
    """Feed ``chunks`` to a server whose app echoes every message; return what it sent
    (decoded as the client sees it) and the failure code (None when it did not fail)."""
    conn = Connection(Role.SERVER)
    wire = b""
    for chunk in chunks:
        conn.buffer_data(chunk)
        while (event := conn.next_event()) is not None:
            if isinstance(event, TextMessage):
                conn.send_text(event.data)
            elif isinstance(event, BinaryMessage):
                conn.send_binary(event.data)
            wire += conn.data_to_send()
        wire += conn.data_to_send()
        if conn.should_close_transport:
            break
    return decode_sent(Role.SERVER, wire), conn.failure.code if conn.failure else None


def text(s: bytes) -> TextMessage:
    return TextMessage(s.decode())


CLOSED_1000 = CloseReceived(1000, "")


def _chop(wire: bytes, *cuts: int) -> list[bytes]:
    """``wire`` cut at the given offsets, sent as separate writes."""
    bounds = [0, *cuts, len(wire)]
    return [wire[a:b] for a, b in zip(bounds, bounds[1:], strict=False)]

FRAG_WITH_PING = f(T, b"frag", fin=False) + f(PING, b"p") + f(C, b"ment")

# (case id, chunks sent, events the client must get back, failure code or None)
CASES: list[tuple[str, list[bytes], list[Event], int | None]] = [
    *[
        (f"1.1.{i}", [f(T, b"*" * n)], [text(b"*" * n)], None)
        for i, n in enumerate([0, 125, 126, 127, 128, 65535, 65536], 1)
    ],
    *[
        (f"1.2.{i}", [f(B, b"\xfe" * n)], [BinaryMessage(b"\xfe" * n)], None)
        for i, n in enumerate([0, 125, 126, 127, 128, 65535, 65536], 1)
    ],
    ("2.1", [f(PING)], [Pong(b"")], None),
    ("2.2", [f(PING, PAYLOAD)], [Pong(PAYLOAD)], None),
    ("2.3", [f(PING, BINARY_PING)], [Pong(BINARY_PING)], None),
    ("2.4", [f(PING, b"\xfe" * 125)], [Pong(b"\xfe" * 125)], None),
    ("2.5", [b"\x89\xfe\x00\x7e" + RFC_MASK + b"\xfe" * 126], [], 1002),
    ("2.6", [bytes([b]) for b in f(PING, b"\xfe" * 125)], [Pong(b"\xfe" * 125)], None),
    ("2.7", [f(PONG)], [], None),
    ("2.8", [f(PONG, b"unsolicited pong payload")], [], None),
    ("2.9", [f(PONG, b"unsolicited") + f(PING, b"ping")], [Pong(b"ping")], None),
    ("2.10", [b"".join(f(PING, p) for p in TEN)], [Pong(p) for p in TEN], None),
    ("2.11", [f(PING, p) for p in TEN], [Pong(p) for p in TEN], None),
    ("3.1", [f(T, PAYLOAD, rsv=1)], [], 1002),
    ("3.2", [f(T, PAYLOAD) + f(T, PAYLOAD, rsv=2) + f(PING)], [text(PAYLOAD)], 1002),
    ("3.3", [f(T, PAYLOAD), f(T, PAYLOAD, rsv=3), f(PING)], [text(PAYLOAD)], 1002),
    ("3.4", [f(T, PAYLOAD) + f(T, PAYLOAD, rsv=4) + f(PING)], [text(PAYLOAD)], 1002),
    ("3.5", [f(B, b"\xff" * 8, rsv=5)], [], 1002),
    ("3.6", [f(PING, PAYLOAD, rsv=6)], [], 1002),
    ("3.7", [f(CLOSE, b"", rsv=7)], [], 1002),
    ("4.1.1", [f(3)], [], 1002),
    ("4.1.2", [f(4, b"reserved opcode payload")], [], 1002),
    ("4.1.3", [f(T, PAYLOAD) + f(5) + f(PING)], [text(PAYLOAD)], 1002),
    ("4.1.4", [f(T, PAYLOAD) + f(6, PAYLOAD) + f(PING)], [text(PAYLOAD)], 1002),
    ("4.1.5", [f(T, PAYLOAD), f(7, PAYLOAD), f(PING)], [text(PAYLOAD)], 1002),
    ("4.2.1", [f(0xB)], [], 1002),
    ("4.2.2", [f(0xC, b"reserved opcode payload")], [], 1002),
    ("4.2.3", [f(T, PAYLOAD) + f(0xD) + f(PING)], [text(PAYLOAD)], 1002),
    ("4.2.4", [f(T, PAYLOAD) + f(0xE, PAYLOAD) + f(PING)], [text(PAYLOAD)], 1002),
    ("4.2.5", [f(T, PAYLOAD), f(0xF, PAYLOAD), f(PING)], [text(PAYLOAD)], 1002),
    ("5.1", [f(PING, b"frag", fin=False) + f(C, b"ment")], [], 1002),
    ("5.2", [f(PONG, b"frag", fin=False) + f(C, b"ment")], [], 1002),
    ("5.3", [f(T, b"frag", fin=False) + f(C, b"ment")], [TextMessage("fragment")], None),
    ("5.4", [f(T, b"frag", fin=False), f(C, b"ment")], [TextMessage("fragment")], None),
    ("5.6", [FRAG_WITH_PING], [Pong(b"p"), TextMessage("fragment")], None),
    ("5.8", [bytes([b]) for b in FRAG_WITH_PING], [Pong(b"p"), TextMessage("fragment")], None),
    ("5.9", [f(C, b"x") + f(T, b"frag", fin=False) + f(C, b"ment")], [], 1002),
    ("5.12", [f(C, b"x", fin=False) + f(T, b"frag", fin=False) + f(C, b"ment")], [], 1002),
    (
        "5.15",
        [f(T, b"frag", fin=False) + f(C, b"ment") + f(C, b"x", fin=False) + f(T, b"more")],
        [TextMessage("fragment")],
        1002,
    ),
    ("5.16", [f(C, b"x", fin=False) + f(T, b"a", fin=False) + f(C, b"b")], [], 1002),
    ("5.18", [f(T, b"frag", fin=False) + f(T, b"ment")], [], 1002),
    (
        "5.19",
        [f(T, b"f1", fin=False), f(C, b"f2", fin=False), f(PING, b"a"), f(C, b"f3", fin=False),
         f(C, b"f4", fin=False), f(PING, b"b"), f(C, b"f5")],
        [Pong(b"a"), Pong(b"b"), TextMessage("f1f2f3f4f5")],
        None,
    ),
    ("6.1.1", [f(T)], [TextMessage("")], None),
    ("6.1.2", [f(T, fin=False) + f(C, fin=False) + f(C)], [TextMessage("")], None),
    ("6.1.3", [f(T, fin=False) + f(C, b"mid", fin=False) + f(C)], [TextMessage("mid")], None),
    ("6.2.1", [f(T, UTF8_HELLO)], [text(UTF8_HELLO)], None),
    (
        "6.2.3",
        [b"".join(
            f(T if i == 0 else C, UTF8_HELLO[i : i + 1], fin=i == len(UTF8_HELLO) - 1)
            for i in range(len(UTF8_HELLO))
        )],
        [text(UTF8_HELLO)],
        None,
    ),
    ("6.3.1", [f(T, KOSME + b"\xed\xa0\x80edited")], [], 1007),
    ("6.4.1", [f(T, b"\xce\xba\xf4\x90\x80\x80", fin=False), f(C, b"edited")], [], 1007),
    ("6.4.3", _chop(f(T, KOSME + b"\xf4\x90\x80\x80edited"), 6 + 11, 6 + 15), [], 1007),
    ("6.4.4", _chop(f(T, KOSME + b"\xf4\x90\x80\x80edited"), 6 + 12, 6 + 13), [], 1007),
    ("6.x-surrogate-pair", [f(T, b"\xed\xa0\x80\xed\xb0\x80")], [], 1007),
    ("6.x-noncharacter", [f(T, "\ufffe\uffff".encode())], [TextMessage("\ufffe\uffff")], None),
    ("6.x-max-code-point", [f(T, b"\xf4\x8f\xbf\xbf")], [TextMessage("\U0010ffff")], None),
    ("7.1.1", [f(T, PAYLOAD) + close(1000)], [text(PAYLOAD), CLOSED_1000], None),
    ("7.1.2", [close(1000) + close(1000)], [CLOSED_1000], None),
    ("7.1.3", [close(1000) + f(PING)], [CLOSED_1000], None),
    ("7.1.4", [close(1000) + f(T, PAYLOAD)], [CLOSED_1000], None),
    ("7.1.5", [f(T, b"frag", fin=False) + close(1000) + f(C, b"ment")], [CLOSED_1000], None),
    (
        "7.1.6",
        [f(T, b"BAsd7&jh23" * 26214) + f(T, PAYLOAD) + close(1000) + f(PING)],
        [text(b"BAsd7&jh23" * 26214), text(PAYLOAD), CLOSED_1000],
        None,
    ),
    ("7.3.1", [f(CLOSE)], [CloseReceived(1005, "")], None),
    ("7.3.2", [f(CLOSE, b"\x03")], [], 1002),
    ("7.3.3", [close(1000)], [CLOSED_1000], None),
    ("7.3.4", [close(1000, b"Hello World!")], [CLOSED_1000], None),
    ("7.3.5", [close(1000, b"*" * 123)], [CLOSED_1000], None),
    ("7.3.6", [b"\x88\xfe\x00\x7e" + RFC_MASK + b"*" * 126], [], 1002),
    ("7.5.1", [close(1000, KOSME + b"\xed\xa0\x80")], [], 1007),
    *[
        (f"7.7.{i}", [close(code)], [CloseReceived(code, "")], None)
        for i, code in enumerate(
            [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 3999, 4000, 4999], 1
        )
    ],
    *[
        (f"7.9.{i}", [close(code)], [], 1002)
        for i, code in enumerate([0, 999, 1004, 1005, 1006, 1016, 1100, 2000, 2999], 1)
    ],
    ("7.13.1", [close(5000)], [], 1002),
    ("7.13.2", [close(65535)], [], 1002),
]


@pytest.mark.parametrize(
    ("chunks", "expected", "code"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_autobahn_case(chunks: list[bytes], expected: list[Event], code: int | None) -> None:
    sent, failure_code = echo_server(chunks)
    assert failure_code == code
    if code is None:
        assert sent == expected
    else:
        assert sent[:-1] == expected
        assert isinstance(sent[-1], CloseReceived) and sent[-1].code == code


# -- the same shapes through the Trio server over a real socket ---------------------------

HANDSHAKE = (
    b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
)


async def _echo(ws: WebSocket) -> None:
    async for message in ws:
        await ws.send(message)


async def _exchange_over_tcp(port: int, wire: bytes) -> list[Event]:
    stream = await trio.open_tcp_stream("127.0.0.1", port)
    async with stream:
        await stream.send_all(HANDSHAKE)
        received = b""
        while b"\r\n\r\n" not in received:
            received += await stream.receive_some(65536)
        head, _, rest = received.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 101")
        await stream.send_all(wire)
        with trio.fail_after(5):
            while chunk := await stream.receive_some(65536):
                rest += chunk
    return decode_sent(Role.SERVER, rest)


@pytest.mark.parametrize(
    ("wire", "code"),
    [
        pytest.param(f(T, PAYLOAD) + f(T, PAYLOAD, rsv=2) + f(PING), 1002, id="3.2"),
        pytest.param(f(T, PAYLOAD) + f(5) + f(PING), 1002, id="4.1.3"),
        pytest.param(
            f(T, PAYLOAD) + f(T, KOSME + b"\xf4\x90") + f(PING), 1007, id="utf8-after-message"
        ),
    ],
)
@pytest.mark.parametrize("read_inline", [False, True], ids=["reader-task", "read-inline"])
async def test_server_echoes_before_failing_over_tcp(wire: bytes, code: int, read_inline: bool) -> None:
    async with trio.open_nursery() as nursery:
        server = await nursery.start(
            functools.partial(serve_websocket, _echo, "127.0.0.1", 0, read_inline=read_inline)
        )
        sent = await _exchange_over_tcp(server.port, wire)
        nursery.cancel_scope.cancel()
    assert sent[0] == text(PAYLOAD)
    assert isinstance(sent[1], CloseReceived) and sent[1].code == code
    assert len(sent) == 2


@pytest.mark.parametrize(
    ("chunks", "expected", "code"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
@pytest.mark.parametrize("read_inline", [False, True], ids=["reader-task", "read-inline"])
async def test_autobahn_case_against_the_trio_echo_server(
    chunks: list[bytes], expected: list[Event], code: int | None, read_inline: bool
) -> None:
    closes_itself = code is not None or any(isinstance(e, CloseReceived) for e in expected)
    async with trio.open_nursery() as nursery:
        server = await nursery.start(
            functools.partial(serve_websocket, _echo, "127.0.0.1", 0, read_inline=read_inline)
        )
        stream = await trio.open_tcp_stream("127.0.0.1", server.port)
        async with stream:
            await stream.send_all(HANDSHAKE)
            received = b""
            while b"\r\n\r\n" not in received:
                received += await stream.receive_some(65536)
            rest = received.partition(b"\r\n\r\n")[2]
            try:
                for chunk in chunks:
                    await stream.send_all(chunk)
                    await trio.sleep(0.001)
                if not closes_itself:
                    await stream.send_all(close(1000))
            except trio.BrokenResourceError:
                pass  # the server already failed the connection and closed TCP
            with trio.fail_after(5):
                try:
                    while chunk := await stream.receive_some(65536):
                        rest += chunk
                except trio.BrokenResourceError:
                    pass
        nursery.cancel_scope.cancel()
    sent = decode_sent(Role.SERVER, rest)
    if code is not None:
        assert sent[:-1] == expected
        assert isinstance(sent[-1], CloseReceived) and sent[-1].code == code
    elif closes_itself:
        assert sent == expected
    else:
        assert sent == [*expected, CLOSED_1000]
