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
    assert signer.verify(signer.issue(player).text).player_id == player


def test_tokens_expire() -> None:
    now = [1000.0]
    signer = TokenSigner(b"k" * 32, ttl=60, clock=lambda: now[0])
    token = signer.issue("p1").text
    now[0] += 59
    assert signer.verify(token).player_id == "p1"
    now[0] += 2
    with pytest.raises(RequestError) as info:
        signer.verify(token)
    assert info.value.code is ErrorCode.BAD_TOKEN and "expired" in info.value.message


def test_another_secret_or_a_changed_body_is_refused() -> None:
    token = TokenSigner(b"a" * 32).issue("p1").text
    with pytest.raises(RequestError):
        TokenSigner(b"b" * 32).verify(token)
    body, signature = token.split(".")
    forged_body = TokenSigner(b"c" * 32).issue("p2").text.split(".")[0]
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
    old, other = signer.issue("p1").text, signer.issue("p2").text
    signer.revoke_all("p1")
    with pytest.raises(RequestError, match="revoked"):
        signer.verify(old)
    assert signer.verify(other).player_id == "p2"
    # even in the same microsecond, a token issued after the revocation is valid
    assert signer.verify(signer.issue("p1").text).player_id == "p1"


def test_issuing_with_revoke_older_keeps_only_the_new_token() -> None:
    now = [1000.0]
    signer = TokenSigner(b"k" * 32, clock=lambda: now[0])
    old = signer.issue("p1").text
    new = signer.issue("p1", revoke_older=True).text  # same clock reading as the old one
    assert signer.verify(new).player_id == "p1"
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
    assert signer.verify(legacy).player_id == "p1"
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


def _signed(secret: bytes, body_text: str) -> str:
    """A token of the given body text, signed as the server does (for older forms)."""
    import base64
    import hashlib
    import hmac

    body = base64.urlsafe_b64encode(body_text.encode()).rstrip(b"=")
    signature = base64.urlsafe_b64encode(hmac.new(secret, body, hashlib.sha256).digest())
    return f"{body.decode()}.{signature.rstrip(b'=').decode()}"


def test_a_token_carries_its_session_and_resuming_keeps_it() -> None:
    signer = TokenSigner(b"k" * 32)
    first = signer.issue("p1")
    assert first.session_id and ":" not in first.session_id
    assert signer.verify(first.text) == first
    resumed = signer.issue("p1", session_id=first.session_id)
    assert resumed.session_id == first.session_id and resumed.issued > first.issued
    assert signer.issue("p1").session_id != first.session_id  # a new login, a new session


def test_tokens_from_before_sessions_stay_valid_without_one() -> None:
    signer = TokenSigner(b"k" * 32)
    legacy = signer.verify(_signed(b"k" * 32, "p1:99999999999:1234"))
    assert (legacy.player_id, legacy.session_id, legacy.issued) == ("p1", None, 1234)
    # resuming with it starts a session
    assert signer.issue("p1", session_id=legacy.session_id).session_id is not None


def test_revoking_a_session_refuses_its_tokens_only() -> None:
    now = [1000.0]
    signer = TokenSigner(b"k" * 32, clock=lambda: now[0])
    laptop, phone = signer.issue("p1"), signer.issue("p1")
    assert laptop.session_id is not None and phone.session_id is not None
    laptop_later = signer.issue("p1", session_id=laptop.session_id)
    signer.revoke_session(laptop.session_id)
    for token in (laptop, laptop_later):
        with pytest.raises(RequestError, match="session was signed out") as info:
            signer.verify(token.text)
        assert info.value.code is ErrorCode.BAD_TOKEN
    assert signer.verify(phone.text).session_id == phone.session_id
    # a token of the revoked session issued later (a resume racing the revocation) too
    with pytest.raises(RequestError, match="signed out"):
        signer.verify(signer.issue("p1", session_id=laptop.session_id).text)


def test_a_session_is_live_while_its_newest_token_resumes() -> None:
    now = [1000.0]
    signer = TokenSigner(b"k" * 32, ttl=60, clock=lambda: now[0])
    token = signer.issue("p1")
    assert token.session_id is not None
    assert signer.live("p1", token.session_id, token.issued)
    now[0] += 61
    assert not signer.live("p1", token.session_id, token.issued)  # expired
    now[0] -= 61
    newer = signer.issue("p1", revoke_older=True)
    assert not signer.live("p1", token.session_id, token.issued)  # revoke_others
    assert newer.session_id is not None and signer.live("p1", newer.session_id, newer.issued)
    signer.revoke_session(newer.session_id)
    assert not signer.live("p1", newer.session_id, newer.issued)


def test_session_revocations_are_kept_in_the_data_dir_and_old_ones_dropped(
    tmp_path: Path,
) -> None:
    now = 1_000_000.0
    revocations = Revocations.load(tmp_path, ttl=100.0, now=now)
    revocations.revoke_session("fresh-s", int(now * 1e6))
    revocations.write_session("fresh-s")
    revocations.revoke_session("stale-s", int((now - 200) * 1e6))
    revocations.write_session("stale-s")
    revocations.revoke("p1", int(now * 1e6))
    revocations.write("p1")
    loaded = Revocations.load(tmp_path, ttl=100.0, now=now)
    assert loaded.session_revoked("fresh-s") and not loaded.session_revoked("stale-s")
    assert loaded.not_before("p1") == int(now * 1e6)
    assert loaded.not_before("session:fresh-s") == 0  # a session line is no player's
    assert sorted((tmp_path / REVOCATIONS_FILE).read_text().splitlines()) == [
        f"p1 {int(now * 1e6)}", f"session:fresh-s {int(now * 1e6)}",
    ]
