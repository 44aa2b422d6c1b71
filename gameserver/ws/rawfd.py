"""The raw file-descriptor fast path: read and write a plain TCP socket without waiting.

Trio's ``SocketStream`` wraps every call in checkpoints and, when the socket is not
ready, parks the task. A WebSocket over plain TCP can do better in two places:

- fan-out writes one small frame to many sockets; ``write_nowait`` hands it to the
  kernel at once, from the calling task, without switching to any other task;
- an idle connection waits in ``trio.lowlevel.wait_readable`` and then calls
  ``read_nowait``, which keeps fewer and smaller frames alive while it waits than
  ``SocketStream.receive_some`` does (about 1 KB per connection).

Both calls need the socket in non-blocking mode (every Trio socket is) and never
raise: they report what happened in their return value. The caller owns the socket,
checks that ``fd`` is still its number, and finishes what these calls could not do
with an ordinary (waiting) write or read.
"""

from __future__ import annotations

import os

__all__ = ["RECEIVE_SIZE", "read_nowait", "write_nowait"]

# 64 KiB per read: large enough to take many small frames in one go, small enough
# to stay below malloc's mmap threshold so each read is cheap.
RECEIVE_SIZE = 65536


def write_nowait(fd: int, data: bytes) -> int:
    """Write as much of ``data`` to the non-blocking ``fd`` as the kernel takes now.

    Returns how many bytes it took: ``len(data)`` when all, fewer when the send buffer
    is full, 0 when it is full or the socket is broken (reset, closed by the peer). The
    caller must write ``data[written:]`` later with a waiting write, which also meets
    the error of a broken socket and ends the connection.
    """
    try:
        return os.write(fd, data)
    except OSError:  # BlockingIOError included: nothing was taken
        return 0


def read_nowait(fd: int) -> bytes | None:
    """Read up to ``RECEIVE_SIZE`` bytes the non-blocking ``fd`` has now.

    Returns the bytes read; ``b""`` when the peer closed its end or the socket broke
    (either way nothing more will arrive); None when nothing has arrived yet: wait
    with ``trio.lowlevel.wait_readable(fd)``, then call this again.

    A plain function, not inline in the reading coroutine: the BlockingIOError's
    traceback would give that coroutine a frame object (about 250 bytes) for as long
    as the connection lives.
    """
    try:
        return os.read(fd, RECEIVE_SIZE)
    except BlockingIOError:
        return None
    except OSError:
        return b""
