"""TCP listeners that share their port with other processes (``SO_REUSEPORT``).

``gameserver serve --workers N`` starts N processes that each listen on the same
host and port; the kernel spreads new connections over them. Every process that
binds the port must set the option, and all must run as the same user.
"""

from __future__ import annotations

import socket

import trio

# Clamped by the kernel to net.core.somaxconn, as trio's own listeners are.
BACKLOG = 0xFFFF


async def open_reuse_port_listeners(port: int, host: str | None) -> list[trio.SocketListener]:
    """Bind and listen on every address of ``host`` (all interfaces for None) at
    ``port`` with ``SO_REUSEPORT``; raise ``OSError`` if an address cannot be bound.

    ``port`` must not be 0: the processes sharing it must agree on one number first.
    """
    if port == 0:
        raise ValueError("a shared port must be chosen before binding (not 0)")
    addresses = await trio.socket.getaddrinfo(
        host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
    )
    listeners: list[trio.SocketListener] = []
    try:
        for family, kind, proto, _, sockaddr in addresses:
            sock = trio.socket.socket(family, kind, proto)
            try:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
                if family == socket.AF_INET6:
                    # Each family gets its own listener, as with trio.open_tcp_listeners.
                    sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
                await sock.bind(sockaddr)
                sock.listen(BACKLOG)
            except BaseException:
                sock.close()
                raise
            listeners.append(trio.SocketListener(sock))
    except BaseException:
        for listener in listeners:
            listener.socket.close()
        raise
    return listeners
