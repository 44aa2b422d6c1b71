"""Password and API-key hashing: scrypt (memory-hard) with a salt per account.

A credential is stored as ``scrypt$<n>$<r>$<p>$<salt hex>$<hash hex>`` so the cost can
be raised later without breaking old accounts. API keys are long random secrets, so a
plain SHA-256 is enough to store them: nobody can guess one, and a leaked table does not
reveal them.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from gameserver.protocol.errors import ErrorCode, RequestError

__all__ = [
    "MAX_PASSWORD_LENGTH",
    "MIN_PASSWORD_LENGTH",
    "check_password",
    "hash_api_key",
    "hash_password",
    "new_api_key",
    "verify_password",
]

# NIST SP 800-63B: at least 8 characters; allow long passphrases but bound the work.
MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 128
# scrypt cost: 16 MiB of memory and about 0.1 s per hash on one core (measured 120 ms).
_N, _R, _P = 2**14, 8, 1
_SALT_BYTES = 16
_HASH_BYTES = 32
# API keys carry this prefix so that a leaked one is recognisable in a scan.
API_KEY_PREFIX = "gsk_"


def check_password(password: str) -> None:
    """Raise ``weak_password`` or ``password_too_long`` unless ``password`` is acceptable."""
    if len(password) > MAX_PASSWORD_LENGTH:
        raise RequestError(
            ErrorCode.PASSWORD_TOO_LONG,
            f"a password has at most {MAX_PASSWORD_LENGTH} characters",
        )
    if len(password) < MIN_PASSWORD_LENGTH or len(set(password)) < 3:
        raise RequestError(
            ErrorCode.WEAK_PASSWORD,
            f"a password needs at least {MIN_PASSWORD_LENGTH} characters, "
            "not all the same",
        )


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(
        password.encode("utf-8"), salt=salt, n=n, r=r, p=p, maxmem=2**26, dklen=_HASH_BYTES
    )


def hash_password(password: str) -> str:
    """The stored credential of ``password`` (slow: call it off the Trio thread)."""
    salt = secrets.token_bytes(_SALT_BYTES)
    digest = _scrypt(password, salt, _N, _R, _P)
    return f"scrypt${_N}${_R}${_P}${salt.hex()}${digest.hex()}"


def verify_password(password: str, credential: str) -> bool:
    """True when ``password`` matches ``credential`` (slow: off the Trio thread)."""
    try:
        scheme, n, r, p, salt, digest = credential.split("$")
        if scheme != "scrypt" or len(password) > MAX_PASSWORD_LENGTH:
            return False
        actual = _scrypt(password, bytes.fromhex(salt), int(n), int(r), int(p))
    except ValueError:
        return False
    return hmac.compare_digest(actual, bytes.fromhex(digest))


def new_api_key() -> tuple[str, str, str]:
    """A fresh API key: ``(key_id, key, key_hash)``. Show ``key`` once, store the rest."""
    key_id = secrets.token_hex(4)
    key = f"{API_KEY_PREFIX}{key_id}_{secrets.token_urlsafe(32)}"
    return key_id, key, hash_api_key(key)


def hash_api_key(key: str) -> str:
    """How an API key is stored and looked up."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()
