"""Server counters and gauges, rendered in the Prometheus text exposition format (0.0.4)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

# The content type Prometheus scrapers expect for the text format.
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


class Metrics:
    """Counters updated by the server; ``render()`` produces the ``/metrics`` body.

    Gauges that the server can compute on demand (open connections, open rooms) are
    registered as callables with ``gauge(...)`` and read at render time.
    """

    def __init__(self) -> None:
        self.connections_total = 0
        self.messages_in = 0
        self.messages_out = 0
        self.bytes_out = 0
        self.matches_started: Counter[str] = Counter()
        self.matches_finished: Counter[str] = Counter()
        self.errors: Counter[str] = Counter()
        self.outbox_overflows = 0
        self.coalesced = 0
        #: Appends and log creations the disk refused (each failed attempt, retries too).
        self.storage_failures = 0
        #: The last such refusal, for ``/healthz`` (the file and the system's reason).
        self.storage_error: str | None = None
        #: Rooms paused because their match log cannot be written now.
        self.storage_paused: set[str] = set()
        self._gauges: dict[str, tuple[str, Callable[[], float]]] = {}

    def gauge(self, name: str, help_text: str, read: Callable[[], float]) -> None:
        """Register a gauge whose value ``read()`` returns at render time."""
        self._gauges[name] = (help_text, read)

    def error(self, code: str) -> None:
        """Count one error message sent with ``code``."""
        self.errors[code] += 1

    def match_started(self, game: str) -> None:
        """Count one match of ``game`` started."""
        self.matches_started[game] += 1

    def match_finished(self, game: str) -> None:
        """Count one match of ``game`` ended (by its rules or aborted)."""
        self.matches_finished[game] += 1

    def storage_failed(self, room_id: str, error: str) -> None:
        """Count one refused write of ``room_id``'s log; the room is paused."""
        self.storage_failures += 1
        self.storage_error = error
        self.storage_paused.add(room_id)

    def storage_ok(self, room_id: str) -> None:
        """``room_id`` writes its log again (or is gone): no longer paused."""
        self.storage_paused.discard(room_id)

    @property
    def storage_failing(self) -> bool:
        """True while any room is paused because its match log cannot be written."""
        return bool(self.storage_paused)

    def render(self) -> str:
        """Return every metric in the Prometheus text format."""
        lines: list[str] = []

        def scalar(name: str, kind: str, help_text: str, value: float) -> None:
            lines.append(f"# HELP {name} {help_text}")
            lines.append(f"# TYPE {name} {kind}")
            lines.append(f"{name} {value:g}")

        def labelled(name: str, help_text: str, label: str, values: Counter[str]) -> None:
            lines.append(f"# HELP {name} {help_text}")
            lines.append(f"# TYPE {name} counter")
            for key in sorted(values):
                lines.append(f'{name}{{{label}="{_escape(key)}"}} {values[key]}')

        for name, (help_text, read) in sorted(self._gauges.items()):
            scalar(name, "gauge", help_text, read())
        scalar(
            "gameserver_connections_total", "counter",
            "WebSocket connections accepted since start.", self.connections_total,
        )
        scalar(
            "gameserver_messages_in_total", "counter",
            "Protocol messages received from clients.", self.messages_in,
        )
        scalar(
            "gameserver_messages_out_total", "counter",
            "Protocol messages written to clients.", self.messages_out,
        )
        scalar(
            "gameserver_bytes_out_total", "counter",
            "Payload bytes written to clients.", self.bytes_out,
        )
        scalar(
            "gameserver_outbox_overflows_total", "counter",
            "Connections closed because the client read too slowly.", self.outbox_overflows,
        )
        scalar(
            "gameserver_storage_failing", "gauge",
            "1 while any room is paused because its match log cannot be written, else 0.",
            int(self.storage_failing),
        )
        scalar(
            "gameserver_rooms_paused_storage", "gauge",
            "Rooms paused because their match log cannot be written.", len(self.storage_paused),
        )
        scalar(
            "gameserver_storage_failures_total", "counter",
            "Match log appends and creations the disk refused (retries included).",
            self.storage_failures,
        )
        labelled(
            "gameserver_matches_started_total", "Matches started, by game.", "game",
            self.matches_started,
        )
        labelled(
            "gameserver_matches_finished_total", "Matches finished, by game.", "game",
            self.matches_finished,
        )
        labelled("gameserver_errors_total", "Error messages sent, by code.", "code", self.errors)
        return "\n".join(lines) + "\n"
