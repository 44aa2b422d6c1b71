"""The whole log as plain JSON-ready data, for ``gameserver replay export --json``."""

from __future__ import annotations

from typing import Any

from .codec import header_to_data, record_to_data
from .loader import LoadedMatch
from .simulate import iter_positions


def jsonable(value: Any) -> Any:
    """``value`` with bytes as hex and map keys as strings, so ``json.dumps`` accepts it."""
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, dict):
        return {str(key): jsonable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(item) for item in value]
    return value


def export_data(loaded: LoadedMatch, *, views: bool = False) -> dict[str, Any]:
    """``{"header", "records", "complete", "torn_tail", "tail_error"}``, records with ``"t"``.

    With ``views`` the log is re-simulated and ``"positions"`` lists, for the setup and
    after every record, ``{"index", "version", "views": {"spectator", "0", "1", ...}}``;
    this raises ``ReplayMismatch`` if the log does not re-simulate.

    The header's ``"v"`` is the version the file was written with; the records are
    shown as this version reads them (upgraded: every field of the current format).
    """
    data: dict[str, Any] = {
        "header": header_to_data(loaded.header) | {"v": loaded.header.format_version},
        "records": [record_to_data(record) for record in loaded.records],
        "complete": loaded.complete,
        "torn_tail": loaded.torn_tail,
        "tail_error": loaded.tail_error,
    }
    if views:
        data["positions"] = [
            {
                "index": position.index,
                "version": position.version,
                "views": {
                    ("spectator" if seat is None else str(seat)): view
                    for seat, view in position.views.items()
                },
            }
            for position in iter_positions(loaded)
        ]
    result: dict[str, Any] = jsonable(data)
    return result
