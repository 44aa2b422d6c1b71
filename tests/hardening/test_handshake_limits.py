"""Handshake limits on the game server: head size, header count, time (slow-loris)."""

from __future__ import annotations

from pathlib import Path

import trio

from .conftest import RawPeer, make_config, pair_in_room, start_server, upgrade_request, with_ws


async def test_oversized_head_gets_431_and_others_play_on(tmp_path: Path) -> None:
    config = with_ws(make_config(tmp_path), max_header_bytes=2048)
    async with trio.open_nursery() as nursery:
        server = await start_server(nursery, config)
        pair = await pair_in_room(server, nursery)
        peer = await RawPeer.connect(server.port)
        await peer.send_raw(upgrade_request(extra="X-Filler: " + "a" * 3000 + "\r\n"))
        status, body = await peer.read_http()
        assert status == 431 and b"larger than 2048 bytes" in body, body
        assert await pair.play(2) == 2
        nursery.cancel_scope.cancel()


async def test_too_many_header_fields_get_431(tmp_path: Path) -> None:
    config = with_ws(make_config(tmp_path), max_headers=20)
    async with trio.open_nursery() as nursery:
        server = await start_server(nursery, config)
        pair = await pair_in_room(server, nursery)
        fields = "".join(f"X-F{i}: {i}\r\n" for i in range(30))
        peer = await RawPeer.connect(server.port)
        await peer.send_raw(upgrade_request(extra=fields))
        status, body = await peer.read_http()
        assert status == 431 and b"header" in body.lower(), body
        # exactly at the limit still upgrades
        fine = await RawPeer.connect(server.port)
        allowed = 20 - 7  # the upgrade request itself has 7 fields
        await fine.send_raw(upgrade_request(extra="".join(f"X-F{i}: {i}\r\n" for i in range(allowed))))
        assert (await fine.read_head()).startswith(b"HTTP/1.1 101")
        assert await pair.play(2) == 2
        nursery.cancel_scope.cancel()


async def test_slow_loris_is_cut_off_at_the_handshake_timeout(tmp_path: Path) -> None:
    config = with_ws(make_config(tmp_path), handshake_timeout=1.0)
    async with trio.open_nursery() as nursery:
        server = await start_server(nursery, config)
        pair = await pair_in_room(server, nursery)
        # Twenty connections each trickle one byte every 100 ms: never a complete head.
        request = upgrade_request()
        statuses: list[int] = []

        async def loris() -> None:
            peer = await RawPeer.connect(server.port)
            try:
                for byte in request[:-4]:
                    await peer.send_raw(bytes([byte]))
                    await trio.sleep(0.1)
            except (trio.BrokenResourceError, trio.ClosedResourceError):
                pass
            statuses.append((await peer.read_http(timeout=5))[0])

        started = trio.current_time()
        async with trio.open_nursery() as lorises:
            for _ in range(20):
                lorises.start_soon(loris)
            await trio.sleep(0.3)
            assert await pair.play(4) == 4  # the room plays while they trickle
        assert statuses == [408] * 20
        assert trio.current_time() - started < 5
        nursery.cancel_scope.cancel()


async def test_client_vanishing_mid_handshake_frees_its_slot(tmp_path: Path) -> None:
    config = with_ws(make_config(tmp_path), max_connections_per_ip=3)
    async with trio.open_nursery() as nursery:
        server = await start_server(nursery, config)
        for _ in range(10):
            peer = await RawPeer.connect(server.port)
            await peer.send_raw(upgrade_request()[:40])
            await peer.aclose()
        await trio.sleep(0.2)
        # every half-finished handshake released its slot: three fresh players fit
        pair = await pair_in_room(server, nursery)
        third = await RawPeer.open(server.port)
        await third.send_message({"type": "hello", "id": 1, "name": "third"})
        assert (await third.next_message())["type"] == "reply"
        assert await pair.play(2) == 2
        nursery.cancel_scope.cancel()
