"""Per-connection rate limits, keepalive against dead peers, and clients that never read."""

from __future__ import annotations

import gc
from pathlib import Path

import attrs
import msgpack
import trio

from gameserver.protocol.messages import Chat, EmptyResult
from gameserver.ws.codes import Opcode
from gameserver.ws.events import Ping

from .conftest import (
    RawPeer,
    make_config,
    masked_frame,
    metric,
    pair_in_room,
    rss_bytes,
    start_server,
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
