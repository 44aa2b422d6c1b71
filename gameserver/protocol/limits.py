"""Decode limits: how big and how deep an incoming protocol message may be.

Every input boundary has a limit (DESIGN.md, invariant 6). These apply after the
WebSocket layer has delivered a whole message, which has its own (larger) size cap.
"""

from __future__ import annotations

import attrs

__all__ = ["DecodeLimits", "CLIENT_MESSAGE_LIMITS", "SERVER_MESSAGE_LIMITS"]


@attrs.frozen(kw_only=True)
class DecodeLimits:
    """Upper bounds checked while decoding one message; exceeding one is an error reply.

    A violated size bound gives ``too_large``, a violated depth bound ``too_deep``.
    """

    # A request is small: the largest is create_room with its options (~1 KiB). 64 KiB
    # leaves room for big moves while bounding per-message work.
    max_message_bytes: int = 64 * 1024
    """Maximum size of the whole encoded message in bytes."""
    # Requests nest at most ~4 levels (message -> bots -> seat record); moves a few more.
    max_depth: int = 10
    """Maximum nesting of arrays and maps; the top-level map counts as depth 1."""
    max_str_len: int = 8 * 1024
    """Maximum length of one string, in bytes of UTF-8."""
    max_bin_len: int = 8 * 1024
    """Maximum length of one binary value in bytes."""
    max_array_len: int = 1024
    """Maximum number of items in one array."""
    max_map_len: int = 256
    """Maximum number of keys in one map."""


CLIENT_MESSAGE_LIMITS = DecodeLimits()
"""Default limits for requests arriving at the server."""

# Server messages carry views and room lists, which are larger than any request; the
# SDK still bounds them so a hostile server cannot make it allocate without limit.
SERVER_MESSAGE_LIMITS = DecodeLimits(
    max_message_bytes=16 * 1024 * 1024,
    max_depth=32,
    max_str_len=1024 * 1024,
    max_bin_len=1024 * 1024,
    max_array_len=1_000_000,
    max_map_len=100_000,
)
"""Default limits the SDK applies to messages from the server."""
