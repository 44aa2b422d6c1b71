"""``gameserver echo`` as a real subprocess: it listens, echoes by type, stops on SIGINT."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import trio

from gameserver.ws.client import open_websocket
from gameserver.ws.exceptions import ConnectionClosed

ROOT = Path(__file__).resolve().parents[2]


async def test_echo_command_echoes_and_stops_cleanly() -> None:
    process = await trio.lowlevel.open_process(
        [sys.executable, "-m", "gameserver", "echo", "--port", "0", "--max-message-size", "1000"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        assert process.stdout is not None and process.stderr is not None
        with trio.fail_after(20):
            line = b""
            while not line.endswith(b"\n"):
                line += await process.stdout.receive_some(1)
        match = re.search(rb"ws://127\.0\.0\.1:(\d+)/", line)
        assert match, line
        url = f"ws://127.0.0.1:{int(match.group(1))}/"

        async with open_websocket(url) as ws:
            assert ws.response is not None  # compression is accepted by default
            assert "permessage-deflate" in (ws.response.get("Sec-WebSocket-Extensions") or "")
            for message in ["text", b"\x00binary", "", b""]:
                await ws.send(message)
                echoed = await ws.receive()
                assert echoed == message and type(echoed) is type(message)
            # The handler reads its connection itself (inline): pings are answered
            # while it waits for the next message.
            with trio.fail_after(10):
                await ws.ping(b"still there?")
            await ws.send(b"x" * 1001)  # over --max-message-size
            with pytest.raises(ConnectionClosed) as info:
                await ws.receive()
            assert info.value.code == 1009

        async with open_websocket(url) as ws:
            process.send_signal(signal.SIGINT)
            with pytest.raises(ConnectionClosed) as info:
                await ws.receive()
            assert info.value.code == 1001  # going away
        with trio.fail_after(10):
            assert await process.wait() == 0
        stderr = await process.stderr.receive_some()
        assert b"Traceback" not in stderr and b"stopped" in stderr
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
