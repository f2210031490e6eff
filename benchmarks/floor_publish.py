"""The floor of a publish: what any tool must do to publish a CSV as CSV and Parquet.

    python benchmarks/floor_publish.py DATA.csv OUT_DIR [--read-only]

Reads the CSV with `pyarrow.csv.read_csv` (typed: type inference, `;`-separated), writes it as
CSV and as Parquet (zstd) and takes the sha256 of both outputs. `--read-only` stops after the
read: the floor of validation. No checks, no redaction, no reports: a lower bound, not a tool.
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import pyarrow.csv as pv
import pyarrow.parquet as pq


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def main() -> None:
    source, out = Path(sys.argv[1]), Path(sys.argv[2])
    table = pv.read_csv(source, parse_options=pv.ParseOptions(delimiter=";"))
    if "--read-only" in sys.argv:
        print(table.num_rows)
        return
    out.mkdir(parents=True, exist_ok=True)
    pv.write_csv(table, out / "data.csv")
    pq.write_table(table, out / "data.parquet", compression="zstd")
    print(table.num_rows, sha256(out / "data.csv"), sha256(out / "data.parquet"))


if __name__ == "__main__":
    main()
