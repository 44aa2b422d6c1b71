"""Parsing and formatting of ``Sec-WebSocket-Extensions`` values (RFC 6455 section 9.1).

::

    extension-list  = 1#extension
    extension       = extension-token *( ";" extension-param )
    extension-param = token [ "=" (token | quoted-string) ]
"""

from __future__ import annotations

import re

__all__ = ["ExtensionOffer", "parse_extensions", "format_extension"]

ExtensionOffer = tuple[str, list[tuple[str, str | None]]]
"""One extension: its name and its parameters in order (value None when absent)."""

_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_QUOTED = re.compile(r'"((?:[^"\\]|\\.)*)"')
_OWS = re.compile(r"[ \t]*")
_ESCAPE = re.compile(r"\\(.)")


def parse_extensions(values: list[str]) -> list[ExtensionOffer]:
    """Parse every header value (one per header line) into extensions, in order.

    Raise ValueError with the position of the first malformed part. A quoted value is
    unescaped and must itself be a token (RFC 6455 section 9.1).
    """
    result: list[ExtensionOffer] = []
    for value in values:
        result.extend(_parse_one(value))
    return result


def _parse_one(value: str) -> list[ExtensionOffer]:
    result: list[ExtensionOffer] = []
    pos = 0
    end = len(value)

    def skip_ows(p: int) -> int:
        match = _OWS.match(value, p)
        assert match is not None
        return match.end()

    def token(p: int, what: str) -> tuple[str, int]:
        match = _TOKEN.match(value, p)
        if match is None:
            raise ValueError(f"expected {what} at position {p} of {value!r}")
        return match.group(), match.end()

    while True:
        pos = skip_ows(pos)
        if pos < end and value[pos] == ",":  # empty list elements are allowed by 1#
            pos += 1
            continue
        if pos >= end:
            break
        name, pos = token(pos, "an extension name")
        params: list[tuple[str, str | None]] = []
        pos = skip_ows(pos)
        while pos < end and value[pos] == ";":
            pos = skip_ows(pos + 1)
            param, pos = token(pos, "a parameter name")
            pos = skip_ows(pos)
            param_value: str | None = None
            if pos < end and value[pos] == "=":
                pos = skip_ows(pos + 1)
                quoted = _QUOTED.match(value, pos)
                if quoted is not None:
                    param_value = _ESCAPE.sub(r"\1", quoted.group(1))
                    if _TOKEN.fullmatch(param_value) is None:
                        raise ValueError(f"quoted value at position {pos} is not a token")
                    pos = quoted.end()
                else:
                    param_value, pos = token(pos, "a parameter value")
                pos = skip_ows(pos)
            params.append((param, param_value))
        result.append((name, params))
        if pos < end:
            if value[pos] != ",":
                raise ValueError(f"expected ',' or ';' at position {pos} of {value!r}")
            pos += 1
    return result


def format_extension(name: str, params: list[tuple[str, str | None]]) -> str:
    """Return ``name; p1; p2=v`` for one extension (values must be tokens)."""
    parts = [name]
    for param, param_value in params:
        parts.append(param if param_value is None else f"{param}={param_value}")
    return "; ".join(parts)
