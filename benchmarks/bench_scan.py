"""Throughput of the detectors: whole library calls (scan_replace, find_cells) on 1M cells.

Usage: .venv/bin/python benchmarks/bench_scan.py [--cells N] [--repeat K] [--case NAME ...]
       [--kinds personnummer,samordningsnummer,...] [--src PATH]

Cases (all by default):
- `text`: free-text cells from tests/identifier_corpus.py (seeded): plain Swedish sentences with
  dates, amounts and case numbers, 1% null, about 2% carrying a synthetic identifier, e-mail,
  phone number (PTS fiction range) or orgnr;
- `orgnr`: an organisation-number column (`556677-8899`, Luhn-valid), where every cell is a
  candidate for the personnummer detector: the case issue 16 profiled;
- `integers`: an int64 column of random ten-digit numbers (the last scan reads numbers through
  their text; find_cells only, scan_replace takes text).
Generating the cells is not timed. Each call runs `--repeat` times; the median wall time is
reported, and the median CPU time of the process (all threads), which stays comparable when
other jobs share the machine.
`--src` points at another checkout's `src` to time an older version of the detectors.
"""

from __future__ import annotations

import argparse
import random
import resource
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))


def _args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--cells", type=int, default=1_000_000)
    parser.add_argument("--share", type=float, default=0.02, help="text: share with a hit")
    parser.add_argument("--repeat", type=int, default=3, help="runs per call; median reported")
    parser.add_argument(
        "--case", action="append", choices=("text", "orgnr", "integers"), help="repeatable"
    )
    parser.add_argument("--kinds", default="", help="comma-separated (default DEFAULT_LAST_SCAN)")
    parser.add_argument("--src", type=Path, default=ROOT / "src", help="the opengov to time")
    return parser.parse_args()


ARGS = _args()
sys.path.insert(0, str(ARGS.src))

import identifier_corpus  # noqa: E402
import pyarrow as pa  # noqa: E402
import pyarrow.compute as pc  # noqa: E402

from opengov.redact.detectors import (  # noqa: E402
    DEFAULT_LAST_SCAN,
    find_cells,
    scan_replace,
    validate_kinds,
)


def orgnr_column(count: int, seed: int) -> pa.Array:
    rng = random.Random(seed)
    return pa.array([identifier_corpus.synthetic_orgnr(rng) for _ in range(count)], pa.string())


def integer_column(count: int, seed: int) -> pa.Array:
    rng = random.Random(seed)
    return pa.array([rng.randrange(10**9, 10**10) for _ in range(count)], pa.int64())


def timed(call: Callable[[], object], repeat: int) -> tuple[float, float, object]:
    """Median wall and CPU seconds (CPU: all threads of the process, so it stays comparable
    when other jobs share the machine)."""
    walls: list[float] = []
    cpus: list[float] = []
    result: object = None
    for _ in range(repeat):
        cpu = time.process_time()
        start = time.perf_counter()
        result = call()
        walls.append(time.perf_counter() - start)
        cpus.append(time.process_time() - cpu)
    return statistics.median(walls), statistics.median(cpus), result


def report(label: str, cells: int, wall: float, cpu: float, detail: str) -> None:
    print(
        f"  {label:<12} median {wall:7.3f} s {cells / wall:>11,.0f} cells/s"
        f"  (CPU {cpu:6.3f} s)  {detail}"
    )


def main() -> None:
    kinds = [k for k in ARGS.kinds.split(",") if k] or list(DEFAULT_LAST_SCAN)
    unknown = validate_kinds(kinds)
    if unknown:
        sys.exit(f"unknown kinds: {', '.join(unknown)}")
    cases = ARGS.case or ["text", "orgnr", "integers"]
    print(f"detectors from {ARGS.src}; kinds: {', '.join(kinds)}; median of {ARGS.repeat}")
    for case in cases:
        planted: Counter[str] = Counter()
        if case == "text":
            values = identifier_corpus.benchmark_cells(
                ARGS.cells, identifier_corpus.SEED, ARGS.share, planted=planted
            )
            array: pa.Array = pa.array(values, pa.string())
            del values
        elif case == "orgnr":
            array = orgnr_column(ARGS.cells, identifier_corpus.SEED)
        else:
            array = integer_column(ARGS.cells, identifier_corpus.SEED)
        size = pc.sum(pc.binary_length(pc.cast(array, pa.string()))).as_py() or 0
        print(f"{case}: {len(array):,} cells, {size / 1e6:.1f} MB of text")
        if pa.types.is_string(array.type):
            wall, cpu, result = timed(lambda a=array: scan_replace(a, kinds), ARGS.repeat)
            matches = getattr(result, "matches", {})
            report("scan_replace", len(array), wall, cpu, f"matches {matches}")
        wall, cpu, flagged = timed(lambda a=array: find_cells(a, kinds), ARGS.repeat)
        assert isinstance(flagged, dict)
        counts = {k: pc.sum(v).as_py() or 0 for k, v in flagged.items()}
        report("find_cells", len(array), wall, cpu, f"cells {counts}")
        if planted:
            print(f"  planted (cells, one hit each): { {k: planted[k] for k in kinds} }")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"process peak RSS (generation included): {peak:,.0f} MiB")


if __name__ == "__main__":
    main()
