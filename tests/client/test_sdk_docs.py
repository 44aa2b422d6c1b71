"""Every Python example in docs/sdk.md runs, unchanged but for the URL, against a real server."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest
import trio

DOC = Path(__file__).resolve().parents[2] / "docs" / "sdk.md"
EXAMPLES = re.findall(r"^```python\n(.*?)^```", DOC.read_text(), re.MULTILINE | re.DOTALL)
DOC_URL = "ws://127.0.0.1:8000/ws"


def test_the_page_has_examples_for_each_topic() -> None:
    assert len(EXAMPLES) >= 5
    assert all(DOC_URL in example for example in EXAMPLES)


@pytest.mark.parametrize("index", range(len(EXAMPLES)))
async def test_example_runs(index: int, server_url: str, tmp_path: Path) -> None:
    script = tmp_path / f"example_{index}.py"
    script.write_text(EXAMPLES[index].replace(DOC_URL, server_url))
    with trio.fail_after(60):
        process = await trio.run_process(
            [sys.executable, str(script)], capture_stdout=True, capture_stderr=True, check=False
        )
    assert process.returncode == 0, process.stderr.decode()
    assert process.stdout.strip(), "every example prints what it did"
