"""Session tokens and the server secret."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gameserver.protocol.errors import ErrorCode, RequestError
from gameserver.sessions.revocations import REVOCATIONS_FILE, Revocations
from gameserver.sessions.tokens import TokenSigner, load_or_create_secret, new_player_id


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


def test_revoking_refuses_every_token_issued_so_far_and_no_later_one() -> None:
    now = [1000.0]
    signer = TokenSigner(b"k" * 32, clock=lambda: now[0])
    old, other = signer.issue("p1"), signer.issue("p2")
    signer.revoke_all("p1")
    with pytest.raises(RequestError, match="revoked"):
        signer.verify(old)
    assert signer.verify(other) == "p2"
    # even in the same microsecond, a token issued after the revocation is valid
    assert signer.verify(signer.issue("p1")) == "p1"


def test_issuing_with_revoke_older_keeps_only_the_new_token() -> None:
    now = [1000.0]
    signer = TokenSigner(b"k" * 32, clock=lambda: now[0])
    old = signer.issue("p1")
    new = signer.issue("p1", revoke_older=True)  # same clock reading as the old one
    assert signer.verify(new) == "p1"
    with pytest.raises(RequestError, match="revoked"):
        signer.verify(old)


def test_tokens_without_an_issue_time_are_valid_until_the_player_revokes() -> None:
    import base64
    import hashlib
    import hmac

    body = base64.urlsafe_b64encode(b"p1:99999999999").rstrip(b"=")
    signature = base64.urlsafe_b64encode(
        hmac.new(b"k" * 32, body, hashlib.sha256).digest()
    ).rstrip(b"=")
    legacy = f"{body.decode()}.{signature.decode()}"
    signer = TokenSigner(b"k" * 32)
    assert signer.verify(legacy) == "p1"
    signer.revoke_all("p1")
    with pytest.raises(RequestError, match="revoked"):
        signer.verify(legacy)


def test_revocations_are_kept_in_the_data_dir_and_old_ones_dropped(tmp_path: Path) -> None:
    now = 1_000_000.0
    revocations = Revocations.load(tmp_path, ttl=100.0, now=now)
    revocations.revoke("fresh", int(now * 1e6))
    revocations.write("fresh")
    revocations.revoke("stale", int((now - 200) * 1e6))
    revocations.write("stale")
    with open(tmp_path / REVOCATIONS_FILE, "a") as file:
        file.write("torn 12")  # a crash in the middle of a line
    assert stat.S_IMODE((tmp_path / REVOCATIONS_FILE).stat().st_mode) == 0o600
    loaded = Revocations.load(tmp_path, ttl=100.0, now=now)
    assert loaded.not_before("fresh") == int(now * 1e6)
    assert loaded.not_before("stale") == 0  # those tokens have expired anyway
    assert (tmp_path / REVOCATIONS_FILE).read_text() == f"fresh {int(now * 1e6)}\n"
