"""Throughput of the `name` and `address` detectors on free-text cells.

Usage: .venv/bin/python benchmarks/bench_names.py [--cells N] [--share P] [--repeat K]
       [--source corpus|diarium] [--repeats]

The cells are sentences of the labelled corpus (tests/names_corpus.py, seeded), or with
`--source diarium` the public and internal subject lines of datapackages/diarium-2024: a share P
(default 0.1) carries a private person's name or address, the rest are look-alikes (places,
organisations, officials with their titles, streets without numbers, months). Generating
them is not timed; every cell is made unique. Prints cells/s for `scan_replace` (what
`scan: [name, address]` runs) and `find_cells` (what the last scan runs), the share of cells
the vectorised stage passed to Python, and, for scale, the identifier kinds of the last scan
on the same cells.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "src"))

import names_corpus  # noqa: E402

from opengov.redact.detectors import (  # noqa: E402
    DEFAULT_LAST_SCAN,
    find_cells,
    persons,
    scan_replace,
)

KINDS = ["name", "address"]


def _diarium() -> tuple[list[str], list[str]]:
    """Both subject columns of the example diarium, split by whether they hold a hit."""
    import csv

    path = ROOT / "datapackages/diarium-2024/data/diarium-2024.csv"
    with path.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter=";"))
    values = [r[f] for r in rows for f in ("arende_mening", "arende_mening_intern")]
    with_hit = [v for v in values if persons.find(v, KINDS)]
    return with_hit, [v for v in values if not persons.find(v, KINDS)]


def cells(n: int, share: float, seed: int, source: str, unique: bool = True) -> list[str]:
    if source == "diarium":
        positives, negatives = _diarium()
    else:
        corpus = names_corpus.Corpus(seed)
        positives = [corpus.positive().text for _ in range(20_000)]
        negatives = [corpus.negative().text for _ in range(20_000)]
    rng = random.Random(seed)
    # A case number makes every cell unique, so the detectors' cache of repeated cells never
    # helps: the figures are for text that never repeats (real registries repeat subjects).
    picked = [
        rng.choice(positives) if rng.random() < share else rng.choice(negatives) for _ in range(n)
    ]
    if not unique:
        return picked
    return [f"{text} (dnr {i // 1000}/{i % 1000})" for i, text in enumerate(picked)]


def timed(label: str, n: int, runs: int, fn: object) -> float:
    """Best wall time of `runs`, with its CPU time: on a busy machine CPU time is the steadier
    figure (the Python stage runs on one core, so on an idle machine the two agree)."""
    best = (float("inf"), 0.0)
    for _ in range(runs):
        start, cpu = time.perf_counter(), time.process_time()
        fn()  # type: ignore[operator]
        best = min(best, (time.perf_counter() - start, time.process_time() - cpu))
    wall, cpu_s = best
    print(
        f"{label:44} wall {wall:6.2f} s {n / wall:>10,.0f} cells/s  "
        f"cpu {cpu_s:6.2f} s {n / cpu_s:>10,.0f} cells/cpu-s"
    )
    return wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cells", type=int, default=1_000_000)
    parser.add_argument("--share", type=float, default=0.1, help="share of cells with a hit")
    parser.add_argument("--seed", type=int, default=names_corpus.SEED)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--source",
        choices=("corpus", "diarium"),
        default="corpus",
        help="corpus: the labelled corpus; diarium: the example diarium's subject lines",
    )
    parser.add_argument(
        "--repeats",
        action="store_true",
        help="keep repeated cells as drawn (registries repeat subjects); default: all unique",
    )
    args = parser.parse_args()

    values = cells(args.cells, args.share, args.seed, args.source, unique=not args.repeats)
    array = pa.array(values, pa.string())
    del values
    print(f"distinct cells: {pc.count_distinct(array).as_py():,}")
    text_mb = (pc.sum(pc.binary_length(array)).as_py() or 0) / 1e6
    print(f"load average before: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    print(f"cells: {len(array):,}  text: {text_mb:.1f} MB  share with a hit: {args.share:.0%}")
    picked = pc.sum(persons.candidates(array, KINDS)).as_py() or 0
    print(f"candidates passed to Python: {picked:,} ({picked / len(array):.1%})")
    timed(
        "candidates only (RE2 + split + is_in)",
        len(array),
        args.repeat,
        lambda: persons.candidates(array, KINDS),
    )
    timed(
        "scan_replace [name, address]",
        len(array),
        args.repeat,
        lambda: scan_replace(array, KINDS),
    )
    timed("find_cells [name, address]", len(array), args.repeat, lambda: find_cells(array, KINDS))
    timed(
        "find_cells DEFAULT_LAST_SCAN (identifiers)",
        len(array),
        args.repeat,
        lambda: find_cells(array, DEFAULT_LAST_SCAN),
    )
    result = scan_replace(array, KINDS)
    print(f"matches: {result.matches}  cells: {result.cells}")
    print(f"load average after: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
