"""The raw file-descriptor fast path, on real TCP connections over 127.0.0.1."""

from __future__ import annotations

import contextlib
import os
import select
import socket
import struct
from collections.abc import Iterator

import pytest

from gameserver.ws.rawfd import RECEIVE_SIZE, read_nowait, write_nowait


@contextlib.contextmanager
def connected_pair() -> Iterator[tuple[socket.socket, socket.socket]]:
    """(ours, peer): a connected TCP pair on 127.0.0.1; ours is non-blocking, as every
    Trio socket is."""
    with socket.create_server(("127.0.0.1", 0)) as listener:
        peer = socket.create_connection(listener.getsockname())
        ours, _ = listener.accept()
    ours.setblocking(False)
    with ours, peer:
        yield ours, peer


@pytest.fixture
def tcp_pair() -> Iterator[tuple[socket.socket, socket.socket]]:
    with connected_pair() as pair:
        yield pair


def receive_exactly(sock: socket.socket, size: int) -> bytes:
    data = b""
    sock.settimeout(10)
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        assert chunk, "the stream ended early"
        data += chunk
    return data


def wait_readable(sock: socket.socket) -> None:
    """Block until ``sock`` has something to read (data, the end, or an error)."""
    readable, _, _ = select.select([sock], [], [], 10)
    assert readable, "nothing arrived within 10 s"


def reset(sock: socket.socket) -> None:
    """Close ``sock`` with a TCP reset instead of a FIN (SO_LINGER with a zero timeout)."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


def fill_send_buffer(sock: socket.socket) -> int:
    """Write until the kernel takes nothing more; return how much it took."""
    block = b"\0" * 65536
    total = 0
    while written := write_nowait(sock.fileno(), block):
        total += written
    return total


def test_write_nowait_hands_a_small_frame_to_the_kernel_at_once(
    tcp_pair: tuple[socket.socket, socket.socket],
) -> None:
    ours, peer = tcp_pair
    frame = b"\x82\x05hello"
    assert write_nowait(ours.fileno(), frame) == len(frame)
    assert receive_exactly(peer, len(frame)) == frame


def test_write_nowait_takes_what_fits_and_says_how_much(
    tcp_pair: tuple[socket.socket, socket.socket],
) -> None:
    ours, peer = tcp_pair
    payload = bytes(range(256)) * 40_000  # ~10 MiB: more than any socket buffer holds
    written = write_nowait(ours.fileno(), payload)
    assert 0 < written < len(payload)
    # The bytes the kernel took are exactly the first ``written`` of the payload.
    assert receive_exactly(peer, written) == payload[:written]


def test_write_nowait_returns_0_when_the_send_buffer_is_full(
    tcp_pair: tuple[socket.socket, socket.socket],
) -> None:
    ours, _ = tcp_pair
    assert fill_send_buffer(ours) > 0
    assert write_nowait(ours.fileno(), b"more") == 0


def test_write_nowait_returns_0_instead_of_raising_on_a_reset_connection(
    tcp_pair: tuple[socket.socket, socket.socket],
) -> None:
    ours, peer = tcp_pair
    reset(peer)
    # The first write after the reset may still be taken; then the error shows.
    results = [write_nowait(ours.fileno(), b"x" * 1024) for _ in range(20)]
    assert results[-1] == 0
    # The error is left for the waiting write to meet.
    with pytest.raises(OSError):
        ours.send(b"x")


def test_read_nowait_returns_none_until_something_arrives(
    tcp_pair: tuple[socket.socket, socket.socket],
) -> None:
    ours, peer = tcp_pair
    assert read_nowait(ours.fileno()) is None
    peer.sendall(b"\x81\x02hi")
    wait_readable(ours)
    assert read_nowait(ours.fileno()) == b"\x81\x02hi"
    assert read_nowait(ours.fileno()) is None


def test_read_nowait_reads_at_most_receive_size(
    tcp_pair: tuple[socket.socket, socket.socket],
) -> None:
    ours, peer = tcp_pair
    peer.sendall(b"y" * (RECEIVE_SIZE + 1000))
    received = b""
    while len(received) < RECEIVE_SIZE + 1000:
        wait_readable(ours)
        chunk = read_nowait(ours.fileno())
        if chunk is None:
            continue
        assert 0 < len(chunk) <= RECEIVE_SIZE
        received += chunk
    assert received == b"y" * (RECEIVE_SIZE + 1000)


def test_read_nowait_returns_empty_bytes_at_the_end_of_the_stream(
    tcp_pair: tuple[socket.socket, socket.socket],
) -> None:
    ours, peer = tcp_pair
    peer.sendall(b"last")
    peer.close()
    received = b""
    while (chunk := read_nowait(ours.fileno())) != b"":
        if chunk is None:
            wait_readable(ours)
        else:
            received += chunk
    assert received == b"last"


def test_read_nowait_returns_empty_bytes_instead_of_raising_on_a_reset_connection() -> None:
    with connected_pair() as (ours, peer), connected_pair() as (control, control_peer):
        reset(peer)
        reset(control_peer)
        wait_readable(ours)
        wait_readable(control)
        # A plain read meets the reset as an error ...
        with pytest.raises(ConnectionResetError):
            os.read(control.fileno(), RECEIVE_SIZE)
        # ... which read_nowait reports as the end of the stream.
        assert read_nowait(ours.fileno()) == b""
