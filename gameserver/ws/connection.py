"""The sans-IO WebSocket connection: bytes in, events out; calls in, bytes out.

Feed transport bytes to :meth:`Connection.receive_data` (and EOF to
:meth:`Connection.receive_eof`), then drain :meth:`Connection.events_received` and
write :meth:`Connection.data_to_send` to the transport; close the transport once
:attr:`Connection.should_close_transport` is True. Nothing here does I/O.

Answers to messages must go out before the close that answers a protocol violation
or the peer's close following them in the same read. Two ways to get that:
``hold_close=True`` (parse in batches; our close waits for
:meth:`Connection.release_close`), or pull style (:meth:`Connection.buffer_data`,
then :meth:`Connection.next_event` one event at a time, parsing no further than the
application has read).

State transitions (all of them live in ``_TRANSITIONS``):

- OPEN --we send close--> CLOSING (we wait for the peer's close)
- OPEN --peer's close arrives--> CLOSED (our answering close is queued at once)
- CLOSING --peer's close arrives--> CLOSED
- OPEN/CLOSING --peer violates the protocol--> CLOSED (a close with the code is queued
  unless ours was already sent; with ``hold_close`` this happens on release, as does
  the answer to the peer's close)
- OPEN/CLOSING --transport EOF--> CLOSED (close code 1006 unless a close arrived)
"""

from __future__ import annotations

import enum
import os

from .assembler import MessageAssembler
from .codes import CloseCode, Opcode, is_valid_close_code
from .deflate import DeflateCodec, DeflateParams
from .events import CloseReceived, Event, Ping, Pong
from .exceptions import LocalProtocolError, ProtocolError
from .frames import MAX_CONTROL_PAYLOAD, FrameHeader, encode_frame, parse_header
from .mask import apply_mask, rotate_mask
from .utf8 import decode_utf8

__all__ = ["Role", "ConnectionState", "Connection", "DEFAULT_MAX_MESSAGE_SIZE"]

# Invariant 6 (every input has a limit): 16 MiB covers Autobahn's largest messages
# while keeping one connection from holding unbounded memory.
DEFAULT_MAX_MESSAGE_SIZE = 16 * 2**20

# Masking keys fetched from os.urandom per system call (client role only).
_MASKS_PER_BATCH = 64

# A close payload is a 2-byte code plus a reason, within the 125-byte control limit.
_MAX_CLOSE_REASON = MAX_CONTROL_PAYLOAD - 2


class Role(enum.Enum):
    """Which end of the connection we are; decides who masks (RFC 6455 section 5.1)."""

    CLIENT = "client"
    SERVER = "server"


class ConnectionState(enum.Enum):
    """Where the close handshake stands."""

    OPEN = "open"
    """Messages flow both ways."""
    CLOSING = "closing"
    """We sent our close and wait for the peer's; we may still receive messages."""
    CLOSED = "closed"
    """The close handshake is over (or the connection failed); nothing more flows."""


class _Trigger(enum.Enum):
    SEND_CLOSE = "send close"
    RECEIVE_CLOSE = "receive close"
    FAIL = "fail"
    EOF = "eof"


_OPEN, _CLOSING, _CLOSED = ConnectionState.OPEN, ConnectionState.CLOSING, ConnectionState.CLOSED

_TRANSITIONS: dict[tuple[ConnectionState, _Trigger], ConnectionState] = {
    (_OPEN, _Trigger.SEND_CLOSE): _CLOSING,
    (_OPEN, _Trigger.RECEIVE_CLOSE): _CLOSED,
    (_OPEN, _Trigger.FAIL): _CLOSED,
    (_OPEN, _Trigger.EOF): _CLOSED,
    (_CLOSING, _Trigger.RECEIVE_CLOSE): _CLOSED,
    (_CLOSING, _Trigger.FAIL): _CLOSED,
    (_CLOSING, _Trigger.EOF): _CLOSED,
    (_CLOSED, _Trigger.FAIL): _CLOSED,
    (_CLOSED, _Trigger.EOF): _CLOSED,
}


def _encode_text(text: str, what: str) -> bytes:
    """UTF-8 of ``text``; a lone surrogate cannot be sent, so it is the caller's error."""
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise LocalProtocolError(f"{what} is not valid Unicode: {exc.reason}") from None


def _truncate_utf8(text: str, limit: int) -> bytes:
    """Encode ``text`` cut to at most ``limit`` bytes without splitting a character."""
    data = text.encode("utf-8")
    if len(data) <= limit:
        return data
    return data[:limit].decode("utf-8", "ignore").encode("utf-8")


class Connection:
    """One WebSocket connection's protocol state, for either role.

    ``max_message_size`` bounds every incoming message after reassembly and
    decompression (1009 when exceeded); ``deflate`` is the permessage-deflate agreement
    from the handshake, or None when the extension is not in use.

    ``hold_close=True`` lets an adapter keep replies in order without giving up batch
    parsing. The connection then holds back the close frames it would send on its own,
    the answer to the peer's close and the close of a protocol failure: parsing stops,
    :attr:`close_code` or :attr:`failure` is set, the state stays as it was and sending
    still works, until :meth:`release_close`. An adapter calls that once its
    application has taken the messages that arrived first, so their answers precede
    the close (Autobahn cases 3.2, 4.1.3, 5.15 and 7.1.6 are strict about this).
    """

    # Slots: a server holds one per open connection.
    __slots__ = (
        "_assembler", "_buf", "_close_sent", "_codec", "_events", "_expect_mask",
        "_frame_offset", "_header", "_held_close", "_hold_close", "_mask_pool", "_out",
        "_out_size", "_receiving", "_state", "close_code", "close_reason", "deflate",
        "failure", "role", "should_close_transport",
    )

    def __init__(
        self,
        role: Role,
        *,
        max_message_size: int = DEFAULT_MAX_MESSAGE_SIZE,
        deflate: DeflateParams | None = None,
        hold_close: bool = False,
    ) -> None:
        if max_message_size < 0:
            raise ValueError("max_message_size must be >= 0")
        self.role = role
        self._expect_mask = role is Role.SERVER  # section 5.1: only clients mask
        self.deflate = deflate
        self._codec = (
            DeflateCodec(deflate, is_server=role is Role.SERVER) if deflate is not None else None
        )
        self._state = ConnectionState.OPEN
        self.close_code: int | None = None
        """The peer's close code (1005: close without code; 1006: EOF without close);
        None until known. When we failed the connection, :attr:`failure` has our code."""
        self.close_reason: str = ""
        """The peer's close reason."""
        self.failure: ProtocolError | None = None
        """Set when we failed the connection because the peer broke the protocol."""
        self.should_close_transport = False
        """True once the transport should be closed, after writing :meth:`data_to_send`:
        a server closes at once; a client first waits a little for the server to close
        (RFC 6455 section 7.1.1), then closes anyway."""
        self._close_sent = False
        self._hold_close = hold_close
        self._held_close: _Trigger | None = None  # RECEIVE_CLOSE or FAIL, when held
        self._receiving = True
        # A list, not a deque: an empty deque takes 760 bytes, and few events wait here.
        self._events: list[Event] = []
        self._out: list[bytes] = []
        self._out_size = 0
        self._mask_pool: list[bytes] = []
        # Incoming frame parsing.
        self._buf = bytearray()
        self._header: FrameHeader | None = None
        self._frame_offset = 0
        self._assembler = MessageAssembler(max_message_size, self._codec)

    # -- state -------------------------------------------------------------------------

    @property
    def state(self) -> ConnectionState:
        """Where the close handshake stands."""
        return self._state

    @property
    def max_message_size(self) -> int:
        """The largest incoming message accepted, in bytes after decompression."""
        return self._assembler.max_message_size

    @property
    def bytes_to_send(self) -> int:
        """How many bytes :meth:`data_to_send` would return now.

        Pongs are queued for every ping, read or not by the peer: an adapter whose
        writes are stuck should stop reading while this is large (backpressure).
        """
        return self._out_size

    @property
    def close_sent(self) -> bool:
        """True once our close frame is queued; sending anything more raises."""
        return self._close_sent

    def _transition(self, trigger: _Trigger) -> None:
        try:
            self._state = _TRANSITIONS[self._state, trigger]
        except KeyError:
            raise LocalProtocolError(
                f"cannot {trigger.value} in state {self._state.name}"
            ) from None

    # -- receiving ---------------------------------------------------------------------

    def receive_data(self, data: bytes) -> None:
        """Feed bytes read from the transport and parse them all; then drain
        :meth:`events_received` and :meth:`data_to_send`.

        Never raises for bad peer input: the connection fails instead (see
        :attr:`failure`). Bytes after the peer's close, or after a failure, are ignored.
        """
        if not self._receiving:
            return
        if data:
            self._buf += data
        try:
            self._parse(False)
        except ProtocolError as exc:
            self._fail(exc)

    def buffer_data(self, data: bytes) -> None:
        """Store bytes read from the transport without parsing them yet.

        The pull-style alternative to :meth:`receive_data`: then call :meth:`next_event`
        whenever the application is ready for the next event. Parsing no further than
        the application has read keeps replies in order: an answer sent to one message
        goes out before the close caused by a protocol violation that followed it.
        Read more from the transport only once :meth:`next_event` returns None, so the
        buffer stays bounded by one read.
        """
        if self._receiving and data:
            self._buf += data

    def next_event(self) -> Event | None:
        """Parse just enough buffered bytes for one event and return it.

        Return None when more bytes are needed or nothing more will be received (after
        the peer's close, a failure or EOF): then check :attr:`should_close_transport`.
        Never raises for bad peer input. Write :meth:`data_to_send` after each call
        (pongs and close answers are queued as their frames are parsed).
        """
        if not self._events:
            self._parse_safely(one_event=True)
        return self._events.pop(0) if self._events else None

    def receive_eof(self) -> None:
        """Tell the connection the transport reached EOF; then close the transport.

        Bytes buffered before the EOF are parsed first, so their events still arrive.
        """
        self._parse_safely(one_event=False)
        self.release_close()
        if self.close_code is None:
            self.close_code = CloseCode.ABNORMAL_CLOSURE
        self._receiving = False
        self._buf.clear()
        self._transition(_Trigger.EOF)
        self.should_close_transport = True

    def events_received(self) -> list[Event]:
        """Return (and forget) the events parsed so far, in arrival order."""
        events, self._events = self._events, []
        return events

    def _parse_safely(self, *, one_event: bool) -> None:
        if not self._receiving:
            return
        try:
            self._parse(one_event)
        except ProtocolError as exc:
            self._fail(exc)

    def _fail(self, exc: ProtocolError) -> None:
        self.failure = exc
        self._receiving = False
        self._buf.clear()
        if self._hold_close:
            self._held_close = _Trigger.FAIL
        else:
            self._send_own_close(_Trigger.FAIL)

    def _send_own_close(self, trigger: _Trigger) -> None:
        """Queue the close answering the peer's close (or failing the connection)."""
        self._held_close = None
        if not self._close_sent:
            if trigger is _Trigger.FAIL:
                assert self.failure is not None
                self._queue_close(self.failure.code, self.failure.message)
            else:
                # Section 5.5.1: answer with a close, echoing the peer's code.
                assert self.close_code is not None
                self._queue_close(self.close_code, "")
        self._transition(trigger)
        self.should_close_transport = True

    @property
    def close_held(self) -> bool:
        """True while our answering or failing close waits for :meth:`release_close`."""
        return self._held_close is not None

    def release_close(self) -> None:
        """Queue the held close frame and mark the transport for closing.

        With ``hold_close=True``, call this once the application has taken (and
        answered) the messages that arrived before the peer's close or violation, or
        after a timeout. Does nothing when no close is held.
        """
        if self._held_close is not None:
            self._send_own_close(self._held_close)

    def _parse(self, one_event: bool) -> None:
        """Parse buffered bytes; with ``one_event``, stop as soon as an event is ready."""
        buf = self._buf
        events = self._events
        assembler = self._assembler
        mask_bit = 0x80 if self._expect_mask else 0
        while self._receiving:
            if one_event and events:
                return
            header = self._header
            if header is None:
                if not buf:
                    return
                # Fast path for the common case, a whole small message in one frame:
                # FIN, text or binary, no RSV bit, 7-bit length, masked as the role
                # requires, entirely buffered. Everything else takes the general path.
                b0 = buf[0] if buf else 0
                if (b0 == 0x81 or b0 == 0x82) and not assembler.in_message:
                    b1 = buf[1] if len(buf) > 1 else 0xFF
                    length = b1 & 0x7F
                    if length < 126 and b1 & 0x80 == mask_bit:
                        start = 6 if mask_bit else 2
                        end = start + length
                        if len(buf) >= end:
                            if mask_bit:
                                payload = apply_mask(buf[6:end], bytes(buf[2:6]))
                            else:
                                payload = bytes(buf[2:end])
                            del buf[:end]
                            events.append(assembler.whole(b0 == 0x81, payload))
                            continue
                header = parse_header(buf, allow_rsv1=self._codec is not None)
                if header is None:
                    return
                del buf[: header.header_length]
                self._start_frame(header)
                self._header = header
                self._frame_offset = 0
            offset = self._frame_offset
            need = header.length - offset
            available = len(buf)
            if header.opcode & 0x8:
                if available < need:
                    return
                payload = bytes(buf[:need])
                del buf[:need]
                self._header = None
                if header.mask is not None:
                    payload = apply_mask(payload, header.mask)
                self._handle_control(header.opcode, payload)
                continue
            if available >= need:
                take = need
            elif available:
                take = available
            else:
                return
            mask = header.mask
            if mask is None:
                chunk = bytes(buf[:take])
            else:
                chunk = apply_mask(buf[:take], rotate_mask(mask, offset) if offset & 3 else mask)
            del buf[:take]
            if take == need:
                self._header = None
                message = assembler.add(chunk, message_done=header.fin)
                if message is not None:
                    events.append(message)
            else:
                self._frame_offset = offset + take
                assembler.add(chunk, message_done=False)

    def _start_frame(self, header: FrameHeader) -> None:
        """Check a new frame's header against the connection state (1002 / 1009)."""
        if (header.mask is None) is self._expect_mask:
            if self._expect_mask:
                raise ProtocolError(CloseCode.PROTOCOL_ERROR, "client frame is not masked")
            raise ProtocolError(CloseCode.PROTOCOL_ERROR, "server frame is masked")
        if not header.opcode & 0x8:
            self._assembler.start_frame(header)

    def _handle_control(self, opcode: Opcode, payload: bytes) -> None:
        if opcode is Opcode.PING:
            self._events.append(Ping(payload))
            if not self._close_sent:
                self._queue_frame(Opcode.PONG, payload)
        elif opcode is Opcode.PONG:
            self._events.append(Pong(payload))
        else:
            self._handle_close(payload)

    def _handle_close(self, payload: bytes) -> None:
        if len(payload) == 0:
            code, reason = int(CloseCode.NO_STATUS_RCVD), ""
        elif len(payload) == 1:
            raise ProtocolError(CloseCode.PROTOCOL_ERROR, "close payload of 1 byte")
        else:
            code = int.from_bytes(payload[:2], "big")
            if not is_valid_close_code(code):
                raise ProtocolError(CloseCode.PROTOCOL_ERROR, f"invalid close code {code}")
            reason = decode_utf8(payload[2:], "close reason")
        self.close_code = code
        self.close_reason = reason
        self._events.append(CloseReceived(code, reason))
        self._receiving = False
        self._buf.clear()
        if self._hold_close and not self._close_sent:
            self._held_close = _Trigger.RECEIVE_CLOSE
        else:
            self._send_own_close(_Trigger.RECEIVE_CLOSE)

    # -- sending -----------------------------------------------------------------------

    def data_to_send(self) -> bytes:
        """Return (and forget) the bytes to write to the transport; b"" when none."""
        out = self._out
        if not out:
            return b""
        self._out = []
        self._out_size = 0
        return out[0] if len(out) == 1 else b"".join(out)

    def _check_can_send(self) -> None:
        if self._close_sent:
            raise LocalProtocolError("cannot send after the close frame was sent")
        if self._state is _CLOSED:
            raise LocalProtocolError("cannot send on a closed connection")

    def _new_mask(self) -> bytes:
        # Section 10.3: keys must be unpredictable, so they come from os.urandom, fetched
        # in batches because one system call per frame costs more than the masking.
        if not self._mask_pool:
            pool = os.urandom(4 * _MASKS_PER_BATCH)
            self._mask_pool = [pool[i : i + 4] for i in range(0, len(pool), 4)]
        return self._mask_pool.pop()

    def _queue_frame(self, opcode: Opcode, payload: bytes, *, rsv1: bool = False) -> None:
        mask = None if self._expect_mask else self._new_mask()  # clients mask
        frame = encode_frame(opcode, payload, rsv1=rsv1, mask=mask)
        self._out.append(frame)
        self._out_size += len(frame)

    def _send_message(self, opcode: Opcode, payload: bytes) -> None:
        self._check_can_send()
        if self._codec is not None:
            self._queue_frame(opcode, self._codec.compress(payload), rsv1=True)
        else:
            self._queue_frame(opcode, payload)

    def send_text(self, text: str) -> None:
        """Queue a text message (compressed when permessage-deflate is in use)."""
        self._send_message(Opcode.TEXT, _encode_text(text, "text message"))

    def send_binary(self, data: bytes) -> None:
        """Queue a binary message (compressed when permessage-deflate is in use)."""
        self._send_message(Opcode.BINARY, data if type(data) is bytes else bytes(data))

    def send_frame_bytes(self, frame: bytes) -> None:
        """Queue a frame already built with :func:`~gameserver.ws.frames.encode_frame`.

        For fan-out: a server encodes a message once (unmasked, uncompressed) and queues
        the same bytes on every connection. The caller vouches for the frame's validity.
        """
        self._check_can_send()
        self._out.append(frame)
        self._out_size += len(frame)

    def send_ping(self, payload: bytes = b"") -> None:
        """Queue a ping (payload at most 125 bytes); the peer answers with a Pong."""
        self._check_can_send()
        self._check_control_payload(payload)
        self._queue_frame(Opcode.PING, bytes(payload))

    def send_pong(self, payload: bytes = b"") -> None:
        """Queue an unsolicited pong (a heartbeat); pings are already answered."""
        self._check_can_send()
        self._check_control_payload(payload)
        self._queue_frame(Opcode.PONG, bytes(payload))

    @staticmethod
    def _check_control_payload(payload: bytes) -> None:
        if len(payload) > MAX_CONTROL_PAYLOAD:
            raise LocalProtocolError("control frame payloads are at most 125 bytes")

    def send_close(self, code: int = CloseCode.NORMAL, reason: str = "") -> None:
        """Start the close handshake; then wait for the peer's close (or a timeout).

        ``code`` must be sendable (1000-1003, 1007-1014, 3000-4999), or 1005 to send a
        close without a code (``reason`` must then be empty). The reason must fit in
        123 UTF-8 bytes. Raises :class:`LocalProtocolError` when a close was already sent.
        """
        self._check_can_send()
        if code == CloseCode.NO_STATUS_RCVD:
            if reason:
                raise LocalProtocolError("a close without a code cannot carry a reason")
        elif not is_valid_close_code(code):
            raise LocalProtocolError(f"close code {code} may not be sent")
        encoded = _encode_text(reason, "close reason")
        if len(encoded) > _MAX_CLOSE_REASON:
            raise LocalProtocolError("close reason longer than 123 UTF-8 bytes")
        self._queue_close(code, reason)
        self._transition(_Trigger.SEND_CLOSE)

    def _queue_close(self, code: int, reason: str) -> None:
        if code == CloseCode.NO_STATUS_RCVD:
            payload = b""
        else:
            payload = int(code).to_bytes(2, "big") + _truncate_utf8(reason, _MAX_CLOSE_REASON)
        self._queue_frame(Opcode.CLOSE, payload)
        self._close_sent = True
