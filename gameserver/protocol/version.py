"""Protocol version constants: what a client must ask for when it connects."""

from __future__ import annotations

__all__ = ["PROTOCOL_VERSION", "SUBPROTOCOL", "WS_PATH"]

PROTOCOL_VERSION = 1
"""The protocol version described in docs/protocol.md."""

SUBPROTOCOL = f"gameserver.v{PROTOCOL_VERSION}"
"""The ``Sec-WebSocket-Protocol`` value a client must offer; the server refuses others."""

WS_PATH = "/ws"
"""The request path of the WebSocket endpoint."""
