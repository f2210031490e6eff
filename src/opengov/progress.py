"""One progress line for a whole run (reading, validating, redacting, writing): on a terminal
only, and only once a run has taken a second, so short runs and logs stay clean."""

from __future__ import annotations

import sys
import time

_AFTER = 1.0  # seconds before the line appears


class Progress:
    def __init__(self, *, enabled: bool) -> None:
        self.enabled = enabled and sys.stderr.isatty()
        self.start = time.perf_counter()
        self.shown = False
        self.name = ""
        self.stage = ""
        self.total = 1
        self.rows = 0
        self._resource_start = self.start

    def resource(self, name: str, total_bytes: int, stage: str) -> None:
        self.name, self.stage, self.total = name, stage, max(total_bytes, 1)
        self.rows = 0
        self._resource_start = time.perf_counter()

    def update(self, rows: int, position: int) -> None:
        self.rows += rows
        if not self.enabled:
            return
        now = time.perf_counter()
        if now - self.start < _AFTER:
            return
        self.shown = True
        share = min(position / self.total, 0.99)
        width = 30
        filled = int(share * width)
        bar = "#" * filled + "-" * (width - filled)
        elapsed = now - self._resource_start
        rate = self.rows / elapsed if elapsed else 0
        sys.stderr.write(
            f"\r  {self.name} [{bar}] {share:4.0%} {self.rows:,} rows ({rate:,.0f} rows/s) "
            f"{self.stage}\x1b[K"
        )
        sys.stderr.flush()

    def close(self) -> None:
        if self.shown:
            sys.stderr.write("\n")
            sys.stderr.flush()
            self.shown = False
