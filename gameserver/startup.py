"""Start-up failures: what stops the server before it serves, said in one line.

``run_server`` raises ``StartupError`` for an address it cannot listen on, a data or
replays directory it cannot create or write, a static directory that is not there, and
(as ``gameserver.web.tls.TLSFileError``) bad TLS files; ``gameserver serve`` prints the
message and exits 1.
"""

from __future__ import annotations

import tempfile
from pathlib import Path


class StartupError(Exception):
    """The server cannot start; ``str(error)`` says why in one line, fit for an operator.

    It may arrive inside nurseries' exception groups: look inside them for it.
    """


def describe_os_error(error: OSError) -> str:
    """``[Errno 98] Address already in use`` -> ``address already in use``."""
    text = error.strerror or str(error) or type(error).__name__
    return text[:1].lower() + text[1:]


def first_os_error(group: BaseExceptionGroup[OSError]) -> OSError:
    """The first ``OSError`` inside ``group``, however deeply nested."""
    for inner in group.exceptions:
        if isinstance(inner, BaseExceptionGroup):
            return first_os_error(inner)
        return inner
    raise AssertionError("an empty exception group")  # pragma: no cover


def writable_directory(path: Path, purpose: str) -> None:
    """Create ``path`` if needed and prove a file can be written in it, or raise
    ``StartupError``: better to refuse to start than to fail the first match."""
    if path.exists() and not path.is_dir():
        raise StartupError(f"cannot use {path} as the {purpose}: it is not a directory")
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=path):
            pass
    except OSError as exc:
        raise StartupError(f"cannot use {path} as the {purpose}: {describe_os_error(exc)}") from None


def address(host: str, port: int) -> str:
    """``host:port`` as an operator writes it (IPv6 hosts in brackets)."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
