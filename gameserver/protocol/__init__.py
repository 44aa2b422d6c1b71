"""The game wire protocol: message classes, the msgpack codec and validation.

``docs/protocol.md`` is the contract; this package implements it:

* ``messages`` — frozen attrs classes for every request, reply result and push;
* ``errors`` — ``ErrorCode`` and ``RequestError``;
* ``codec`` — ``decode_client_message`` / ``encode`` (server side) and
  ``encode_client_message`` / ``decode_server_message`` / ``decode_result`` (SDK side);
* ``limits`` — ``DecodeLimits`` and their defaults;
* ``version`` — the protocol versions and their subprotocols ("gameserver.v1",
  "gameserver.v2"), and ``WS_PATH`` ("/ws");
* ``delta`` — the state deltas of version 2 (diff and apply).
"""

from __future__ import annotations

from gameserver.protocol.codec import (
    decode_client_message,
    decode_result,
    decode_server_message,
    encode,
    encode_client_message,
)
from gameserver.protocol.errors import ErrorCode, RequestError
from gameserver.protocol.limits import CLIENT_MESSAGE_LIMITS, SERVER_MESSAGE_LIMITS, DecodeLimits
from gameserver.protocol.version import (
    PROTOCOL_VERSION,
    SERVER_PREFERENCE,
    SUBPROTOCOL,
    SUBPROTOCOL_V1,
    SUBPROTOCOL_V2,
    WS_PATH,
)

__all__ = [
    "CLIENT_MESSAGE_LIMITS",
    "PROTOCOL_VERSION",
    "SERVER_MESSAGE_LIMITS",
    "SERVER_PREFERENCE",
    "SUBPROTOCOL",
    "SUBPROTOCOL_V1",
    "SUBPROTOCOL_V2",
    "WS_PATH",
    "DecodeLimits",
    "ErrorCode",
    "RequestError",
    "decode_client_message",
    "decode_result",
    "decode_server_message",
    "encode",
    "encode_client_message",
]
