"""The README's set-up commands are the ones CI and users actually run."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _readme_commands() -> list[str]:
    lines = (ROOT / "README.md").read_text().splitlines()
    return [line.strip() for line in lines if line.startswith("    ")][:2]


def test_ci_runs_exactly_the_readme_test_command() -> None:
    serve, test = _readme_commands()
    assert "gameserver serve" in serve
    ci_script = (ROOT / ".ci" / "run").read_text().splitlines()
    assert ci_script[-1].strip() == test


def test_cli_lists_its_commands() -> None:
    from gameserver.cli import build_parser

    help_text = build_parser().format_help()
    assert "COMMAND" in help_text
