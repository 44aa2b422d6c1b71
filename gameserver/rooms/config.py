"""Settings of the rooms layer (one instance per server)."""

from __future__ import annotations

import enum
from pathlib import Path
from typing import TYPE_CHECKING

import attrs

from gameserver.replays.recorder import FsyncPolicy

if TYPE_CHECKING:
    from gameserver.rooms.journal import MatchLogs


class AbandonPolicy(enum.Enum):
    """What happens to a seat whose player stays away past the grace period."""

    FORFEIT = "forfeit"
    """The seat resigns (``Game.resign``): a loss, or elimination in multi-player games."""
    BOT = "bot"
    """A built-in strategy plays the seat until the player resumes."""


# A minute is plenty to make a first move; a player who never moves must not hold an
# untimed match (and its opponent) forever.
DEFAULT_FIRST_MOVE_TIMEOUT: float | None = 60.0


def _positive_or_none(
    _config: object, attribute: attrs.Attribute[float | None], value: float | None
) -> None:
    if value is not None and not value > 0:
        raise ValueError(f"{attribute.name} must be positive or None, not {value!r}")


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
    # Long enough to read the result and vote for a rematch; short enough that rooms of
    # finished matches do not pile up while their players stay connected.
    finished_room_ttl: float = attrs.field(default=60.0, validator=attrs.validators.ge(0.0))
    """Seconds a room whose match is over is kept for a rematch (counted again from each
    rematch vote or newcomer); then it is released (status ``closed``)."""
    first_move_timeout: float | None = attrs.field(
        default=DEFAULT_FIRST_MOVE_TIMEOUT, validator=_positive_or_none
    )
    """Seconds a human seat has, in an untimed match, to make its first move once it is
    to act; then the seat is forfeited, or the match aborted if nobody has moved. None:
    no deadline."""
    replays_dir: Path | None = None
    """Where match logs are written; None records nothing."""
    fsync: FsyncPolicy = FsyncPolicy.ALWAYS
    """When match logs are forced to disk."""
    # Often enough that play resumes soon after an operator frees space; each retry of
    # a paused room is one small append (or one file creation), so 1 s costs nothing.
    storage_retry: float = 1.0
    """Seconds between a paused room's attempts to write its match log again."""
    match_logs: MatchLogs | None = None
    """Where match logs go when ``replays_dir`` is set; None: ``.gsr`` files in
    ``replays_dir`` (cluster mode gives Redis streams)."""
