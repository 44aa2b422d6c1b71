"""Encoding what a room tells its members: each distinct message once.

``payload_of`` encodes a message into a ``Payload`` that any number of members can be
sent; ``outcome_info`` shows the rules' outcome as the protocol does. The room core
uses these to build its ``sends``: a reply or error for one requester, ``room`` and
``chat`` pushes encoded once for everyone, each seat's own ``state``, and one shared
public ``state`` for all spectators.
"""

from __future__ import annotations

from gameserver.games.base import Outcome
from gameserver.protocol.codec import encode
from gameserver.protocol.messages import OutcomeInfo, ServerMessage
from gameserver.rooms.members import Payload


def payload_of(message: ServerMessage) -> Payload:
    """Encode ``message`` once; the payload can be sent to any number of members."""
    return Payload(encode(message))


def outcome_info(outcome: Outcome) -> OutcomeInfo:
    """An outcome of the rules as the protocol shows it."""
    return OutcomeInfo(
        winners=tuple(outcome.winners),
        draw=outcome.draw,
        scores=None if outcome.scores is None else tuple(outcome.scores),
        reason=outcome.reason,
    )
