"""Close codes in the code are ``CloseCode`` members, never bare numbers.

A bare ``1011`` says nothing to a reader and a typo in one goes unnoticed; the enum in
``gameserver/ws/codes.py`` carries the RFC section beside each code. Prose (docstrings,
comments, help texts) keeps the numbers a user sees on the wire.
"""

from __future__ import annotations

import ast
from pathlib import Path

import gameserver

PACKAGE = Path(gameserver.__file__).parent
# RFC 6455 registered codes and the ranges for libraries and applications.
CLOSE_CODE_RANGES = (range(1000, 1016), range(3000, 5000))
# Calls whose code argument (first positional, or ``code=``) is a close code.
TAKES_A_CLOSE_CODE = {"close", "abort", "send_close", "kick", "ConnectionClosed", "Disconnected"}


def is_close_code(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Constant)
        and type(node.value) is int
        and any(node.value in codes for codes in CLOSE_CODE_RANGES)
    )


def call_name(call: ast.Call) -> str:
    func = call.func
    if isinstance(func, ast.Attribute):
        return func.attr
    return func.id if isinstance(func, ast.Name) else ""


def bare_codes_in_calls(tree: ast.AST) -> list[int]:
    """Lines where a call that takes a close code gets a bare number."""
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and call_name(node) in TAKES_A_CLOSE_CODE:
            arguments = node.args[:1] + [kw.value for kw in node.keywords if kw.arg == "code"]
            lines += [argument.lineno for argument in arguments if is_close_code(argument)]
    return lines


def bare_numbers(tree: ast.AST) -> list[int]:
    """Lines with any number in the close code ranges (outside docstrings: those are
    expression statements, not constants in code)."""
    return [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and is_close_code(node)
    ]


def test_every_call_in_the_package_names_its_close_code() -> None:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(), str(path))
        found += [f"{path.relative_to(PACKAGE)}:{line}" for line in bare_codes_in_calls(tree)]
    assert found == []


def test_the_websocket_layer_has_no_bare_close_codes_at_all() -> None:
    found = []
    for path in sorted((PACKAGE / "ws").glob("*.py")):
        if path.name == "codes.py":
            continue  # where the names are defined
        tree = ast.parse(path.read_text(), str(path))
        found += [f"ws/{path.name}:{line}" for line in bare_numbers(tree)]
    assert found == []


def test_the_checks_see_a_bare_code() -> None:
    planted = ast.parse('async def f(ws):\n    await ws.close(1011, "x")\n    return 4000\n')
    assert bare_codes_in_calls(planted) == [2]
    assert sorted(bare_numbers(planted)) == [2, 3]
    named = ast.parse("async def f(ws):\n    await ws.close(CloseCode.INTERNAL_ERROR)\n")
    assert bare_codes_in_calls(named) == [] and bare_numbers(named) == []
