"""The checked flag types of ``gameserver.commands.flags``, and that every command uses them."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

import pytest

from gameserver.cli import build_parser
from gameserver.commands import flags


@pytest.mark.parametrize(
    "check, text, value",
    [
        (flags.port, "0", 0),
        (flags.port, "65535", 65535),
        (flags.positive_int, "1", 1),
        (flags.non_negative_int, "0", 0),
        (flags.positive_float, "0.001", 0.001),
        (flags.non_negative_float, "0", 0.0),
        (flags.rate_burst, "1", 1.0),
        (flags.log_level, "warning", "WARNING"),
        (flags.websocket_url, "wss://games.example.org/ws", "wss://games.example.org/ws"),
        (flags.websocket_url, "ws://[::1]:8000/ws", "ws://[::1]:8000/ws"),
        (flags.origin, "*", "*"),
        (flags.origin, "https://games.example.org", "https://games.example.org"),
        (flags.game_name, "liarsdice", "liarsdice"),
        (flags.common_strategy, "random", "random"),
    ],
)
def test_allowed_values_pass(check: Callable[[str], object], text: str, value: object) -> None:
    assert check(text) == value


@pytest.mark.parametrize(
    "check, text, says",
    [
        (flags.port, "65536", "allowed: 0-65535"),
        (flags.port, "-1", "allowed: 0-65535"),
        (flags.port, "80.5", "not a whole number"),
        (flags.positive_int, "0", ">= 1"),
        (flags.non_negative_int, "-1", ">= 0"),
        (flags.positive_float, "0", "> 0"),
        (flags.positive_float, "inf", "not a finite number"),
        (flags.non_negative_float, "nan", "not a finite number"),
        (flags.non_negative_float, "-0.5", ">= 0"),
        (flags.non_negative_float, "soon", "not a number"),
        (flags.rate_burst, "0.5", ">= 1"),
        (flags.log_level, "LOUD", "DEBUG, INFO, WARNING, ERROR, CRITICAL"),
        (flags.websocket_url, "http://127.0.0.1:8000/ws", "not a WebSocket URL"),
        (flags.websocket_url, "127.0.0.1:8000", "not a WebSocket URL"),
        (flags.websocket_url, "ws:///ws", "names no host"),
        (flags.websocket_url, "ws://host:70000/ws", "bad port"),
        (flags.websocket_url, "ws://host:0/ws", "port 0"),
        (flags.origin, "games.example.org", "scheme://host[:port]"),
        (flags.game_name, "chess", "connect4, liarsdice, tictactoe"),
        # "simple" is a liar's dice strategy only: a tic-tac-toe room could not take over.
        (flags.common_strategy, "simple", "allowed: best, random"),
        (flags.common_strategy, "genius", "allowed: best, random"),
    ],
)
def test_refused_values_say_what_is_allowed(
    check: Callable[[str], object], text: str, says: str
) -> None:
    with pytest.raises(argparse.ArgumentTypeError) as refused:
        check(text)
    assert says in str(refused.value)
    assert "\n" not in str(refused.value)


def test_paths_must_exist_and_be_of_the_right_kind(tmp_path: Path) -> None:
    file = tmp_path / "file.pem"
    file.write_text("x")
    assert flags.existing_directory(str(tmp_path)) == tmp_path
    assert flags.readable_file(str(file)) == file
    for check, text, says in [
        (flags.existing_directory, str(tmp_path / "gone"), "no such directory"),
        (flags.existing_directory, str(file), "not a directory"),
        (flags.readable_file, str(tmp_path / "gone"), "no such file"),
        (flags.readable_file, str(tmp_path), "not a file"),
    ]:
        with pytest.raises(argparse.ArgumentTypeError) as refused:
            check(text)
        assert str(refused.value) == f"{text}: {says}"


# Flags whose every value is allowed: seeds are any integer.
UNCHECKED = {("selfplay", "--seed"), ("bot", "--seed")}


def _commands() -> dict[str, argparse.ArgumentParser]:
    subparsers = next(
        action for action in build_parser()._actions
        if isinstance(action, argparse._SubParsersAction)
    )
    return dict(subparsers.choices)


def test_no_number_flag_of_serve_echo_selfplay_or_bot_goes_unchecked() -> None:
    """A bare ``type=int``/``float`` accepts -1, 0 or 70000 where they make no sense."""
    commands = _commands()
    unchecked = [
        (name, action.option_strings[0])
        for name in ("serve", "echo", "selfplay", "bot")
        for action in commands[name]._actions
        if action.type in (int, float)
        and (name, action.option_strings[0]) not in UNCHECKED
    ]
    assert unchecked == []
    # And every value-taking flag of serve is checked one way or another.
    serve_actions = [
        action for action in commands["serve"]._actions
        if action.option_strings and action.nargs != 0
        and action.option_strings[0] not in ("--host", "--replays", "--data-dir")
    ]
    assert serve_actions
    for action in serve_actions:
        assert action.type is not None or action.choices is not None, action.option_strings
