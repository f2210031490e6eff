"""Shared helpers for the peer contract tests (tests/test_peer_*.py): a black-box suite written
from the documentation only (README.md and docs/), running the installed `opengov` command as a
subprocess, in a clean environment, on packages built here in tmp_path."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
OPENGOV = str(Path(sys.executable).parent / "opengov")

# Test personnummer (Skatteverket's test series shape, fictitious) and other withheld values.
PNR = "811228-9874"
PNR_12 = "19700101-1233"
PHONE = "070-123 45 67"
EMAIL = "anna.andersson@example.se"


def environment(home: Path) -> dict[str, str]:
    """A clean environment: no OPENGOV_/CKAN_ variable of the machine, a home, trust store and
    cache of the test's own."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENGOV_", "CKAN_", "PG"))}
    env.update(
        HOME=str(home),
        OPENGOV_TRUST_STORE=str(home / "trust.json"),
        OPENGOV_CACHE_DIR=str(home / "cache"),
        NO_COLOR="1",
    )
    return env


def og(
    *args: str | Path, cwd: Path, env: dict[str, str] | None = None, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    """Run `opengov ARGS` in cwd; a traceback is never an acceptable output."""
    done = subprocess.run(
        [OPENGOV, *map(str, args)], cwd=cwd, env=env or environment(cwd), capture_output=True,
        text=True, timeout=120, check=False, input=stdin,
    )  # fmt: skip
    if os.environ.get("PEER_LOG"):
        with open(os.environ["PEER_LOG"], "a") as log:
            log.write(f"{args[0]} {args[1] if len(args) > 1 else ''}\n")
    assert "Traceback" not in done.stdout + done.stderr, done.stdout + done.stderr
    assert done.returncode != 70, done.stdout + done.stderr
    return done


def ok(*args: str | Path, cwd: Path, env: dict[str, str] | None = None) -> str:
    done = og(*args, cwd=cwd, env=env)
    assert done.returncode == 0, (
        f"opengov {args}: exit {done.returncode}\n{done.stdout}{done.stderr}"
    )
    return done.stdout


def as_json(*args: str | Path, cwd: Path, env: dict[str, str] | None = None) -> Any:
    return json.loads(ok(*args, "--json", cwd=cwd, env=env))


GRANTS_HEADER = "id;mottagare;personnummer;belopp;beslutsdatum;kommentar"
GRANTS_ROWS = [
    f"1;Exempelby IF;{PNR};1 250,50;2024-03-01;Bidrag för verksamhet",
    f"2;Körföreningen Stämman;{PNR_12};300,00;2024-04-12;Kontakt {PHONE}",
    "3;Västra Schack;640823-3234;12 000,00;2024-05-20;Lokalhyra",
]

RULES = """\
version: 1
decided_by: "Kultur- och fritidsförvaltningen, registrator"
decided_at: 2025-03-01
resources:
  bidrag:
    fields:
      id: {class: public}
      mottagare:
        class: public
        names: public
        basis: "2 kap. 1 § TF"
        reason: "Föreningar som fått bidrag"
      personnummer:
        class: secret
        action: drop
        basis: "21 kap. 7 § OSL"
        reason: "Kontaktpersonens personnummer publiceras inte"
      belopp: {class: public}
      beslutsdatum: {class: public}
      kommentar: {class: public, scan: [personnummer, samordningsnummer, email, phone]}
"""


def descriptor(name: str = "bidrag", **resource: Any) -> dict[str, Any]:
    return {
        "name": name,
        "title": "Bidrag till föreningar 2024",
        "licenses": [{"name": "CC0-1.0", "title": "CC0 1.0"}],
        "resources": [
            {
                "name": "bidrag",
                "path": "data/bidrag.csv",
                "format": "csv",
                "encoding": "utf-8",
                "dialect": {"delimiter": ";"},
                "schema": {
                    "fields": [
                        {"name": "id", "type": "integer"},
                        {"name": "mottagare", "type": "string"},
                        {"name": "personnummer", "type": "string"},
                        {
                            "name": "belopp",
                            "type": "number",
                            "decimalChar": ",",
                            "groupChar": " ",
                        },
                        {"name": "beslutsdatum", "type": "date"},
                        {"name": "kommentar", "type": "string"},
                    ],
                    "primaryKey": ["id"],
                },
                **resource,
            }
        ],
    }


def grants_package(
    folder: Path,
    rows: list[str] | None = None,
    rules: str | None = RULES,
    name: str = "bidrag",
) -> Path:
    """A package as docs/rules.md and README.md describe one: datapackage.json, the data and
    rules.yaml beside it."""
    (folder / "data").mkdir(parents=True, exist_ok=True)
    (folder / "datapackage.json").write_text(
        json.dumps(descriptor(name), ensure_ascii=False, indent=2), "utf-8"
    )
    lines = [GRANTS_HEADER, *(GRANTS_ROWS if rows is None else rows)]
    (folder / "data" / "bidrag.csv").write_text("\n".join(lines) + "\n", "utf-8")
    if rules is not None:
        (folder / "rules.yaml").write_text(rules, "utf-8")
    return folder


def tree(folder: Path) -> dict[str, bytes]:
    """Every file under folder by its relative path, with its bytes."""
    if not folder.exists():
        return {}
    return {
        str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


def without_timings(value: Any) -> Any:
    """A report with its wall-clock figures left out (they differ between two runs)."""
    if isinstance(value, dict):
        return {k: without_timings(v) for k, v in value.items() if k != "seconds"}
    if isinstance(value, list):
        return [without_timings(v) for v in value]
    return value


def library_publish(package: Path, portal: Path, home: Path, **options: Any) -> dict[str, Any]:
    """A publish through the documented library call (opengov.targets.static.publish_static),
    in this process with the environment `og` gives the command: for setting a portal up
    without paying for another interpreter's imports."""
    import pytest

    from opengov.targets.static import publish_static

    with pytest.MonkeyPatch.context() as patch:
        for name in list(os.environ):
            if name.startswith(("OPENGOV_", "CKAN_")):
                patch.delenv(name)
        for name, value in environment(home).items():
            patch.setenv(name, value)
        patch.chdir(home)
        result = publish_static(package, portal, **options).to_dict()
    assert result["status"] in {"published", "unchanged"}, result
    return result


def og_all(
    commands: list[list[str | Path]], cwd: Path, env: dict[str, str] | None = None
) -> list[subprocess.CompletedProcess[str]]:
    """Independent commands run side by side (as many as there are processors), in order of
    the list; each checked as `og` checks one."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        return list(pool.map(lambda args: og(*args, cwd=cwd, env=env), commands))
