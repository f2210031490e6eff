"""Where opengov keeps what it may forget: records that spare work on the next run (what a
folder held when it was last published, compiled page templates). Losing any of it costs time,
never a result."""

from __future__ import annotations

import os
from pathlib import Path

CACHE_ENV = "OPENGOV_CACHE_DIR"


def cache_dir() -> Path:
    """OPENGOV_CACHE_DIR, else $XDG_CACHE_HOME/opengov, else ~/.cache/opengov."""
    given = os.environ.get(CACHE_ENV)
    if given:
        return Path(given)
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg) if xdg and os.path.isabs(xdg) else Path.home() / ".cache"
    return base / "opengov"
