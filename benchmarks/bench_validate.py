"""Benchmark: opengov's arrow validator against frictionless on a supplier-invoice table.

    .venv/bin/python benchmarks/bench_validate.py                 # 1M rows, both engines
    .venv/bin/python benchmarks/bench_validate.py --rows 10000000 --no-frictionless

The table is the anchor case of /work/shared/reference/anchors.md: 9 columns of a Swedish
municipality's supplier invoices (`;`-separated, decimal-comma amounts, ISO dates, Swedish
text), an id with `unique`, an enum, a pattern, a range constraint, and 20 planted errors.
Generated files are cached under benchmarks/data/ (gitignored).

Each engine runs in its own subprocess so that its peak RSS is its own; the parent prints
rows/s, wall seconds and peak RSS for each, the ratio frictionless/opengov, opengov's time
over `pyarrow.csv.read_csv` of the same file, and checks that both engines found the same
errors (type, row, field).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"

SUPPLIERS = [
    "Åkerblom Bygg AB",
    "Östra Göinge Städ & Fönsterputs",
    "Ängelholms Måleri",
    "Nordström IT-konsult",
    "Skånska Livsmedel AB",
    "Gävle Transport & Åkeri",
    "Lindqvist Snöröjning",
    "Björk & Söner El",
    "Vänerns Kontorsmaterial",
    "Malmö Kök & Storhushåll",
]
CATEGORIES = ["Bygg", "Städ", "IT", "Konsult", "Livsmedel", "Transport", "Övrigt"]
TEXTS = [
    "Takreparation Ängsskolan",
    "Städning av förskola",
    "Licenser för kontorsprogram",
    "Konsultstöd upphandling",
    "Livsmedel till äldreboende",
    "Skolskjuts vecka",
    "Snöröjning av gång- och cykelvägar",
    "Elarbeten i sporthall",
]

SCHEMA: dict[str, Any] = {
    "fields": [
        {
            "name": "fakturanummer",
            "type": "string",
            "constraints": {"required": True, "unique": True, "pattern": "F[0-9]{10}"},
        },
        {"name": "leverantor", "type": "string", "constraints": {"required": True}},
        {
            "name": "organisationsnummer",
            "type": "string",
            "constraints": {"pattern": "[0-9]{6}-[0-9]{4}"},
        },
        {"name": "fakturadatum", "type": "date"},
        {"name": "forfallodatum", "type": "date"},
        {
            "name": "belopp",
            "type": "number",
            "decimalChar": ",",
            "groupChar": " ",
            "constraints": {"minimum": 0, "maximum": 5000000},
        },
        {"name": "moms", "type": "number", "decimalChar": ",", "groupChar": " "},
        {"name": "kategori", "type": "string", "constraints": {"enum": CATEGORIES}},
        {"name": "beskrivning", "type": "string"},
    ]
}


def _amount(value: float) -> str:
    whole, frac = f"{value:.2f}".split(".")
    groups = []
    while len(whole) > 3:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    groups.insert(0, whole)
    return " ".join(groups) + "," + frac


def planted(rows: int) -> dict[int, tuple[str, str]]:
    """Row index (0-based data row) -> (column, bad value): 20 errors spread over the file."""
    step = rows // 21
    kinds: list[tuple[str, str]] = [
        ("belopp", "12,5,0"),
        ("belopp", "ca 400"),
        ("belopp", "1.234,50"),
        ("belopp", "-150,00"),  # range
        ("belopp", "9 999 999,00"),  # range
        ("belopp", "-1,00"),  # range
        ("fakturadatum", "2024-02-30"),
        ("fakturadatum", "31/12/2024"),
        ("forfallodatum", "2024-13-01"),
        ("kategori", "Diverse"),
        ("kategori", "bygg"),
        ("kategori", "Städning"),
        ("organisationsnummer", "5561234567"),
        ("organisationsnummer", "556123-456"),
        ("organisationsnummer", "SE556123456701"),
        ("fakturanummer", "DUP:1"),  # duplicate of an earlier row's id
        ("fakturanummer", "DUP:2"),
        ("leverantor", ""),  # required
        ("fakturanummer", ""),  # required
        ("moms", "25 %"),
    ]
    return {step * (i + 1): kind for i, kind in enumerate(kinds)}


def generate(path: Path, rows: int, seed: int = 20261121) -> None:
    rng = random.Random(seed)
    bad = planted(rows)
    start = date(2023, 1, 1)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    with tmp.open("w", encoding="utf-8", newline="") as fh:
        fh.write(";".join(f["name"] for f in SCHEMA["fields"]) + "\n")
        lines: list[str] = []
        for i in range(rows):
            invoice_date = start + timedelta(days=rng.randrange(730))
            amount = rng.randrange(1, 25_000_000) / 100
            org = f"{rng.randrange(100000, 999999)}-{rng.randrange(1000, 9999)}"
            cells = {
                "fakturanummer": f"F{i + 1:010d}",
                "leverantor": rng.choice(SUPPLIERS),
                "organisationsnummer": org,
                "fakturadatum": invoice_date.isoformat(),
                "forfallodatum": (invoice_date + timedelta(days=30)).isoformat(),
                "belopp": _amount(amount),
                "moms": _amount(amount * 0.2),
                "kategori": rng.choice(CATEGORIES),
                "beskrivning": rng.choice(TEXTS),
            }
            if i in bad:
                column, value = bad[i]
                if value.startswith("DUP:"):
                    value = f"F{int(value[4:]) * 1000:010d}"
                cells[column] = value
            lines.append(";".join(cells[f["name"]] for f in SCHEMA["fields"]))
            if len(lines) >= 100_000:
                fh.write("\n".join(lines) + "\n")
                lines.clear()
        if lines:
            fh.write("\n".join(lines) + "\n")
    tmp.replace(path)


def ensure_package(rows: int) -> Path:
    folder = DATA / f"invoices-{rows}"
    csv_path = folder / "fakturor.csv"
    if not csv_path.is_file():
        print(f"generating {rows:,} rows into {csv_path} ...", file=sys.stderr)
        generate(csv_path, rows)
    descriptor = {
        "name": "leverantorsfakturor",
        "resources": [
            {
                "name": "fakturor",
                "path": "fakturor.csv",
                "encoding": "utf-8",
                "dialect": {"delimiter": ";"},
                "schema": SCHEMA,
            }
        ],
    }
    (folder / "datapackage.json").write_text(json.dumps(descriptor, indent=2), encoding="utf-8")
    return folder


# --- the measured children ----------------------------------------------------------------------


def _child(engine: str, folder: str) -> None:
    """Run one engine and print a JSON line: seconds, peak RSS, findings."""
    import resource as rlimit

    start = time.perf_counter()
    if engine.startswith("pyarrow"):
        import pyarrow as pa
        import pyarrow.csv as pv

        # "pyarrow": read_csv as anyone would call it (type inference), the anchor's figure;
        # "pyarrow-strings": every column as text, what the validator parses.
        convert = pv.ConvertOptions()
        if engine == "pyarrow-strings":
            convert = pv.ConvertOptions(
                column_types={f["name"]: pa.string() for f in SCHEMA["fields"]}
            )
        table = pv.read_csv(
            str(Path(folder) / "fakturor.csv"),
            parse_options=pv.ParseOptions(delimiter=";"),
            convert_options=convert,
        )
        rows = table.num_rows
        findings: list[list[Any]] = []
    else:
        from opengov.package import load_package

        # The clock runs from before the package is loaded: loading (dialect sniffing, schema
        # checks) is work a user waits for too.
        package = load_package(folder)
        if engine == "opengov":
            from opengov.validate.arrow_engine import validate_resources
        else:
            from opengov.validate.frictionless_engine import validate_resources
        result = validate_resources(package, package.resources, samples=1000)[0]
        rows = result.rows
        findings = sorted([f.type, f.row_number or 0, f.field_name or ""] for f in result.samples)
    seconds = time.perf_counter() - start
    peak_kb = rlimit.getrusage(rlimit.RUSAGE_SELF).ru_maxrss
    print(
        json.dumps(
            {"seconds": seconds, "rows": rows, "peak_mb": peak_kb / 1024, "findings": findings}
        )
    )


def _run(engine: str, folder: Path) -> dict[str, Any]:
    wall = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, __file__, "--child", engine, str(folder)],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr)
        raise SystemExit(f"{engine} failed (exit {proc.returncode})")
    out: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    out["process_seconds"] = time.perf_counter() - wall
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--no-frictionless", action="store_true", help="skip frictionless")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(*args.child)
        return
    folder = ensure_package(args.rows)
    size_mb = (folder / "fakturor.csv").stat().st_size / 1e6
    print(f"file: {folder / 'fakturor.csv'} ({args.rows:,} rows, {size_mb:.0f} MB)")
    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}")
    results = {
        "pyarrow.csv.read_csv": _run("pyarrow", folder),
        "read_csv (all text)": _run("pyarrow-strings", folder),
        "opengov": _run("opengov", folder),
    }
    if not args.no_frictionless:
        results["frictionless"] = _run("frictionless", folder)
    else:
        print(
            "frictionless: skipped (--no-frictionless); at ~27,000 rows/s it would take "
            f"about {args.rows / 27_000 / 60:.0f} min"
        )
    print(f"{'engine':<22}{'wall s':>9}{'process s':>11}{'rows/s':>14}{'peak RSS MB':>13}")
    for name, res in results.items():
        rate = res["rows"] / res["seconds"] if res["seconds"] else 0
        print(
            f"{name:<22}{res['seconds']:>9.2f}{res['process_seconds']:>11.2f}"
            f"{rate:>14,.0f}{res['peak_mb']:>13.0f}"
        )
    og = results["opengov"]
    print(f"opengov findings: {len(og['findings'])}")
    pa_s = results["pyarrow.csv.read_csv"]["seconds"]
    print(f"opengov / pyarrow.csv.read_csv: {og['seconds'] / pa_s:.2f}x (target <= 3)")
    text_s = results["read_csv (all text)"]["seconds"]
    print(f"opengov / read_csv (all text, no typing): {og['seconds'] / text_s:.2f}x")
    if "frictionless" in results:
        fl = results["frictionless"]
        ratio = fl["seconds"] / og["seconds"]
        print(f"frictionless / opengov: {ratio:.1f}x (target >= 20)")
        same = og["findings"] == fl["findings"]
        print(f"same findings (type, row, field): {'yes' if same else 'NO'}")
        if not same:
            ours = {tuple(f) for f in og["findings"]}
            theirs = {tuple(f) for f in fl["findings"]}
            print("  only opengov:", sorted(ours - theirs)[:20])
            print("  only frictionless:", sorted(theirs - ours)[:20])
            raise SystemExit(1)


if __name__ == "__main__":
    main()
