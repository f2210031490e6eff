"""`opengov import sql` of a 1M-row PostgreSQL table against `COPY ... TO STDOUT`, the floor.

Usage:
  PGPASSWORD=... .venv/bin/python benchmarks/bench_import_sql.py \
      --url postgresql://user@127.0.0.1:5432/db [--rows 1000000] [--runs 3] [--keep]

The table `bench_import_sql` (id, a Swedish description of about 300 characters, an amount
numeric(12,2), a date, a timestamptz) is created with that many rows (generate_series, on the
server) unless it already has them; --keep leaves it for the next run. Each run is a fresh
process, timed and measured (peak RSS from wait4) by this script:

- floor: `psql -c "COPY (SELECT * FROM t ORDER BY id) TO STDOUT"` into /dev/null: the server
  reads and sends every row in order, the client only discards the text;
- opengov: `opengov import sql URL --table t --out DIR`: the same rows as Arrow batches through
  ADBC, written to Parquet, with the schema, the rules draft and import.json.

The password comes from PGPASSWORD (or ~/.pgpass), as for opengov itself.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TABLE = "bench_import_sql"
CREATE = f"""
DROP TABLE IF EXISTS {TABLE};
CREATE TABLE {TABLE} AS
  SELECT g AS id,
         'Bidrag nummer ' || g || ' till förening för '
           || repeat('verksamhet för barn och unga i Exempelby kommun, ', 5) AS beskrivning,
         (g * 1.25)::numeric(12,2) AS belopp,
         date '2020-01-01' + (g % 1000) AS beslutad,
         timestamptz '2024-01-01 00:00+01' + g * interval '1 second' AS registrerad
  FROM generate_series(1, ROWS) AS g;
ALTER TABLE {TABLE} ADD PRIMARY KEY (id);
ANALYZE {TABLE};
"""


def psql_args(url: str) -> list[str]:
    parts = urllib.parse.urlsplit(url)
    args = ["psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1"]
    if parts.hostname:
        args += ["-h", parts.hostname]
    if parts.port:
        args += ["-p", str(parts.port)]
    if parts.username:
        args += ["-U", urllib.parse.unquote(parts.username)]
    return [*args, "-d", urllib.parse.unquote(parts.path.lstrip("/"))]


def measured(command: list[str], stdout: int | None = None) -> tuple[float, int]:
    """Wall time and peak RSS (bytes) of one child process."""
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=stdout, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    stderr = process.stderr.read().decode("utf-8", "replace") if process.stderr else ""
    if process.returncode:
        sys.exit(f"{command[0]} failed ({process.returncode}): {stderr.strip()}")
    return elapsed, usage.ru_maxrss * 1024


def ensure_table(url: str, rows: int) -> None:
    count = subprocess.run(
        [*psql_args(url), "-c", f"SELECT count(*) FROM {TABLE}"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if count.returncode == 0 and count.stdout.strip() == str(rows):
        return
    print(f"creating {TABLE} with {rows:,} rows ...", file=sys.stderr)
    subprocess.run(
        [*psql_args(url)], input=CREATE.replace("ROWS", str(rows)), text=True, check=True
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True, help="postgresql://user@host:port/db")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--keep", action="store_true", help="keep the table afterwards")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    ensure_table(args.url, args.rows)
    opengov = str(Path(sys.executable).with_name("opengov"))
    copy = [*psql_args(args.url), "-c", f"COPY (SELECT * FROM {TABLE} ORDER BY id) TO STDOUT"]
    runs: dict[str, list[tuple[float, int]]] = {"copy": [], "opengov": []}
    parquet_bytes = 0
    with open(os.devnull, "wb") as devnull:
        for _ in range(args.runs):
            runs["copy"].append(measured(copy, stdout=devnull.fileno()))
            out = Path(tempfile.mkdtemp(prefix="bench-import-sql-")) / "pkg"
            command = [opengov, "import", "sql", args.url, "--table", TABLE, "--out", str(out)]
            try:
                runs["opengov"].append(measured(command, stdout=devnull.fileno()))
                parquet_bytes = next((out / "data").glob("*.parquet")).stat().st_size
            finally:
                shutil.rmtree(out.parent, ignore_errors=True)
    if not args.keep:
        subprocess.run([*psql_args(args.url), "-c", f"DROP TABLE {TABLE}"], check=False)
    summary: dict[str, object] = {"rows": args.rows, "parquet_mb": round(parquet_bytes / 2**20, 1)}
    medians: dict[str, float] = {}
    for name, measured_runs in runs.items():
        medians[name] = statistics.median(t for t, _ in measured_runs)
        summary[name] = {
            "seconds_median": round(medians[name], 2),
            "seconds_runs": [round(t, 2) for t, _ in measured_runs],
            "peak_rss_mb_max": round(max(m for _, m in measured_runs) / 2**20),
        }
    if args.json:
        print(json.dumps(summary, indent=2))
        return
    print(
        f"{args.rows:,} rows, {args.runs} runs each (Parquet snapshot {summary['parquet_mb']} MB)"
    )
    for name, label in (("copy", "COPY ... TO STDOUT (psql)"), ("opengov", "opengov import sql")):
        peak = round(max(m for _, m in runs[name]) / 2**20)
        print(f"  {label:<28} {medians[name]:>7.2f} s median   peak RSS {peak:>5} MB")
    print(f"  opengov / floor: {medians['opengov'] / medians['copy']:.2f}x")


if __name__ == "__main__":
    main()
