"""Accounts over the real protocol: register, log in elsewhere, rename, bot keys, limits."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
import trio

from gameserver.protocol.messages import (
    AccountKind,
    AccountResult,
    BotSeat,
    CreateApiKey,
    CreateRoom,
    EmptyResult,
    Hello,
    HelloResult,
    JoinResult,
    JoinRoom,
    QuickMatch,
    Register,
    Rename,
    RevokeApiKeys,
)

from .conftest import RunningServer, make_config, open_client, start_server

PASSWORD = "correct horse battery"


async def test_register_then_log_in_from_another_device(
    server: RunningServer, nursery: trio.Nursery
) -> None:
    alice = await open_client(server, nursery, "Alice")
    registered = await alice.call(Register, AccountResult, password=PASSWORD)
    assert registered.account.player_id == alice.player_id
    assert registered.account.kind is AccountKind.HUMAN and registered.api_key is None
    other = await open_client(server, nursery)
    hello = await other.call(Hello, HelloResult, name="alice", password=PASSWORD)
    assert hello.player_id == alice.player_id and hello.name == "Alice"
    assert hello.account is not None and hello.account.name == "Alice"
    # the token of that login resumes the account
    again = await open_client(server, nursery, "whatever", token=hello.token)
    assert again.player_id == alice.player_id


async def test_bad_passwords_names_and_logins_get_specific_codes(
    server: RunningServer, nursery: trio.Nursery
) -> None:
    alice = await open_client(server, nursery, "Alice")
    assert await alice.fail(Register, password="short") == "weak_password"
    assert await alice.fail(Register, password="aaaaaaaaaaaa") == "weak_password"
    assert await alice.fail(Register, password="x" * 129 + "yz") == "password_too_long"
    assert await alice.fail(Rename, name="Alicia") == "not_registered"
    await alice.call(Register, AccountResult, password=PASSWORD)
    assert await alice.fail(Register, password=PASSWORD) == "already_registered"
    namesake = await open_client(server, nursery, "ALICE")
    assert await namesake.fail(Register, password=PASSWORD) == "name_taken"
    stranger = await open_client(server, nursery)
    assert await stranger.fail(Hello, name="Nobody", password=PASSWORD) == "unknown_account"
    stranger = await open_client(server, nursery)
    assert await stranger.fail(Hello, name="Alice", password="wrong password") == "wrong_password"
    assert await alice.fail(CreateApiKey) == "not_a_bot"
    renamed = await alice.call(Rename, AccountResult, name="Alicia")
    assert renamed.account.name == "Alicia"
    again = await open_client(server, nursery)
    assert (await again.call(Hello, HelloResult, name="alicia", password=PASSWORD)).name == "Alicia"


async def test_wrong_passwords_are_rate_limited_per_account(
    server: RunningServer, nursery: trio.Nursery
) -> None:
    alice = await open_client(server, nursery, "Alice")
    await alice.call(Register, AccountResult, password=PASSWORD)
    codes = []
    for _ in range(6):
        guesser = await open_client(server, nursery)
        codes.append(await guesser.fail(Hello, name="Alice", password="guess1234"))
    assert codes == ["wrong_password"] * 5 + ["rate_limited"]
    # even the right password waits out the window now
    late = await open_client(server, nursery)
    assert await late.fail(Hello, name="Alice", password=PASSWORD) == "rate_limited"


async def test_a_bot_account_logs_in_with_its_key_until_revoked(
    server: RunningServer, nursery: trio.Nursery, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    owner = await open_client(server, nursery, "Botty")
    registered = await owner.call(Register, AccountResult, password=PASSWORD, bot=True)
    key = registered.api_key
    assert key is not None and key.startswith("gsk_")
    bot = await open_client(server, nursery)
    hello = await bot.call(Hello, HelloResult, name="ignored", api_key=key)
    assert hello.player_id == owner.player_id
    assert hello.account is not None and hello.account.kind is AccountKind.BOT
    room = await bot.call(CreateRoom, JoinResult, game="tictactoe", players=2)
    assert room.room.seats[0].account is AccountKind.BOT
    # one connection per player: the owner logs in again (which replaces the bot's)
    owner = await open_client(server, nursery)
    await owner.call(Hello, HelloResult, name="botty", password=PASSWORD)
    second = (await owner.call(CreateApiKey, AccountResult)).api_key
    assert second is not None and second != key
    await owner.call(RevokeApiKeys, EmptyResult)
    for revoked in (key, second):
        late = await open_client(server, nursery)
        assert await late.fail(Hello, name="x", api_key=revoked) == "bad_api_key"
    logged = caplog.text
    assert PASSWORD not in logged and key not in logged and second not in logged


async def test_rated_rooms_are_for_accounts_without_computer_seats(
    server: RunningServer, nursery: trio.Nursery
) -> None:
    anonymous = await open_client(server, nursery, "Anon")
    assert await anonymous.fail(CreateRoom, game="connect4", players=2, rated=True) == (
        "not_registered"
    )
    assert await anonymous.fail(QuickMatch, game="connect4", players=2, rated=True) == (
        "not_registered"
    )
    alice = await open_client(server, nursery, "Alice")
    await alice.call(Register, AccountResult, password=PASSWORD)
    assert await alice.fail(
        CreateRoom, game="connect4", players=2, rated=True, bots=(BotSeat(seat=1),)
    ) == "invalid_options"
    room = await alice.call(CreateRoom, JoinResult, game="connect4", players=2, rated=True)
    assert room.room.rated
    assert await anonymous.fail(JoinRoom, room_id=room.room.room_id) == "not_registered"


async def test_an_account_survives_a_restart(tmp_path: Path) -> None:
    config = make_config(tmp_path)
    async with trio.open_nursery() as nursery:
        server = await start_server(nursery, config)
        alice = await open_client(server, nursery, "Alice")
        await alice.call(Register, AccountResult, password=PASSWORD)
        token, player_id = alice.token, alice.player_id
        nursery.cancel_scope.cancel()
    async with trio.open_nursery() as nursery:
        server = await start_server(nursery, config)
        back = await open_client(server, nursery, "someone else", token=token)
        assert back.player_id == player_id
        again = await open_client(server, nursery)
        hello = await again.call(Hello, HelloResult, name="Alice", password=PASSWORD)
        assert hello.player_id == player_id
        nursery.cancel_scope.cancel()
