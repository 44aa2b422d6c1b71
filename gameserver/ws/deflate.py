"""permessage-deflate (RFC 7692): negotiation helpers and the per-connection codec.

Negotiation (section 7.1), used by the handshake:

- client: :func:`client_offer` builds the offer, :func:`client_check_response` checks
  the server's answer against it and returns the agreed :class:`DeflateParams`;
- server: :func:`server_accept` picks the first acceptable offer and returns the agreed
  params with the response header value, or None to go on without compression.

The codec (:class:`DeflateCodec`) compresses whole outgoing messages and decompresses
incoming ones piece by piece, never producing more than the caller's size budget.
"""

from __future__ import annotations

import zlib

import attrs

from .codes import CloseCode
from .exceptions import HandshakeError, ProtocolError
from .extensions import ExtensionOffer, format_extension, parse_extensions

__all__ = [
    "EXTENSION_NAME",
    "DeflateParams",
    "DeflateCodec",
    "client_offer",
    "server_accept",
    "client_check_response",
]

EXTENSION_NAME = "permessage-deflate"

# Section 7.1.2: window bits are 8..15, written without leading zeros.
_WINDOW_BITS = {str(bits): bits for bits in range(8, 16)}

# Section 7.2.1: a compressed message omits the 4-byte tail of a sync flush...
_SYNC_TAIL = b"\x00\x00\xff\xff"
# ...and section 7.2.3.6: an empty message compresses to a single 0x00 byte.
_EMPTY_BLOCK = b"\x00"

# zlib cannot compress raw deflate with a 256-byte window: 8 is turned into 9 for our
# own compressor (as zlib itself did before 1.2.9). That is still safe for a peer with
# an 8-bit window: deflate never reaches back further than the window minus 262 bytes
# of lookahead, i.e. 250 bytes here. Decompression always uses the largest window,
# which reads streams made with any smaller one.
_MIN_ZLIB_COMPRESS_BITS = 9
_DECOMPRESS_BITS = 15


def _check_bits(
    _instance: object, attribute: attrs.Attribute[int | None], bits: int | None
) -> None:
    if bits is not None and not 8 <= bits <= 15:
        raise ValueError(f"{attribute.name} must be 8..15, not {bits}")


@attrs.frozen
class DeflateParams:
    """permessage-deflate parameters: an offer, a server's preferences, or an agreement.

    In an agreement, None window bits mean 15 (the default window).
    """

    server_no_context_takeover: bool = False
    """The server resets its compressor after each message."""
    client_no_context_takeover: bool = False
    """The client resets its compressor after each message."""
    server_max_window_bits: int | None = attrs.field(default=None, validator=_check_bits)
    """Largest LZ77 window (as log2) the server's compressor may use."""
    client_max_window_bits: int | None = attrs.field(default=None, validator=_check_bits)
    """Largest LZ77 window (as log2) the client's compressor may use."""


def client_offer(params: DeflateParams = DeflateParams()) -> str:
    """Return the ``Sec-WebSocket-Extensions`` value a client sends to offer ``params``.

    ``client_max_window_bits`` is always offered (bare when None) because our compressor
    can honour any window the server asks for.
    """
    items: list[tuple[str, str | None]] = []
    if params.server_no_context_takeover:
        items.append(("server_no_context_takeover", None))
    if params.client_no_context_takeover:
        items.append(("client_no_context_takeover", None))
    if params.server_max_window_bits is not None:
        items.append(("server_max_window_bits", str(params.server_max_window_bits)))
    bits = params.client_max_window_bits
    items.append(("client_max_window_bits", None if bits is None else str(bits)))
    return format_extension(EXTENSION_NAME, items)


@attrs.frozen
class _Parsed:
    server_no_context_takeover: bool
    client_no_context_takeover: bool
    server_max_window_bits: int | None
    client_max_window_bits: int | None
    client_max_window_bits_present: bool


def _parse_params(params: list[tuple[str, str | None]]) -> _Parsed:
    """Validate one permessage-deflate parameter list; raise ValueError when invalid."""
    seen: set[str] = set()
    found: dict[str, object] = {}
    for name, value in params:
        if name in seen:
            raise ValueError(f"duplicate parameter {name}")
        seen.add(name)
        if name in ("server_no_context_takeover", "client_no_context_takeover"):
            if value is not None:
                raise ValueError(f"{name} takes no value")
            found[name] = True
        elif name == "server_max_window_bits":
            if value not in _WINDOW_BITS:
                raise ValueError(f"server_max_window_bits must be 8..15, not {value!r}")
            found[name] = _WINDOW_BITS[value]
        elif name == "client_max_window_bits":
            if value is not None and value not in _WINDOW_BITS:
                raise ValueError(f"client_max_window_bits must be 8..15, not {value!r}")
            found[name] = None if value is None else _WINDOW_BITS[value]
        else:
            raise ValueError(f"unknown parameter {name}")
    server_bits = found.get("server_max_window_bits")
    client_bits = found.get("client_max_window_bits")
    assert server_bits is None or isinstance(server_bits, int)
    assert client_bits is None or isinstance(client_bits, int)
    return _Parsed(
        server_no_context_takeover="server_no_context_takeover" in found,
        client_no_context_takeover="client_no_context_takeover" in found,
        server_max_window_bits=server_bits,
        client_max_window_bits=client_bits,
        client_max_window_bits_present="client_max_window_bits" in found,
    )


def _smaller(a: int | None, b: int | None) -> int | None:
    if a is None:
        return b
    if b is None:
        return a
    return min(a, b)


def server_accept(
    offer_header_values: list[str], preferences: DeflateParams = DeflateParams()
) -> tuple[DeflateParams, str] | None:
    """Choose the first acceptable permessage-deflate offer among the client's headers.

    ``offer_header_values`` holds every ``Sec-WebSocket-Extensions`` header value of the
    request; ``preferences`` says what this server wants on top of the offer (reset
    contexts, smaller windows). Return the agreed params and the response header value,
    or None when nothing acceptable was offered (or the header is malformed): then
    answer without the extension and do not compress.
    """
    try:
        extensions: list[ExtensionOffer] = parse_extensions(offer_header_values)
    except ValueError:
        return None
    for name, params in extensions:
        if name.lower() != EXTENSION_NAME:
            continue
        try:
            offer = _parse_params(params)
        except ValueError:
            continue  # section 7.1: decline an offer with unknown or invalid parameters
        server_bits = _smaller(offer.server_max_window_bits, preferences.server_max_window_bits)
        # Section 7.1.2.2: only a client that offered client_max_window_bits may be
        # asked to use a smaller window.
        client_bits = None
        if offer.client_max_window_bits_present:
            client_bits = _smaller(
                offer.client_max_window_bits, preferences.client_max_window_bits
            )
        agreed = DeflateParams(
            server_no_context_takeover=offer.server_no_context_takeover
            or preferences.server_no_context_takeover,
            client_no_context_takeover=offer.client_no_context_takeover
            or preferences.client_no_context_takeover,
            server_max_window_bits=server_bits,
            client_max_window_bits=client_bits,
        )
        return agreed, _format_agreement(agreed)
    return None


def _format_agreement(agreed: DeflateParams) -> str:
    items: list[tuple[str, str | None]] = []
    if agreed.server_no_context_takeover:
        items.append(("server_no_context_takeover", None))
    if agreed.client_no_context_takeover:
        items.append(("client_no_context_takeover", None))
    if agreed.server_max_window_bits is not None:
        items.append(("server_max_window_bits", str(agreed.server_max_window_bits)))
    if agreed.client_max_window_bits is not None:
        items.append(("client_max_window_bits", str(agreed.client_max_window_bits)))
    return format_extension(EXTENSION_NAME, items)


def client_check_response(header_value: str, offered: DeflateParams) -> DeflateParams:
    """Check the server's ``Sec-WebSocket-Extensions`` answer to our ``offered`` params.

    Return the agreed params to build the connection with. Raise
    :class:`HandshakeError` when the answer names another extension, repeats one, or
    carries parameters that are invalid or looser than what we offered (section 7.1):
    the client must then fail the connection.
    """
    try:
        extensions = parse_extensions([header_value])
    except ValueError as exc:
        raise HandshakeError(400, f"malformed Sec-WebSocket-Extensions: {exc}") from None
    if len(extensions) != 1 or extensions[0][0].lower() != EXTENSION_NAME:
        raise HandshakeError(
            400, f"server answered extensions we did not offer: {header_value!r}"
        )
    try:
        answer = _parse_params(extensions[0][1])
    except ValueError as exc:
        raise HandshakeError(400, f"invalid permessage-deflate response: {exc}") from None
    if answer.client_max_window_bits_present and answer.client_max_window_bits is None:
        raise HandshakeError(400, "client_max_window_bits in a response needs a value")
    if offered.server_no_context_takeover and not answer.server_no_context_takeover:
        raise HandshakeError(400, "server ignored the requested server_no_context_takeover")
    if offered.server_max_window_bits is not None and (
        answer.server_max_window_bits is None
        or answer.server_max_window_bits > offered.server_max_window_bits
    ):
        raise HandshakeError(400, "server_max_window_bits exceeds what was offered")
    if (
        offered.client_max_window_bits is not None
        and answer.client_max_window_bits is not None
        and answer.client_max_window_bits > offered.client_max_window_bits
    ):
        raise HandshakeError(400, "client_max_window_bits exceeds what was offered")
    return DeflateParams(
        server_no_context_takeover=answer.server_no_context_takeover,
        client_no_context_takeover=answer.client_no_context_takeover
        or offered.client_no_context_takeover,
        server_max_window_bits=answer.server_max_window_bits,
        client_max_window_bits=_smaller(
            answer.client_max_window_bits, offered.client_max_window_bits
        ),
    )


class DeflateCodec:
    """Compress and decompress the messages of one connection.

    ``is_server`` says which side of ``params`` applies to our compressor. Use
    :meth:`compress` for each outgoing message (send it with RSV1 on its first frame),
    and for each incoming compressed message :meth:`decompress` every payload piece then
    :meth:`finish_message` once; both raise :class:`ProtocolError` (1009) rather than
    return more than ``max_length`` bytes, and (1007) on corrupt data.
    """

    def __init__(self, params: DeflateParams, *, is_server: bool, level: int = 6) -> None:
        if is_server:
            bits = params.server_max_window_bits
            self._reset_compressor = params.server_no_context_takeover
        else:
            bits = params.client_max_window_bits
            self._reset_compressor = params.client_no_context_takeover
        self._compress_bits = max(bits or 15, _MIN_ZLIB_COMPRESS_BITS)
        self._level = level
        # Without context takeover every message gets a fresh compressor in compress().
        self._compressor = None if self._reset_compressor else self._new_compressor()
        self._decompressor = zlib.decompressobj(-_DECOMPRESS_BITS)

    def _new_compressor(self) -> zlib._Compress:
        return zlib.compressobj(self._level, zlib.DEFLATED, -self._compress_bits)

    def compress(self, data: bytes) -> bytes:
        """Return the compressed payload of one whole message."""
        compressor = self._compressor or self._new_compressor()
        out = compressor.compress(data) + compressor.flush(zlib.Z_SYNC_FLUSH)
        if out.endswith(_SYNC_TAIL):
            out = out[:-4]
        return out or _EMPTY_BLOCK

    def decompress(self, data: bytes, max_length: int) -> bytes:
        """Decompress one piece of an incoming message; at most ``max_length`` bytes out."""
        return self._run(data, max_length)

    def finish_message(self, max_length: int) -> bytes:
        """End the incoming message: return its last bytes (at most ``max_length``)."""
        out = self._run(_SYNC_TAIL, max_length)
        if self._decompressor.eof:
            # The peer ended its deflate stream (BFINAL); the next message starts afresh.
            self._decompressor = zlib.decompressobj(-_DECOMPRESS_BITS)
        return out

    def _run(self, data: bytes, max_length: int) -> bytes:
        try:
            # Asking for one byte more than allowed tells "exactly full" from "too big"
            # without ever inflating more than the budget.
            out = self._decompressor.decompress(data, max_length + 1)
        except zlib.error as exc:
            raise ProtocolError(
                CloseCode.INVALID_PAYLOAD, f"invalid compressed data: {exc}"
            ) from None
        if len(out) > max_length:
            raise ProtocolError(
                CloseCode.MESSAGE_TOO_BIG, "decompressed message exceeds the size limit"
            )
        return out
