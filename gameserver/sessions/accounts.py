"""Accounts: claiming a name with a password, logging in, bot API keys.

An account's id is the ``player_id`` it was claimed with, so tokens, seats and match
logs keep naming the same player. Passwords are checked and hashed in worker threads
(scrypt is slow on purpose); the store is reached through ``AsyncPlayerStore``. Nothing
here logs a password, a key or a credential.

Failed logins are counted per client address and per account name; past the limit a
login is refused with ``rate_limited`` (before the password is even checked) until the
window has passed.
"""

from __future__ import annotations

import logging
import math
import time

import attrs
import trio

from gameserver.protocol.errors import ErrorCode, RequestError
from gameserver.sessions.passwords import (
    check_password,
    hash_api_key,
    hash_password,
    new_api_key,
    verify_password,
)
from gameserver.sessions.ratelimit import KeyedWindows
from gameserver.store.async_store import AsyncPlayerStore
from gameserver.store.players import Account, AccountKind, NameTaken

__all__ = ["AccountLimits", "Accounts", "HASHING_THREADS"]

#: Password hashes computed at once (the rest wait their turn).
HASHING_THREADS = 2

log = logging.getLogger(__name__)


@attrs.frozen(kw_only=True)
class AccountLimits:
    """How many wrong logins are tolerated."""

    # A person mistypes a few times; a guesser needs thousands of tries.
    failures_per_account: int = 5
    """Wrong passwords for one account within ``window`` seconds before ``rate_limited``."""
    failures_per_address: int = 20
    """Wrong passwords or keys from one address within ``window`` seconds."""
    window: float = 300.0
    """Seconds over which failures are counted."""


class Accounts:
    """Account operations for the game service; every method may wait for the store."""

    def __init__(self, store: AsyncPlayerStore, limits: AccountLimits | None = None) -> None:
        self.store = store
        limits = limits or AccountLimits()
        self._by_account = KeyedWindows(limits.failures_per_account, limits.window)
        self._by_address = KeyedWindows(limits.failures_per_address, limits.window)
        # Each scrypt takes 16 MiB and a core for ~0.1 s: a burst of logins must not take
        # every worker thread and hundreds of megabytes.
        self._hashing = trio.CapacityLimiter(HASHING_THREADS)

    async def account(self, player_id: str) -> Account | None:
        """The account of ``player_id``, or None for an anonymous player."""
        return await self.store.call(self.store.sync.account_by_id, player_id)

    async def register(
        self, player_id: str, name: str, password: str, *, bot: bool
    ) -> tuple[Account, str | None]:
        """Claim ``name`` for ``player_id``; return the account and, for a bot, its first
        API key (show it once). Raises weak_password, password_too_long, name_taken or
        already_registered."""
        check_password(password)
        if await self.account(player_id) is not None:
            raise RequestError(ErrorCode.ALREADY_REGISTERED, "this player has an account already")
        credential = await trio.to_thread.run_sync(hash_password, password, limiter=self._hashing)
        account = Account(
            account_id=player_id,
            name=name,
            kind=AccountKind.BOT if bot else AccountKind.HUMAN,
            created_at=_now_ms(),
        )
        try:
            await self.store.call(self.store.sync.create_account, account, credential)
        except NameTaken as exc:
            raise RequestError(ErrorCode.NAME_TAKEN, str(exc)) from None
        log.info("player %s registered as a %s account", player_id, account.kind.value)
        key = await self.create_key(account) if bot else None
        return account, key

    async def login(self, name: str, password: str, address: str) -> Account:
        """The account ``name`` when ``password`` is its password. Raises rate_limited,
        unknown_account or wrong_password (each failure counts against the limits)."""
        now = trio.current_time()
        folded = name.casefold()
        self._check_limits(folded, address, now)
        found = await self.store.call(self.store.sync.account_by_name, name)
        if found is None:
            self._by_address.add(address, now)
            raise RequestError(ErrorCode.UNKNOWN_ACCOUNT, f"no account is called {name!r}")
        account, credential = found
        ok = credential is not None and await trio.to_thread.run_sync(
            verify_password, password, credential, limiter=self._hashing
        )
        if not ok:
            self._by_account.add(folded, now)
            self._by_address.add(address, now)
            log.info("wrong password for account %s from %s", account.account_id, address)
            raise RequestError(ErrorCode.WRONG_PASSWORD, "wrong password")
        return account

    async def login_with_key(self, key: str, address: str) -> Account:
        """The bot account owning ``key``; raises rate_limited or bad_api_key."""
        now = trio.current_time()
        self._check_limits(None, address, now)
        account = await self.store.call(self.store.sync.account_by_key, hash_api_key(key))
        if account is None:
            self._by_address.add(address, now)
            raise RequestError(ErrorCode.BAD_API_KEY, "the API key is unknown or revoked")
        return account

    def _check_limits(self, folded_name: str | None, address: str, now: float) -> None:
        wait = self._by_address.retry_after(address, now)
        if folded_name is not None:
            wait = max(wait, self._by_account.retry_after(folded_name, now))
        if wait > 0:
            raise RequestError(
                ErrorCode.RATE_LIMITED, f"too many failed logins; retry in {math.ceil(wait)} s"
            )

    async def rename(self, account: Account, name: str) -> Account:
        """Give ``account`` the (validated) ``name``; raises name_taken."""
        try:
            await self.store.call(self.store.sync.rename, account.account_id, name)
        except NameTaken as exc:
            raise RequestError(ErrorCode.NAME_TAKEN, str(exc)) from None
        return attrs.evolve(account, name=name)

    async def create_key(self, account: Account) -> str:
        """A new API key of the bot ``account`` (only its hash is stored); raises not_a_bot."""
        if account.kind is not AccountKind.BOT:
            raise RequestError(ErrorCode.NOT_A_BOT, "API keys belong to bot accounts only")
        key_id, key, key_hash = new_api_key()
        await self.store.call(
            self.store.sync.add_api_key, account.account_id, key_id, key_hash, _now_ms()
        )
        log.info("issued API key %s for account %s", key_id, account.account_id)
        return key

    async def revoke_keys(self, account: Account) -> int:
        """Revoke every key of the bot ``account``; raises not_a_bot."""
        if account.kind is not AccountKind.BOT:
            raise RequestError(ErrorCode.NOT_A_BOT, "API keys belong to bot accounts only")
        return await self.store.call(
            self.store.sync.revoke_api_keys, account.account_id, _now_ms()
        )


def _now_ms() -> int:
    return int(time.time() * 1000)
