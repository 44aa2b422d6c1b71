"""The Python SDK for bots and scripts (see docs/sdk.md).

``async with connect(url, name=...) as client:`` gives a :class:`GameClient` with typed
requests, an event stream and automatic reconnection; :class:`Bot` and
:func:`play_match` turn a move-choosing function into a player.
"""

from __future__ import annotations

from gameserver.client.bot import (
    Bot,
    MatchResult,
    StrategyBot,
    play_match,
    leave_seat,
    play_room,
    quick_match_seat,
    time_left_ms,
)
from gameserver.client.client import Backoff, GameClient, connect
from gameserver.client.errors import ClientError, ConnectionLost, RequestFailed, ServerMisbehaved
from gameserver.client.events import ClientEvent, Disconnected, Reconnected
from gameserver.client.fleet import FleetReport, run_fleet

__all__ = [
    "Backoff",
    "Bot",
    "ClientError",
    "ClientEvent",
    "ConnectionLost",
    "Disconnected",
    "FleetReport",
    "GameClient",
    "MatchResult",
    "Reconnected",
    "RequestFailed",
    "ServerMisbehaved",
    "StrategyBot",
    "connect",
    "leave_seat",
    "play_match",
    "play_room",
    "quick_match_seat",
    "run_fleet",
    "time_left_ms",
]
