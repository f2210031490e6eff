"""Benchmark: `opengov publish` of a valid supplier-invoice package against the floor and peers.

    .venv/bin/python benchmarks/bench_publish.py                  # 1M rows, median of 3
    .venv/bin/python benchmarks/bench_publish.py --rows 10000000 --skip frictionless pandera

The package: 9 columns of a Swedish municipality's supplier invoices (`;`-separated, UTF-8): an
id with required, unique and a pattern; supplier names; an organisation-number column with a
pattern that rules.yaml scans for personnummer; two dates; an amount with decimal comma, group
space and a range; an enum; free text; an e-mail column with `format: email` that rules.yaml
drops; the invoice number is declared an identifier column (its ten digits can read as a
personnummer). Valid: every tool should find nothing. Generated under benchmarks/data/
(gitignored).

Every measurement is a whole process, timed from before Python starts (wall time of the
subprocess) with its peak RSS (the child's own, read by a small wrapper process through
`resource.getrusage(RUSAGE_CHILDREN)`):

- `floor`: benchmarks/floor_publish.py: read_csv + write CSV + write Parquet + sha256 of both;
- `read_csv (typed)`: the same script, reading only;
- `opengov publish` to a fresh portal folder, and `opengov publish (unchanged)` again to it;
- `opengov publish (one value changed)`: then the same table with one amount changed, to the
  same folder (a new release, whose history is compared with the last one);
- `opengov validate`, `frictionless validate`, and pandera's polars backend
  (benchmarks/pandera_check.py, the same checks; needs the `bench` extra).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"
BIN = Path(sys.executable).parent

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
DOMAINS = ["akerblom.se", "gsf.se", "malerimaster.se", "nordstromit.se", "livsmedel.example.se"]
NAMES = ["anna", "erik", "karin", "lars", "maria", "per", "sara", "johan", "eva", "nils"]
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
        {"name": "kategori", "type": "string", "constraints": {"enum": CATEGORIES}},
        {"name": "beskrivning", "type": "string"},
        {"name": "epost", "type": "string", "format": "email"},
    ]
}
RULES = """version: 1
decided_by: Ekonomienheten, Exempelby kommun
decided_at: 2026-11-29
resources:
  fakturor:
    fields:
      fakturanummer:
        class: public
        # Ten digits after the F: from about F0001010000 on, some read as valid personnummer.
        # What a steward declares once the last scan has shown it (docs/rules.md).
        identifier_column:
          reason: Fakturanummer från ekonomisystemet, inga personuppgifter
      leverantor: public
      organisationsnummer:
        class: public
        scan: [personnummer, samordningsnummer]
      fakturadatum: public
      forfallodatum: public
      belopp: public
      kategori: public
      beskrivning: public
      epost:
        class: personal
        action: drop
        basis: 21 kap. 7 § OSL
        reason: Kontaktpersoners e-postadresser är personuppgifter
"""


def _amount(value: float) -> str:
    whole, frac = f"{value:.2f}".split(".")
    groups = []
    while len(whole) > 3:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    groups.insert(0, whole)
    return " ".join(groups) + "," + frac


def _orgnr(rng: random.Random) -> str:
    """A valid organisationsnummer: legal form 5, third digit 5-9, Luhn check digit."""
    digits = [5, rng.randrange(5, 10), rng.randrange(5, 10)] + [rng.randrange(10) for _ in range(6)]
    total = 0
    for i, d in enumerate(digits):
        v = d * 2 if i % 2 == 0 else d
        total += v - 9 if v > 9 else v
    digits.append((10 - total % 10) % 10)
    text = "".join(map(str, digits))
    return f"{text[:6]}-{text[6:]}"


def generate(path: Path, rows: int, seed: int = 20261129) -> None:
    rng = random.Random(seed)
    start = date(2023, 1, 1)
    orgs = [_orgnr(rng) for _ in range(5000)]
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    with tmp.open("w", encoding="utf-8", newline="") as fh:
        fh.write(";".join(f["name"] for f in SCHEMA["fields"]) + "\n")
        lines: list[str] = []
        for i in range(rows):
            invoice_date = start + timedelta(days=rng.randrange(730))
            amount = rng.randrange(1, 250_000_000) / 100
            cells = [
                f"F{i + 1:010d}",
                rng.choice(SUPPLIERS),
                rng.choice(orgs),
                invoice_date.isoformat(),
                (invoice_date + timedelta(days=30)).isoformat(),
                _amount(amount),
                rng.choice(CATEGORIES),
                rng.choice(TEXTS),
                f"{rng.choice(NAMES)}.{rng.choice(NAMES)}{rng.randrange(100)}@{rng.choice(DOMAINS)}",
            ]
            lines.append(";".join(cells))
            if len(lines) >= 100_000:
                fh.write("\n".join(lines) + "\n")
                lines.clear()
        if lines:
            fh.write("\n".join(lines) + "\n")
    tmp.replace(path)


def ensure_package(rows: int) -> Path:
    folder = DATA / f"publish-{rows}"
    csv_path = folder / "fakturor.csv"
    if not csv_path.is_file():
        print(f"generating {rows:,} rows into {csv_path} ...", file=sys.stderr)
        generate(csv_path, rows)
    descriptor = {
        "name": "leverantorsfakturor",
        "title": "Leverantörsfakturor",
        "licenses": [{"name": "CC0-1.0", "title": "CC0 1.0"}],
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
    (folder / "rules.yaml").write_text(RULES, encoding="utf-8")
    return folder


def ensure_changed(folder: Path) -> Path:
    """The package again with one amount changed: next month's publish of the same table, in
    which everything is published anew and the history compares it with the last release."""
    changed = folder.with_name(folder.name + "-changed")
    changed.mkdir(exist_ok=True)
    for name in ("datapackage.json", "rules.yaml"):
        shutil.copyfile(folder / name, changed / name)
    target = changed / "fakturor.csv"
    if not target.is_file() or target.stat().st_mtime < (folder / "fakturor.csv").stat().st_mtime:
        with (folder / "fakturor.csv").open("rb") as src, target.open("wb") as out:
            out.write(src.readline())  # the header
            first = src.readline().split(b";")
            first[5] = b"1,00"  # belopp
            out.write(b";".join(first))
            shutil.copyfileobj(src, out, 1 << 20)
    return changed


# --- measuring whole processes -------------------------------------------------------------------


def _measure_child(command: list[str]) -> None:
    """Run `command`; print its wall time and its own peak RSS (this wrapper has one child)."""
    import resource

    start = time.perf_counter()
    proc = subprocess.run(command, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    print(
        json.dumps(
            {
                "wall": wall,
                "cpu": usage.ru_utime + usage.ru_stime,
                "peak_mb": usage.ru_maxrss / 1024,
                "code": proc.returncode,
                "stdout": proc.stdout[-2000:],
                "stderr": proc.stderr[-2000:],
            }
        )
    )


def measure(command: list[str], *, ok: tuple[int, ...] = (0,)) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, __file__, "--measure", "--", *command],
        capture_output=True,
        text=True,
        check=True,
    )
    out: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    if out["code"] not in ok:
        sys.stderr.write(out["stderr"])
        raise SystemExit(f"{' '.join(command)} exited {out['code']}")
    return out


def compile_installed() -> None:
    """Byte-compile opengov's modules, as `pip install` does for a regular install. An
    editable install leaves them to the first import, and with PYTHONDONTWRITEBYTECODE set
    every timed process would compile them again: install work, not a publish's."""
    subprocess.run(
        [sys.executable, "-c",
         "import compileall, os, opengov; "
         "compileall.compile_dir(os.path.dirname(opengov.__file__), quiet=1)"],
        check=True,
    )  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3, help="runs of each (median reported)")
    parser.add_argument(
        "--slow-runs",
        type=int,
        default=3,
        help="runs of frictionless (minutes each on a loaded machine)",
    )
    parser.add_argument(
        "--skip",
        nargs="*",
        default=[],
        choices=["frictionless", "pandera", "validate", "floor"],
        help="measurements to leave out",
    )
    parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("command", nargs="*", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        _measure_child(args.command)
        return
    folder = ensure_package(args.rows)
    changed = ensure_changed(folder)
    csv_path = folder / "fakturor.csv"
    compile_installed()
    work = DATA / "publish-runs"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    size_mb = csv_path.stat().st_size / 1e6
    load = os.getloadavg()[0]
    print(f"file: {csv_path} ({args.rows:,} rows, {size_mb:.0f} MB)")
    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}, load {load:.1f}")
    opengov = str(BIN / "opengov")
    python = sys.executable
    plans: dict[str, Any] = {}
    if "floor" not in args.skip:
        plans["floor (read+write CSV+Parquet+sha256)"] = lambda n: [
            python, str(HERE / "floor_publish.py"), str(csv_path), str(work / f"floor-{n}")
        ]  # fmt: skip
        plans["read_csv (typed)"] = lambda n: [
            python, str(HERE / "floor_publish.py"), str(csv_path), str(work), "--read-only"
        ]  # fmt: skip

    def publish(package: Path) -> Any:
        # Run n publishes to portal-n: fresh, then unchanged, then changed (plans run in order).
        return lambda n: [opengov, "publish", str(package), "--to", str(work / f"portal-{n}")]

    plans["opengov publish"] = publish(folder)
    plans["opengov publish (unchanged)"] = publish(folder)
    plans["opengov publish (one value changed)"] = publish(changed)
    if "validate" not in args.skip:
        plans["opengov validate"] = lambda n: [opengov, "validate", str(folder)]
    if "pandera" not in args.skip:
        plans["pandera (polars)"] = lambda n: [
            python,
            str(HERE / "pandera_check.py"),
            str(csv_path),
        ]
    if "frictionless" not in args.skip:
        plans["frictionless validate"] = lambda n: [
            str(BIN / "frictionless"), "validate", str(folder / "datapackage.json")
        ]  # fmt: skip
    results: dict[str, list[dict[str, Any]]] = {name: [] for name in plans}
    for n in range(args.runs):
        for name, plan in plans.items():
            if name == "frictionless validate" and n >= args.slow_runs:
                continue
            results[name].append(measure(plan(n)))
            if name.startswith("floor"):
                shutil.rmtree(work / f"floor-{n}", ignore_errors=True)
        for portal in work.glob("portal-*"):
            shutil.rmtree(portal, ignore_errors=True)
    print(f"load average after the runs: {os.getloadavg()[0]:.1f}")
    print(
        f"{'':<40}{'wall s':>9}{'cpu s':>8}{'rows/s':>12}{'peak RSS MB':>13}"
        f"   (median of {args.runs}; [each run's wall])"
    )
    medians: dict[str, tuple[float, float]] = {}
    cpu: dict[str, float] = {}
    for name, runs in results.items():
        if not runs:
            continue
        wall = statistics.median(r["wall"] for r in runs)
        peak = statistics.median(r["peak_mb"] for r in runs)
        cpu[name] = statistics.median(r["cpu"] for r in runs)
        medians[name] = (wall, peak)
        rate = args.rows / wall if wall else 0
        spread = ", ".join(f"{r['wall']:.2f}" for r in runs)
        print(f"{name:<40}{wall:>9.2f}{cpu[name]:>8.2f}{rate:>12,.0f}{peak:>13.0f}   [{spread}]")

    def ratio(a: str, b: str, target: str) -> None:
        if a in medians and b in medians:
            print(
                f"{a} / {b}: {medians[a][0] / medians[b][0]:.2f}x wall, "
                f"{cpu[a] / cpu[b]:.2f}x cpu ({target})"
            )

    ratio("opengov publish", "floor (read+write CSV+Parquet+sha256)", "target <= 2")
    ratio("opengov validate", "read_csv (typed)", "target <= 1.5")
    ratio("frictionless validate", "opengov validate", "target >= 30")
    ratio("pandera (polars)", "opengov validate", "target > 1")
    if "opengov publish (unchanged)" in medians:
        again = medians["opengov publish (unchanged)"][0]
        print(f"unchanged re-publish: {again:.2f} s (target <= 0.6)")
    ratio("opengov publish (one value changed)", "opengov publish", "history compared: no target")
    summary = {k: {"wall": w, "cpu": cpu[k], "peak_mb": p} for k, (w, p) in medians.items()}
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
