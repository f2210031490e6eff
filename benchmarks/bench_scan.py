"""Throughput of scan_replace with the pre-publish kinds on free-text cells.

Usage: .venv/bin/python benchmarks/bench_scan.py [--cells N] [--chunk-rows R] [--repeat K]
       [--kinds personnummer,samordningsnummer,...]  (default: DEFAULT_LAST_SCAN)

The cells come from tests/identifier_corpus.py (seeded): plain Swedish sentences with dates,
amounts and case numbers, 1% null and about 2% carrying a synthetic identifier, e-mail,
phone number (PTS fiction range) or orgnr. Generating them is not timed.
"""

from __future__ import annotations

import argparse
import resource
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import psutil
import pyarrow as pa
import pyarrow.compute as pc

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "src"))

import identifier_corpus  # noqa: E402

from opengov.redact.detectors import (  # noqa: E402
    DEFAULT_LAST_SCAN,
    find_cells,
    scan_replace,
    validate_kinds,
)


class RssSampler:
    """Polls RSS on a thread; psutil has no peak-RSS counter for a time window on Linux."""

    def __init__(self, process: psutil.Process, interval: float = 0.01) -> None:
        self.process = process
        self.peak = process.memory_info().rss
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(interval,), daemon=True)
        self._thread.start()

    def _run(self, interval: float) -> None:
        while not self._done.wait(interval):
            self.peak = max(self.peak, self.process.memory_info().rss)

    def stop(self) -> int:
        self._done.set()
        self._thread.join()
        return max(self.peak, self.process.memory_info().rss)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cells", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=identifier_corpus.SEED)
    parser.add_argument("--share", type=float, default=0.02, help="share of cells with a hit")
    parser.add_argument(
        "--chunk-rows", type=int, default=0, help="split into chunks of R rows (0: one chunk)"
    )
    parser.add_argument("--repeat", type=int, default=3, help="runs; the best is summarised")
    parser.add_argument(
        "--kinds", default=",".join(DEFAULT_LAST_SCAN), help="comma-separated detector kinds"
    )
    args = parser.parse_args()
    kinds = [k for k in args.kinds.split(",") if k]
    unknown = validate_kinds(kinds)
    if unknown:
        parser.error(f"unknown kinds: {', '.join(unknown)}")

    process = psutil.Process()
    planted: Counter[str] = Counter()
    values = identifier_corpus.benchmark_cells(args.cells, args.seed, args.share, planted=planted)
    array: pa.Array | pa.ChunkedArray = pa.array(values, pa.string())
    del values
    if args.chunk_rows:
        step = args.chunk_rows
        array = pa.chunked_array([array.slice(i, step) for i in range(0, len(array), step)])
    text_bytes = pc.sum(pc.binary_length(array)).as_py() or 0
    rss_before = process.memory_info().rss
    input_bytes = pa.total_allocated_bytes()

    print(f"cells: {len(array):,}  nulls: {array.null_count:,}  text: {text_bytes / 1e6:.1f} MB")
    print(f"kinds: {', '.join(kinds)}")
    peak_during = rss_before
    walls: list[float] = []
    for run in range(1, args.repeat + 1):
        sampler = RssSampler(process)
        start = time.perf_counter()
        result = scan_replace(array, kinds)
        wall = time.perf_counter() - start
        peak_during = max(peak_during, sampler.stop())
        walls.append(wall)
        print(
            f"run {run}: wall {wall:.3f} s  {len(array) / wall:,.0f} cells/s  "
            f"{text_bytes / 1e6 / wall:,.1f} MB/s"
        )
        matches, cells = result.matches, result.cells
        del result  # one output alive at a time, as in a pipeline
    best = min(walls)
    print(
        f"best: wall {best:.3f} s  {len(array) / best:,.0f} cells/s  "
        f"{text_bytes / 1e6 / best:,.1f} MB/s"
    )
    # ru_maxrss also covers generating the cells as Python strings, which dwarfs the scan.
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        f"RSS before scan: {rss_before / 2**20:,.0f} MiB  peak RSS during scan: "
        f"{peak_during / 2**20:,.0f} MiB  process peak RSS: {peak_kb / 1024:,.0f} MiB"
    )
    start = time.perf_counter()
    flagged = find_cells(array, kinds)
    wall = time.perf_counter() - start
    print(
        f"find_cells (no replacement): wall {wall:.3f} s  {len(array) / wall:,.0f} cells/s  "
        f"flagged {sum(pc.sum(f).as_py() or 0 for f in flagged.values()):,} cell-kinds"
    )
    pool = pa.default_memory_pool()
    print(
        f"Arrow pool ({pool.backend_name}): input {input_bytes / 2**20:,.0f} MiB, "
        f"peak {pool.max_memory() / 2**20:,.0f} MiB"
    )
    print(f"planted: { {k: planted[k] for k in kinds} } (cells, one hit each)")
    print(f"matches: {matches}")
    print(f"cells:   {cells}")


if __name__ == "__main__":
    main()
