"""Match logs in Redis: one stream per match, written only through the fenced append.

The stream ``{prefix}:log:{match_id}`` holds the same msgpack records as a ``.gsr``
file (``replays/codec.py``), one per entry, in field ``r``. Entry ids are positions:
``0-1`` is the header, ``0-N`` the record at position N, so the stream's length is the
position of its last record and a gap or a duplicate cannot hide.

Every write is ``scripts.APPEND``: Redis checks that the room is still owned by the
appending node at its claimed epoch and that the node's lease is alive, then adds the
records, all in one script. Redis runs with ``appendonly yes`` and ``appendfsync always``
(``check_durable`` refuses anything else), so when the append returns the records are
on Redis's disk: only then may the room reply and broadcast.

When Redis does not answer (``RedisUnavailable``) the outcome is unknown: retry the
*same* records at the same position. An append that went through is recognised (the
stream already holds exactly those records there) and answered as done, so a record is
never written twice and never lost.

Usage (a room that owns ``claim``)::

    streams = MatchStreams(api)
    recorder = await streams.create(claim, header)
    await recorder.append(moved)        # Fenced: step down; RedisUnavailable: pause, retry
    ...
    loaded = await streams.load(match_id)            # any node, e.g. a new owner
    recorder = await streams.reopen(new_claim, loaded)
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from gameserver.replays import framing
from gameserver.replays.codec import encode_checked, header_from_data, record_from_data, unpack
from gameserver.replays.errors import CorruptRecord, CorruptReplay, InvalidRecord, RecorderError
from gameserver.replays.loader import LoadedMatch
from gameserver.replays.progress import LogProgress
from gameserver.replays.records import Header, Record

from .errors import ClusterError, LeaseLost, LogConflict, NotDurable, StaleOwner
from .keys import DEFAULT_PREFIX, KeyLayout
from .leases import Claim
from .redis_api import RedisAPI
from .scripts import APPEND

#: Entries read per ``XRANGE`` while loading a log.
READ_PAGE = 1000
#: The stream field that holds a record.
FIELD = b"r"
#: What ``check_durable`` requires, and why: an append is acknowledged only once on disk.
DURABLE_CONFIG = {"appendonly": "yes", "appendfsync": "always"}


async def check_durable(api: RedisAPI) -> None:
    """Raise ``NotDurable`` unless Redis syncs every write before it replies."""
    values = await api.config(list(DURABLE_CONFIG))
    wrong = [
        f"{name} is {values.get(name, 'unknown')!r}"
        for name, wanted in DURABLE_CONFIG.items()
        if values.get(name) != wanted
    ]
    if wrong:
        raise NotDurable(
            f"Redis could lose acknowledged moves: {', '.join(wrong)}; "
            "run it with appendonly yes and appendfsync always"
        )


def _entry_id(position: int) -> str:
    return f"0-{position}"


def _position(entry_id: str) -> int:
    return int(entry_id.partition("-")[2])


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


class MatchStreams:
    """Every match log in one Redis: fenced appends, loading, listing."""

    def __init__(self, api: RedisAPI, *, prefix: str = DEFAULT_PREFIX) -> None:
        self.api = api
        self.keys = KeyLayout(prefix)

    async def append(
        self, claim: Claim, match_id: str, position: int, payloads: Sequence[bytes]
    ) -> int:
        """Add ``payloads`` at ``position``, ``position + 1``, ... if ``claim`` still owns
        its room; return the stream's length (the position of its last record).

        Raises ``StaleOwner`` or ``LeaseLost`` (both ``Fenced``: nothing was written),
        ``LogConflict`` if the stream does not end at ``position - 1`` (nor holds exactly
        these payloads there: a retry), ``RedisUnavailable`` (unknown: retry the same).
        """
        keys = [
            self.keys.room(claim.room_id),
            self.keys.node(claim.node_id),
            self.keys.log(match_id),
        ]
        args: list[str | bytes | int] = [claim.node_id, str(claim.epoch), str(position)]
        args.extend(payloads)
        reply = await self.api.run_script(APPEND, keys, args)
        status = _text(reply[0])
        if status == "ok":
            return int(reply[1])
        if status == "stale":
            raise StaleOwner(claim.room_id, _text(reply[1]), int(reply[2]), claim.epoch)
        if status == "lost":
            raise LeaseLost(claim.node_id)
        if status == "conflict":
            raise LogConflict(match_id, position, int(reply[1]))
        raise ClusterError(f"unexpected reply to append: {reply!r}")

    async def create(self, claim: Claim, header: Header) -> StreamRecorder:
        """Start the log of ``header.match_id`` with its header; then append records.

        Raises ``InvalidRecord`` for a header that would not load back, ``LogConflict``
        if the match already has a different log, and what ``append`` raises.
        """
        await self.append(claim, header.match_id, 1, [_payload(header)])
        return StreamRecorder(self, claim, header.match_id, next_position=2)

    async def reopen(self, claim: Claim, loaded: LoadedMatch) -> StreamRecorder:
        """Continue a log read with ``load`` (e.g. after claiming the room of a dead
        node). Raises ``RecorderError`` if the match has already ended."""
        if loaded.complete:
            raise RecorderError(f"match {loaded.header.match_id}: the match has already ended")
        recorder = StreamRecorder(
            self, claim, loaded.header.match_id, next_position=len(loaded.records) + 2
        )
        recorder.progress = LogProgress().after(loaded.records)
        return recorder

    async def payloads(self, match_id: str) -> list[bytes]:
        """Every record of the log as stored, header first; raise ``CorruptReplay`` if
        the match has no log or an entry is not a record at its position."""
        key = self.keys.log(match_id)
        found: list[bytes] = []
        while True:
            entries = await self.api.stream_range(key, _entry_id(len(found) + 1), READ_PAGE)
            for entry in entries:
                if _position(entry.id) != len(found) + 1 or FIELD not in entry.fields:
                    raise CorruptReplay(f"{key}: entry {entry.id} is not record {len(found) + 1}")
                found.append(entry.fields[FIELD])
            if len(entries) < READ_PAGE:
                break
        if not found:
            raise CorruptReplay(f"{key}: no such match log")
        return found

    async def load(self, match_id: str) -> LoadedMatch:
        """The log as ``load_match`` reads a file (``path`` is None, no torn tail ever:
        Redis adds whole entries). Raises ``CorruptReplay`` like ``load_match``."""
        return parse_payloads(self.keys.log(match_id), await self.payloads(match_id))

    async def match_ids(self) -> list[str]:
        """The ids of every match log in this Redis, sorted."""
        found = await self.api.scan(self.keys.log_pattern)
        return sorted(self.keys.match_id_of(key) for key in found)


def _payload(item: Header | Record) -> bytes:
    payload = encode_checked(item)
    if len(payload) > framing.MAX_PAYLOAD:
        # A stream must always export to a valid .gsr file, whose frames are bounded.
        raise InvalidRecord(f"{type(item).__name__} of {len(payload)} bytes is too large")
    return payload


def parse_payloads(where: str, payloads: Sequence[bytes]) -> LoadedMatch:
    """A ``LoadedMatch`` of a stream's payloads (header first); ``CorruptReplay`` if one
    is not a valid record. ``valid_bytes`` is the size of the log as a ``.gsr`` file."""
    try:
        header = header_from_data(unpack(payloads[0]))
    except CorruptRecord as exc:
        raise CorruptReplay(f"{where}: malformed header: {exc}") from None
    records: list[Record] = []
    for position, payload in enumerate(payloads[1:], start=2):
        try:
            records.append(record_from_data(unpack(payload), header.format_version))
        except CorruptRecord as exc:
            raise CorruptReplay(
                f"{where}: entry 0-{position} is not a valid record: {exc}"
            ) from None
    size = len(framing.MAGIC) + sum(framing.FRAME_HEAD.size + len(p) for p in payloads)
    return LoadedMatch(
        path=None, header=header, records=tuple(records), valid_bytes=size, torn_tail=False
    )


class StreamRecorder:
    """Appends one match's records through the fenced append, like ``AsyncMatchRecorder``.

    Calls must not overlap (a room awaits each append before it broadcasts).
    """

    def __init__(
        self, streams: MatchStreams, claim: Claim, match_id: str, *, next_position: int
    ) -> None:
        """Internal: use ``MatchStreams.create`` or ``reopen``."""
        self.streams = streams
        self.claim = claim
        self.match_id = match_id
        #: Where the next record goes (the header is at 1).
        self.next_position = next_position
        self.progress = LogProgress()
        """Hash schedule and end of the log so far (``replays.progress``)."""

    @property
    def hash_due(self) -> bool:
        """True once ``HASH_EVERY`` state changes were appended since the last hash."""
        return self.progress.hash_due

    def hash_due_after(self, records: Iterable[Record]) -> bool:
        """Whether ``hash_due`` will be true once ``records`` are appended."""
        return self.progress.after(records).hash_due

    async def append(self, record: Record) -> None:
        """Append one record durably. See ``append_many``."""
        await self.append_many((record,))

    async def append_many(self, records: Iterable[Record]) -> None:
        """Append records in order, all or none, durably; then reply and broadcast.

        Raises ``InvalidRecord`` (nothing sent), ``RecorderError`` after the end record,
        ``Fenced`` (step down from the room), ``RedisUnavailable`` (pause; call again
        with the same records), ``LogConflict`` (a bug).
        """
        batch = tuple(records)
        if self.progress.ended:
            raise RecorderError(f"match {self.match_id}: the match has already ended")
        payloads = [_payload(record) for record in batch]
        await self.streams.append(self.claim, self.match_id, self.next_position, payloads)
        self.next_position += len(batch)
        self.progress = self.progress.after(batch)

    async def aclose(self) -> None:
        """Nothing to release (the connection belongs to ``MatchStreams``); for parity
        with ``AsyncMatchRecorder``."""
