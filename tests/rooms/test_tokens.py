"""Session tokens and the server secret."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gameserver.protocol.errors import ErrorCode, RequestError
from gameserver.rooms.tokens import TokenSigner, load_or_create_secret, new_player_id


def test_a_token_verifies_to_its_player() -> None:
    signer = TokenSigner(b"k" * 32)
    player = new_player_id()
    assert signer.verify(signer.issue(player)) == player


def test_tokens_expire() -> None:
    now = [1000.0]
    signer = TokenSigner(b"k" * 32, ttl=60, clock=lambda: now[0])
    token = signer.issue("p1")
    now[0] += 59
    assert signer.verify(token) == "p1"
    now[0] += 2
    with pytest.raises(RequestError) as info:
        signer.verify(token)
    assert info.value.code is ErrorCode.BAD_TOKEN and "expired" in info.value.message


def test_another_secret_or_a_changed_body_is_refused() -> None:
    token = TokenSigner(b"a" * 32).issue("p1")
    with pytest.raises(RequestError):
        TokenSigner(b"b" * 32).verify(token)
    body, signature = token.split(".")
    forged_body = TokenSigner(b"c" * 32).issue("p2").split(".")[0]
    with pytest.raises(RequestError):
        TokenSigner(b"a" * 32).verify(f"{forged_body}.{signature}")


@settings(max_examples=200)
@given(st.one_of(st.text(max_size=300), st.integers(), st.none(), st.binary(max_size=50)))
def test_garbage_tokens_never_crash(token: object) -> None:
    with pytest.raises(RequestError) as info:
        TokenSigner(b"k" * 32).verify(token)
    assert info.value.code is ErrorCode.BAD_TOKEN


def test_the_secret_is_created_once_private_and_kept(tmp_path: Path) -> None:
    data = tmp_path / "data"
    first = load_or_create_secret(data)
    assert len(first) == 32
    assert stat.S_IMODE((data / "token_secret").stat().st_mode) == 0o600
    assert load_or_create_secret(data) == first
