"""The layer order of docs/architecture.md, enforced on the source: each package of
``gameserver`` may import only the packages listed for it below (and the standard
library and its runtime dependencies), and the sans-IO cores may not import trio.

The check reads every module's import statements (including those inside functions),
so an import hidden in a function body to dodge a cycle still counts.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "gameserver"

# What each part of gameserver may import of gameserver, bottom layer first. A module
# at the top (app.py, cli.py, startup.py) is its own part, named without ".py".
ALLOWED: dict[str, frozenset[str]] = {
    "ws": frozenset(),
    "games": frozenset(),
    "protocol": frozenset({"games"}),
    "replays": frozenset({"games", "protocol"}),
    "rooms": frozenset({"games", "protocol", "replays"}),
    # Glicko-2, pure arithmetic; player data behind one interface; ratings from match logs.
    "glicko2": frozenset(),
    "store": frozenset({"glicko2", "protocol"}),
    "ratings": frozenset({"glicko2", "store", "games", "replays"}),
    "sessions": frozenset(
        {"ws", "games", "protocol", "replays", "rooms", "glicko2", "store", "ratings"}
    ),
    # Cluster mode: leases, fencing and match logs in Redis (the only Redis client user).
    "cluster": frozenset({"games", "protocol", "replays", "rooms"}),
    "startup": frozenset(),
    "web": frozenset(
        {"ws", "games", "protocol", "replays", "rooms", "sessions", "startup", "glicko2", "store", "ratings"}
    ),
    "client": frozenset({"ws", "games", "protocol"}),
    "app": frozenset(
        {"ws", "protocol", "rooms", "sessions", "startup", "web", "store", "ratings", "cluster"}
    ),
    "commands": frozenset(
        {
            "ws", "games", "protocol", "replays", "rooms", "sessions", "startup", "web",
            "client", "app", "cluster", "glicko2", "store", "ratings",
        }
    ),
    "cli": frozenset({"commands"}),
    "__main__": frozenset({"cli"}),
    "__init__": frozenset(),
}

# Modules that hold a sans-IO core or pure rules: no trio, so they run and test without
# an event loop. Whole packages end with "/".
NO_TRIO = (
    "games/",
    "glicko2.py",
    "protocol/",
    "ws/assembler.py",
    "ws/codes.py",
    "ws/config.py",
    "ws/connection.py",
    "ws/deflate.py",
    "ws/events.py",
    "ws/exceptions.py",
    "ws/extensions.py",
    "ws/frames.py",
    "ws/handshake.py",
    "ws/http.py",
    "ws/keepalive_deadlines.py",
    "ws/mask.py",
    "ws/rawfd.py",
    "ws/utf8.py",
    "rooms/clock.py",
    "rooms/commands.py",
    "rooms/core.py",
    "rooms/effects.py",
    "rooms/fanout.py",
    "rooms/match.py",
    "rooms/members.py",
    "rooms/seat_states.py",
)


def _modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def _part(path: Path) -> str:
    rel = path.relative_to(PACKAGE).parts
    return rel[0] if len(rel) > 1 else rel[0].removesuffix(".py")


def _imports(path: Path, package: Path = PACKAGE) -> set[str]:
    """Absolute module names ``path`` imports (relative imports resolved)."""
    rel = path.relative_to(package).with_suffix("")
    here = ["gameserver", *rel.parts[:-1]]
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = here[: len(here) - node.level + 1]
                names.add(".".join([*base, node.module] if node.module else base))
            elif node.module:
                names.add(node.module)
    return names


def _ours(name: str) -> str | None:
    """The part of gameserver an imported module belongs to, or None if not ours."""
    parts = name.split(".")
    if parts[0] != "gameserver" or len(parts) < 2:
        return None
    return parts[1]


def test_every_part_has_a_rule() -> None:
    parts = {_part(path) for path in _modules()}
    assert parts <= ALLOWED.keys(), f"add a layering rule for {sorted(parts - ALLOWED.keys())}"


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_follow_the_layers(path: Path) -> None:
    part = _part(path)
    allowed = ALLOWED[part] | {part}
    wrong = sorted(
        name for name in _imports(path) if (target := _ours(name)) is not None and target not in allowed
    )
    assert not wrong, f"{part} may import only {sorted(allowed)} of gameserver, not {wrong}"


def _sans_io(path: Path) -> bool:
    rel = path.relative_to(PACKAGE).as_posix()
    return any(rel.startswith(entry) if entry.endswith("/") else rel == entry for entry in NO_TRIO)


@pytest.mark.parametrize(
    "path", [p for p in _modules() if _sans_io(p)], ids=lambda p: str(p.relative_to(PACKAGE))
)
def test_sans_io_modules_import_no_trio(path: Path) -> None:
    trio_imports = sorted(name for name in _imports(path) if name.split(".")[0] == "trio")
    assert not trio_imports, f"{path.name} is sans-IO but imports {trio_imports}"


def test_the_checker_sees_hidden_and_relative_imports(tmp_path: Path) -> None:
    """Guard against a checker that passes everything."""
    module = tmp_path / "ws" / "fake.py"
    module.parent.mkdir()
    module.write_text(
        "def f():\n    from gameserver.rooms import lobby\n\nfrom ..sessions import service\n",
        encoding="utf-8",
    )
    found = {_ours(name) for name in _imports(module, tmp_path)}
    assert found == {"rooms", "sessions"}
    assert not {"rooms", "sessions"} & ALLOWED["ws"]
