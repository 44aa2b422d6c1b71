"""Per-connection rate limits, keepalive against dead peers, and clients that never read."""

from __future__ import annotations

import gc
from pathlib import Path

import attrs
import msgpack
import trio

from gameserver.protocol.messages import Chat, EmptyResult
from gameserver.ws.codes import Opcode
from gameserver.ws.events import BinaryMessage, CloseReceived, Ping

from .conftest import (
    RawPeer,
    make_config,
    masked_frame,
    metric,
    pair_in_room,
    rss_bytes,
    start_server,
    upgrade_request,
    with_ws,
)


def list_rooms(request_id: int) -> dict[str, object]:
    return {"type": "list_rooms", "id": request_id}


async def test_rate_limit_answers_rate_limited_then_closes_sustained_abuse_with_1008(
    tmp_path: Path,
) -> None:
    config = make_config(tmp_path)
    config = attrs.evolve(
        config, service=attrs.evolve(config.service, message_rate=5.0, message_burst=10.0)
    )
    async with trio.open_nursery() as nursery:
        server = await start_server(nursery, config)
        pair = await pair_in_room(server, nursery)
        abuser = await RawPeer.open(server.port)
        await abuser.send_message({"type": "hello", "id": 1, "name": "abuser"})
        assert (await abuser.next_message())["type"] == "reply"
        await abuser.send_message({"type": "spectate", "id": 2, "room_id": pair.room_id})
        # 15 at once: what is left of the burst is served, the rest refused one by one
        frames = b""
        for request_id in range(100, 115):
            abuser.connection.send_binary(msgpack.packb(list_rooms(request_id)))
            frames += abuser.connection.data_to_send()
        await abuser.send_raw(frames)
        # refusals come before decoding (that is the point), so they carry no request id
        served: list[int] = []
        refused: list[str] = []
        while len(served) + len(refused) < 15:
            message = await abuser.next_message()
            if message["type"] == "reply" and message["id"] >= 100:
                served.append(message["id"])
            elif message["type"] == "error":
                assert (message["id"], message["code"]) == (None, "rate_limited"), message
                refused.append(message["message"])
        assert len(served) <= 10 and len(refused) >= 5
        assert refused[0] == "too many messages; slow down"
        # sustained abuse: 400 more requests at once
        frames = b""
        for request_id in range(200, 600):
            abuser.connection.send_binary(msgpack.packb(list_rooms(request_id)))
            frames += abuser.connection.data_to_send()
        try:
            await abuser.send_raw(frames)
        except trio.BrokenResourceError:
            pass
        code, reason = await abuser.close_code()
        assert (code, reason) == (1008, "too many messages")
        # the room, its players and their own budgets are untouched
        assert await pair.play(4) == 4
        await pair.alice.call(Chat, EmptyResult, room_id=pair.room_id, text="still fine")
        nursery.cancel_scope.cancel()


async def test_a_peer_that_never_answers_pings_is_closed_with_1011(tmp_path: Path) -> None:
    config = with_ws(make_config(tmp_path), ping_interval=0.2, ping_timeout=0.3)
    async with trio.open_nursery() as nursery:
        server = await start_server(nursery, config)
        pair = await pair_in_room(server, nursery)  # the SDK side answers pings
        dead = await RawPeer.open(server.port)
        await dead.send_message({"type": "hello", "id": 1, "name": "dead"})
        started = trio.current_time()
        pinged = False
        while True:
            event = await dead.next_event(timeout=5)
            if isinstance(event, Ping):
                pinged = True
            elif event is not None and not hasattr(event, "code"):
                continue
            else:
                break
        assert pinged
        assert event is not None and getattr(event, "code") == 1011
        assert trio.current_time() - started < 2
        await trio.sleep(0.6)  # several ping rounds: the live players stay connected
        assert pair.alice.ws.closed is None and pair.bob.ws.closed is None
        assert await pair.play(2) == 2
        nursery.cancel_scope.cancel()


async def test_half_open_peer_is_dropped_by_keepalive(tmp_path: Path) -> None:
    # A peer whose network vanished: no FIN, no RST, nothing. Only keepalive notices.
    config = with_ws(make_config(tmp_path), ping_interval=0.2, ping_timeout=0.3, close_timeout=0.3)
    async with trio.open_nursery() as nursery:
        server = await start_server(nursery, config)
        pair = await pair_in_room(server, nursery)
        ghost = await RawPeer.open(server.port)
        await ghost.send_message({"type": "hello", "id": 1, "name": "ghost"})
        await ghost.send_message({"type": "spectate", "id": 2, "room_id": pair.room_id})
        with trio.fail_after(5):
            while await metric(server.port, "gameserver_connections") != 3:
                await trio.sleep(0.05)
        # never read again and never write: from the server's side the peer is half-open
        with trio.fail_after(5):
            while await metric(server.port, "gameserver_connections") != 2:
                await trio.sleep(0.05)
        assert await pair.play(2) == 2
        await ghost.aclose()
        nursery.cancel_scope.cancel()




async def test_200_stalled_readers_keep_memory_bounded_and_others_play(tmp_path: Path) -> None:
    config = make_config(tmp_path, outbox_limit=32, chat_max_length=8000)
    config = with_ws(config, max_connections_per_ip=1000, ping_interval=None)
    async with trio.open_nursery() as nursery:
        server = await start_server(nursery, config)
        pair = await pair_in_room(server, nursery)
        stalled: list[RawPeer] = []
        for index in range(200):
            peer = await RawPeer.open(server.port, rcvbuf=4096)
            await peer.send_message({"type": "hello", "id": 1, "name": f"s{index}"})
            await peer.send_message({"type": "spectate", "id": 2, "room_id": pair.room_id})
            stalled.append(peer)
        await pair.alice.call(Chat, EmptyResult, room_id=pair.room_id, text="hi")
        gc.collect()
        baseline = peak = rss_bytes()
        text = "z" * 8000
        started = trio.current_time()
        sent = 0
        overflows = 0.0
        while overflows < 200:
            for _ in range(20):
                mover = pair.alice if sent % 2 == 0 else pair.bob
                await mover.call(Chat, EmptyResult, room_id=pair.room_id, text=text)
                sent += 1
            peak = max(peak, rss_bytes())
            overflows = await metric(server.port, "gameserver_outbox_overflows_total")
            assert sent < 2000, f"only {overflows} of 200 stalled clients were cut off"
        elapsed = trio.current_time() - started
        print(f"stalled readers: {sent} chats of 8 kB, {elapsed:.2f} s, "
              f"RSS {baseline / 2**20:.1f} -> {peak / 2**20:.1f} MiB")
        # Bounded: each stalled client holds at most 32 queued messages plus one
        # connection's write buffer, far less than the chats sent to all of them.
        assert peak - baseline < 32 * 2**20, (baseline, peak)
        assert sent * 8000 * 200 > 4 * (peak - baseline)
        assert await pair.play(4) == 4  # the players never noticed
        assert await metric(server.port, "gameserver_connections") == 2
        for peer in stalled:
            await peer.aclose()
        nursery.cancel_scope.cancel()


async def test_a_ping_flood_from_a_peer_that_never_reads_is_pushed_back(tmp_path: Path) -> None:
    # Every ping is owed a pong. A peer that floods pings and reads nothing must not make
    # the server hold those pongs without bound: it stops reading, and TCP pushes back.
    config = with_ws(make_config(tmp_path), ping_interval=None)
    async with trio.open_nursery() as nursery:
        server = await start_server(nursery, config)
        pair = await pair_in_room(server, nursery)
        flooder = await RawPeer.open(server.port, rcvbuf=4096)
        await flooder.send_message({"type": "hello", "id": 1, "name": "flooder"})
        burst = masked_frame(Opcode.PING, b"p" * 125) * 500  # 65.5 kB of pings
        gc.collect()
        baseline = rss_bytes()
        sent = 0
        with trio.move_on_after(3):
            while sent < 256 * 2**20:
                await flooder.send_raw(burst)
                sent += len(burst)
        grown = rss_bytes() - baseline
        print(f"ping flood: {sent / 2**20:.1f} MiB sent, server RSS +{grown / 2**20:.1f} MiB")
        # Only the kernel's socket buffers (a few MB on loopback) take the flood now;
        # without the push-back the server read it all, owing a pong for every ping.
        assert sent < 32 * 2**20
        assert grown < 16 * 2**20
        assert await pair.play(4) == 4  # everyone else plays on
        assert await metric(server.port, "gameserver_connections") == 3
        await flooder.aclose()
        nursery.cancel_scope.cancel()


async def _flood(peer: RawPeer, rate: float, seconds: float) -> tuple[int, int, tuple[int, str] | None]:
    """Send list_rooms at about ``rate`` per second, paced, while reading the answers;
    return (sent, refusals seen, the close code and reason or None)."""
    refusals = 0
    sent = 0
    closed: tuple[int, str] | None = None

    async def read() -> None:
        nonlocal refusals, closed
        while True:
            event = await peer.next_event(timeout=seconds + 10)
            if event is None:
                return
            if isinstance(event, BinaryMessage):
                message = msgpack.unpackb(event.data)
                if message["type"] == "error" and message["code"] == "rate_limited":
                    refusals += 1
            elif isinstance(event, CloseReceived):
                closed = (event.code, event.reason)
                return

    async with trio.open_nursery() as nursery:
        nursery.start_soon(read)
        batch = 4
        deadline = trio.current_time() + seconds
        while closed is None and trio.current_time() < deadline:
            frames = b""
            for _ in range(batch):
                sent += 1
                peer.connection.send_binary(msgpack.packb(list_rooms(1000 + sent)))
                frames += peer.connection.data_to_send()
            try:
                await peer.send_raw(frames)
            except (trio.BrokenResourceError, trio.ClosedResourceError):
                break
            await trio.sleep(batch / rate)
        with trio.move_on_after(5):
            while closed is None and not peer.eof:
                await trio.sleep(0.01)
        nursery.cancel_scope.cancel()
    return sent, refusals, closed


async def test_a_paced_flood_is_cut_off_within_a_bounded_number_of_refusals(
    tmp_path: Path,
) -> None:
    # 2,000 requests/s: the bucket refills one credit every 20 ms, so refusals never
    # come 200 in a row; they must still be counted and the flood closed.
    config = make_config(tmp_path)
    config = attrs.evolve(
        config, service=attrs.evolve(config.service, message_rate=50.0, message_burst=100.0)
    )
    async with trio.open_nursery() as nursery:
        server = await start_server(nursery, config)
        pair = await pair_in_room(server, nursery)
        flooder = await RawPeer.open(server.port)
        await flooder.send_message({"type": "hello", "id": 1, "name": "flooder"})
        assert (await flooder.next_message())["type"] == "reply"
        sent, refusals, closed = await _flood(flooder, rate=2000.0, seconds=8.0)
        print(f"flood: {sent} sent, {refusals} refused, closed {closed}")
        assert closed == (1008, "too many messages")
        assert refusals == config.service.flood_refusals - 1
        await flooder.aclose()
        # Reconnecting at once: refused before the handshake, told when to come back.
        assert await _upgrade_refused(server.port) == config.service.flood_penalty
        # Connections already open play on, and another address is welcome.
        assert await pair.play(2) == 2
        other = await _peer_from(server.port, "127.0.0.2")
        await other.send_message({"type": "hello", "id": 1, "name": "neighbour"})
        assert (await other.next_message())["type"] == "reply"
        await other.aclose()
        nursery.cancel_scope.cancel()


async def _upgrade_refused(port: int) -> int:
    """Ask for an upgrade that must be refused with 429; return its Retry-After."""
    peer = await RawPeer.connect(port)
    await peer.send_raw(upgrade_request())
    head = await peer.read_head()
    await peer.aclose()
    assert head.startswith(b"HTTP/1.1 429 "), head
    return int(head.split(b"\r\nRetry-After: ")[1].split(b"\r\n")[0])


async def _peer_from(port: int, source: str) -> RawPeer:
    """A peer whose TCP connection comes from ``source`` (any 127/8 address on Linux)."""
    sock = trio.socket.socket()
    await sock.bind((source, 0))
    await sock.connect(("127.0.0.1", port))
    peer = RawPeer(trio.SocketStream(sock))
    await peer.send_raw(upgrade_request())
    assert (await peer.read_head()).startswith(b"HTTP/1.1 101")
    return peer


async def test_flood_penalty_doubles_on_repeat_and_ends(tmp_path: Path) -> None:
    config = make_config(tmp_path)
    config = attrs.evolve(
        config,
        service=attrs.evolve(
            config.service, message_rate=5.0, message_burst=5.0, flood_refusals=20,
            flood_penalty=1.0, flood_penalty_max=4.0,
        ),
    )
    async with trio.open_nursery() as nursery:
        server = await start_server(nursery, config)
        waits = []
        for _ in range(2):
            flooder = await RawPeer.open(server.port)
            await flooder.send_message({"type": "hello", "id": 1, "name": "flooder"})
            frames = b""
            for request_id in range(2, 40):
                flooder.connection.send_binary(msgpack.packb(list_rooms(request_id)))
                frames += flooder.connection.data_to_send()
            await flooder.send_raw(frames)
            assert await flooder.close_code() == (1008, "too many messages")
            await flooder.aclose()
            waits.append(await _upgrade_refused(server.port))
            # the penalty ends: the address is welcome again
            with trio.fail_after(10):
                while True:
                    await trio.sleep(0.1)
                    probe = await RawPeer.connect(server.port)
                    await probe.send_raw(upgrade_request())
                    head = await probe.read_head()
                    await probe.aclose()
                    if head.startswith(b"HTTP/1.1 101"):
                        break
                    assert head.startswith(b"HTTP/1.1 429"), head
        assert waits == [1, 2]  # doubled on the repeat
        nursery.cancel_scope.cancel()
