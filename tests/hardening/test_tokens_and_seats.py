"""Session tokens (forged, expired, tampered, swapped) and acting only for one's own seat."""

from __future__ import annotations

import base64
from pathlib import Path

import msgpack
import trio

from gameserver.protocol.messages import Error, Hello, JoinResult, Move, Resign, Spectate
from gameserver.rooms.tokens import SECRET_FILE, TokenSigner

from .conftest import RunningServer, open_client, pair_in_room


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
            "forged with another secret": (TokenSigner(b"k" * 32).issue(alice_id), "signature"),
            "expired": (TokenSigner(secret, ttl=-60).issue(alice_id), "expired"),
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
