"""Incremental UTF-8 validation of text messages (RFC 6455 section 8.1).

A text message is checked frame by frame (even chunk by chunk of one frame), so an
invalid sequence fails the connection as soon as its bytes arrive, not at message end.
"""

from __future__ import annotations

import codecs

from .codes import CloseCode
from .exceptions import ProtocolError

__all__ = ["Utf8Decoder", "decode_utf8"]

_IncrementalDecoder = codecs.getincrementaldecoder("utf-8")


class Utf8Decoder:
    """Decode one text message piece by piece.

    Call :meth:`feed` with each payload piece in order and :meth:`finish` at the end of
    the message; both raise :class:`ProtocolError` (1007) on invalid UTF-8.
    """

    __slots__ = ("_decoder",)

    def __init__(self) -> None:
        self._decoder = _IncrementalDecoder("strict")

    def feed(self, data: bytes) -> str:
        """Return the text completed by ``data``; an incomplete trailing sequence is kept."""
        try:
            text = self._decoder.decode(data)
        except UnicodeDecodeError as exc:
            raise ProtocolError(
                CloseCode.INVALID_PAYLOAD, f"invalid UTF-8 in text message: {exc.reason}"
            ) from None
        # CPython reports a surrogate (ED A0..BF) only when its third byte arrives; the
        # pending bytes already prove it invalid, so fail now.
        pending = self._decoder.getstate()[0]
        if len(pending) >= 2 and pending[0] == 0xED and pending[1] >= 0xA0:
            raise ProtocolError(
                CloseCode.INVALID_PAYLOAD, "invalid UTF-8 in text message: surrogate code point"
            )
        return text

    def finish(self) -> str:
        """End the message; raise 1007 when it stops in the middle of a sequence."""
        try:
            return self._decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            raise ProtocolError(
                CloseCode.INVALID_PAYLOAD, "text message ends inside a UTF-8 sequence"
            ) from None


def decode_utf8(data: bytes, what: str) -> str:
    """Decode a complete UTF-8 payload (e.g. a close reason); raise 1007 naming ``what``."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ProtocolError(
            CloseCode.INVALID_PAYLOAD, f"invalid UTF-8 in {what}: {exc.reason}"
        ) from None
