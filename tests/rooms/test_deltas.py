"""Protocol version 2 in the room core: deltas rebuild exactly the full states.

Two cores play the same random match in lockstep, one whose members speak protocol
version 1 (full ``state`` pushes, today's bytes) and one whose members speak version 2
(deltas once they hold a document). After every command, each version-2 participant's
document, rebuilt from its first full state and every delta it received since, must show
exactly the ``state`` its version-1 twin was last sent. Matches include moves, clock
timeouts, resignations, disconnects and returns, spectators arriving mid-match, ``sync``
requests and a rematch; every game is played, liar's dice with 2 to 4 players.
"""

from __future__ import annotations

from typing import Any

import attrs
import msgpack
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gameserver.games.registry import get_game
from gameserver.protocol import delta
from gameserver.protocol.codec import decode_delta, decode_result, is_delta
from gameserver.protocol.messages import AccountKind, ClockSettings, MoveResult
from gameserver.rooms.commands import (
    Attached,
    Detached,
    Join,
    MoveRequest,
    RematchRequest,
    ResignRequest,
    SeatsChanged,
    Spectate,
    SyncRequest,
    Tick,
)
from gameserver.rooms.config import RoomConfig
from gameserver.rooms.core import RoomCore
from gameserver.rooms.effects import Effects
from gameserver.rooms.members import Payload

#: The keys of a full ``state`` a client shows (what a document must reproduce).
SHOWN = ("version", "view", "to_act", "legal_moves", "seats", "clock", "outcome")


@attrs.define(eq=False)
class Peer:
    """A member as the core sees one, speaking ``protocol_version``."""

    player_id: str
    name: str
    protocol_version: int
    connected: bool = True
    address: str | None = None
    rooms: set[str] = attrs.Factory(set)
    account_kind: AccountKind | None = None

    def send(self, payload: Payload, *, key: str | None = None) -> None:
        raise AssertionError("the core never sends: its owner does")

    def entered_room(self, room_id: str) -> None:
        self.rooms.add(room_id)

    def left_room(self, room_id: str) -> None:
        self.rooms.discard(room_id)


class Screen:
    """What one client shows of the room: built from full states (and, in version 2,
    deltas applied to the document), as docs/protocol.md, "Deltas", tells a client."""

    def __init__(self) -> None:
        self.seat: int | None = None
        self.version: int | None = None
        self.document: dict[str, Any] | None = None
        self.deltas = 0
        self.replies: dict[int, int] = {}

    def receive(self, data: bytes) -> None:
        if is_delta(data):
            received = decode_delta(data)
            assert self.document is not None, "a delta came before any full state"
            if received.id is not None:
                self.replies[received.id] = received.version
                if received.base != self.version:
                    return  # a retried move's answer, resent as it was: only the reply
            assert received.base == self.version, (received.base, self.version)
            self.document = delta.apply(self.document, received.ops)
            self.version = received.version
            self.deltas += 1
            return
        message = msgpack.unpackb(data)
        if message["type"] == "reply" and message["result"].keys() == {"version"}:
            self.replies[message["id"]] = decode_result(MoveResult, message["result"]).version
        if message["type"] != "state":
            return
        self.seat, self.version = message["seat"], message["version"]
        self.document = delta.document_of(
            view=message["view"], to_act=message["to_act"], legal=message["legal_moves"],
            seats=message["seats"], clock=message["clock"], outcome=message["outcome"],
        )

    def shown(self) -> dict[str, Any] | None:
        document = self.document
        if document is None:
            return None
        return {
            "version": self.version,
            "view": document["view"],
            "to_act": document["to_act"],
            "legal_moves": delta.legal_moves_of(document, self.seat),
            "seats": document["seats"],
            "clock": document["clock"],
            "outcome": document["outcome"],
        }


class Side:
    """One core and its members, all speaking one protocol version."""

    def __init__(self, version: int, game: str, players: int, seed: int) -> None:
        self.core = RoomCore(
            "room1",
            get_game(game),
            players=players,
            options={"dice": 2} if game == "liarsdice" else {},
            config=RoomConfig(bot_delay=0.0, grace_period=30.0),
            clock=ClockSettings(initial_ms=20_000, increment_ms=1_000),
            wall=lambda: 1_000,
            new_seed=lambda: seed,
        )
        self.version = version
        self.seated = [Peer(f"p{i}", f"p{i}", version) for i in range(players)]
        self.watching: list[Peer] = []
        self.screens: dict[Peer, Screen] = {peer: Screen() for peer in self.seated}
        self.shared_deltas = 0

    def peer(self, number: int) -> Peer:
        return self.seated[number]

    def handle(self, command_of: Any, now: float) -> Effects:
        held = self.core.fanout.held
        documents = {id(held[peer]) for peer in self.watching if peer in held}
        effects = self.core.handle(command_of(self), now)
        for member, payload, _ in effects.sends:
            assert isinstance(member, Peer)
            self.screens[member].receive(payload.data)
        # Spectators holding the same document share one delta payload.
        deltas = [p for m, p, _ in effects.sends if m in self.watching and is_delta(p.data)]
        assert len({id(p) for p in deltas}) <= len(documents)
        self.shared_deltas += len(deltas) - len({id(p) for p in deltas})
        return effects

    def spectator(self, number: int) -> Peer:
        peer = Peer(f"s{number}", f"s{number}", self.version)
        self.watching.append(peer)
        self.screens[peer] = Screen()
        return peer


def same_screens(v1: Side, v2: Side) -> None:
    for one, two in zip([*v1.seated, *v1.watching], [*v2.seated, *v2.watching]):
        assert v2.screens[two].shown() == v1.screens[one].shown(), two.player_id
        assert v2.screens[two].replies == v1.screens[one].replies


GAMES = st.sampled_from([("tictactoe", 2), ("connect4", 2), ("liarsdice", 2), ("liarsdice", 3), ("liarsdice", 4)])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(game=GAMES, seed=st.integers(0, 2**31), data=st.data())
def test_deltas_rebuild_every_full_state_of_random_matches(
    game: tuple[str, int], seed: int, data: st.DataObject
) -> None:
    name, players = game
    v1, v2 = Side(1, name, players, seed), Side(2, name, players, seed)
    sides = (v1, v2)
    now = 0.0
    request_ids = iter(range(1, 10_000))

    def both(command_of: Any) -> None:
        for side in sides:
            side.handle(command_of, now)
        same_screens(v1, v2)

    for number in range(players):
        both(lambda side, n=number: Join(side.peer(n)))
    both(lambda side: SeatsChanged())
    first = data.draw(st.booleans(), label="a spectator from the start")
    if first:
        both(lambda side: Spectate(side.spectator(0)))
        both(lambda side: Attached(side.watching[0]))
    for match_number in (1, 2):
        steps = 0
        while v1.core.match is not None and not v1.core.match.over and steps < 80:
            steps += 1
            now += data.draw(st.sampled_from([0.5, 3.0]), label="time passes")
            match = v1.core.match
            action = data.draw(
                st.sampled_from(["move"] * 12 + ["timeout", "resign", "away", "watch", "sync"]),
                label="action",
            )
            if action == "move":
                seat = data.draw(st.sampled_from(sorted(match.to_act())), label="seat")
                legal = match.legal_moves(seat)
                move = legal[data.draw(st.integers(0, len(legal) - 1), label="move")]
                index = v1.core.seats[seat].member
                number = v1.seated.index(index)  # type: ignore[arg-type]
                request_id, version = next(request_ids), match.version
                both(lambda side: MoveRequest(side.peer(number), request_id, version, move))
                if data.draw(st.booleans(), label="retry"):
                    both(lambda side: MoveRequest(side.peer(number), request_id, version, move))
            elif action == "timeout":
                now = v1.core.next_deadline()
                both(lambda side: Tick())
            elif action == "resign":
                seat = data.draw(st.sampled_from(sorted(match.to_act())), label="resigner")
                number = v1.seated.index(v1.core.seats[seat].member)  # type: ignore[arg-type]
                both(lambda side: ResignRequest(side.peer(number), next(request_ids)))
            elif action == "away":
                number = data.draw(st.integers(0, players - 1), label="away")
                for side in sides:
                    side.peer(number).connected = False
                both(lambda side: Detached(side.peer(number)))
                for side in sides:
                    side.peer(number).connected = True
                both(lambda side: Attached(side.peer(number)))
            elif action == "watch" and len(v1.watching) < 3:
                count = len(v1.watching)
                both(lambda side: Spectate(side.spectator(count)))
                both(lambda side: Attached(side.watching[-1]))
            elif action == "sync":
                peers = len(v1.seated) + len(v1.watching)
                pick = data.draw(st.integers(0, peers - 1), label="sync")
                rid = next(request_ids)
                both(lambda side: SyncRequest([*side.seated, *side.watching][pick], rid))
        if match_number == 1 and v1.core.match is not None and v1.core.match.over:
            for number in range(players):
                rid = next(request_ids)
                both(lambda side, n=number: RematchRequest(side.peer(n), rid))
    # The version-2 side did get deltas (this is not a test of full states only).
    assert sum(v2.screens[peer].deltas for peer in v2.seated) > 0


def test_version_1_members_get_the_bytes_they_always_got() -> None:
    """Golden bytes of a version-1 move (made by the server before version 2 existed):
    the mover's reply and each seat's full ``state``, in order, with their keys."""
    side = Side(1, "tictactoe", 2, 7)
    for number in range(2):
        side.handle(lambda s, n=number: Join(s.peer(n)), 0.0)
    side.handle(lambda s: SeatsChanged(), 0.0)
    side.handle(lambda s: Spectate(s.spectator(0)), 0.0)
    side.handle(lambda s: Attached(s.watching[0]), 0.0)
    effects = side.handle(lambda s: MoveRequest(s.peer(0), 1, 0, {"cell": 4}), 1.5)
    sent = [(m.player_id, p.data.hex(), k) for m, p, k in effects.sends]
    assert sent == GOLDEN_V1_MOVE


# Printed by the same steps on the server before version 2 (commit 0314439).
GOLDEN_V1_MOVE: list[tuple[str, str, str | None]] = [('p0', '83a474797065a57265706c79a2696401a6726573756c7481a776657273696f6e01', None),
 ('p0',
  '8ba474797065a57374617465a7726f6f6d5f6964a5726f6f6d31a56d6174636801a776657273696f6e01a47365617400a47669657784a5626f61726499c0c0c0c000c0c0c0c0a3796f7500a47475726e01a46c696e65c0a6746f5f6163749101ab6c6567616c5f6d6f766573c0a573656174739287a47365617400a46b696e64a568756d616ea46e616d65a27030a9706c617965725f6964a27030a9636f6e6e6563746564c3ad77616e74735f72656d61746368c2a76163636f756e74c087a47365617401a46b696e64a568756d616ea46e616d65a27031a9706c617965725f6964a27031a9636f6e6e6563746564c3ad77616e74735f72656d61746368c2a76163636f756e74c0a5636c6f636b83a862616e6b735f6d7392cd4c2ccd4e20a76d6f76655f6d73c0a772756e6e696e679101a76f7574636f6d65c0',
  'state:room1'),
 ('p1',
  '8ba474797065a57374617465a7726f6f6d5f6964a5726f6f6d31a56d6174636801a776657273696f6e01a47365617401a47669657784a5626f61726499c0c0c0c000c0c0c0c0a3796f7501a47475726e01a46c696e65c0a6746f5f6163749101ab6c6567616c5f6d6f7665739881a463656c6c0081a463656c6c0181a463656c6c0281a463656c6c0381a463656c6c0581a463656c6c0681a463656c6c0781a463656c6c08a573656174739287a47365617400a46b696e64a568756d616ea46e616d65a27030a9706c617965725f6964a27030a9636f6e6e6563746564c3ad77616e74735f72656d61746368c2a76163636f756e74c087a47365617401a46b696e64a568756d616ea46e616d65a27031a9706c617965725f6964a27031a9636f6e6e6563746564c3ad77616e74735f72656d61746368c2a76163636f756e74c0a5636c6f636b83a862616e6b735f6d7392cd4c2ccd4e20a76d6f76655f6d73c0a772756e6e696e679101a76f7574636f6d65c0',
  'state:room1'),
 ('s0',
  '8ba474797065a57374617465a7726f6f6d5f6964a5726f6f6d31a56d6174636801a776657273696f6e01a473656174c0a47669657784a5626f61726499c0c0c0c000c0c0c0c0a3796f75c0a47475726e01a46c696e65c0a6746f5f6163749101ab6c6567616c5f6d6f766573c0a573656174739287a47365617400a46b696e64a568756d616ea46e616d65a27030a9706c617965725f6964a27030a9636f6e6e6563746564c3ad77616e74735f72656d61746368c2a76163636f756e74c087a47365617401a46b696e64a568756d616ea46e616d65a27031a9706c617965725f6964a27031a9636f6e6e6563746564c3ad77616e74735f72656d61746368c2a76163636f756e74c0a5636c6f636b83a862616e6b735f6d7392cd4c2ccd4e20a76d6f76655f6d73c0a772756e6e696e679101a76f7574636f6d65c0',
  'state:room1')]
