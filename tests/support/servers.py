"""Real game servers for tests: in-process under a cancel scope, or ``gameserver serve``
as a subprocess that can be killed with SIGKILL and started again on the same port.

In-process::

    server = await start_server(nursery, config)      # RunningServer: port, url
    server.cancel_scope.cancel()                      # a clean shutdown (1001 to clients)
    again = await start_server(nursery, attrs.evolve(config, port=server.port))

A subprocess (always ``async with``: the process never outlives the test)::

    async with ServeProcess(tmp_path) as serve:       # files under tmp_path
        ...  serve.port, serve.url
        await serve.kill_9()                          # a crash: nothing is flushed
        await serve.start(serve.port)                 # the restart, same port and files
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from types import TracebackType

import attrs
import trio

from gameserver.app import ServerConfig, run_server

# Only a hang guard: a server that starts takes well under a second.
START_SECONDS = 20
# How long ``stop`` waits for a clean exit after SIGTERM before it kills.
STOP_SECONDS = 10


@attrs.define
class RunningServer:
    """A server running in the test's process (``start_server``)."""

    port: int
    config: ServerConfig
    cancel_scope: trio.CancelScope
    """Cancel it to shut the server down (every connection closes with 1001)."""

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws"


async def start_server(nursery: trio.Nursery, config: ServerConfig) -> RunningServer:
    """Start ``run_server`` in ``nursery`` under its own cancel scope; return once it
    listens."""
    scope = trio.CancelScope()

    async def run(task_status: trio.TaskStatus[int] = trio.TASK_STATUS_IGNORED) -> None:
        with scope:
            await run_server(config, task_status=task_status)

    port = await nursery.start(run)
    return RunningServer(port, config, scope)


class ServeProcess:
    """``gameserver serve`` as a real subprocess, with its replays and data directories
    under ``directory`` and bots that move at once."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.process: trio.Process | None = None
        self.port = 0
        """The port it listens on (known once started; kept across restarts)."""

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws"

    @property
    def returncode(self) -> int | None:
        """The exit status of the last process started, None while it runs."""
        return None if self.process is None else self.process.returncode

    async def start(self, port: int = 0) -> None:
        """Start the server on ``port`` (0: a free one) and return once it listens."""
        directory = self.directory
        process = await trio.lowlevel.open_process(
            [
                sys.executable, "-m", "gameserver", "serve", "--port", str(port),
                "--replays", str(directory / "replays"), "--data-dir", str(directory / "data"),
                "--static", str(directory), "--bot-delay", "0", "--log-level", "WARNING",
            ],
            stdout=subprocess.PIPE,
        )
        self.process = process
        assert process.stdout is not None
        output = b""
        with trio.fail_after(START_SECONDS):
            while b"listening on" not in output:
                chunk = await process.stdout.receive_some(4096)
                assert chunk, "the server exited before listening"
                output += chunk
        address = output.decode().split("listening on ", 1)[1].split()[0]
        self.port = int(address.rstrip("/").rsplit(":", 1)[1])

    async def kill_9(self) -> None:
        """SIGKILL the server (a crash: nothing is flushed or closed) and reap it."""
        process = self.process
        assert process is not None and process.returncode is None, "not running"
        os.kill(process.pid, signal.SIGKILL)
        await process.wait()

    async def stop(self) -> int | None:
        """SIGTERM (a clean shutdown), then SIGKILL if it is still running after
        ``STOP_SECONDS``; return the exit status."""
        process = self.process
        if process is not None and process.returncode is None:
            process.send_signal(signal.SIGTERM)
            with trio.move_on_after(STOP_SECONDS):
                await process.wait()
        await self.aclose()
        return self.returncode

    async def aclose(self) -> None:
        """Kill the server if it still runs, and reap it."""
        process = self.process
        if process is not None and process.returncode is None:
            process.kill()
            with trio.CancelScope(shield=True):
                await process.wait()

    async def __aenter__(self) -> ServeProcess:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()


__all__ = ["RunningServer", "ServeProcess", "start_server"]
