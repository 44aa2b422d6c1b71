"""Errors raised by the rooms layer.

Requests that fail raise ``gameserver.protocol.errors.RequestError`` (a stable
``ErrorCode`` plus a human message); the connection handler answers with an ``error``
message and goes on. Everything else the rooms layer raises sits under one root::

    RoomsError                 root of the rooms layer's own exceptions
    ├── OutboxOverflow         a client fell too far behind reading; its connection is
    │                          closed (code 1008) and the player may resume with its token
    └── RulesFailed            a game's rules raised something other than a GameError (a
                               bug); the room's state cannot be trusted, so the room ends
"""

from __future__ import annotations


class RoomsError(Exception):
    """Root of the exceptions ``gameserver.rooms`` raises (besides ``RequestError``)."""


class OutboxOverflow(RoomsError):
    """The client did not read fast enough; close its connection (it may resume)."""


class RulesFailed(RoomsError):
    """A game's rules crashed; end that room (tell its players, log it) and nothing else."""

    def __init__(self, game: str, call: str) -> None:
        super().__init__(f"the rules of {game} failed in {call}")
        #: The game whose rules failed.
        self.game = game
        #: The rules call that raised, e.g. ``"apply"``.
        self.call = call
