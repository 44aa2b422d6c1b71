"""``gameserver replay``: list, show, verify and export recorded matches.

Every action is described in docs/replays.md ("The gameserver replay command").
``verify`` and ``export`` also read match logs from Redis (cluster mode), given as
``redis://HOST:PORT/DB#MATCH_ID`` (see ``gameserver.cluster.urls``).

Exit codes: 0 success; 1 a log failed verification or could not be read; 2 bad usage
(e.g. ``--move`` or ``--seat`` out of range).
"""

from __future__ import annotations

import argparse
import functools
import json
import logging
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TextIO

import attrs

from gameserver.cluster.errors import ClusterError, ExtraMissing
from gameserver.cluster.replay_source import read_stream_logs
from gameserver.cluster.urls import is_redis_url
from gameserver.replays import framing
from gameserver.replays.codec import encode_header, encode_record
from gameserver.replays.errors import ReplayError
from gameserver.replays.export import export_data
from gameserver.replays.loader import LoadedMatch, iter_matches, load_match, match_paths
from gameserver.replays.records import CLOCK_EVENTS, STATE_EVENTS, Record
from gameserver.replays.render import render_view
from gameserver.replays.simulate import Position, iter_positions, resimulate
from gameserver.replays.summary import format_time, summarize

HELP = "list, show, verify and export recorded matches"

#: The directory ``list`` reads when none is given.
DEFAULT_DIR = "replays"
#: ``verify`` draws a progress bar on a terminal from this many files on.
PROGRESS_FROM = 2


def configure(parser: argparse.ArgumentParser) -> None:
    """Add the ``list`` / ``show`` / ``verify`` / ``export`` subcommands."""
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)

    def action(name: str, summary: str, details: str) -> argparse.ArgumentParser:
        description = f"{summary[0].upper()}{summary[1:]}. {details}"
        return sub.add_parser(name, help=summary, description=description)

    listing = action(
        "list",
        "one line per match: game, players, result, length, date",
        "Newest match first (by start time, then by match id). Unreadable files are "
        "reported on stderr.",
    )
    listing.add_argument(
        "directory", nargs="?", default=DEFAULT_DIR, metavar="DIR",
        help="directory of match logs (default: %(default)s)",
    )  # fmt: skip
    listing.set_defaults(_action=_list)

    show = action(
        "show",
        "draw the board at a move, as a seat or spectator saw it",
        "Prints the move, the board as text and the clock banks as recorded.",
    )
    show.add_argument("file", type=Path, metavar="FILE", help="a match log (.gsr)")
    show.add_argument(
        "--move", type=int, metavar="N", help="state after N moves (default: the final state)"
    )
    show.add_argument("--seat", type=int, metavar="K", help="view as seat K (default: spectator)")
    show.set_defaults(_action=_show)

    verify = action(
        "verify",
        "re-simulate logs and check every state hash",
        "A log damaged before its last record fails; a torn last record or a match "
        "without its end record passes with a note (fails with --strict). Exit status 0 "
        "only if every log passes.",
    )
    verify.add_argument(
        "files", nargs="+", metavar="SOURCE",
        help="match logs (.gsr), directories of them, or redis://HOST:PORT/DB[#MATCH_ID] "
             "(one match log in Redis, or all of them)",
    )  # fmt: skip
    bar = verify.add_mutually_exclusive_group()
    bar.add_argument("--progress", action="store_true", default=None, help="always draw the bar")
    bar.add_argument(
        "--no-progress", dest="progress", action="store_false", help="never draw the bar"
    )
    verify.add_argument(
        "--strict", action="store_true", help="also fail logs with a torn tail or no end record"
    )
    verify.set_defaults(_action=_verify)

    export = action(
        "export",
        "the whole log as JSON on stdout",
        "The layout is described in docs/replays.md.",
    )
    export.add_argument(
        "file", metavar="SOURCE", help="a match log (.gsr) or redis://HOST:PORT/DB#MATCH_ID"
    )
    export.add_argument(
        "--gsr", type=Path, metavar="OUT",
        help="write the log as a new .gsr file OUT instead of JSON on stdout",
    )
    export.add_argument(
        "--json", action="store_true",
        help="accepted for compatibility; JSON is the only format (the default)",
    )  # fmt: skip
    export.add_argument(
        "--views", action="store_true", help="add every position's views (re-simulates)"
    )
    export.set_defaults(_action=_export)


def run(args: argparse.Namespace) -> int:
    """Run the chosen action; return the exit code."""
    # The commands report torn tails and skipped files themselves, in their own words.
    logger = logging.getLogger("gameserver.replays")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        code: int = args._action(args)
    except BrokenPipeError:
        # The reader went away (e.g. ``| head``): stop quietly, as Unix tools do.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
    finally:
        logger.setLevel(level)
    return code


def _error(message: str) -> None:
    print(f"gameserver replay: {message}", file=sys.stderr)


# -- list -------------------------------------------------------------------------------


def _list(args: argparse.Namespace) -> int:
    directory = Path(args.directory)
    if not directory.is_dir():
        _error(f"{directory}: not a directory")
        return 1
    bad: list[str] = []
    summaries = [
        summarize(loaded)
        for loaded in iter_matches(directory, on_error=lambda path, exc: bad.append(str(exc)))
    ]
    summaries.sort(key=lambda s: (s.started_at, s.match_id), reverse=True)
    rows = [("MATCH", "GAME", "PLAYERS", "RESULT", "MOVES", "DATE (UTC)")]
    for s in summaries:
        result = s.result + (" [torn tail]" if s.torn_tail else "")
        players = ", ".join(s.players)
        when = format_time(s.started_at)
        rows.append((s.match_id, s.game, players, result, str(s.moves), when))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip())
    for message in bad:
        _error(f"skipped {message}")
    return 0


# -- show -------------------------------------------------------------------------------


def _describe(record: Record | None) -> str:
    if record is None:
        return "start"
    kind = type(record).__name__
    fields = attrs.asdict(record, recurse=False)
    details = {k: v for k, v in fields.items() if k not in ("at", "version", "clocks")}
    inner = ", ".join(f"{k}={json.dumps(v, default=str)}" for k, v in details.items())
    return f"{kind}({inner})"


def _clocks_at(loaded: LoadedMatch, index: int) -> tuple[int, ...] | None:
    """The clock banks as last recorded at or before ``records[index]`` (None if untimed)."""
    for record in reversed(loaded.records[: index + 1]):
        if isinstance(record, CLOCK_EVENTS) and record.clocks is not None:
            return record.clocks
    initial = loaded.header.clock.initial_ms
    return None if initial is None else (initial,) * len(loaded.header.seats)


def _show(args: argparse.Namespace) -> int:
    try:
        loaded = load_match(args.file)
    except ReplayError as exc:
        _error(str(exc))
        return 1
    players = len(loaded.header.seats)
    if args.seat is not None and not 0 <= args.seat < players:
        _error(f"--seat must be between 0 and {players - 1}")
        return 2
    total = loaded.moves
    target = total if args.move is None else args.move
    if not 0 <= target <= total:
        _error(f"--move must be between 0 and {total}")
        return 2
    chosen: Position | None = None
    try:
        for position in iter_positions(loaded):
            if position.version > target:
                break
            # The first record that reaches the version: the move itself, not later events.
            if position.version == target and chosen is None:
                chosen = position
    except ReplayError as exc:
        _error(f"{args.file}: {exc}")
        return 1
    assert chosen is not None
    summary = summarize(loaded)
    print(f"{summary.match_id}: {summary.game}, {', '.join(summary.players)}")
    print(f"started {format_time(summary.started_at)} UTC; result: {summary.result}")
    print(f"after move {target} of {total}: {_describe(chosen.record)}")
    print(render_view(loaded.header.game, chosen.views[args.seat]))
    clocks = _clocks_at(loaded, chosen.index)
    if clocks is not None:
        print("clocks: " + ", ".join(f"seat {i} {ms / 1000:.1f}s" for i, ms in enumerate(clocks)))
    return 0


# -- verify -----------------------------------------------------------------------------


Loader = Callable[[], LoadedMatch]


def _given(found: LoadedMatch | ReplayError) -> Loader:
    def load() -> LoadedMatch:
        if isinstance(found, ReplayError):
            raise found
        return found

    return load


def _expand(sources: Sequence[str]) -> Iterator[tuple[str, Loader]]:
    """Each log the sources name, as (name, how to load it). Raises ``ClusterError``."""
    for source in sources:
        if is_redis_url(source):
            for label, found in read_stream_logs(source):
                yield label, _given(found)
        elif Path(source).is_dir():
            for path in match_paths(source):
                yield str(path), functools.partial(load_match, path)
        else:
            yield source, functools.partial(load_match, source)


def _source_error(exc: ClusterError | ValueError) -> int:
    """Report a source that could not be read at all; return the exit status: 2 for a
    bad URL or a missing extra (usage), 1 when Redis did not answer."""
    _error(str(exc))
    return 2 if isinstance(exc, (ExtraMissing, ValueError)) else 1


def _progress(stream: TextIO, done: int, total: int, name: str) -> None:
    width = 30
    filled = width * done // total
    bar = "#" * filled + "-" * (width - filled)
    end = "\n" if done == total else ""
    stream.write(f"\r[{bar}] {done}/{total} {name[-40:]:<40}{end}")
    stream.flush()


def _verify_one(name: str, load: Loader, strict: bool) -> tuple[bool, str]:
    try:
        loaded = load()
        sim = resimulate(loaded)
    except ReplayError as exc:
        # Loader messages start with the path, which the FAIL line already names.
        return False, str(exc).removeprefix(f"{name}: ")
    notes = []
    if loaded.torn_tail:
        notes.append(f"ignored {loaded.tail_error}")
    if not loaded.complete:
        notes.append("no end record")
    ok = not (strict and notes)
    moves = sum(isinstance(r, STATE_EVENTS) for r in loaded.records)
    detail = f"{moves} moves, {sim.hashes_checked} hashes checked"
    return ok, detail + "".join(f"; {note}" for note in notes)


def _verify(args: argparse.Namespace) -> int:
    try:
        files = list(_expand(args.files))
    except (ClusterError, ValueError) as exc:
        return _source_error(exc)
    if not files:
        _error("no match logs to verify")
        return 1
    show_bar = args.progress
    if show_bar is None:
        show_bar = len(files) >= PROGRESS_FROM and sys.stderr.isatty()
    failures = 0
    for done, (name, load) in enumerate(files, start=1):
        ok, detail = _verify_one(name, load, args.strict)
        failures += not ok
        if not ok or not show_bar:
            if show_bar:  # clear the bar's line so the failure is not glued to it
                sys.stderr.write("\r" + " " * 80 + "\r")
            print(f"{'OK  ' if ok else 'FAIL'} {name}: {detail}", flush=True)
        if show_bar:
            _progress(sys.stderr, done, len(files), Path(name).name)
    print(f"{len(files) - failures} of {len(files)} logs verified", file=sys.stderr)
    return 0 if failures == 0 else 1


# -- export -----------------------------------------------------------------------------


def _gsr_bytes(loaded: LoadedMatch) -> bytes:
    """The log as a ``.gsr`` file: every whole record, encoded as the recorder does."""
    payloads = [encode_header(loaded.header), *map(encode_record, loaded.records)]
    return framing.MAGIC + b"".join(map(framing.frame, payloads))


def _export(args: argparse.Namespace) -> int:
    load: Loader = functools.partial(load_match, args.file)
    if is_redis_url(args.file):
        if not args.file.partition("#")[2]:
            _error(f"{args.file}: export takes one match log: add #MATCH_ID")
            return 2
        try:
            [(_name, load)] = _expand([args.file])
        except (ClusterError, ValueError) as exc:
            return _source_error(exc)
    try:
        loaded = load()
        if args.gsr is not None:
            with open(args.gsr, "xb") as out:
                out.write(_gsr_bytes(loaded))
            return 0
        data = export_data(loaded, views=args.views)
    except (ReplayError, OSError) as exc:
        _error(str(exc))
        return 1
    json.dump(data, sys.stdout, indent=1, sort_keys=False)
    sys.stdout.write("\n")
    return 0
