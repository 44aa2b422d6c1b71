"""Protocol versions and the subprotocols that name them: what a client offers when it
connects, and which one the server picks.

A client offers one or more of :data:`SUBPROTOCOLS` in ``Sec-WebSocket-Protocol``; the
server picks the newest it was offered (:data:`SERVER_PREFERENCE`) and refuses a
connection that offered none of them. Version 2 is version 1 plus state deltas and the
``sync`` request (docs/protocol.md, "Deltas"); a version-1 connection gets exactly the
bytes it always got.
"""

from __future__ import annotations

__all__ = [
    "PROTOCOL_VERSION",
    "PROTOCOL_VERSIONS",
    "SERVER_PREFERENCE",
    "SUBPROTOCOL",
    "SUBPROTOCOLS",
    "SUBPROTOCOL_V1",
    "SUBPROTOCOL_V2",
    "WS_PATH",
    "subprotocol_of",
    "version_of",
]

PROTOCOL_VERSIONS: tuple[int, ...] = (1, 2)
"""Every protocol version this server speaks, oldest first."""

PROTOCOL_VERSION = PROTOCOL_VERSIONS[-1]
"""The newest protocol version (what the SDK and the browser client speak by default)."""

SUBPROTOCOL_V1 = "gameserver.v1"
"""Version 1: every push is a map with ``type``; each change sends a full ``state``."""

SUBPROTOCOL_V2 = "gameserver.v2"
"""Version 2: version 1 plus ``delta`` pushes and the ``sync`` request."""

SUBPROTOCOL = SUBPROTOCOL_V1
"""The version-1 subprotocol, which every client written before version 2 offers."""

SUBPROTOCOLS: dict[int, str] = {1: SUBPROTOCOL_V1, 2: SUBPROTOCOL_V2}
"""The ``Sec-WebSocket-Protocol`` value of each protocol version."""

SERVER_PREFERENCE: tuple[str, ...] = (SUBPROTOCOL_V2, SUBPROTOCOL_V1)
"""The subprotocols the server accepts, the one it prefers first (give this to the
WebSocket server: it picks the first one the client offered)."""

WS_PATH = "/ws"
"""The request path of the WebSocket endpoint."""


def version_of(subprotocol: str | None) -> int | None:
    """The protocol version a negotiated subprotocol names; None when it names none
    (the server must then refuse the connection)."""
    for version, name in SUBPROTOCOLS.items():
        if name == subprotocol:
            return version
    return None


def subprotocol_of(version: int) -> str:
    """The subprotocol a client offers to speak ``version``; raises ``ValueError`` for a
    version this server does not speak."""
    try:
        return SUBPROTOCOLS[version]
    except KeyError:
        raise ValueError(f"unknown protocol version {version}; known: {PROTOCOL_VERSIONS}") from None
