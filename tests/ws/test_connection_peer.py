"""Our connection against independent sans-IO peers: ``websockets`` and ``wsproto``.

Both ends run in memory, bytes handed across by hand, so every case is synchronous and
exact; the same runs with permessage-deflate negotiated by each side's own code.
"""

from __future__ import annotations

import itertools

import pytest
from websockets.extensions.permessage_deflate import (
    ClientPerMessageDeflateFactory,
    PerMessageDeflate,
    ServerPerMessageDeflateFactory,
)
from websockets.frames import Close, Frame, Opcode as WsOpcode
from websockets.headers import build_extension, parse_extension
from websockets.protocol import Protocol, Side, State
from wsproto.connection import Connection as WsprotoConnection
from wsproto.connection import ConnectionType
from wsproto.events import BytesMessage, CloseConnection
from wsproto.events import Message as WsprotoMessage
from wsproto.events import TextMessage as WsprotoText
from wsproto.extensions import PerMessageDeflate as WsprotoDeflate

from gameserver.ws.connection import Connection, ConnectionState, Role
from gameserver.ws.deflate import (
    DeflateParams,
    client_check_response,
    client_offer,
    server_accept,
)
from gameserver.ws.events import BinaryMessage, CloseReceived, Ping, Pong, TextMessage

ROLES = pytest.mark.parametrize("role", [Role.SERVER, Role.CLIENT], ids=["server", "client"])

MESSAGES: list[str | bytes] = [
    "hello", "", "κόσμε 😀" * 100, b"\x00\xff" * 40000, "Hello", "Hello", bytes(range(256)),
]


def _peer(role: Role, extension: PerMessageDeflate | None = None) -> Protocol:
    peer = Protocol(Side.CLIENT if role is Role.SERVER else Side.SERVER, max_size=2**24)
    if extension is not None:
        peer.extensions = [extension]
    return peer


def _to_ours(peer: Protocol, ours: Connection) -> None:
    ours.receive_data(b"".join(peer.data_to_send()))


def _to_peer(ours: Connection, peer: Protocol) -> None:
    peer.receive_data(ours.data_to_send())


def _peer_messages(peer: Protocol) -> list[str | bytes]:
    out: list[str | bytes] = []
    for frame in peer.events_received():
        assert isinstance(frame, Frame)
        if frame.opcode is WsOpcode.TEXT:
            out.append(frame.data.decode())
        elif frame.opcode is WsOpcode.BINARY:
            out.append(bytes(frame.data))
    return out


def _ours_messages(ours: Connection) -> list[str | bytes]:
    out: list[str | bytes] = []
    for event in ours.events_received():
        assert isinstance(event, TextMessage | BinaryMessage)
        out.append(event.data)
    return out


def _exchange(ours: Connection, peer: Protocol) -> None:
    for message in MESSAGES:
        if isinstance(message, str):
            peer.send_text(message.encode())
            ours.send_text(message)
        else:
            peer.send_binary(message)
            ours.send_binary(message)
    _to_ours(peer, ours)
    _to_peer(ours, peer)
    assert ours.failure is None, ours.failure
    assert peer.state is State.OPEN
    assert _ours_messages(ours) == MESSAGES
    assert _peer_messages(peer) == MESSAGES


@ROLES
def test_messages_both_ways_without_compression(role: Role) -> None:
    _exchange(Connection(role), _peer(role))


@ROLES
def test_fragmented_messages_from_the_peer(role: Role) -> None:
    ours, peer = Connection(role), _peer(role)
    peer.send_text("κό".encode(), fin=False)
    peer.send_ping(b"mid")
    peer.send_continuation("σμε".encode(), fin=True)
    _to_ours(peer, ours)
    assert ours.events_received() == [Ping(b"mid"), TextMessage("κόσμε")]
    _to_peer(ours, peer)
    [pong] = peer.events_received()
    assert pong.opcode is WsOpcode.PONG and pong.data == b"mid"


@ROLES
def test_ping_pong_both_ways(role: Role) -> None:
    ours, peer = Connection(role), _peer(role)
    ours.send_ping(b"ours")
    _to_peer(ours, peer)
    assert [f.opcode for f in peer.events_received()] == [WsOpcode.PING]
    _to_ours(peer, ours)
    assert ours.events_received() == [Pong(b"ours")]


@ROLES
@pytest.mark.parametrize("code", [1000, 1001, 3000, 4999])
def test_peer_starts_the_close_handshake(role: Role, code: int) -> None:
    ours, peer = Connection(role), _peer(role)
    peer.send_close(code, "done")
    _to_ours(peer, ours)
    assert ours.events_received() == [CloseReceived(code, "done")]
    assert ours.state is ConnectionState.CLOSED and ours.should_close_transport
    _to_peer(ours, peer)
    assert peer.close_rcvd is not None and peer.close_rcvd.code == code
    assert [f.opcode for f in peer.events_received()] == [WsOpcode.CLOSE]


@ROLES
def test_we_start_the_close_handshake(role: Role) -> None:
    ours, peer = Connection(role), _peer(role)
    ours.send_close(4000, "bye")
    _to_peer(ours, peer)
    assert peer.close_rcvd == Close(4000, "bye")
    _to_ours(peer, ours)
    assert ours.events_received() == [CloseReceived(4000, "bye")]
    assert ours.state is ConnectionState.CLOSED and ours.should_close_transport


@ROLES
def test_peer_sees_our_failure_code(role: Role) -> None:
    ours, peer = Connection(role, max_message_size=10), _peer(role)
    peer.send_binary(b"x" * 11)
    _to_ours(peer, ours)
    assert ours.failure is not None and ours.failure.code == 1009
    _to_peer(ours, peer)
    assert peer.close_rcvd is not None and peer.close_rcvd.code == 1009


BITS = [None, 9, 12, 15]
PARAM_GRID = [
    DeflateParams(*combo)
    for combo in itertools.product([False, True], [False, True], BITS, BITS)
]


def _websockets_extension(role: Role, agreed: DeflateParams) -> PerMessageDeflate:
    """The peer's extension object for the agreed params (peer is the other role)."""
    server_bits = agreed.server_max_window_bits or 15
    client_bits = agreed.client_max_window_bits or 15
    if role is Role.SERVER:  # the peer is the client
        return PerMessageDeflate(
            agreed.server_no_context_takeover, agreed.client_no_context_takeover,
            server_bits, client_bits,
        )
    return PerMessageDeflate(
        agreed.client_no_context_takeover, agreed.server_no_context_takeover,
        client_bits, server_bits,
    )


@ROLES
@pytest.mark.parametrize("params", PARAM_GRID, ids=str)
def test_compressed_messages_both_ways(role: Role, params: DeflateParams) -> None:
    accepted = server_accept([client_offer(params)])
    assert accepted is not None
    agreed = accepted[0]
    _exchange(Connection(role, deflate=agreed), _peer(role, _websockets_extension(role, agreed)))


@pytest.mark.parametrize("params", PARAM_GRID, ids=str)
def test_websockets_server_accepts_our_offer(params: DeflateParams) -> None:
    factory = ServerPerMessageDeflateFactory()
    [(name, offer_params)] = parse_extension(client_offer(params))
    response_params, _ = factory.process_request_params(offer_params, [])
    response = build_extension([(name, response_params)])
    agreed = client_check_response(response, params)
    assert agreed.server_no_context_takeover == params.server_no_context_takeover
    assert agreed.server_max_window_bits == params.server_max_window_bits


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"server_no_context_takeover": True},
        {"client_no_context_takeover": True},
        {"server_max_window_bits": 10},
        {"client_max_window_bits": 9},
        {"client_max_window_bits": None},
    ],
    ids=str,
)
def test_our_server_answers_websockets_offers(kwargs: dict[str, object]) -> None:
    factory = ClientPerMessageDeflateFactory(**kwargs)  # type: ignore[arg-type]
    offer = build_extension([(factory.name, factory.get_request_params())])
    accepted = server_accept([offer])
    assert accepted is not None
    agreed, response = accepted
    [(_, response_params)] = parse_extension(response)
    extension = factory.process_response_params(response_params, [])
    assert extension.remote_no_context_takeover == agreed.server_no_context_takeover
    assert extension.local_no_context_takeover == agreed.client_no_context_takeover


def test_close_frame_payload_matches_websockets_serialization() -> None:
    ours = Connection(Role.SERVER)
    ours.send_close(1001, "going away")
    expected = Frame(WsOpcode.CLOSE, Close(1001, "going away").serialize()).serialize(
        mask=False
    )
    assert ours.data_to_send() == expected


# -- and against wsproto (the sans-IO core under trio-websocket) --------------------------

def _wsproto_messages(peer: WsprotoConnection, wire: bytes) -> list[str | bytes]:
    peer.receive_data(wire)
    out: list[str | bytes] = []
    text, data = "", b""
    for event in peer.events():
        if isinstance(event, WsprotoText):
            text += event.data
            if event.message_finished:
                out.append(text)
                text = ""
        elif isinstance(event, BytesMessage):
            data += bytes(event.data)
            if event.message_finished:
                out.append(data)
                data = b""
    return out


def _wsproto_send(peer: WsprotoConnection, messages: list[str | bytes]) -> bytes:
    wire = b""
    for message in messages:
        event: WsprotoMessage[str] | WsprotoMessage[bytes]
        if isinstance(message, str):
            event = WsprotoText(data=message)
        else:
            event = BytesMessage(data=message)
        wire += peer.send(event)
    return wire


WSPROTO_PARAMS = [
    DeflateParams(),
    DeflateParams(server_no_context_takeover=True, client_no_context_takeover=True),
    DeflateParams(server_max_window_bits=9, client_max_window_bits=10),
    DeflateParams(True, False, 12, None),
]


@pytest.mark.parametrize("params", [None, *WSPROTO_PARAMS], ids=str)
def test_our_server_with_a_wsproto_client(params: DeflateParams | None) -> None:
    extensions = []
    agreed = None
    if params is not None:
        extension = WsprotoDeflate(
            client_no_context_takeover=params.client_no_context_takeover,
            client_max_window_bits=params.client_max_window_bits,
            server_no_context_takeover=params.server_no_context_takeover,
            server_max_window_bits=params.server_max_window_bits,
        )
        offer = extension.offer()
        assert isinstance(offer, str)
        accepted = server_accept([f"{extension.name}; {offer}" if offer else extension.name])
        assert accepted is not None
        agreed, response = accepted
        extension.finalize(response)  # wsproto parses the name too
        assert extension.server_no_context_takeover == agreed.server_no_context_takeover
        assert extension.client_no_context_takeover == agreed.client_no_context_takeover
        extensions.append(extension)
    client = WsprotoConnection(ConnectionType.CLIENT, extensions=extensions)
    server = Connection(Role.SERVER, deflate=agreed)
    server.receive_data(_wsproto_send(client, MESSAGES))
    assert server.failure is None, server.failure
    assert _ours_messages(server) == MESSAGES
    for message in MESSAGES:
        if isinstance(message, str):
            server.send_text(message)
        else:
            server.send_binary(message)
    assert _wsproto_messages(client, server.data_to_send()) == MESSAGES
    # wsproto starts the close handshake; we answer with its code.
    server.receive_data(client.send(CloseConnection(code=4001, reason="bye")))
    assert server.events_received() == [CloseReceived(4001, "bye")]
    client.receive_data(server.data_to_send())
    [close] = [e for e in client.events() if isinstance(e, CloseConnection)]
    assert close.code == 4001


@pytest.mark.parametrize("params", [None, *WSPROTO_PARAMS], ids=str)
def test_our_client_with_a_wsproto_server(params: DeflateParams | None) -> None:
    extensions = []
    agreed = None
    if params is not None:
        extension = WsprotoDeflate()
        offer = client_offer(params)
        response = extension.accept(offer)  # wsproto parses the name too
        assert isinstance(response, str)
        agreed = client_check_response(
            f"{extension.name}; {response}" if response else extension.name, params
        )
        extensions.append(extension)
    server = WsprotoConnection(ConnectionType.SERVER, extensions=extensions)
    client = Connection(Role.CLIENT, deflate=agreed)
    client.receive_data(_wsproto_send(server, MESSAGES))
    assert client.failure is None, client.failure
    assert _ours_messages(client) == MESSAGES
    for message in MESSAGES:
        if isinstance(message, str):
            client.send_text(message)
        else:
            client.send_binary(message)
    assert _wsproto_messages(server, client.data_to_send()) == MESSAGES
    client.send_close(1000, "done")
    server.receive_data(client.data_to_send())
    [close] = [e for e in server.events() if isinstance(e, CloseConnection)]
    assert (close.code, close.reason) == (1000, "done")
    client.receive_data(server.send(close.response()))
    assert client.events_received() == [CloseReceived(1000, "done")]
    assert client.state is ConnectionState.CLOSED and client.should_close_transport
