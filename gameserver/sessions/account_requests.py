"""The account and rating requests of a connection: each awaits the store.

``AccountRequests.serve`` answers one of ``register``, ``rename``, ``create_api_key``,
``revoke_api_keys``, ``leaderboard`` and ``profile`` for an authenticated player; the
service runs it as a task and sends the result (or the ``RequestError``) as the reply.
"""

from __future__ import annotations

from gameserver.protocol.errors import ErrorCode, RequestError
from gameserver.protocol.messages import (
    AccountResult,
    ClientMessage,
    CreateApiKey,
    EmptyResult,
    Leaderboard,
    Profile,
    Register,
    Rename,
    Result,
    RevokeApiKeys,
)
from gameserver.sessions.accounts import Accounts
from gameserver.sessions.names import validate_name
from gameserver.sessions.players import Player
from gameserver.sessions.standings import account_info, leaderboard, profile
from gameserver.store.players import Account

__all__ = ["ACCOUNT_REQUESTS", "AccountRequests"]

#: The request classes ``AccountRequests.serve`` answers.
ACCOUNT_REQUESTS = (Register, Rename, CreateApiKey, RevokeApiKeys, Leaderboard, Profile)


class AccountRequests:
    """Serves the account and rating requests."""

    def __init__(self, accounts: Accounts, *, max_name_length: int) -> None:
        self.accounts = accounts
        self._max_name_length = max_name_length

    async def serve(self, player: Player, message: ClientMessage) -> Result:
        """The result of ``message`` (one of ``ACCOUNT_REQUESTS``) for ``player``;
        raises ``RequestError``."""
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
            return AccountResult(account=account_info(account), api_key=key)
        account = _account_of(player)
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
