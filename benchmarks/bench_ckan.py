"""Publishing to CKAN: opengov against frictionless' Package.publish, same package, same portal;
and opengov's DataStore loads: a first load, an unchanged re-publish, one changed row.

Needs the test portal (scripts/ckan-portal.sh start; this reads .ckan/env) and, for the
frictionless side, the package frictionless-ckan-mapper.

    .venv/bin/python benchmarks/bench_ckan.py                 # files: 200,000 rows (~22 MB);
                                                              # DataStore: 1,000,000 rows
    .venv/bin/python benchmarks/bench_ckan.py --rows 20000 --runs 3 --datastore-rows 0
    .venv/bin/python benchmarks/bench_ckan.py --rows 0 --datastore-rows 100000
    .venv/bin/python benchmarks/bench_ckan.py --package datapackages/leverantorsreskontra-2024

The file measurements publish with the DataStore off (what they measured before the
DataStore existed). The DataStore measurements publish a narrow ledger (5 columns, a primary
key, about 37 bytes a row: a million rows stay under the test portal's 50 MB per file) with the
DataStore on; "rows sent" counts the rows in datastore_create and datastore_upsert requests
plus the keys in datastore_delete requests.

Every measurement runs in a fresh Python process (as a command-line run would; frictionless is
about ten times faster on a second publish within one process). Requests and bytes are
counted the same way for both tools: every HTTP request that leaves through requests'
HTTPAdapter, with its body size; imports happen before the clock starts. opengov's figures
include building the release (validation, redaction, CSV and Parquet); frictionless publishes
the source package as it is, without validating or redacting it. Every dataset created is
purged afterwards.
"""

from __future__ import annotations

import argparse
import functools
import os
import random
import shlex
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ckanapi
import requests
import requests.adapters

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from opengov.targets.ckan.publish import publish_ckan  # noqa: E402
from opengov.targets.ckan.settings import CkanSettings  # noqa: E402

# ----------------------------------------------------------------------------- counting


@dataclass
class Count:
    requests: int = 0
    api: int = 0
    sent: int = 0
    datastore: int = 0  # bytes sent in datastore_* requests


COUNT = Count()
_send = requests.adapters.HTTPAdapter.send


def _counting_send(self: Any, request: requests.PreparedRequest, **kw: Any) -> Any:
    COUNT.requests += 1
    if "/api/" in (request.url or ""):
        COUNT.api += 1
    body = request.body
    if body is not None:
        COUNT.sent += len(body)
        if "/api/action/datastore_" in (request.url or ""):
            COUNT.datastore += len(body)
    return _send(self, request, **kw)


requests.adapters.HTTPAdapter.send = _counting_send  # type: ignore[method-assign]


def measure(fn: Callable[[], Any]) -> tuple[float, Count, Any]:
    global COUNT
    COUNT = Count()
    t0 = time.perf_counter()
    result = fn()
    wall = time.perf_counter() - t0
    done, COUNT = COUNT, Count()  # later requests (clean-up) must not add to this one
    return wall, done, result


# ----------------------------------------------------------------------------- the package

LEVERANTORER = ["Bygg & Anläggning AB", "Kontorsvaror i Norr AB", "Skolmat Sverige AB",
                "Trafikservice HB", "Konsultbolaget Öst AB", "Energi & Värme AB"]  # fmt: skip
FORVALTNINGAR = ["Kommunstyrelseförvaltningen", "Barn- och utbildningsförvaltningen",
                 "Socialförvaltningen", "Samhällsbyggnadsförvaltningen"]  # fmt: skip
SCHEMA: dict[str, Any] = {
    "fields": [
        {"name": "verifikationsnummer", "type": "integer", "constraints": {"required": True}},
        {"name": "leverantor", "type": "string"},
        {"name": "organisationsnummer", "type": "string"},
        {"name": "konto", "type": "integer"},
        {"name": "kontonamn", "type": "string"},
        {"name": "belopp", "type": "number"},
        {"name": "bokforingsdatum", "type": "date"},
        {"name": "forvaltning", "type": "string"},
        {"name": "grund", "type": "string"},
    ]
}


def make_package(root: Path, name: str, rows: int) -> Path:
    """A supplier-invoice table of `rows` rows (about 110 bytes each) and a 6-row table."""
    rng = random.Random(4711)
    (root / "data").mkdir(parents=True)
    with (root / "data" / "fakturor.csv").open("w", encoding="utf-8", newline="") as fh:
        fh.write(",".join(f["name"] for f in SCHEMA["fields"]) + "\n")
        for i in range(rows):
            fh.write(
                f"{100000 + i},{rng.choice(LEVERANTORER)},55{rng.randrange(10**7, 10**8)},"
                f"{rng.randrange(4000, 7999)},Material,"
                f"{rng.randrange(100, 10**6) / 100:.2f},2024-{rng.randrange(1, 13):02d}-"
                f"{rng.randrange(1, 29):02d},{rng.choice(FORVALTNINGAR)},"
                f"Avtal {rng.randrange(1, 999)}\n"
            )
    (root / "data" / "forvaltningar.csv").write_text(
        "kod,namn\n" + "".join(f"{i},{n}\n" for i, n in enumerate([*FORVALTNINGAR, "a", "b"])),
        encoding="utf-8",
    )
    import json

    descriptor = {
        "name": name,
        "title": "Leverantörsfakturor (benchmark)",
        "licenses": [
            {"name": "CC0-1.0", "path": "http://creativecommons.org/publicdomain/zero/1.0/"}
        ],
        "resources": [
            {"name": "fakturor", "path": "data/fakturor.csv", "format": "csv", "schema": SCHEMA},
            {
                "name": "forvaltningar",
                "path": "data/forvaltningar.csv",
                "format": "csv",
                "schema": {
                    "fields": [
                        {"name": "kod", "type": "integer"},
                        {"name": "namn", "type": "string"},
                    ]
                },
            },
        ],
    }
    (root / "datapackage.json").write_text(json.dumps(descriptor, ensure_ascii=False))
    fields = "".join(
        f"      {f['name']}: {{class: public}}\n"
        for f in SCHEMA["fields"]
        if f["name"] != "organisationsnummer"
    )
    (root / "rules.yaml").write_text(
        "version: 1\ndecided_by: Ekonomiavdelningen\nresources:\n  fakturor:\n    fields:\n"
        + fields
        + "      organisationsnummer: {class: personal, action: drop, "
        'basis: "21 kap. 7 § OSL"}\n'
        "  forvaltningar:\n    fields:\n      kod: {class: public}\n      namn: {class: public}\n",
        encoding="utf-8",
    )
    return root


LEDGER_SCHEMA: dict[str, Any] = {
    "fields": [
        {"name": "verifikationsnummer", "type": "integer", "title": "Verifikationsnummer",
         "constraints": {"required": True}},
        {"name": "konto", "type": "integer", "title": "Konto"},
        {"name": "belopp", "type": "number", "title": "Belopp", "description": "Kronor"},
        {"name": "bokforingsdatum", "type": "date", "title": "Bokföringsdatum"},
        {"name": "forvaltning", "type": "string", "title": "Förvaltning"},
    ],
    "primaryKey": ["verifikationsnummer"],
}  # fmt: skip


def make_ledger(root: Path, name: str, rows: int) -> Path:
    """A narrow ledger with a primary key for the DataStore measurements: about 37 bytes a
    row, so a million rows stay under the test portal's 50 MB per file."""
    import json

    rng = random.Random(4711)
    (root / "data").mkdir(parents=True)
    codes = ["KS", "BUN", "SOC", "SBF", "KFN"]
    with (root / "data" / "huvudbok.csv").open("w", encoding="utf-8", newline="") as fh:
        fh.write(",".join(f["name"] for f in LEDGER_SCHEMA["fields"]) + "\n")
        for i in range(rows):
            fh.write(
                f"{1000000 + i},{rng.randrange(4000, 7999)},{rng.randrange(100, 10**6) / 100:.2f},"
                f"2024-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d},"
                f"{rng.choice(codes)}\n"
            )
    descriptor = {
        "name": name,
        "title": "Huvudbok (benchmark)",
        "licenses": [{"name": "CC0-1.0"}],
        "resources": [
            {"name": "huvudbok", "path": "data/huvudbok.csv", "format": "csv",
             "schema": LEDGER_SCHEMA}
        ],
    }  # fmt: skip
    (root / "datapackage.json").write_text(json.dumps(descriptor, ensure_ascii=False))
    fields = "".join(f"      {f['name']}: {{class: public}}\n" for f in LEDGER_SCHEMA["fields"])
    (root / "rules.yaml").write_text(
        "version: 1\ndecided_by: Ekonomiavdelningen\nresources:\n  huvudbok:\n    fields:\n"
        + fields,
        encoding="utf-8",
    )
    return root


def change_one_row(root: Path) -> None:
    """A new amount on the middle row of the ledger (the file is rewritten, not timed)."""
    path = root / "data" / "huvudbok.csv"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    middle = len(lines) // 2
    cells = lines[middle].rstrip("\n").split(",")
    cells[2] = f"{float(cells[2]) + 1:.2f}"
    lines[middle] = ",".join(cells) + "\n"
    path.write_text("".join(lines), encoding="utf-8")


def copy_package(src: Path, dst: Path, name: str) -> Path:
    import json
    import shutil

    shutil.copytree(src, dst)
    desc = json.loads((dst / "datapackage.json").read_text(encoding="utf-8"))
    desc["name"] = name
    (dst / "datapackage.json").write_text(json.dumps(desc, ensure_ascii=False), encoding="utf-8")
    return dst


# ----------------------------------------------------------------------------- the tools


def env() -> dict[str, str]:
    path = ROOT / ".ckan" / "env"
    if not path.is_file():
        sys.exit("no .ckan/env: start the portal with scripts/ckan-portal.sh start")
    out = {}
    for line in path.read_text().splitlines():
        if "=" in line:
            key, value = line.split("=", 1)
            out[key] = shlex.split(value)[0] if value else ""
    return out


def opengov_publish(path: Path, settings: CkanSettings) -> dict[str, Any]:
    return publish_ckan(path, settings, agent="ci:benchmark").to_dict()


def without_datastore(settings: CkanSettings) -> CkanSettings:
    from dataclasses import replace

    return replace(settings, datastore=False)


def opengov_build_only(path: Path) -> None:
    """What opengov spends before talking to CKAN: validate, redact, write CSV and Parquet."""
    from opengov.load import load
    from opengov.release.build import build

    build(load(path)).cleanup()


def frictionless_publish(
    path: Path, url: str, token: str, org: str, name: str, update: bool
) -> Any:
    from frictionless import Package
    from frictionless.portals import CkanControl

    package = Package(str(path / "datapackage.json"))
    control = CkanControl(apikey=token, organization_name=org, dataset=name, allow_update=update)
    return package.publish(f"{url}/dataset/{name}", control=control)


STEPS: dict[str, Callable[[Path, str, CkanSettings], Any]] = {
    "og": lambda path, name, s: opengov_publish(path, without_datastore(s)),
    "og-ds": lambda path, name, s: opengov_publish(path, s),
    "og-build": lambda path, name, s: opengov_build_only(path),
    "fl": lambda path, name, s: frictionless_publish(
        path, s.url, s.token or "", s.org, name, False
    ),
    "fl-update": lambda path, name, s: frictionless_publish(
        path, s.url, s.token or "", s.org, name, True
    ),
}


def worker(step: str, path: Path, name: str) -> None:
    """One measurement in this (fresh) process; prints its figures as JSON."""
    import json

    e = env()
    token = Path(e["OPENGOV_TEST_CKAN_TOKEN_FILE"]).read_text().strip()
    settings = CkanSettings(
        url=e["OPENGOV_TEST_CKAN_URL"], org=e["OPENGOV_TEST_CKAN_ORG"], token=token
    )
    # Import what the steps need before the clock starts: we time publishing, not imports.
    import frictionless.portals  # noqa: F401

    import opengov.redact.apply
    import opengov.sources.readers
    import opengov.validate.dispatch  # noqa: F401

    wall, count, result = measure(functools.partial(STEPS[step], path, name, settings))
    status = result.get("status") if isinstance(result, dict) else None
    store = (result.get("stats") or {}).get("datastore") or {} if isinstance(result, dict) else {}
    rows = store.get("rows_sent", 0) + store.get("rows_deleted", 0) if store else None
    print(json.dumps({"wall": wall, "requests": count.requests, "api": count.api,
                      "sent": count.sent, "datastore": count.datastore, "status": status,
                      "rows": rows}))  # fmt: skip


LAST_ROWS: list[int | None] = [None]


def fresh(step: str, path: Path, name: str) -> tuple[float, Count, str | None]:
    """Run one measurement in a new Python process, as a command-line run would be."""
    import json
    import subprocess

    out = subprocess.run(
        [sys.executable, __file__, "--worker", step, str(path), name],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    data = json.loads(out.strip().splitlines()[-1])
    LAST_ROWS[0] = data.get("rows")
    count = Count(data["requests"], data["api"], data["sent"], data["datastore"])
    return data["wall"], count, data["status"]


def main() -> None:
    if len(sys.argv) == 5 and sys.argv[1] == "--worker":
        worker(sys.argv[2], Path(sys.argv[3]), sys.argv[4])
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=1, help="runs per measurement (median)")
    parser.add_argument("--package", type=Path, help="publish this package instead")
    parser.add_argument("--skip-frictionless", action="store_true")
    parser.add_argument(
        "--datastore-rows",
        type=int,
        default=1_000_000,
        help="rows of the DataStore measurements (0: skip them)",
    )
    args = parser.parse_args()

    e = env()
    url = e["OPENGOV_TEST_CKAN_URL"]
    token = Path(e["OPENGOV_TEST_CKAN_TOKEN_FILE"]).read_text().strip()
    admin = ckanapi.RemoteCKAN(url, apikey=token)
    created: list[str] = []
    rows: dict[str, list[tuple[float, Count]]] = {}
    sent_rows: dict[str, list[int]] = {}

    def record(key: str, wall: float, count: Count) -> None:
        rows.setdefault(key, []).append((wall, count))
        if LAST_ROWS[0] is not None and key.startswith("DataStore"):
            sent_rows.setdefault(key, []).append(LAST_ROWS[0])

    with tempfile.TemporaryDirectory(prefix="bench-ckan-") as tmp:
        base = Path(tmp)
        if args.package:
            source = args.package.resolve()
        elif args.rows == 0:
            source = None
        else:
            t0 = time.perf_counter()
            source = make_package(base / "source", "bench", args.rows)
            size = (source / "data" / "fakturor.csv").stat().st_size
            print(f"generated {args.rows:,} rows, {size / 1e6:.1f} MB in "
                  f"{time.perf_counter() - t0:.1f} s", file=sys.stderr)  # fmt: skip
        try:
            for run in range(args.runs if source is not None else 0):
                name = f"bench-og-{uuid.uuid4().hex[:8]}"
                created.append(name)
                pkg = copy_package(source, base / f"og{run}", name)
                wall, count, _ = fresh("og", pkg, name)
                record("opengov first publish", wall, count)
                wall, count, _ = fresh("og-build", pkg, name)
                record("  of which building the release (no CKAN)", wall, count)
                wall, count, status = fresh("og", pkg, name)
                assert status == "unchanged", status
                record("opengov unchanged re-publish", wall, count)
                if args.skip_frictionless:
                    continue
                name = f"bench-fl-{uuid.uuid4().hex[:8]}"
                created.append(name)
                pkg = copy_package(source, base / f"fl{run}", name)
                wall, count, _ = fresh("fl", pkg, name)
                record("frictionless first publish", wall, count)
                wall, count, _ = fresh("fl-update", pkg, name)
                record("frictionless re-publish (allow_update)", wall, count)
            if args.datastore_rows:
                t0 = time.perf_counter()
                keyed = make_ledger(base / "ds-source", "bench", args.datastore_rows)
                print(f"generated {args.datastore_rows:,} keyed rows in "
                      f"{time.perf_counter() - t0:.1f} s", file=sys.stderr)  # fmt: skip
            for run in range(args.runs if args.datastore_rows else 0):
                name = f"bench-ds-{uuid.uuid4().hex[:8]}"
                created.append(name)
                pkg = copy_package(keyed, base / f"ds{run}", name)
                n = f"{args.datastore_rows:,}"
                wall, count, status = fresh("og-ds", pkg, name)
                assert status == "published", status
                record(f"DataStore: first load, {n} rows", wall, count)
                wall, count, status = fresh("og-ds", pkg, name)
                assert status == "unchanged", status
                record("DataStore: unchanged re-publish", wall, count)
                change_one_row(pkg)
                wall, count, status = fresh("og-ds", pkg, name)
                assert status == "published", status
                record("DataStore: one changed row", wall, count)
        finally:
            for name in created:
                try:
                    admin.action.dataset_purge(id=name)
                except ckanapi.NotFound:
                    pass

    version = ckanapi.RemoteCKAN(url).action.status_show()["ckan_version"]
    print(f"\nCKAN {version} at {url}, median of {args.runs} run(s)\n")
    head = f"{'':42} {'wall s':>8} {'requests':>9} {'API calls':>10} {'MB sent':>9}"
    print(f"{head} {'of it DS':>9} {'rows sent':>10}  each run (s)")
    for key, values in rows.items():
        wall = statistics.median(v[0] for v in values)
        reqs = statistics.median(v[1].requests for v in values)
        api = statistics.median(v[1].api for v in values)
        sent = statistics.median(v[1].sent for v in values) / 1e6
        ds = statistics.median(v[1].datastore for v in values) / 1e6
        counted = sent_rows.get(key)
        shown = f"{statistics.median(counted):10,.0f}" if counted else f"{'':10}"
        each = " ".join(f"{v[0]:.2f}" for v in values)
        print(f"{key:42} {wall:8.2f} {reqs:9.0f} {api:10.0f} {sent:9.3f} {ds:9.3f} {shown}  "
              f"{each}")  # fmt: skip
    print(
        "\nopengov requests = API calls + read-back downloads (every uploaded file is fetched "
        "again and its sha256 checked before the dataset is made public). MB sent includes the "
        "changed files (a changed row changes the table's CSV and Parquet); 'of it DS' is what "
        "the datastore_* requests sent."
    )


if __name__ == "__main__":
    os.environ.setdefault("OPENGOV_AGENT", "ci:benchmark")
    main()
