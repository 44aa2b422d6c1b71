"""Loading the server's TLS certificate and key, blaming the right file when it fails."""

from __future__ import annotations

import ssl
from pathlib import Path

from gameserver.startup import StartupError, describe_os_error


class TLSFileError(StartupError):
    """A certificate or key file that cannot be used; the message names the file."""

    def __init__(self, field: str, path: Path, problem: str) -> None:
        super().__init__(f"{path}: {problem}")
        self.field = field
        """``"certfile"`` or ``"keyfile"``: the ``ServerConfig`` field holding the file."""


class _EncryptedKey(Exception):
    """Raised from OpenSSL's password callback: a server cannot ask anyone for one."""


def _no_password() -> bytes:
    raise _EncryptedKey


def load_tls(certfile: Path, keyfile: Path) -> ssl.SSLContext:
    """A server context for the pair, or ``TLSFileError`` naming the file at fault.

    The certificate is read on its own first, so a bad certificate is never blamed on
    the key.
    """
    try:
        ssl.create_default_context(cafile=str(certfile))
    except ssl.SSLError:
        raise TLSFileError("certfile", certfile, "holds no PEM certificate") from None
    except OSError as exc:
        raise TLSFileError("certfile", certfile, describe_os_error(exc)) from None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        context.load_cert_chain(certfile, keyfile, password=_no_password)
    except _EncryptedKey:
        raise TLSFileError("keyfile", keyfile, "is encrypted; give an unencrypted key") from None
    except ssl.SSLError as exc:
        problem = (
            f"does not match the certificate in {certfile}"
            if exc.reason == "KEY_VALUES_MISMATCH"
            else "holds no PEM private key"
        )
        raise TLSFileError("keyfile", keyfile, problem) from None
    except OSError as exc:
        raise TLSFileError("keyfile", keyfile, describe_os_error(exc)) from None
    return context
