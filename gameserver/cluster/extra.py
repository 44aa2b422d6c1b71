"""Whether the ``gameserver[cluster]`` extra is installed, without importing it early.

The default install never imports the Redis client; commands call ``require_extra`` only
when the user asked for cluster mode (``--redis``, a ``redis://`` replay source).
"""

from __future__ import annotations

import importlib

from .errors import ExtraMissing

#: What to tell the user when the client is missing (one line).
INSTALL_HINT = "install the cluster extra: pip install 'gameserver[cluster]'"


def require_extra() -> None:
    """Import the Redis client; raise ``ExtraMissing`` with the install hint if it fails."""
    try:
        importlib.import_module("coredis")
    except ImportError:
        raise ExtraMissing(f"cluster mode needs the Redis client coredis; {INSTALL_HINT}") from None
