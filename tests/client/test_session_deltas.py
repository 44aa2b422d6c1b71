"""The SDK on protocol version 2 against a real server: it negotiates deltas, shows
exactly the states a version 1 connection shows, answers moves from deltas, and gets
over a lost delta with one ``sync``."""

from __future__ import annotations

import attrs
import pytest
import trio

from gameserver.client import GameClient, StrategyBot, connect, play_room
from gameserver.client.deltas import Documents
from gameserver.protocol.messages import ClockSettings, Delta, MatchOver, State


class LosesOneDelta(Documents):
    """Documents that never see the delta to one version, as if it were lost on the way
    (the test hook on the receiving side that forces a version gap)."""

    def __init__(self, version: int) -> None:
        super().__init__()
        self.version = version
        self.lost = False

    def apply(self, change: Delta) -> State | None:
        if change.version == self.version and not self.lost:
            self.lost = True
            return None
        return super().apply(change)


async def test_the_client_speaks_version_2_unless_told_otherwise(server_url: str) -> None:
    async with connect(server_url, name="ada") as ada, connect(
        server_url, name="bob", protocol_version=1
    ) as bob:
        assert (ada.protocol_version, bob.protocol_version) == (2, 1)
    with pytest.raises(ValueError, match="unknown protocol version 3"):
        async with connect(server_url, name="cy", protocol_version=3):
            pass  # pragma: no cover


async def states_until_over(client: GameClient, room_id: str) -> list[State]:
    """Every ``State`` of ``room_id`` the client shows until its ``MatchOver``."""
    seen: list[State] = []
    async for event in client.events():
        if isinstance(event, State) and event.room_id == room_id:
            seen.append(event)
        elif isinstance(event, MatchOver) and event.room_id == room_id:
            return seen
    raise AssertionError("the client closed before the match ended")


def newest_per_version(states: list[State]) -> dict[int, State]:
    """The last state of each version after the first move (version 0 is the full state
    each spectator got when it arrived, with the clocks of that moment)."""
    return {state.version: state for state in states if state.version > 0}


async def test_deltas_show_the_states_a_version_1_spectator_sees_and_a_gap_recovers(
    server_url: str,
) -> None:
    with trio.fail_after(60):
        async with (
            connect(server_url, name="ada") as ada,
            connect(server_url, name="vic", protocol_version=1) as v1,
            connect(server_url, name="val") as v2,
            connect(server_url, name="gus") as gappy,
        ):
            gappy._documents = LosesOneDelta(version=3)
            # Hidden dice, three seats, running clocks: every part of a document moves.
            joined = await ada.create_room(
                "liarsdice", 3, bots={1: "random", 2: "best"},
                clock=ClockSettings(initial_ms=600_000, increment_ms=1000),
            )  # fmt: skip
            room_id = joined.room.room_id
            seen: dict[str, list[State]] = {}

            async def watch(client: GameClient) -> None:
                seen[client.name] = await states_until_over(client, room_id)

            async with trio.open_nursery() as nursery:
                for client in (v1, v2, gappy):
                    await client.spectate(room_id)
                    nursery.start_soon(watch, client)
                result = await play_room(ada, StrategyBot("liarsdice", "random", seed=3), room_id, 0)

    assert result.outcome is not None and result.errors == ()
    full, deltas, recovered = seen["vic"], seen["val"], seen["gus"]
    assert full[-1].outcome is not None
    assert deltas[-1] == full[-1] and recovered[-1] == full[-1]
    by_version = newest_per_version(full)
    assert newest_per_version(deltas) == by_version
    # The gap: from the lost version on, nothing is shown until the sync's full state;
    # every version from that one on arrives again.
    shown = sorted(newest_per_version(recovered))
    resumed = next(v for v in shown if v > 3)
    assert shown == [v for v in sorted(by_version) if v < 3 or v >= resumed]
    for version, state in newest_per_version(recovered).items():
        expected = by_version[version]
        if version == resumed:  # the sync's full state: clocks of its own moment
            expected = attrs.evolve(expected, clock=state.clock)
        assert state == expected
    versions = full[-1].version
    assert versions > 5
    assert (v1.deltas, v2.resyncs, gappy.resyncs) == (0, 0, 1)
    assert v2.deltas >= versions and gappy.deltas >= versions - resumed + 2
    # The mover's moves were answered by deltas too.
    assert ada.deltas >= result.moves > 0 and ada.resyncs == 0
