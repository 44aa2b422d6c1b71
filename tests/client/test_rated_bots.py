"""Bot accounts through the SDK and ``gameserver bot --key``: 20 rated matches between
two registered bots put both on the bot leaderboard."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import attrs
import pytest
import trio

from gameserver.client import RequestFailed, connect
from gameserver.protocol.messages import AccountKind, Board
from gameserver.ratings.matchmaking import Window

from .conftest import server_config

PASSWORD = "bot owner secret"


async def register_bot(url: str, name: str) -> str:
    """Register a bot account named ``name`` over the SDK; return its API key."""
    async with connect(url, name=name) as owner:
        result = await owner.register(PASSWORD, bot=True)
        assert result.account.kind is AccountKind.BOT and owner.account == result.account
        assert result.api_key is not None
        return result.api_key


async def test_sdk_accounts_keys_and_rated_play(server_url: str) -> None:
    key = await register_bot(server_url, "Robo")
    async with connect(server_url, name="ignored", api_key=key) as bot:
        assert bot.account is not None and bot.name == "Robo"
        second = await bot.create_api_key()
        assert second.startswith("gsk_")
        await bot.revoke_api_keys()
    try:
        async with connect(server_url, name="x", api_key=key, reconnect=False):
            raise AssertionError("a revoked key logged in")
    except RequestFailed as refusal:
        assert refusal.code == "bad_api_key"
    async with connect(server_url, name="Robo", password=PASSWORD) as owner:
        assert owner.account is not None and owner.account.kind is AccountKind.BOT
        renamed = await owner.rename("Robo2")
        assert renamed.account.name == "Robo2" and owner.name == "Robo2"
        board = await owner.leaderboard("connect4", board=Board.BOTS)
        assert board.pool == "connect4" and board.entries == ()
        profile = await owner.profile(renamed.account.player_id)
        assert profile.account.name == "Robo2" and profile.ratings == ()


@pytest.mark.slow
async def test_two_key_bots_play_20_rated_matches_onto_the_bot_leaderboard(
    nursery: trio.Nursery, tmp_path: Path
) -> None:
    from gameserver.app import run_server

    config = server_config(tmp_path)
    # Two bots drift hundreds of points apart: let the rating window open at once
    # rather than after half a minute of waiting per match.
    config = attrs.evolve(
        config, service=attrs.evolve(config.service, match_window=Window(growth=1000.0))
    )
    port = await nursery.start(run_server, config)
    url = f"ws://127.0.0.1:{port}/ws"
    keys = [await register_bot(url, name) for name in ("Alpha", "Beta")]
    command = [
        sys.executable, "-m", "gameserver", "bot", "--url", url, "--game", "connect4",
        "--strategy", "random", "--seed", "3", "--matches", "20", "--rated", "--json",
        "--key", keys[0],
    ]  # fmt: skip
    # the second key comes from the environment, as an operator should pass keys
    env = {**os.environ, "GAMESERVER_BOT_KEYS": keys[1]}
    with trio.fail_after(240):
        process = await trio.run_process(
            command, capture_stdout=True, capture_stderr=True, check=False, env=env
        )
    assert process.returncode == 0, process.stderr.decode()
    summary = json.loads(process.stdout)
    assert summary["ok"] is True and summary["matches"] == 20
    for key in keys:
        assert key not in process.stderr.decode()
    async with connect(url, name="viewer") as viewer:
        # the last match's rating update may still be on its way
        with trio.fail_after(10):
            while True:
                board = await viewer.leaderboard("connect4", board=Board.BOTS)
                if sum(e.wins + e.draws + e.losses for e in board.entries) == 40:
                    break
                await trio.sleep(0.05)
        assert {entry.name for entry in board.entries} == {"Alpha", "Beta"}
        assert all(entry.kind is AccountKind.BOT for entry in board.entries)
        assert board.entries[0].rating >= board.entries[1].rating
        assert (await viewer.leaderboard("connect4", board=Board.HUMANS)).entries == ()
        profile = await viewer.profile(board.entries[0].player_id)
        assert len(profile.history) == 20 and len(profile.recent) == 20
