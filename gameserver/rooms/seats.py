"""The seats of a room: who sits where, and who plays for them right now."""

from __future__ import annotations

import attrs

from gameserver.games.strategy import Strategy
from gameserver.protocol.messages import AccountKind, SeatInfo, SeatKind
from gameserver.sessions.players import Player


@attrs.define(eq=False)
class Seat:
    """One seat of a room.

    A seat is *open* (nobody), *human* (a player holds it, connected or within its grace
    period) or *bot* (a built-in strategy). A human seat whose grace period ran out under
    the "bot" policy keeps its player but is played by ``strategy`` (``takeover``) until
    the player resumes. A human who leaves a running match leaves the seat ``departed``
    (shown as human, without a player) until the match ends; then it is open again.
    """

    index: int
    """Seat number, 0-based."""
    player: Player | None = None
    """The human holding the seat, if any."""
    name: str | None = None
    """Display name shown for the seat (kept after its player left a running match)."""
    strategy_name: str | None = None
    """Built-in strategy for a bot seat or a takeover."""
    strategy: Strategy | None = None
    """The strategy instance (fresh per seat)."""
    takeover: bool = False
    """True while a strategy plays for an absent human."""
    grace_until: float | None = None
    """Trio time at which an absent human's grace period ends; None when present."""
    wants_rematch: bool = False
    """The occupant voted for a rematch after the match ended."""
    departed: bool = False
    """The human left (or forfeited) this running match for good."""
    newcomer: bool = False
    """The player took this seat after the match ended (it waits for the rematch and
    gets no ``state`` of the finished match, which was someone else's view)."""

    @property
    def is_bot(self) -> bool:
        """True for a seat the server fills with a built-in strategy."""
        return self.player is None and self.strategy is not None and not self.departed

    @property
    def is_open(self) -> bool:
        """True when anyone may still join this seat."""
        return self.player is None and self.strategy is None and not self.departed

    @property
    def bot_controlled(self) -> bool:
        """True when the room must choose this seat's moves itself."""
        return self.strategy is not None and (self.player is None or self.takeover)

    @property
    def connected(self) -> bool:
        """True for bots and for humans with a live connection."""
        if self.is_bot:
            return True
        return self.player is not None and self.player.connected

    def info(self) -> SeatInfo:
        """The seat as the protocol shows it."""
        if self.is_bot or (self.takeover and self.player is not None):
            # docs/protocol.md: a seat played by a strategy is shown as a bot
            return SeatInfo(seat=self.index, kind=SeatKind.BOT, name=self.name, connected=True)
        if self.player is None and not self.departed:
            return SeatInfo(seat=self.index, kind=SeatKind.OPEN)
        return SeatInfo(
            seat=self.index,
            kind=SeatKind.HUMAN,
            name=self.name,
            player_id=None if self.player is None else self.player.player_id,
            connected=self.connected,
            wants_rematch=self.wants_rematch,
            account=account_kind(self.player),  # accounts (issue 18)
        )


def account_kind(player: Player | None) -> AccountKind | None:
    """How the protocol marks ``player``'s account (None: anonymous or no player)."""
    if player is None or player.account is None:
        return None
    return AccountKind(player.account.kind.value)
