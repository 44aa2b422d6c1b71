"""The account and rating requests of a connection: each awaits the store.

``AccountRequests.serve`` answers one of ``register``, ``rename``, ``create_api_key``,
``revoke_api_keys``, ``list_sessions``, ``revoke_session`` (of another session than the
connection's: the service signs the connection itself out), ``leaderboard`` and
``profile`` for an authenticated player; the service runs it as a task and sends the
result (or the ``RequestError``) as the reply.
"""

from __future__ import annotations

from gameserver.protocol.errors import ErrorCode, RequestError
from gameserver.protocol.messages import (
    AccountResult,
    ClientMessage,
    CreateApiKey,
    EmptyResult,
    Leaderboard,
    ListSessions,
    Profile,
    Register,
    Rename,
    Result,
    RevokeApiKeys,
    RevokeSession,
)
from gameserver.sessions.account_sessions import AccountSessions, SessionUse
from gameserver.sessions.accounts import Accounts
from gameserver.sessions.names import validate_name
from gameserver.sessions.players import Player
from gameserver.sessions.standings import account_info, leaderboard, profile
from gameserver.store.players import Account

__all__ = ["ACCOUNT_REQUESTS", "AccountRequests"]

#: The request classes ``AccountRequests.serve`` answers.
ACCOUNT_REQUESTS = (
    Register, Rename, CreateApiKey, RevokeApiKeys, ListSessions, RevokeSession, Leaderboard,
    Profile,
)


class AccountRequests:
    """Serves the account and rating requests."""

    def __init__(
        self, accounts: Accounts, sessions: AccountSessions, *, max_name_length: int
    ) -> None:
        self.accounts = accounts
        self.sessions = sessions
        self._max_name_length = max_name_length

    async def serve(self, player: Player, message: ClientMessage, use: SessionUse) -> Result:
        """The result of ``message`` (one of ``ACCOUNT_REQUESTS``) for ``player``, whose
        connection's hello was ``use``; raises ``RequestError``."""
        store = self.accounts.store
        if isinstance(message, Leaderboard):
            return await store.call(
                leaderboard, store.sync, message.game, message.players, message.board,
                message.limit,
            )
        if isinstance(message, Profile):
            return await store.call(profile, store.sync, message.player_id)
        if isinstance(message, Register):
            account, key = await self.accounts.register(
                player.player_id, player.name, message.password, bot=message.bot
            )
            player.account = account
            # From now on this connection's session is one of the account's.
            await self.sessions.record(account.account_id, use)
            return AccountResult(account=account_info(account), api_key=key)
        account = _account_of(player)
        if isinstance(message, ListSessions):
            return await self.sessions.list(account.account_id, use.token.session_id)
        if isinstance(message, RevokeSession):
            await self.sessions.revoke(account.account_id, message.session_id)
            return EmptyResult()
        if isinstance(message, Rename):
            name = validate_name(message.name, max_length=self._max_name_length)
            player.account = await self.accounts.rename(account, name)
            player.name = name
            return AccountResult(account=account_info(player.account))
        if isinstance(message, CreateApiKey):
            key = await self.accounts.create_key(account)
            return AccountResult(account=account_info(account), api_key=key)
        if isinstance(message, RevokeApiKeys):
            await self.accounts.revoke_keys(account)
            return EmptyResult()
        raise AssertionError(f"not an account request: {message.TYPE}")


def _account_of(player: Player) -> Account:
    if player.account is None:
        raise RequestError(ErrorCode.NOT_REGISTERED, "register or log in first")
    return player.account
