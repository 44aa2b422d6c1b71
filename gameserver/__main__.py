"""``python -m gameserver`` is the same as the ``gameserver`` command."""

from __future__ import annotations

from gameserver.cli import main

raise SystemExit(main())
