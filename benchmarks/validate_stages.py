"""Where `opengov validate`'s time goes, stage by stage, in one process.

    python benchmarks/validate_stages.py benchmarks/data/publish-1000000

Prints the import times, the streaming CSV parse alone, the parse with the casts to the
schema's types, and a whole `validate()` (its second run, so that one-time set-up is left out)
with the CPU time each cast, check and key stage took on the thread that ran it
(`time.thread_time`, summed over threads). A profile, not a benchmark: `bench_publish.py`
times whole processes against the floor.
"""

from __future__ import annotations

import collections
import functools
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

started = time.perf_counter()
import pyarrow  # noqa: E402
import pyarrow.csv  # noqa: E402

arrow_loaded = time.perf_counter()
import numpy  # noqa: E402, F401
import pyarrow.compute  # noqa: E402, F401

compute_loaded = time.perf_counter()
from opengov.package import load_package  # noqa: E402
from opengov.sources import csv as csv_source  # noqa: E402
from opengov.sources import typed  # noqa: E402
from opengov.validate import checks, engine, validate  # noqa: E402

opengov_loaded = time.perf_counter()

SPENT: collections.Counter[str] = collections.Counter()
_LOCK = threading.Lock()


def timed(owner: Any, name: str, label: Callable[..., str]) -> None:
    """Wrap owner.name so that each call adds its thread's CPU time to SPENT[label(args)]."""
    original = getattr(owner, name)

    @functools.wraps(original)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        begin = time.thread_time()
        try:
            return original(*args, **kwargs)
        finally:
            with _LOCK:
                SPENT[label(*args, **kwargs)] += time.thread_time() - begin

    setattr(owner, name, wrapper)


def main() -> None:
    folder = Path(sys.argv[1])
    print(f"imports: pyarrow and pyarrow.csv {arrow_loaded - started:.3f} s, "
          f"numpy and pyarrow.compute {compute_loaded - arrow_loaded:.3f} s, "
          f"opengov {opengov_loaded - compute_loaded:.3f} s")  # fmt: skip
    resource = load_package(folder).resources[0]
    source = typed.open_typed(resource, strict=True)
    for _ in range(2):
        cpu, wall = time.process_time(), time.perf_counter()
        rows = sum(b.num_rows for b in csv_source.iter_csv_batches(resource, source.dialect, 9))
        parse = (time.process_time() - cpu, time.perf_counter() - wall)
        cpu, wall = time.process_time(), time.perf_counter()
        typed_rows = sum(len(b.row_numbers) for b in typed.open_typed(resource, strict=True)
                         .batches())  # fmt: skip
        cast = (time.process_time() - cpu, time.perf_counter() - wall)
        print(f"parse {rows:,} rows: {parse[1]:.3f} s wall, {parse[0]:.3f} s CPU; parse and "
              f"cast {typed_rows:,}: {cast[1]:.3f} s wall, {cast[0]:.3f} s CPU")  # fmt: skip

    timed(typed, "cast_field", lambda values, field, *a, **k: f"cast {field['name']}")
    timed(checks, "check_column", lambda *a, **k: "checks (patterns, enum, ranges)")
    timed(engine.ResourceValidator, "_keys", lambda *a, **k: "keys: fingerprints and spill")
    timed(engine.ResourceValidator, "_finish_keys", lambda *a, **k: "keys: duplicates")
    validate(folder)
    SPENT.clear()
    cpu, wall = time.process_time(), time.perf_counter()
    validate(folder)
    print(f"validate(): {time.perf_counter() - wall:.3f} s wall, "
          f"{time.process_time() - cpu:.3f} s CPU, of which:")  # fmt: skip
    for label, seconds in SPENT.most_common():
        print(f"  {seconds:6.3f} s CPU  {label}")


if __name__ == "__main__":
    main()
