"""Session tokens (forged, expired, tampered, swapped) and acting only for one's own seat."""

from __future__ import annotations

import base64
from pathlib import Path

import msgpack
import pytest
import trio

from gameserver.protocol.messages import (
    CreateRoom,
    EmptyResult,
    Error,
    Hello,
    HelloResult,
    JoinResult,
    JoinRoom,
    ListRooms,
    Logout,
    Move,
    Reply,
    Resign,
    RoomsResult,
    Spectate,
)
from gameserver.sessions.tokens import SECRET_FILE, TokenSigner
from gameserver.ws.exceptions import ConnectionClosed

from .conftest import RunningServer, make_config, open_client, pair_in_room, start_server


def flip(text: str, index: int) -> str:
    replacement = "A" if text[index] != "A" else "B"
    return text[:index] + replacement + text[index + 1 :]


async def test_forged_expired_and_tampered_tokens_are_refused(
    server: RunningServer, tmp_path: Path
) -> None:
    async with trio.open_nursery() as nursery:
        pair = await pair_in_room(server, nursery)
        assert pair.alice.token is not None and pair.alice.player_id is not None
        token, alice_id = pair.alice.token, pair.alice.player_id
        secret = (tmp_path / "data" / SECRET_FILE).read_bytes()
        body, signature = token.split(".")
        bob_id = pair.bob.player_id
        assert bob_id is not None
        # a body naming bob, with alice's signature
        swapped_body = base64.urlsafe_b64encode(
            base64.urlsafe_b64decode(body + "==").replace(alice_id.encode(), bob_id.encode())
        ).rstrip(b"=").decode()
        cases = {
            "forged with another secret": (TokenSigner(b"k" * 32).issue(alice_id).text, "signature"),
            "expired": (TokenSigner(secret, ttl=-60).issue(alice_id).text, "expired"),
            "tampered body": (flip(token, 3), "signature"),
            "tampered signature": (flip(token, len(token) - 5), "signature"),
            "another player's id": (f"{swapped_body}.{signature}", "signature"),
            "no signature": (body, "malformed"),
            "oversized": ("a" * 5000 + "." + "b", "malformed"),
        }
        cases_any: dict[str, tuple[object, str]] = dict(cases)
        cases_any["not a string"] = (12345, "must be a string")
        for label, (bad, words) in cases_any.items():
            thief = await open_client(server, nursery)
            answer = await thief.answer(await thief.send(Hello, name="thief", token=bad))
            assert isinstance(answer, Error), label
            code = "invalid_field" if label == "not a string" else "bad_token"
            assert answer.code == code and words in answer.message, (label, answer)
            # the refused connection may still say hello without a token
            fresh = await thief.hello("thief")
            assert fresh.player_id != alice_id and not fresh.resumed
            await thief.ws.close()
        # the real owner's seat was never touched and the match goes on
        assert await pair.play(2) == 2
        # a valid token resumes only its own player
        again = await open_client(server, nursery)
        resumed = await again.hello("alice", token)
        assert resumed.resumed and resumed.player_id == alice_id
        assert [(s.room_id, s.seat) for s in resumed.seats] == [(pair.room_id, 0)]
        nursery.cancel_scope.cancel()


async def test_a_player_acts_only_for_its_own_seat(server: RunningServer) -> None:
    async with trio.open_nursery() as nursery:
        pair = await pair_in_room(server, nursery)
        watcher = await open_client(server, nursery, "watcher")
        await watcher.call(Spectate, JoinResult, room_id=pair.room_id)
        stranger = await open_client(server, nursery, "stranger")
        move = {"room_id": pair.room_id, "version": 0, "move": {"column": 0}}
        assert await pair.bob.fail(Move, **move) == "not_your_turn"  # alice's turn
        assert await watcher.fail(Move, **move) == "not_in_room"
        assert await stranger.fail(Move, **move) == "not_in_room"
        assert await stranger.fail(Resign, room_id=pair.room_id) == "not_in_room"
        assert await watcher.fail(Resign, room_id=pair.room_id) == "not_in_room"
        # no request carries a seat number: the server derives it from the connection
        await pair.bob.send_raw(msgpack.packb({"type": "move", "id": 99, "seat": 0, **move}))
        answer = await pair.bob.answer(99)
        assert isinstance(answer, Error) and answer.code in ("invalid_field", "not_your_turn")
        assert await pair.play(2) == 2
        nursery.cancel_scope.cancel()


async def _refused_token(server: RunningServer, nursery: trio.Nursery, token: str) -> str:
    """Say hello with ``token`` on a new connection; it must be refused: the message."""
    client = await open_client(server, nursery)
    answer = await client.answer(await client.send(Hello, name="again", token=token))
    assert isinstance(answer, Error) and answer.code == "bad_token", answer
    await client.ws.close()
    return answer.message


async def test_logout_revokes_every_token_of_the_player_and_closes(
    server: RunningServer,
) -> None:
    async with trio.open_nursery() as nursery:
        alice = await open_client(server, nursery, "alice")
        first = alice.token
        assert first is not None
        # a second connection resumes: two tokens of alice are now valid
        again = await open_client(server, nursery, "alice", token=first)
        second = again.token
        assert second is not None and second != first
        assert await again.call(Logout, EmptyResult) == EmptyResult()
        with pytest.raises(ConnectionClosed) as closed, trio.fail_after(5):
            while True:
                await again._read_one()
        assert (closed.value.code, closed.value.reason) == (1000, "logged out")
        for token in (first, second):
            assert "revoked" in await _refused_token(server, nursery, token)
        # another player is untouched; a new hello makes a new player
        bob = await open_client(server, nursery, "bob")
        assert bob.token is not None
        resumed = await (await open_client(server, nursery)).hello("bob", bob.token)
        assert resumed.resumed
        fresh = await (await open_client(server, nursery)).hello("alice")
        assert not fresh.resumed and fresh.player_id != alice.player_id
        nursery.cancel_scope.cancel()


async def test_requests_after_logout_on_the_same_connection_are_not_authenticated(
    server: RunningServer,
) -> None:
    async with trio.open_nursery() as nursery:
        alice = await open_client(server, nursery, "alice")
        logout = await alice.send(Logout)
        listing = await alice.send(ListRooms)
        assert isinstance(await alice.answer(logout), Reply)
        answer = await alice.answer(listing)
        assert isinstance(answer, Error) and answer.code == "not_authenticated"
        nursery.cancel_scope.cancel()


async def test_hello_with_revoke_others_revokes_only_the_older_tokens(
    server: RunningServer,
) -> None:
    async with trio.open_nursery() as nursery:
        pair = await pair_in_room(server, nursery)
        old = pair.alice.token
        assert old is not None
        phone = await open_client(server, nursery)
        result = await phone.call(
            Hello, HelloResult, name="alice", token=old, revoke_others=True
        )
        assert result.resumed and [s.room_id for s in result.seats] == [pair.room_id]
        assert "revoked" in await _refused_token(server, nursery, old)
        # the new token works, and so does the seat it resumed
        later = await open_client(server, nursery, "alice", token=result.token)
        assert later.player_id == pair.alice.player_id
        pair.alice = later
        assert await pair.play(2) == 2
        nursery.cancel_scope.cancel()


async def test_revocations_survive_a_restart(tmp_path: Path) -> None:
    config = make_config(tmp_path)
    async with trio.open_nursery() as nursery:
        running = await start_server(nursery, config)
        alice = await open_client(running, nursery, "alice")
        bob = await open_client(running, nursery, "bob")
        await alice.call(Logout, EmptyResult)
        nursery.cancel_scope.cancel()
    assert alice.token is not None and bob.token is not None
    async with trio.open_nursery() as nursery:
        running = await start_server(nursery, config)
        assert "revoked" in await _refused_token(running, nursery, alice.token)
        client = await open_client(running, nursery)
        assert (await client.hello("bob", bob.token)).resumed
        nursery.cancel_scope.cancel()


async def test_wrong_invite_codes_are_limited_per_address(server: RunningServer) -> None:
    async with trio.open_nursery() as nursery:
        host = await open_client(server, nursery, "host")
        room = await host.call(CreateRoom, JoinResult, game="connect4", players=2, private=True)
        guesser = await open_client(server, nursery, "guesser")
        for attempt in range(10):
            code = await guesser.fail(JoinRoom, invite_code=f"WRONG{attempt:03d}")
            assert code == "room_not_found"
        # from now on every invite code from this address is refused, the right one too
        answer = await guesser.answer(await guesser.send(JoinRoom, invite_code=room.invite_code))
        assert isinstance(answer, Error) and answer.code == "rate_limited", answer
        assert "retry in" in answer.message
        # a new connection (a new player) at the same address changes nothing
        other = await open_client(server, nursery, "other")
        assert await other.fail(JoinRoom, invite_code=room.invite_code) == "rate_limited"
        # joining by room id and everything else still work
        assert await other.fail(JoinRoom, room_id="nope") == "room_not_found"
        await other.call(ListRooms, RoomsResult)
        nursery.cancel_scope.cancel()
