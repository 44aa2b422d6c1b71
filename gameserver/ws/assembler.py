"""Reassembly of data frames into whole messages (RFC 6455 section 5.4, RFC 7692 6.2).

The assembler sees each data frame's header, then its payload piece by piece as bytes
arrive (already unmasked). It enforces the fragmentation rules, the message size limit
(from headers before buffering, or on decompressed output), decompression and
fail-fast UTF-8 validation, and returns each message once it is whole.
"""

from __future__ import annotations

from .codes import CloseCode, Opcode
from .deflate import DeflateCodec
from .events import BinaryMessage, TextMessage
from .exceptions import ProtocolError
from .frames import FrameHeader
from .utf8 import Utf8Decoder, decode_utf8

__all__ = ["MessageAssembler"]


class MessageAssembler:
    """Rebuild whole messages from data frames; raise :class:`ProtocolError` on misuse.

    Call :meth:`start_frame` with each data frame's header, then :meth:`add` with its
    payload pieces in order (``message_done`` on the last piece of a FIN frame).
    ``codec`` is the permessage-deflate codec when the extension is in use.
    """

    __slots__ = (
        "max_message_size", "_codec", "_opcode", "_compressed", "_size", "_parts",
        "_text_parts", "_utf8",
    )

    def __init__(self, max_message_size: int, codec: DeflateCodec | None) -> None:
        self.max_message_size = max_message_size
        self._codec = codec
        self._opcode: Opcode | None = None
        self._compressed = False
        self._size = 0
        self._parts: list[bytes] = []
        self._text_parts: list[str] = []
        self._utf8: Utf8Decoder | None = None

    @property
    def in_message(self) -> bool:
        """True from a message's first frame header until its last payload piece."""
        return self._opcode is not None

    def start_frame(self, header: FrameHeader) -> None:
        """Check a data frame against the message in progress (1002) and the limit (1009)."""
        if header.opcode is Opcode.CONTINUATION:
            if self._opcode is None:
                raise ProtocolError(
                    CloseCode.PROTOCOL_ERROR, "continuation frame without a message to continue"
                )
            if header.rsv1:
                raise ProtocolError(CloseCode.PROTOCOL_ERROR, "RSV1 set on a continuation frame")
        else:
            if self._opcode is not None:
                raise ProtocolError(
                    CloseCode.PROTOCOL_ERROR, "new data frame inside a fragmented message"
                )
            self._opcode = header.opcode
            self._compressed = header.rsv1
            self._size = 0
        # Uncompressed, the header tells the size before any of the payload is buffered;
        # compressed, the limit is applied to the decompressed output in add().
        if not self._compressed and self._size + header.length > self.max_message_size:
            raise ProtocolError(
                CloseCode.MESSAGE_TOO_BIG,
                f"message of at least {self._size + header.length} bytes exceeds "
                f"the limit of {self.max_message_size} bytes",
            )

    def whole(self, is_text: bool, payload: bytes) -> TextMessage | BinaryMessage:
        """Return the message of one whole uncompressed frame (the connection's fast
        path: no message in progress, header already checked)."""
        if len(payload) > self.max_message_size:
            raise ProtocolError(
                CloseCode.MESSAGE_TOO_BIG,
                f"message of {len(payload)} bytes exceeds the limit of "
                f"{self.max_message_size} bytes",
            )
        if is_text:
            return TextMessage(decode_utf8(payload, "text message"))
        return BinaryMessage(payload)

    def add(self, chunk: bytes, *, message_done: bool) -> TextMessage | BinaryMessage | None:
        """Add one payload piece; return the message when ``message_done``, else None."""
        if self._compressed:
            codec = self._codec
            assert codec is not None
            budget = self.max_message_size - self._size
            if chunk:
                chunk = codec.decompress(chunk, budget)
            if message_done:
                chunk += codec.finish_message(budget - len(chunk))
        self._size += len(chunk)
        message: TextMessage | BinaryMessage | None = None
        if self._opcode is Opcode.TEXT:
            utf8 = self._utf8
            if utf8 is None and message_done:
                # The whole message is here: one C-speed decode validates it.
                message = TextMessage(decode_utf8(chunk, "text message"))
            else:
                if utf8 is None:
                    utf8 = self._utf8 = Utf8Decoder()
                if chunk:
                    self._text_parts.append(utf8.feed(chunk))
                if message_done:
                    self._text_parts.append(utf8.finish())
                    message = TextMessage("".join(self._text_parts))
                    self._text_parts = []
                    self._utf8 = None
        elif message_done:
            if self._parts:
                self._parts.append(chunk)
                chunk = b"".join(self._parts)
                self._parts = []
            message = BinaryMessage(chunk)
        elif chunk:
            self._parts.append(chunk)
        if message_done:
            self._opcode = None
            self._compressed = False
        return message
