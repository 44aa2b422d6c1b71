"""Which browser origins may open the game WebSocket.

Browsers attach an ``Origin`` header to every WebSocket handshake and let any page open a
socket to any server, so without a check a page on another site could play (and chat)
with the visitor's session. The server therefore refuses (403) origins that are not:

* the server's own origin (``http[s]://<host>:<port>`` of the listener),
* a loopback origin (``localhost``, ``127.0.0.1``, ``[::1]`` on any port), unless
  ``allow_loopback`` is off,
* listed in ``allowed`` (``--allow-origin``; ``*`` allows every origin).

A handshake without ``Origin`` comes from a program, not a browser page (the SDK, bots,
``websockets``), and is allowed: the check protects browsers, not the server.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

import attrs

__all__ = ["OriginPolicy", "normalize_origin"]

_DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}
_LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
_WILDCARD_HOSTS = frozenset({"", "0.0.0.0", "::"})


def normalize_origin(origin: str) -> str | None:
    """Return ``scheme://host[:port]`` in lower case without a default port, or None
    when ``origin`` is not a usable origin (``null``, no host, a path, bad port)."""
    try:
        parts = urlsplit(origin.strip().lower())
        port = parts.port
    except ValueError:
        return None
    host = parts.hostname
    if parts.scheme not in _DEFAULT_PORTS or not host or parts.path not in ("", "/"):
        return None
    if parts.query or parts.fragment or parts.username or parts.password:
        return None
    netloc = f"[{host}]" if ":" in host else host
    if port is not None and port != _DEFAULT_PORTS[parts.scheme]:
        netloc = f"{netloc}:{port}"
    return f"{parts.scheme}://{netloc}"


def _is_loopback(origin: str) -> bool:
    host = urlsplit(origin).hostname or ""
    return host in _LOOPBACK_HOSTS or host.startswith("127.")


@attrs.frozen
class OriginPolicy:
    """The origin allowlist; ``permits(origin)`` decides one handshake.

    Call ``bind(host, port, tls)`` once the listener's port is known so the server's own
    origin is allowed too.
    """

    allowed: tuple[str, ...] = ()
    """Extra origins to allow, e.g. ``https://games.example.org``; ``*`` allows all."""
    allow_loopback: bool = True
    """Allow pages served from localhost / 127.0.0.1 / [::1] on any port."""
    own: frozenset[str] = frozenset()
    """The server's own origins (filled in by ``bind``)."""

    def __attrs_post_init__(self) -> None:
        for origin in self.allowed:
            if origin != "*" and normalize_origin(origin) is None:
                raise ValueError(f"not an origin (scheme://host[:port]): {origin!r}")

    @property
    def any_origin(self) -> bool:
        """True when ``*`` is in ``allowed``."""
        return "*" in self.allowed

    def bind(self, host: str, port: int, *, tls: bool) -> OriginPolicy:
        """Return a copy that also allows the server's own origin(s) for ``host``:``port``."""
        scheme = "https" if tls else "http"
        hosts: Iterable[str] = () if host in _WILDCARD_HOSTS else (host,)
        own = set()
        for name in hosts:
            netloc = f"[{name}]" if ":" in name else name
            normal = normalize_origin(f"{scheme}://{netloc}:{port}")
            if normal is not None:
                own.add(normal)
        return attrs.evolve(self, own=frozenset(own))

    def permits(self, origin: str | None) -> bool:
        """Return whether a handshake carrying ``origin`` (None: no header) is allowed."""
        if origin is None or self.any_origin:
            return True
        normal = normalize_origin(origin)
        if normal is None:
            return False
        if normal in self.own:
            return True
        if self.allow_loopback and _is_loopback(normal):
            return True
        return any(normalize_origin(allowed) == normal for allowed in self.allowed)
