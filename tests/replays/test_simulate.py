"""Re-simulation: random recorded matches replay to identical states; tampering is caught."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gameserver.games.base import state_hash
from gameserver.games.registry import get_game, list_games
from gameserver.protocol.errors import RequestError
from gameserver.protocol.messages import ClockSettings
from gameserver.replays.errors import ReplayMismatch
from gameserver.replays.loader import LoadedMatch, load_match
from gameserver.replays.records import (
    Ended,
    Moved,
    Record,
    Resigned,
    StateHash,
    TimedOut,
)
from gameserver.replays.simulate import iter_positions, resimulate
from gameserver.rooms.recording_match import RecordingMatch, bot_header

SETTINGS = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def play_random(
    directory: Path, game_name: str, players: int, seed: int, choices: random.Random
) -> tuple[RecordingMatch, dict[int, str]]:
    """Record a match of random legal actions; return it and the live hash at every version."""
    header = bot_header(
        game_name,
        ["random"] * players,
        seed=seed,
        match_id=f"{game_name}-{seed}",
        clock=ClockSettings(initial_ms=30_000, increment_ms=500),
    )
    match = RecordingMatch(directory, header)
    game = match.game
    hashes = {0: match.hash()}
    for _ in range(400):
        acting = sorted(game.to_act(match.state))
        if not acting:
            break
        seat = choices.choice(acting)
        roll = choices.random()
        if roll < 0.02:
            try:  # any seat, even one that is not to act; eliminated seats cannot resign
                match.resign(choices.randrange(players))
            except RequestError:
                continue
        elif roll < 0.04:
            match.timeout(seat)
        else:
            if roll < 0.08:
                match.disconnect(seat, away_ms=choices.randrange(10_000))
            legal = game.legal_moves(match.state, seat)
            match.move(seat, choices.choice(legal), think_ms=choices.randrange(2_000))
        hashes[match.version] = match.hash()
    match.finish()
    return match, hashes


@SETTINGS
@given(
    game_name=st.sampled_from(list_games()),
    seed=st.integers(min_value=0, max_value=2**64 - 1),
    choice_seed=st.integers(min_value=0, max_value=2**32),
    data=st.data(),
)
def test_random_recorded_matches_resimulate_to_identical_states(
    tmp_path_factory: pytest.TempPathFactory,
    game_name: str,
    seed: int,
    choice_seed: int,
    data: st.DataObject,
) -> None:
    game = get_game(game_name)
    players = data.draw(st.integers(game.min_players, game.max_players), label="players")
    directory = tmp_path_factory.mktemp("sim")
    choices = random.Random(choice_seed)
    match, live_hashes = play_random(directory, game_name, players, seed, choices)
    loaded = load_match(match.recorder.path)
    assert loaded.complete and not loaded.torn_tail
    sim = resimulate(loaded)
    assert sim.version == match.version
    assert state_hash(game, sim.state) == match.hash()
    assert sim.rng.getstate() == match.rng.getstate()
    assert sim.hashes_checked == sum(isinstance(r, StateHash) for r in loaded.records) >= 1
    replayed = {p.version: state_hash(game, p.state) for p in iter_positions(loaded, views=False)}
    assert replayed == live_hashes


def _tampered(loaded: LoadedMatch, index: int, record: Record) -> LoadedMatch:
    records = list(loaded.records)
    records[index] = record
    return attrs.evolve(loaded, records=tuple(records))


def _index(loaded: LoadedMatch, cls: type, nth: int = 0) -> int:
    return [i for i, r in enumerate(loaded.records) if isinstance(r, cls)][nth]


def test_a_wrong_state_hash_names_its_record(eventful_log: Path) -> None:
    loaded = load_match(eventful_log)
    index = _index(loaded, StateHash)
    record = loaded.records[index]
    assert isinstance(record, StateHash)
    bad = attrs.evolve(record, hash="0" * 64)
    with pytest.raises(ReplayMismatch, match="state hash at version 9") as info:
        resimulate(_tampered(loaded, index, bad))
    assert info.value.index == index


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"move": {"cell": 0}}, "Moved by seat 0 fails: cell 0 is already taken"),
        ({"move": "e4"}, "fails: a move must be a map"),
        ({"seat": 1}, "fails: it is not your turn"),
        ({"seat": 5}, "seat 5 does not exist"),
        ({"version": 9}, "version 9 does not follow 2"),
        ({"clocks": (1, 2, 3)}, "3 clocks for 2 seats"),
    ],
)
def test_a_tampered_move_is_a_mismatch(
    eventful_log: Path, change: dict[str, Any], message: str
) -> None:
    loaded = load_match(eventful_log)
    index = _index(loaded, Moved, 2)
    with pytest.raises(ReplayMismatch, match=message) as info:
        resimulate(_tampered(loaded, index, attrs.evolve(loaded.records[index], **change)))
    assert info.value.index == index


def test_end_records_must_agree_with_the_game(eventful_log: Path) -> None:
    loaded = load_match(eventful_log)
    index = len(loaded.records) - 1
    end = loaded.records[index]
    assert isinstance(end, Ended)
    for bad, message in [
        (attrs.evolve(end, draw=False, winners=(0,)), "the log says winners \\[0\\]"),
        (attrs.evolve(end, aborted=True), "marked aborted but the game was over"),
        (attrs.evolve(end, version=3), "end at version 3"),
    ]:
        with pytest.raises(ReplayMismatch, match=message):
            resimulate(_tampered(loaded, index, bad))
    extra = attrs.evolve(loaded, records=loaded.records + (end,))
    with pytest.raises(ReplayMismatch, match="after the end record"):
        resimulate(extra)


def test_state_changes_after_the_game_is_over_are_mismatches(eventful_log: Path) -> None:
    loaded = load_match(eventful_log)
    records = loaded.records[:-2] + (Resigned(at=1, seat=0, version=10),)
    with pytest.raises(ReplayMismatch, match="after the game was over"):
        resimulate(attrs.evolve(loaded, records=records))


def test_unknown_game_or_bad_options_cannot_be_set_up(eventful_log: Path) -> None:
    loaded = load_match(eventful_log)
    for header in (
        attrs.evolve(loaded.header, game="chess"),
        attrs.evolve(loaded.header, options={"size": 4}),
        attrs.evolve(loaded.header, seats=loaded.header.seats[:1]),
    ):
        with pytest.raises(ReplayMismatch) as info:
            resimulate(attrs.evolve(loaded, header=header))
        assert info.value.index == -1
        assert "cannot set the match up" in str(info.value)


def test_positions_carry_every_seat_view_and_the_spectator_view(eventful_log: Path) -> None:
    loaded = load_match(eventful_log)
    positions = list(iter_positions(loaded))
    assert len(positions) == len(loaded.records) + 1
    assert positions[0].record is None and positions[0].index == -1
    assert positions[0].version == 0
    game = get_game("tictactoe")
    for position in positions:
        assert set(position.views) == {0, 1, None}
        assert position.views[None] == game.view(position.state, None)
        assert position.views[1]["you"] == 1
    assert [p.version for p in positions if isinstance(p.record, Moved)] == list(range(1, 10))


def test_seat_events_update_occupants_and_connection_state(eventful_log: Path) -> None:
    sim = resimulate(load_match(eventful_log))
    assert sim.seats[1].name == "stand-in"
    assert sim.left == frozenset() and sim.disconnected == frozenset()
    assert sim.outcome is not None and sim.outcome.draw


def test_timeouts_replay_through_the_game_rule(tmp_path: Path) -> None:
    header = bot_header("tictactoe", ["random", "random"], seed=1, match_id="t",
                        clock=ClockSettings(initial_ms=5_000))
    match = RecordingMatch(tmp_path, header)
    match.move(0, {"cell": 0})
    match.timeout(1)
    match.finish()
    loaded = load_match(match.recorder.path)
    timed_out = loaded.records[1]
    assert isinstance(timed_out, TimedOut) and timed_out.clocks == (3_500, 0)
    sim = resimulate(loaded)
    assert sim.outcome is not None and sim.outcome.winners == (0,)
    assert sim.outcome.reason == "timeout"
    assert sim.clocks == (3_500, 0)
