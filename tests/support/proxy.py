"""A TCP proxy in front of a server port: it can cut every connection (a network
failure) or throw away what the server sends (replies that get lost)."""

from __future__ import annotations

import trio


class Proxy:
    """Forwards TCP connections to ``target_port``; ``cut()`` aborts every live one.

    While nothing listens on the target (a server restarting), a new connection is
    closed at once, as if refused: the client just tries again.
    """

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = 0
        self.connections = 0
        """Connections accepted so far."""
        self.drop_server_data = False
        """While True, bytes from the server are thrown away (replies get lost)."""
        self._streams: list[trio.SocketStream] = []

    @property
    def url(self) -> str:
        """The server's URL through the proxy."""
        return f"ws://127.0.0.1:{self.port}/ws"

    @property
    def direct_url(self) -> str:
        """The same server's URL without the proxy."""
        return f"ws://127.0.0.1:{self.target_port}/ws"

    async def serve(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Listen on a free port (``port``, ``url``) until cancelled: ``nursery.start`` it."""
        listeners = await trio.open_tcp_listeners(0, host="127.0.0.1")
        self.port = listeners[0].socket.getsockname()[1]
        task_status.started()
        await trio.serve_listeners(self._handle, listeners)

    async def _handle(self, downstream: trio.SocketStream) -> None:
        self.connections += 1
        try:
            upstream = await trio.open_tcp_stream("127.0.0.1", self.target_port)
        except OSError:
            await trio.aclose_forcefully(downstream)
            return
        self._streams += [downstream, upstream]
        async with trio.open_nursery() as nursery:
            nursery.start_soon(self._pipe, downstream, upstream, False)
            nursery.start_soon(self._pipe, upstream, downstream, True)

    async def _pipe(self, source: trio.SocketStream, sink: trio.SocketStream, from_server: bool) -> None:
        try:
            while data := await source.receive_some(65536):
                if from_server and self.drop_server_data:
                    continue
                await sink.send_all(data)
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            pass
        finally:
            await trio.aclose_forcefully(sink)
            await trio.aclose_forcefully(source)

    async def cut(self) -> None:
        """Abort every proxied connection at once, like a network failure (what the
        server sent and the proxy had not forwarded is lost); ``drop_server_data`` is
        reset."""
        streams, self._streams = self._streams, []
        for stream in streams:
            await trio.aclose_forcefully(stream)
        self.drop_server_data = False


__all__ = ["Proxy"]
