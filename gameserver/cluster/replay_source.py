"""Match logs in Redis for the synchronous ``gameserver replay`` command.

``read_stream_logs("redis://HOST:PORT/DB#MATCH_ID")`` loads that match's log (without
``#MATCH_ID``: every match log in that Redis), each as a ``LoadedMatch`` exactly as
``load_match`` reads the same log exported to a ``.gsr`` file, or as the ``ReplayError``
that says why it cannot be read, so one bad log does not hide the others.
"""

from __future__ import annotations

import trio

from gameserver.replays.errors import ReplayError
from gameserver.replays.loader import LoadedMatch

from .match_stream import MatchStreams
from .redis_api import open_redis
from .urls import StreamSource

#: One log of a source: its label (``URL#MATCH_ID``) and the log or why it is unreadable.
Found = tuple[str, LoadedMatch | ReplayError]


def read_stream_logs(text: str) -> list[Found]:
    """Load the match log(s) ``text`` names, sorted by match id.

    Raises ``ValueError`` for a bad URL, ``ExtraMissing`` without the cluster extra and
    ``RedisUnavailable`` when Redis does not answer.
    """
    source = StreamSource.parse(text)
    return trio.run(_read, source)


async def _read(source: StreamSource) -> list[Found]:
    async with open_redis(source.url) as api:
        streams = MatchStreams(api)
        ids = [source.match_id] if source.match_id else await streams.match_ids()
        found: list[Found] = []
        for match_id in ids:
            try:
                found.append((source.label(match_id), await streams.load(match_id)))
            except ReplayError as exc:
                found.append((source.label(match_id), exc))
        return found
