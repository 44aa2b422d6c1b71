"""``gameserver serve --workers N``: N cluster nodes on one machine behind one port.

The parent process binds nothing and serves nothing. It picks the port (a free one
for ``--port 0``), starts N workers, each the same ``serve`` command line with
``--workers 1 --port P --node-id BASE-wI --reuse-port`` added (later flags win), waits
until every worker listens, prints the one ``gameserver listening on ...`` line, then
forwards SIGINT/SIGTERM to the workers and waits for them.

A worker that exits on its own stops the group: the parent stops the other workers
and exits with status 1, so the service manager restarts the whole group. Node ids
are stable across restarts, so the restarted workers take their rooms back at once.
"""

from __future__ import annotations

import argparse
import contextlib
import signal
import socket
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator, Sequence

import attrs
import trio

from gameserver.cluster.keys import check_node_id
from gameserver.commands.flags import FlagError

#: How long a stopping worker may take before it is killed (it closes its rooms first).
STOP_TIMEOUT = 30.0


class WorkerFailed(Exception):
    """A worker exited without being asked to; the message says which and how."""


@attrs.frozen
class WorkerPlan:
    """What the parent needs to start its workers."""

    argv: tuple[str, ...]
    """The ``serve`` command line as given (starting with ``serve``)."""
    host: str
    port: int
    """0: pick a free port before the workers start."""
    node_ids: tuple[str, ...]
    """One per worker."""
    scheme: str
    """``http`` or ``https``, for the listening line."""

    def command(self, index: int, port: int) -> list[str]:
        """The command line of worker ``index`` listening on ``port``."""
        return [
            sys.executable, "-m", "gameserver", *self.argv, "--workers", "1",
            "--port", str(port), "--node-id", self.node_ids[index], "--reuse-port",
        ]  # fmt: skip


def plan_workers(args: argparse.Namespace, argv: Sequence[str], base_id: str) -> WorkerPlan:
    """The plan for ``args.workers`` workers named ``BASE-w0``, ``BASE-w1``, ...;
    raise ``FlagError`` if those ids are too long."""
    node_ids = tuple(f"{base_id}-w{index}" for index in range(args.workers))
    try:
        check_node_id(node_ids[-1])
    except ValueError as exc:
        raise FlagError("--node-id", f"with --workers, each worker adds -wN: {exc}") from None
    return WorkerPlan(
        argv=tuple(argv),
        host=args.host,
        port=args.port,
        node_ids=node_ids,
        scheme="https" if args.certfile is not None else "http",
    )


def run_workers(plan: WorkerPlan) -> int:
    """Run the workers until SIGINT/SIGTERM (exit 0 if each stopped cleanly) or until
    one fails (one line on stderr, exit 1)."""
    try:
        return trio.run(_supervise, plan)
    except WorkerFailed as exc:
        print(f"gameserver: {exc}", file=sys.stderr)
        return 1


@contextlib.contextmanager
def _shared_port(host: str, port: int) -> Iterator[int]:
    """The port the workers share: ``port``, or for 0 a free one held (bound with
    ``SO_REUSEPORT``, never listening) until the block ends, so no one else takes it."""
    if port != 0:
        yield port
        return
    family, kind, proto, _, sockaddr = socket.getaddrinfo(
        host, 0, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
    )[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        probe.bind(sockaddr)
        yield int(probe.getsockname()[1])


async def _supervise(plan: WorkerPlan) -> int:
    with trio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
        workers: list[trio.Process] = []
        try:
            with _shared_port(plan.host, plan.port) as port:
                for index in range(len(plan.node_ids)):
                    workers.append(await _start(plan, index, port))
            print(f"gameserver listening on {plan.scheme}://{plan.host}:{port}/", flush=True)
            return await _watch(plan, workers, signals)
        finally:
            with trio.CancelScope(shield=True):
                await _stop(workers)


async def _start(plan: WorkerPlan, index: int, port: int) -> trio.Process:
    """Start worker ``index`` and return it once it listens; raise ``WorkerFailed`` if it
    exits first. Its stderr is the parent's; its own session keeps a terminal's Ctrl-C
    from reaching it twice (the parent forwards it)."""
    process = await trio.lowlevel.open_process(
        plan.command(index, port), stdout=subprocess.PIPE, start_new_session=True
    )
    assert process.stdout is not None
    output = b""
    while b"listening on" not in output:
        chunk = await process.stdout.receive_some(4096)
        if not chunk:
            status = await process.wait()
            raise WorkerFailed(
                f"worker {index} (node {plan.node_ids[index]}) exited with status "
                f"{status} before listening"
            )
        output += chunk
    return process


async def _watch(
    plan: WorkerPlan, workers: list[trio.Process], signals: AsyncIterator[int]
) -> int:
    """Wait until every worker exited after a forwarded signal (0 if all exited 0,
    else 1), or raise ``WorkerFailed`` as soon as one exits unasked."""
    stopping = False

    async def wait_for(index: int) -> None:
        status = await workers[index].wait()
        if not stopping:
            raise WorkerFailed(
                f"worker {index} (node {plan.node_ids[index]}) exited with status "
                f"{status}; stopping the other workers"
            )

    async def forward() -> None:
        nonlocal stopping
        async for signum in signals:
            stopping = True
            for worker in workers:
                if worker.returncode is None:
                    worker.send_signal(signum)

    try:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(forward)
            async with trio.open_nursery() as waiting:
                for index, worker in enumerate(workers):
                    waiting.start_soon(wait_for, index)
                    waiting.start_soon(_drain, worker)
            nursery.cancel_scope.cancel()
    except BaseExceptionGroup as group:
        failed = group.subgroup(WorkerFailed)
        if failed is None:
            raise
        raise _first(failed) from None
    return 0 if all(worker.returncode == 0 for worker in workers) else 1


def _first(group: BaseExceptionGroup[WorkerFailed]) -> WorkerFailed:
    inner = group.exceptions[0]
    return inner if isinstance(inner, WorkerFailed) else _first(inner)


async def _drain(worker: trio.Process) -> None:
    """Read and drop what a worker writes on stdout after its listening line, so it
    never blocks on a full pipe."""
    assert worker.stdout is not None
    while await worker.stdout.receive_some(4096):
        pass


async def _stop(workers: list[trio.Process]) -> None:
    """SIGTERM every worker still running and wait (killing any that hangs)."""
    for worker in workers:
        if worker.returncode is None:
            worker.terminate()
    for worker in workers:
        with trio.move_on_after(STOP_TIMEOUT):
            await worker.wait()
        if worker.returncode is None:
            worker.kill()
            await worker.wait()
