"""Hidden dice never reach another participant: checked on every received frame's bytes.

Liar's dice matches are played through a real server by wire clients (plus a bot seat
sometimes). Afterwards the match log re-simulates every state, so the test knows every
seat's dice at every version. For each frame a client received while the match ran, every
other seat's current dice (as their msgpack encoding) must not appear in the raw bytes,
except where an equal list is public anyway (it occurs in the full state minus the dice
under the cups: counts, bids, the revealed previous round), is one of the client's legal
moves, or is the client's own dice by coincidence.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import msgpack
import trio
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gameserver.games.registry import get_game
from gameserver.protocol.messages import BotSeat, CreateRoom, JoinResult, JoinRoom, Move, MoveResult
from gameserver.replays import records
from gameserver.replays.loader import load_match

from .conftest import WireClient, make_config, open_client, start_server

def occurrences(value: Any, needle: list[int], path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Paths of every list equal to ``needle`` inside ``value``."""
    found = []
    if isinstance(value, list):
        if value == needle:
            found.append(path)
        for index, item in enumerate(value):
            found += occurrences(item, needle, path + (str(index),))
    elif isinstance(value, dict):
        for key, item in value.items():
            found += occurrences(item, needle, path + (str(key),))
    return found


def states_by_version(path: Any) -> tuple[dict[int, Any], int]:
    loaded = load_match(path)
    header = loaded.header
    game = get_game(header.game)
    rng = random.Random(header.seed)
    state = game.setup(len(header.seats), rng, header.options)
    states = {0: state}
    for record in loaded.records:
        if isinstance(record, records.Moved):
            state = game.apply(state, record.seat, record.move, rng)
        elif isinstance(record, records.TimedOut):
            state = game.on_timeout(state, record.seat, rng)
        elif isinstance(record, records.Resigned):
            state = game.resign(state, record.seat)
        else:
            continue
        states[record.version] = state
    return states, len(header.seats)


async def play(room_id: str, clients: dict[int, WireClient], rng: random.Random) -> None:
    states = {seat: await client.state(room_id) for seat, client in clients.items()}
    while True:
        newest = max(states.values(), key=lambda s: s.version)
        if newest.outcome is not None:
            return
        for seat, client in clients.items():
            state = states[seat]
            if state.version == newest.version and seat in state.to_act and state.legal_moves:
                moves = list(state.legal_moves)
                calls = [m for m in moves if "call" in m]
                move = rng.choice(calls) if calls and rng.random() < 0.4 else rng.choice(moves)
                await client.call(Move, MoveResult, room_id=room_id, version=state.version, move=move)
                break
        for seat, client in clients.items():
            if states[seat].version <= newest.version:
                states[seat] = await client.state(room_id, lambda s, v=newest.version: s.version > v)


@settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(seed=st.integers(0, 2**32), humans=st.integers(2, 3), bot=st.booleans())
async def test_no_frame_carries_another_seats_dice(
    tmp_path: Path, seed: int, humans: int, bot: bool
) -> None:
    players = humans + int(bot)
    rng = random.Random(seed)
    async with trio.open_nursery() as nursery:
        server = await start_server(nursery, make_config(tmp_path))
        clients = [await open_client(server, nursery, f"h{i}") for i in range(humans)]
        bots = (BotSeat(seat=players - 1, strategy="random"),) if bot else ()
        created = await clients[0].call(
            CreateRoom, JoinResult, game="liarsdice", players=players,
            options={"dice": 3}, bots=bots,
        )
        room_id = created.room.room_id
        for client in clients[1:]:
            await client.call(JoinRoom, JoinResult, room_id=room_id)
        await play(room_id, dict(enumerate(clients)), rng)
        nursery.cancel_scope.cancel()

    assert server.config.replays_dir is not None
    states, seats = states_by_version(server.config.replays_dir / f"{room_id}-1.gsr")
    game = get_game("liarsdice")
    checked = 0
    for me, client in enumerate(clients):
        version = 0
        for raw in client.raw:
            message = msgpack.unpackb(raw)
            if message.get("type") == "state" and message.get("room_id") == room_id:
                version = message["version"]
                # the seat's own hand (after the final call: the one just revealed)
                assert message["view"]["dice"] == game.view(states[version], me)["dice"]
            state = states[version]
            if game.outcome(state) is not None:
                continue
            # Everything public: the full state without the dice under the cups.
            public = game.snapshot(state)
            del public["dice"]
            public["bid_pairs"] = [record[1:] for record in public["bids"]]  # the current bid
            for other in range(seats):
                hidden = list(state.dice[other])
                if other == me or len(hidden) < 2:
                    continue
                paths = occurrences(message, hidden)
                for path in paths:
                    explained = (
                        path == ("view", "dice") and hidden == list(state.dice[me])
                    ) or path[:1] == ("legal_moves",) or bool(occurrences(public, hidden))
                    assert explained, (me, other, hidden, path)
                # no bytes beyond what decoding shows (e.g. inside strings or binaries)
                assert raw.count(msgpack.packb(hidden)) <= len(paths), (me, other, hidden)
                checked += 1
    assert checked > 0
