"""Settings of the rooms layer (one instance per server)."""

from __future__ import annotations

import enum
from pathlib import Path

import attrs

from gameserver.replays.recorder import FsyncPolicy


class AbandonPolicy(enum.Enum):
    """What happens to a seat whose player stays away past the grace period."""

    FORFEIT = "forfeit"
    """The seat resigns (``Game.resign``): a loss, or elimination in multi-player games."""
    BOT = "bot"
    """A built-in strategy plays the seat until the player resumes."""


@attrs.frozen(kw_only=True)
class RoomConfig:
    """Limits and policies every room follows."""

    # Long enough to survive a network blip or a page reload, short enough that an
    # opponent is not left waiting for long.
    grace_period: float = 60.0
    """Seconds a disconnected player keeps its seat before ``abandon_policy`` applies."""
    abandon_policy: AbandonPolicy = AbandonPolicy.FORFEIT
    """What happens after the grace period."""
    takeover_strategy: str = "best"
    """Strategy that plays an abandoned seat under ``AbandonPolicy.BOT``."""
    # A short pause makes bot moves visible to humans; 0 for tests and benchmarks.
    bot_delay: float = 0.5
    """Seconds a server-filled seat waits before moving."""
    # Strategies may think for tens of milliseconds; a worker thread keeps the event loop
    # free. Tests on trio's virtual clock turn it off (threads and autojump do not mix).
    bots_in_thread: bool = True
    """Run built-in strategies in a worker thread."""
    chat_max_length: int = 500
    """Longest chat text, in characters."""
    chat_history: int = 50
    """Latest chat messages a room keeps and sends again to a member who (re)joins."""
    # Bounds the work one room can be asked to queue; a full inbox answers rate_limited.
    inbox_size: int = 256
    """Pending requests per room."""
    dedupe_window: int = 256
    """How many applied moves per room are remembered for at-most-once retries."""
    replays_dir: Path | None = None
    """Where match logs are written; None records nothing."""
    fsync: FsyncPolicy = FsyncPolicy.ALWAYS
    """When match logs are forced to disk."""
    # Often enough that play resumes soon after an operator frees space; each retry of
    # a paused room is one small append (or one file creation), so 1 s costs nothing.
    storage_retry: float = 1.0
    """Seconds between a paused room's attempts to write its match log again."""
