"""The README's set-up commands are the ones CI and users actually run, and they work as
written on a fresh Debian 12 machine, whose own python3 refuses system-wide pip installs."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# A fresh Debian machine's PATH: the distribution's python3 (PEP 668 externally managed)
# is the python3 the commands find, not whichever interpreter runs the tests.
SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def _readme() -> str:
    return (ROOT / "README.md").read_text()


def _readme_commands() -> list[str]:
    lines = _readme().splitlines()
    return [line.strip() for line in lines if line.startswith("    ")][:2]


def _section(title: str) -> str:
    text = _readme()
    start = text.index(f"\n## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else None]


def test_ci_runs_exactly_the_readme_test_command() -> None:
    serve, test = _readme_commands()
    assert "gameserver serve" in serve
    ci_script = (ROOT / ".ci" / "run").read_text().splitlines()
    assert ci_script[-1].strip() == test


def test_both_commands_install_into_a_virtual_environment() -> None:
    for command in _readme_commands():
        assert "python3 -m venv .venv" in command, command
        assert re.search(r"apt-get install -y -q [\w -]*python3-venv", command), command
        # Nothing is installed into the system's python3 (PEP 668 refuses it).
        assert "python3 -m pip" not in command and " pip install" not in command, command
        assert ".venv/bin/pip install -q -e " in command, command
    serve, test = _readme_commands()
    assert serve.endswith("&& .venv/bin/gameserver serve")
    assert test.endswith("&& .venv/bin/python -m pytest")  # every test: nothing deselected
    assert "chromium" in test and "redis-server" in test


def test_the_readme_says_serve_keeps_the_terminal() -> None:
    intro = _readme()[: _readme().index("\n## ")]
    assert "keeps the terminal" in intro and "foreground until Ctrl-C" in intro


def test_try_it_runs_the_commands_of_the_virtual_environment() -> None:
    commands = [
        line.strip() for line in _section("Try it").splitlines() if line.startswith("    ")
    ]
    assert commands
    for command in commands:
        assert command.startswith(".venv/bin/gameserver "), command


def test_cli_lists_its_commands() -> None:
    from gameserver.cli import build_parser

    help_text = build_parser().format_help()
    assert "COMMAND" in help_text


def _fresh_checkout(where: Path) -> Path:
    """The checkout's files (as in the working tree) in a new git repository."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT, capture_output=True, check=True,
    )  # fmt: skip
    for name in filter(None, listed.stdout.decode().split("\0")):
        source = ROOT / name
        if source.is_file():
            target = where / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(source.read_bytes())
            target.chmod(source.stat().st_mode)
    identity = ["-c", "user.name=test", "-c", "user.email=test@example.invalid"]
    for step in (["init", "-q"], ["add", "-A"], [*identity, "commit", "-q", "-m", "fresh"]):
        subprocess.run(["git", *step], cwd=where, check=True, capture_output=True)
    return where


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_the_readme_serve_command_works_on_a_fresh_checkout(tmp_path: Path) -> None:
    checkout = _fresh_checkout(tmp_path / "checkout")
    serve, _test = _readme_commands()
    environment = {
        key: value for key, value in os.environ.items()
        if key not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")
    } | {"PATH": SYSTEM_PATH}  # fmt: skip
    log = tmp_path / "stderr.txt"
    with log.open("w") as stderr:
        # As written, but on a free port: the command ends with `gameserver serve`.
        shell = subprocess.Popen(
            ["bash", "-c", f"{serve} --port 0"], cwd=checkout, env=environment,
            stdout=subprocess.PIPE, stderr=stderr, text=True, start_new_session=True,
        )  # fmt: skip
        try:
            assert shell.stdout is not None
            base = None
            for line in shell.stdout:
                if match := re.fullmatch(r"gameserver listening on (http://[\d.]+:\d+)/\n", line):
                    base = match.group(1)
                    break
            assert base is not None, log.read_text()
            with urllib.request.urlopen(base + "/", timeout=30) as response:
                assert response.status == 200
                assert b'<script type="module"' in response.read()
        finally:
            # Ctrl-C in the terminal: the whole foreground process group gets SIGINT.
            os.killpg(shell.pid, signal.SIGINT)
            assert shell.wait(timeout=60) == 0, log.read_text()
    # Nothing the user ran changed or added a file git would show.
    status = subprocess.run(
        ["git", "status", "--porcelain"], cwd=checkout, capture_output=True, text=True, check=True
    )
    assert status.stdout == ""


def _make_stubs(folder: Path, *, venv_works: bool, chromium: bool, redis: bool) -> dict[str, str]:
    """A PATH of stand-ins: ``apt-get`` logs its arguments and "installs" python3-venv;
    ``python3`` is the system's, except that until then ``-m venv`` fails the way Debian's
    does without python3-venv (the folder is made, pip is not, exit status 1)."""
    real_python = shutil.which("python3", path=SYSTEM_PATH)
    assert real_python is not None
    folder.mkdir()
    installed = folder / "venv-installed"
    if venv_works:
        installed.touch()
    scripts = {
        "apt-get": f'echo "$*" >> {folder}/apt-get.log\n: > {installed}\n',
        "python3": (
            f'if [ "$1 $2" = "-m venv" ] && [ ! -e {installed} ]; then\n'
            f'  {real_python} -m venv --without-pip "$3"\n'
            '  echo "The virtual environment was not created successfully because ensurepip'
            ' is not available." >&2\n'
            "  exit 1\n"
            "fi\n"
            f'exec {real_python} "$@"\n'
        ),
    }
    if chromium:
        scripts["chromium"] = "exit 0\n"
    if redis:
        scripts["redis-server"] = "exit 0\n"
    for name, body in scripts.items():
        (folder / name).write_text("#!/bin/sh\n" + body)
        (folder / name).chmod(0o755)
    return {"PATH": str(folder), "HOME": os.environ.get("HOME", "/root")}


TEST_TOOLS = ["update -q", "install -y -q chromium redis-server python3-venv"]


@pytest.mark.parametrize(
    "which, venv_works, chromium, redis, apt_calls",
    [
        ("serve", False, True, False, ["update -q", "install -y -q python3-venv"]),
        ("serve", True, False, False, []),
        ("test", False, True, True, TEST_TOOLS),
        ("test", True, False, True, TEST_TOOLS),
        ("test", True, True, False, TEST_TOOLS),
        ("test", True, True, True, []),
    ],
)
def test_the_commands_install_what_is_missing_with_apt(
    tmp_path: Path, which: str, venv_works: bool, chromium: bool, redis: bool,
    apt_calls: list[str],
) -> None:
    """The part of each command before pip: a working .venv on every kind of machine."""
    serve, test = _readme_commands()
    prefix, _, _rest = (serve if which == "serve" else test).partition(" && .venv/bin/pip")
    environment = _make_stubs(
        tmp_path / "stubs", venv_works=venv_works, chromium=chromium, redis=redis
    )
    work = tmp_path / "checkout"
    work.mkdir()
    run = subprocess.run(
        ["/bin/bash", "-c", prefix], cwd=work, env=environment, capture_output=True, text=True
    )
    assert run.returncode == 0, run.stderr
    log = tmp_path / "stubs" / "apt-get.log"
    assert (log.read_text().splitlines() if log.exists() else []) == apt_calls
    pip = subprocess.run(
        [str(work / ".venv" / "bin" / "pip"), "--version"], capture_output=True, text=True
    )
    assert pip.returncode == 0 and str(work / ".venv") in pip.stdout
