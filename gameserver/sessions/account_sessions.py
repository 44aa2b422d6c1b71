"""The sessions of accounts: recorded when a token is issued, listed, revoked one by one.

A session is the chain of resume tokens one login started (``tokens.py``): every token
carries its session id, and resuming issues the next token of the same session. For a
player with an account, the service records the session in the player store each time
a ``hello`` issues it a token (its id, when it started and was last used, the client's
address and label; never the token). ``list_sessions`` shows those whose tokens still
resume; ``revoke_session`` revokes one: the signer refuses its tokens at once, the
revocations file keeps refusing them after a restart, and the store forgets it.

A session is *live* while its newest token is: issued at or after the player's
revocation time (``logout`` and ``revoke_others`` end the others without touching the
store), not revoked itself, not expired. Listing filters by that, so the store needs no
write when a logout ends every session at once.
"""

from __future__ import annotations

import logging

import attrs
import trio

from gameserver.protocol.errors import ErrorCode, RequestError
from gameserver.protocol.messages import SessionInfo, SessionsResult
from gameserver.sessions.tokens import Token, TokenSigner
from gameserver.store.async_store import AsyncPlayerStore
from gameserver.store.players import SessionRecord

__all__ = ["MAX_LABEL_LENGTH", "AccountSessions", "SessionUse", "validate_label"]

log = logging.getLogger(__name__)

# Enough for "Firefox 131 on Ubuntu" or "my-bot 2.0.1 (gameserver SDK)"; a label is a
# hint for a person choosing which session to sign out, not a user agent string.
MAX_LABEL_LENGTH = 64


def validate_label(label: str | None) -> str | None:
    """The client label of a ``hello``, trimmed (None when absent or blank); raises
    ``invalid_field`` when it is longer than ``MAX_LABEL_LENGTH`` or unprintable."""
    if label is None or not label.strip():
        return None
    label = label.strip()
    if len(label) > MAX_LABEL_LENGTH or not label.isprintable():
        raise RequestError(
            ErrorCode.INVALID_FIELD,
            f"field 'hello.client_label' must be at most {MAX_LABEL_LENGTH} printable "
            "characters",
        )
    return label


@attrs.frozen(kw_only=True)
class SessionUse:
    """A connection's use of its session: the token its ``hello`` got, from where, and
    the label it gave."""

    token: Token
    """The token issued to the connection (its ``session_id`` names the session)."""
    address: str
    """The client's IP address."""
    label: str | None
    """The validated ``hello.client_label``."""


class AccountSessions:
    """Records, lists and revokes the sessions of accounts; every method but
    ``revoke_now`` may wait for the store or the disk."""

    def __init__(self, store: AsyncPlayerStore, signer: TokenSigner, *, ttl: float) -> None:
        self.store = store
        self._signer = signer
        self._ttl_us = int(ttl * 1_000_000)

    async def record(self, account_id: str, use: SessionUse) -> None:
        """Store the session of ``use`` for ``account_id``, or mark it used now.

        A store failure is logged, not raised: the login goes on, and only the session
        list misses it (``logout`` still revokes its tokens)."""
        token = use.token
        assert token.session_id is not None, "the signer gives every new token a session"
        record = SessionRecord(
            session_id=token.session_id, account_id=account_id, created_at=token.issued,
            last_used_at=token.issued, address=use.address, label=use.label,
        )
        try:
            await self.store.call(
                self.store.sync.record_session, record,
                forget_before=token.issued - self._ttl_us,
            )
        except Exception:  # whatever the backend raises (a full disk, a locked file)
            log.exception("cannot record session %s of %s", token.session_id, account_id)

    async def list(self, account_id: str, current: str | None) -> SessionsResult:
        """The live sessions of ``account_id``; ``current`` is the asking connection's."""
        records = await self.store.call(self.store.sync.account_sessions, account_id)
        return SessionsResult(
            sessions=tuple(
                _info(record, current) for record in records if self._live(record)
            )
        )

    async def revoke(self, account_id: str, session_id: str) -> None:
        """Revoke the live session ``session_id`` of ``account_id`` (not the asking
        connection's: see ``revoke_now``). Raises ``unknown_session`` when it has none
        such, ``internal_error`` when the revocation cannot be written."""
        records = await self.store.call(self.store.sync.account_sessions, account_id)
        if not any(r.session_id == session_id and self._live(r) for r in records):
            raise RequestError(
                ErrorCode.UNKNOWN_SESSION,
                f"the account has no live session {session_id!r}; list_sessions shows them",
            )
        self.revoke_now(session_id)
        await self.make_durable(account_id, session_id)

    def revoke_now(self, session_id: str) -> None:
        """Refuse the tokens of ``session_id`` from now on, in memory; then await
        ``make_durable`` before telling the client."""
        self._signer.revoke_session(session_id)

    async def make_durable(self, account_id: str, session_id: str) -> None:
        """Write the revocation of ``session_id`` (``revoke_now``) to disk, then forget
        the session in the store. Raises ``internal_error`` when the disk refused: the
        tokens stay refused until the server restarts."""
        revocations = self._signer.revocations
        try:
            await trio.to_thread.run_sync(revocations.write_session, session_id)
        except OSError:
            log.exception("cannot record the revocation of session %s", session_id)
            raise RequestError(
                ErrorCode.INTERNAL_ERROR,
                "the revocation could not be recorded; the session's tokens stay refused "
                "until the server restarts",
            ) from None
        try:
            await self.store.call(self.store.sync.forget_session, account_id, session_id)
        except Exception:  # whatever the backend raises; revoked all the same (``_live``)
            log.exception("cannot forget session %s of %s", session_id, account_id)

    def _live(self, record: SessionRecord) -> bool:
        return self._signer.live(record.account_id, record.session_id, record.last_used_at)


def _info(record: SessionRecord, current: str | None) -> SessionInfo:
    return SessionInfo(
        session_id=record.session_id,
        created_at=record.created_at // 1000,
        last_used_at=record.last_used_at // 1000,
        address=record.address,
        label=record.label,
        current=record.session_id == current,
    )
