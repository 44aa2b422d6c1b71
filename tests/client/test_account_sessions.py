"""The SDK's typed session requests against a real server on 127.0.0.1: listing, signing
out another session, and signing out its own (which stops the client as a logout does)."""

from __future__ import annotations

import pytest
import trio

from gameserver.client import ConnectionLost, Disconnected, RequestFailed, connect
from gameserver.client.session import DEFAULT_CLIENT_LABEL

PASSWORD = "a long secret"


async def test_list_and_revoke_another_session(server_url: str) -> None:
    with trio.fail_after(30):
        async with connect(server_url, name="Ada", client_label=None) as first:
            await first.register(PASSWORD)
            first_session, first_token = first.session_id, first.token
        async with connect(server_url, name="Ada", password=PASSWORD) as phone:
            sessions = await phone.list_sessions()
            assert [(s.session_id, s.label, s.current) for s in sessions] == [
                (phone.session_id, DEFAULT_CLIENT_LABEL, True), (first_session, None, False),
            ]
            assert first_session is not None
            await phone.revoke_session(first_session)
            assert [s.session_id for s in await phone.list_sessions()] == [phone.session_id]
            with pytest.raises(RequestFailed) as unknown:
                await phone.revoke_session(first_session)
            assert unknown.value.code == "unknown_session"
            assert phone.connected  # signing out another session leaves this one alone
        with pytest.raises(RequestFailed) as refused:
            async with connect(server_url, name="Ada", token=first_token):
                pass
        assert refused.value.code == "bad_token"


async def test_revoking_its_own_session_stops_the_client_like_a_logout(server_url: str) -> None:
    with trio.fail_after(30):
        async with connect(server_url, name="Bea", client_label="script") as client:
            await client.register(PASSWORD)
            token = client.token
            assert client.session_id is not None
            await client.revoke_session(client.session_id)
            assert client.token is None
            while not isinstance(event := await client.next_event(), Disconnected):
                pass
            assert event.final and (event.code, event.reason) == (1000, "logged out")
            assert client.reconnects == 0
            with pytest.raises(ConnectionLost):
                await client.list_sessions()
        with pytest.raises(RequestFailed) as refused:
            async with connect(server_url, name="Bea", token=token):
                pass
        assert refused.value.code == "bad_token"
