"""Session tokens: HMAC-SHA256 signed, expiring, bound to one player id and one session.

A token is ``<body>.<signature>`` where ``body`` is base64url of
``"<player_id>:<expires_unix_seconds>:<issued_unix_microseconds>:<session_id>"`` and
``signature`` is base64url of HMAC-SHA256(secret, body). The secret lives in the data
directory so tokens survive restarts (and crash recovery can let players resume).

A *session* is a chain of tokens: a login (or a hello without a token) starts one, and
resuming with a token issues the next token of the same session, so an account can list
its sessions and revoke one (``account_sessions.py``). A token is refused when it was
issued before its player's revocation time or its session was revoked
(``revocations.py``). Older token forms stay valid: ``"<player_id>:<expires>"`` counts
as issued at time 0, and both it and ``"<player_id>:<expires>:<issued>"`` have no
session (resuming with one starts a new session).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
import time
from collections.abc import Callable
from pathlib import Path

import attrs

from gameserver.protocol.errors import ErrorCode, RequestError
from gameserver.sessions.revocations import Revocations

SECRET_FILE = "token_secret"
# 256 bits, the HMAC-SHA256 block-size sweet spot.
SECRET_BYTES = 32
# Tokens longer than this cannot be ours; refuse them before any decoding work.
MAX_TOKEN_LENGTH = 256
# 72 bits: unguessable is not needed (a session id alone grants nothing), unique is.
SESSION_ID_BYTES = 9


@attrs.frozen(kw_only=True)
class Token:
    """A token and what it says: issued by ``TokenSigner.issue`` or checked by ``verify``."""

    text: str
    """The token as the client holds it."""
    player_id: str
    """The player it resumes."""
    session_id: str | None
    """The session it belongs to; None for a token issued before sessions existed."""
    issued: int
    """When it was issued, microseconds since the Unix epoch (0 for the oldest form)."""


def load_or_create_secret(data_dir: Path) -> bytes:
    """Return the server secret from ``data_dir``, creating it (mode 0600) on first use."""
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / SECRET_FILE
    try:
        secret = path.read_bytes()
    except FileNotFoundError:
        secret = secrets.token_bytes(SECRET_BYTES)
        tmp = path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.write(fd, secret)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
        return secret
    if len(secret) < 16:
        raise ValueError(f"{path} holds a secret that is too short; delete it to regenerate")
    return secret


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class TokenSigner:
    """Issue and verify session tokens with one secret.

    ``issue(player_id)`` returns a token to hand to the client; ``verify(text)`` returns
    the token it reads or raises ``RequestError(ErrorCode.BAD_TOKEN)``;
    ``revoke_all(player_id)`` makes every token of the player issued so far fail,
    ``revoke_session(session_id)`` every token of that session. Revoking changes
    ``revocations`` in memory only: write them (``Revocations.write`` /
    ``write_session``) before telling the client.
    """

    def __init__(
        self,
        secret: bytes,
        *,
        ttl: float = 7 * 24 * 3600,
        clock: Callable[[], float] = time.time,
        revocations: Revocations | None = None,
    ) -> None:
        self._secret = secret
        self._ttl = ttl
        self._clock = clock
        self.revocations = revocations or Revocations()
        """Per-player revocation times checked by ``verify``."""
        self._last_issued = 0

    def _sign(self, body: str) -> str:
        return _b64(hmac.new(self._secret, body.encode("ascii"), hashlib.sha256).digest())

    def _now_us(self) -> int:
        return int(self._clock() * 1_000_000)

    def issue(
        self, player_id: str, *, session_id: str | None = None, revoke_older: bool = False
    ) -> Token:
        """Return a fresh token for ``player_id``, valid for the signer's ``ttl``, in
        ``session_id`` (resuming) or a new session (None); with ``revoke_older``, every
        token of the player issued before it is revoked."""
        # Strictly after every earlier token (so ``revoke_older`` spares only this one),
        # and never before a revocation, even if the wall clock stepped back.
        issued = max(
            self._now_us(), self._last_issued + 1, self.revocations.not_before(player_id)
        )
        self._last_issued = issued
        expires = int(self._clock() + self._ttl)
        session_id = session_id or new_session_id()
        body = _b64(f"{player_id}:{expires}:{issued}:{session_id}".encode())
        if revoke_older:
            self.revocations.revoke(player_id, issued)
        return Token(
            text=f"{body}.{self._sign(body)}", player_id=player_id, session_id=session_id,
            issued=issued,
        )

    def revoke_all(self, player_id: str) -> None:
        """Revoke every token of ``player_id`` issued so far."""
        self.revocations.revoke(player_id, self._revocation_time())

    def revoke_session(self, session_id: str) -> None:
        """Revoke every token of ``session_id``, issued so far or later."""
        self.revocations.revoke_session(session_id, self._revocation_time())

    def _revocation_time(self) -> int:
        return max(self._now_us(), self._last_issued) + 1

    def live(self, player_id: str, session_id: str, last_issued: int) -> bool:
        """Whether a session whose newest token was issued at ``last_issued`` (µs) still
        has a token that ``verify`` accepts."""
        return (
            last_issued >= self.revocations.not_before(player_id)
            and not self.revocations.session_revoked(session_id)
            and last_issued / 1_000_000 + self._ttl >= self._clock()
        )

    def verify(self, token: object) -> Token:
        """Return what ``token`` says; raise ``RequestError`` if it is invalid."""
        if not isinstance(token, str) or len(token) > MAX_TOKEN_LENGTH or token.count(".") != 1:
            raise RequestError(ErrorCode.BAD_TOKEN, "token is malformed")
        body, signature = token.split(".")
        try:
            body.encode("ascii")
            expected = self._sign(body)
        except UnicodeEncodeError:
            raise RequestError(ErrorCode.BAD_TOKEN, "token is malformed") from None
        if not hmac.compare_digest(expected.encode("ascii"), signature.encode("utf-8", "replace")):
            raise RequestError(ErrorCode.BAD_TOKEN, "token signature is invalid")
        try:
            player_id, expires_text, *rest = _unb64(body).decode("utf-8").split(":")
            expires = int(expires_text)
            issued = int(rest[0]) if rest else 0
            session_id = rest[1] if len(rest) > 1 else None
        except (ValueError, UnicodeDecodeError):
            raise RequestError(ErrorCode.BAD_TOKEN, "token is malformed") from None
        if expires < self._clock():
            raise RequestError(ErrorCode.BAD_TOKEN, "token has expired; say hello without a token")
        if issued < self.revocations.not_before(player_id):
            raise RequestError(
                ErrorCode.BAD_TOKEN, "token was revoked (logged out); say hello without a token"
            )
        if session_id is not None and self.revocations.session_revoked(session_id):
            raise RequestError(
                ErrorCode.BAD_TOKEN,
                "token was revoked (its session was signed out); say hello without a token",
            )
        return Token(text=token, player_id=player_id, session_id=session_id, issued=issued)


def new_player_id() -> str:
    """Return a fresh random player id (opaque, URL-safe)."""
    return secrets.token_hex(8)


def new_session_id() -> str:
    """Return a fresh random session id (opaque, URL-safe, no ``:``)."""
    return secrets.token_urlsafe(SESSION_ID_BYTES)
