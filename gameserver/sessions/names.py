"""Display-name validation for ``hello``."""

from __future__ import annotations

import unicodedata

from gameserver.protocol.errors import ErrorCode, RequestError

# Long enough for real names, short enough to fit in every seat list and log line.
MAX_NAME_LENGTH = 32


def validate_name(name: object, *, max_length: int = MAX_NAME_LENGTH) -> str:
    """Return ``name`` trimmed and NFC-normalised, or raise ``RequestError(ErrorCode.INVALID_NAME)``.

    A valid name is a string of 1..``max_length`` printable characters after trimming
    surrounding whitespace (no control, format or line-separator characters).
    """
    if not isinstance(name, str):
        raise RequestError(ErrorCode.INVALID_NAME, "name must be a string")
    cleaned = unicodedata.normalize("NFC", name).strip()
    if not cleaned:
        raise RequestError(ErrorCode.INVALID_NAME, "name must not be empty")
    if len(cleaned) > max_length:
        raise RequestError(ErrorCode.INVALID_NAME, f"name must be at most {max_length} characters")
    if not cleaned.isprintable():
        raise RequestError(ErrorCode.INVALID_NAME, "name must contain only printable characters")
    return cleaned
