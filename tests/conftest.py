"""Settings shared by every test directory."""

from __future__ import annotations

import os
from pathlib import Path

# Child processes the tests start (the CLI, documentation examples, benchmark scripts)
# import the checkout under test, whether or not it is the one pip installed.
_CHECKOUT = str(Path(__file__).resolve().parent.parent)
os.environ["PYTHONPATH"] = os.pathsep.join(
    part for part in (_CHECKOUT, os.environ.get("PYTHONPATH", "")) if part
)
