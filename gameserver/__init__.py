"""gameserver: a turn-based multiplayer game server on Trio.

Layers (each imports only the ones below it): ``ws`` (RFC 6455), ``games`` (pure
rules), ``protocol`` (wire messages), ``rooms`` (authoritative matches),
``replays`` (the match log), ``client`` (the Python SDK); ``app`` assembles them.
"""

from __future__ import annotations

__version__ = "0.1.0"
