"""Redis URLs as the commands take them: ``redis://[:PASSWORD@]HOST:PORT/DB``, with
``rediss://`` for TLS, and for the replay command an optional ``#MATCH_ID``.

``gameserver replay verify redis://127.0.0.1:6379/0#m-42`` names one match log in that
Redis; without ``#MATCH_ID`` the URL names every match log in it. Parsing imports no
Redis client, so a bad URL is reported even where the cluster extra is missing.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import attrs

from .keys import KeyLayout

SCHEMES = ("redis", "rediss")
ALLOWED = "allowed: redis://[:PASSWORD@]HOST[:PORT][/DB] or rediss://... for TLS"


def is_redis_url(text: str) -> bool:
    """True if ``text`` names a Redis (and so is not a file path)."""
    return text.startswith(tuple(f"{scheme}://" for scheme in SCHEMES))


def check_redis_url(text: str) -> str:
    """Return ``text`` without a ``#`` part; raise ``ValueError`` saying what is allowed."""
    url = text.partition("#")[0]
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise ValueError(f"{text!r} has a bad port; {ALLOWED}") from None
    if parts.scheme not in SCHEMES:
        raise ValueError(f"{text!r} is not a Redis URL; {ALLOWED}")
    if not parts.hostname:
        raise ValueError(f"{text!r} names no host; {ALLOWED}")
    if port == 0:
        raise ValueError(f"{text!r} has port 0; {ALLOWED}")
    database = parts.path.strip("/")
    if database and not database.isdigit():
        raise ValueError(f"{text!r}: database {database!r} is not a number; {ALLOWED}")
    return url


@attrs.frozen
class StreamSource:
    """Where match logs are read from: a Redis and one match id, or all (None)."""

    url: str
    match_id: str | None

    @classmethod
    def parse(cls, text: str) -> StreamSource:
        """Parse ``URL[#MATCH_ID]``; raise ``ValueError`` for a bad URL."""
        url = check_redis_url(text)
        match_id = text.partition("#")[2]
        if match_id:
            KeyLayout().log(match_id)  # raises ValueError for an id no key can hold
        return cls(url, match_id or None)

    def label(self, match_id: str) -> str:
        """How one of its logs is named in output: ``URL#MATCH_ID`` (password hidden)."""
        parts = urlsplit(self.url)
        where = parts._replace(netloc=parts.netloc.rpartition("@")[2]).geturl()
        return f"{where}#{match_id}"
