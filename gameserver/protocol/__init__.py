"""The game wire protocol: message classes, the msgpack codec and validation.

``docs/protocol.md`` is the contract; this package implements it:

* ``messages`` — frozen attrs classes for every request, reply result and push;
* ``errors`` — ``ErrorCode`` and ``RequestError``;
* ``codec`` — ``decode_client_message`` / ``encode`` (server side) and
  ``encode_client_message`` / ``decode_server_message`` / ``decode_result`` (SDK side);
* ``limits`` — ``DecodeLimits`` and their defaults;
* ``version`` — ``SUBPROTOCOL`` ("gameserver.v1") and ``WS_PATH`` ("/ws").
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
from gameserver.protocol.version import PROTOCOL_VERSION, SUBPROTOCOL, WS_PATH

__all__ = [
    "CLIENT_MESSAGE_LIMITS",
    "PROTOCOL_VERSION",
    "SERVER_MESSAGE_LIMITS",
    "SUBPROTOCOL",
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
