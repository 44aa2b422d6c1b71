"""Selfplay series: deterministic summaries, fair seat rotation and the command line."""

from __future__ import annotations

import json
from typing import Any

import pytest

from gameserver.cli import main
from gameserver.games.base import GameError, InvalidOptions
from gameserver.games.registry import get_game, list_games
from gameserver.games.selfplay import entry_at, play_selfplay_match, run_selfplay
from gameserver.games.strategy import UnknownStrategy, get_strategy


def deterministic(data: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in data.items() if key != "timings"}


@pytest.mark.parametrize("name", list_games())
def test_same_seed_same_summary(name: str) -> None:
    game = get_game(name)
    runs = [
        run_selfplay(game, games=12, seed=5, players=game.min_players,
                     strategy_names=["best", "random"]).to_data()
        for _ in range(2)
    ]  # fmt: skip
    assert deterministic(runs[0]) == deterministic(runs[1])
    assert set(runs[0]["timings"]) == {"best", "random"}
    total = sum(entry["wins"] for entry in runs[0]["entries"])
    assert total + runs[0]["draws"] == 12


def test_seats_rotate_every_match() -> None:
    assert [entry_at(0, i, 2) for i in range(4)] == [0, 1, 0, 1]
    assert [entry_at(s, 1, 3) for s in range(3)] == [1, 2, 0]
    game = get_game("tictactoe")
    report = run_selfplay(game, games=20, seed=2, players=2, strategy_names=["best"])
    # best against itself: every match drawn, whichever entry moves first.
    assert report.draws == 20 and report.wins_by_entry == (0, 0)


def test_play_selfplay_match_reports_moves_and_time() -> None:
    game = get_game("connect4")
    result = play_selfplay_match(game, [get_strategy("connect4", "random")] * 2, seed=9)
    assert result.outcome == game.outcome(result.final)
    assert result.moves == sum(result.choices)
    assert all(seconds >= 0 for seconds in result.seconds)


def test_bad_series_arguments() -> None:
    game = get_game("tictactoe")
    with pytest.raises(UnknownStrategy):
        run_selfplay(game, games=1, seed=0, players=2, strategy_names=["nope"])
    with pytest.raises(InvalidOptions):
        run_selfplay(game, games=1, seed=0, players=3, strategy_names=["random"])
    with pytest.raises(GameError):
        run_selfplay(game, games=1, seed=0, players=2, strategy_names=[])


def test_command_prints_text_and_json(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["selfplay", "--game", "tictactoe", "--games", "10", "--seed", "3"]
    assert main(argv) == 0
    text = capsys.readouterr().out
    assert "tictactoe: 10 matches" in text and "time per move" in text
    assert main([*argv, "--json"]) == 0
    first = json.loads(capsys.readouterr().out)
    assert main([*argv, "--json"]) == 0
    second = json.loads(capsys.readouterr().out)
    assert deterministic(first) == deterministic(second)
    assert first["games"] == 10 and first["wins_by_strategy"]["random"] == 0


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--game", "chess"], "unknown game 'chess'"),
        (["--game", "tictactoe", "--strategies", "genius"], "unknown strategy"),
        (["--game", "tictactoe", "--option", "size"], "not KEY=VALUE"),
        (["--game", "tictactoe", "--option", "size=x"], "not a JSON value"),
        (["--game", "tictactoe", "--players", "5"], "exactly 2 players"),
    ],
)
def test_command_errors(
    extra: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["selfplay", "--games", "1", *extra]) == 2
    assert message in capsys.readouterr().err
