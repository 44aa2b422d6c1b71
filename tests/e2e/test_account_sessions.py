"""An account's sessions over the real protocol: listed, revoked one by one, durably."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from pathlib import Path

import pytest
import trio

from gameserver.protocol.codec import decode_result
from gameserver.protocol.messages import (
    AccountResult,
    EmptyResult,
    Error,
    Hello,
    HelloResult,
    ListSessions,
    Logout,
    Register,
    RevokeSession,
    SessionsResult,
)
from gameserver.sessions.tokens import SECRET_FILE
from gameserver.ws.exceptions import ConnectionClosed

from .conftest import RunningServer, WireClient, make_config, open_client, start_server

PASSWORD = "correct horse battery"


async def _log_in(
    server: RunningServer, nursery: trio.Nursery, label: str | None = None
) -> tuple[WireClient, HelloResult]:
    client = await open_client(server, nursery)
    hello = await client.call(
        Hello, HelloResult, name="Alice", password=PASSWORD, client_label=label
    )
    client.token, client.player_id = hello.token, hello.player_id
    return client, hello


async def _registered(server: RunningServer, nursery: trio.Nursery) -> WireClient:
    alice = await open_client(server, nursery)
    hello = await alice.call(Hello, HelloResult, name="Alice", client_label="  the first tab ")
    alice.token, alice.player_id = hello.token, hello.player_id
    await alice.call(Register, AccountResult, password=PASSWORD)
    return alice


async def _resume(
    server: RunningServer, nursery: trio.Nursery, token: str
) -> tuple[WireClient, Error | HelloResult]:
    """Say hello with ``token`` on a new connection: it, and the result or the error.
    (A player has one connection: this one replaces the one it had.)"""
    client = await open_client(server, nursery)
    answer = await client.answer(await client.send(Hello, name="again", token=token))
    if isinstance(answer, Error):
        return client, answer
    return client, decode_result(HelloResult, answer.result)


async def _refused(server: RunningServer, nursery: trio.Nursery, token: str) -> str:
    """Resume with ``token``, which must be refused: the message."""
    _, answer = await _resume(server, nursery, token)
    assert isinstance(answer, Error) and answer.code == "bad_token", answer
    return answer.message


async def _closed(client: WireClient) -> tuple[int | None, str]:
    with pytest.raises(ConnectionClosed) as closed, trio.fail_after(5):
        while True:
            await client._read_one()
    return closed.value.code, closed.value.reason


async def test_two_logins_are_two_sessions_and_revoking_one_stops_only_its_tokens(
    tmp_path: Path,
) -> None:
    config = make_config(tmp_path)
    async with trio.open_nursery() as nursery:
        server = await start_server(nursery, config)
        await _registered(server, nursery)
        _, laptop = await _log_in(server, nursery, "Firefox on Linux")
        phone, phone_hello = await _log_in(server, nursery, "Phone")
        assert laptop.session_id and phone_hello.session_id
        assert laptop.session_id != phone_hello.session_id
        listed = (await phone.call(ListSessions, SessionsResult)).sessions
        # most recently used first; the registering tab's session is one of them
        assert [(s.session_id, s.label, s.current) for s in listed] == [
            (phone_hello.session_id, "Phone", True),
            (laptop.session_id, "Firefox on Linux", False),
            (listed[2].session_id, "the first tab", False),
        ]
        assert all(s.address == "127.0.0.1" for s in listed)
        assert all(s.created_at <= s.last_used_at <= time.time() * 1000 for s in listed)
        # resuming the laptop's token keeps its session and marks it used
        laptop_again, resumed = await _resume(server, nursery, laptop.token)
        assert isinstance(resumed, HelloResult) and resumed.session_id == laptop.session_id
        listed = (await laptop_again.call(ListSessions, SessionsResult)).sessions
        assert [(s.session_id, s.current) for s in listed[:2]] == [
            (laptop.session_id, True), (phone_hello.session_id, False),
        ]
        assert listed[0].label == "Firefox on Linux"  # a resume without a label keeps it
        # the phone comes back and signs the laptop out: its tokens stop resuming at once
        phone, phone_again = await _resume(server, nursery, phone_hello.token)
        assert isinstance(phone_again, HelloResult)
        await phone.call(RevokeSession, EmptyResult, session_id=laptop.session_id)
        for token in (laptop.token, resumed.token):
            assert "signed out" in await _refused(server, nursery, token)
        remaining = [s.session_id for s in (await phone.call(ListSessions, SessionsResult)).sessions]
        assert laptop.session_id not in remaining and phone_hello.session_id in remaining
        assert await phone.fail(RevokeSession, session_id=laptop.session_id) == "unknown_session"
        assert await phone.fail(RevokeSession, session_id="no-such-session") == "unknown_session"
        nursery.cancel_scope.cancel()
    # after a restart on the same data directory: still refused, the other still resumes
    async with trio.open_nursery() as nursery:
        server = await start_server(nursery, config)
        assert "signed out" in await _refused(server, nursery, resumed.token)
        back = await open_client(server, nursery, "whoever", token=phone_again.token)
        listed = (await back.call(ListSessions, SessionsResult)).sessions
        assert laptop.session_id not in {s.session_id for s in listed}
        assert [s.session_id for s in listed if s.current] == [phone_hello.session_id]
        nursery.cancel_scope.cancel()


async def test_anonymous_players_have_no_sessions_to_list_or_revoke(
    server: RunningServer, nursery: trio.Nursery
) -> None:
    anonymous = await open_client(server, nursery)
    hello = await anonymous.call(Hello, HelloResult, name="Anon")
    assert hello.session_id is not None and hello.account is None
    assert await anonymous.fail(ListSessions) == "not_registered"
    assert await anonymous.fail(RevokeSession, session_id=hello.session_id) == "not_registered"
    assert await anonymous.fail(RevokeSession, session_id="x") == "not_registered"


async def test_revoking_the_current_session_logs_out_that_session_only(
    server: RunningServer, nursery: trio.Nursery
) -> None:
    await _registered(server, nursery)
    laptop, laptop_hello = await _log_in(server, nursery, "laptop")
    _, phone = await _log_in(server, nursery, "phone")  # replaces the laptop's connection
    laptop, _ = await _resume(server, nursery, laptop_hello.token)
    assert await laptop.call(RevokeSession, EmptyResult, session_id=laptop_hello.session_id) == (
        EmptyResult()
    )
    assert await _closed(laptop) == (1000, "logged out")
    assert "signed out" in await _refused(server, nursery, laptop_hello.token)
    phone_again, resumed = await _resume(server, nursery, phone.token)
    assert isinstance(resumed, HelloResult) and resumed.session_id == phone.session_id
    listed = (await phone_again.call(ListSessions, SessionsResult)).sessions
    assert laptop_hello.session_id not in {s.session_id for s in listed}


async def test_requests_after_signing_out_the_current_session_are_not_authenticated(
    server: RunningServer, nursery: trio.Nursery
) -> None:
    alice = await _registered(server, nursery)
    mine = next(
        s.session_id for s in (await alice.call(ListSessions, SessionsResult)).sessions
        if s.current
    )
    revoke = await alice.send(RevokeSession, session_id=mine)
    listing = await alice.send(ListSessions)
    assert (await alice.answer(revoke)).TYPE == "reply"
    answer = await alice.answer(listing)
    assert isinstance(answer, Error) and answer.code == "not_authenticated"


async def test_logout_and_revoke_others_end_the_listed_sessions(
    server: RunningServer, nursery: trio.Nursery
) -> None:
    await _registered(server, nursery)
    await _log_in(server, nursery, "one")
    _, two = await _log_in(server, nursery, "two")
    # revoke_others: every other session ends; this one goes on
    client = await open_client(server, nursery)
    kept = await client.call(
        Hello, HelloResult, name="x", token=two.token, revoke_others=True
    )
    listed = (await client.call(ListSessions, SessionsResult)).sessions
    assert [(s.session_id, s.current) for s in listed] == [(two.session_id, True)]
    # logout ends them all: a new login lists only itself
    await client.call(Logout, EmptyResult)
    assert "revoked" in await _refused(server, nursery, kept.token)
    fresh, hello = await _log_in(server, nursery)
    listed = (await fresh.call(ListSessions, SessionsResult)).sessions
    assert [(s.session_id, s.label) for s in listed] == [(hello.session_id, None)]


async def test_a_token_from_before_sessions_resumes_and_starts_one(
    server: RunningServer, nursery: trio.Nursery
) -> None:
    player_id = (await _registered(server, nursery)).player_id
    assert server.config.data_dir is not None
    # a token as the server issued them before sessions: "<player>:<expires>:<issued>"
    secret = (server.config.data_dir / SECRET_FILE).read_bytes()
    body = base64.urlsafe_b64encode(
        f"{player_id}:{int(time.time()) + 3600}:{int(time.time() * 1e6)}".encode()
    ).rstrip(b"=")
    signature = base64.urlsafe_b64encode(hmac.new(secret, body, hashlib.sha256).digest())
    legacy = f"{body.decode()}.{signature.rstrip(b'=').decode()}"
    client, resumed = await _resume(server, nursery, legacy)
    assert isinstance(resumed, HelloResult) and resumed.player_id == player_id
    assert resumed.session_id is not None
    listed = (await client.call(ListSessions, SessionsResult)).sessions
    assert [s.session_id for s in listed if s.current] == [resumed.session_id]
    # the old token names no session: each resume with it starts another one
    _, again = await _resume(server, nursery, legacy)
    assert isinstance(again, HelloResult) and again.session_id != resumed.session_id


async def test_a_bad_client_label_is_an_invalid_field(
    server: RunningServer, nursery: trio.Nursery
) -> None:
    client = await open_client(server, nursery)
    assert await client.fail(Hello, name="Alice", client_label="x" * 65) == "invalid_field"
    assert await client.fail(Hello, name="Alice", client_label="tab\x00") == "invalid_field"
    hello = await client.call(Hello, HelloResult, name="Alice", client_label="x" * 64)
    assert hello.player_id


async def test_a_revocation_the_disk_refuses_is_an_internal_error_but_holds_until_restart(
    server: RunningServer, nursery: trio.Nursery
) -> None:
    await _registered(server, nursery)
    _, laptop = await _log_in(server, nursery, "laptop")
    phone, _ = await _log_in(server, nursery, "phone")
    assert server.config.data_dir is not None
    revocations = server.config.data_dir / "revocations"
    revocations.unlink(missing_ok=True)
    revocations.mkdir()  # appending to it now fails (EISDIR)
    answer = await phone.answer(await phone.send(RevokeSession, session_id=laptop.session_id))
    assert isinstance(answer, Error) and answer.code == "internal_error"
    assert "until the server restarts" in answer.message
    assert "signed out" in await _refused(server, nursery, laptop.token)
