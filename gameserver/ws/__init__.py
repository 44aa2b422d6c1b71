"""RFC 6455 WebSocket (+ RFC 7692 permessage-deflate): sans-IO core and a Trio adapter.

Servers: ``await nursery.start(serve_websocket, handler, host, port)`` runs
``handler(ws)`` per connection. Clients: ``async with open_websocket(url) as ws:``.
Both hand out a :class:`WebSocket`: ``send``, ``receive`` / ``async for``, ``ping``,
``close``; a connection that ends raises :class:`ConnectionClosed`.
"""

from __future__ import annotations

from gameserver.ws.client import connect, open_websocket, parse_url
from gameserver.ws.codes import CloseCode, Opcode
from gameserver.ws.config import WebSocketConfig, WebSocketServerConfig
from gameserver.ws.connection import Connection, ConnectionState, Role
from gameserver.ws.deflate import DeflateParams
from gameserver.ws.exceptions import (
    ConnectionClosed,
    HandshakeError,
    LocalProtocolError,
    ProtocolError,
    WebSocketError,
)
from gameserver.ws.frames import encode_frame
from gameserver.ws.http import HTTPRequest, HTTPResponse
from gameserver.ws.server import WebSocketServer, serve_websocket
from gameserver.ws.websocket import Message, WebSocket

__all__ = [
    "CloseCode",
    "Connection",
    "ConnectionClosed",
    "ConnectionState",
    "DeflateParams",
    "HTTPRequest",
    "HTTPResponse",
    "HandshakeError",
    "LocalProtocolError",
    "Message",
    "Opcode",
    "ProtocolError",
    "Role",
    "WebSocket",
    "WebSocketConfig",
    "WebSocketError",
    "WebSocketServer",
    "WebSocketServerConfig",
    "connect",
    "encode_frame",
    "open_websocket",
    "parse_url",
    "serve_websocket",
]
