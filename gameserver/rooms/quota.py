"""How many open rooms one player, and the players of one client address, may hold.

A player *holds* a room while the room is waiting or playing and the player sits in
one of its seats or created it (the creator of a bots-only room only watches, yet its
room runs). The players of an address are those whose latest connection came from it,
connected or not: a seat kept through the grace period still counts. Spectating holds
nothing. Every path that opens a room or takes a seat asks ``check`` first.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

from gameserver.protocol.errors import ErrorCode, RequestError
from gameserver.protocol.messages import RoomStatus
from gameserver.rooms.members import Member
from gameserver.rooms.seat_states import Seat

_OPEN = (RoomStatus.WAITING, RoomStatus.PLAYING)


class MemberDirectory(Protocol):
    """Who is known at an address (``sessions.players.MemberDirectory``)."""

    def at_address(self, address: str) -> Sequence[Member]:
        """The members whose latest connection came from ``address``."""


class HeldRoom(Protocol):
    """What the quota reads of a room."""

    @property
    def closed(self) -> bool: ...

    @property
    def status(self) -> RoomStatus: ...

    def seat_of(self, member: Member) -> Seat | None: ...


class RoomQuota:
    """The per-player and per-address room limits (0 turns one off)."""

    def __init__(
        self,
        rooms: Mapping[str, HeldRoom],
        players: MemberDirectory | None = None,
        *,
        per_player: int = 0,
        per_address: int = 0,
    ) -> None:
        self._rooms = rooms
        self._players = players
        self.per_player = per_player
        self.per_address = per_address
        self._creators: dict[str, str] = {}
        """room id -> player id of its creator, while the room exists."""

    def check(self, player: Member) -> None:
        """Raise ``too_many_rooms`` when ``player`` may not hold one more room."""
        if self.per_player and len(self.held(player)) >= self.per_player:
            raise RequestError(
                ErrorCode.TOO_MANY_ROOMS,
                f"you already hold {_rooms(self.per_player)}, the most allowed; leave one first",
            )
        if self.per_address and self._players is not None and player.address is not None:
            held: set[str] = set()
            for neighbour in self._players.at_address(player.address):
                held |= self.held(neighbour)
            if len(held) >= self.per_address:
                raise RequestError(
                    ErrorCode.TOO_MANY_ROOMS,
                    f"players at your address hold {_rooms(self.per_address)}, the most allowed; try later",
                )

    def held(self, player: Member) -> set[str]:
        """Ids of the open rooms ``player`` holds (see module doc)."""
        held = set()
        for room_id in player.rooms:
            room = self._rooms.get(room_id)
            if room is None or room.closed or room.status not in _OPEN:
                continue
            if room.seat_of(player) is not None or self._creators.get(room_id) == player.player_id:
                held.add(room_id)
        return held

    def opened(self, room_id: str, creator: Member) -> None:
        """``creator`` opened ``room_id``."""
        self._creators[room_id] = creator.player_id

    def closed(self, room_id: str) -> None:
        """``room_id`` is gone."""
        self._creators.pop(room_id, None)


def _rooms(count: int) -> str:
    """``count`` open rooms, in words that read right for one."""
    return f"{count} open room" if count == 1 else f"{count} open rooms"
