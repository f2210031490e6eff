"""`opengov import sql` against the real PostgreSQL and SQLite: types, constraints, the
snapshot's values, drafts that hold no data value, byte-identical re-imports, and a package
that publishes once a person has classified its fields, and not before."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
import yaml
from click.testing import CliRunner
from postgres_db import Database, postgres  # noqa: F401 - the session fixture
from sql_fixtures import GRANTS, MARKER, PERSONNUMMER, PG_SETUP, make_sqlite, pg_insert_grants

from opengov.cli import cli
from opengov.importers.sql import import_sql

pytestmark = pytest.mark.postgres
JAN_2024 = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)


@pytest.fixture(scope="session")
def pg(postgres: Database) -> Database:  # noqa: F811
    postgres.psql(PG_SETUP + pg_insert_grants())
    return postgres


@pytest.fixture
def pg_env(pg: Database, monkeypatch: pytest.MonkeyPatch) -> Database:
    for name in ("PGUSER", "PGPASSFILE", "PGSERVICE", "PGHOST", "PGDATABASE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PGPASSWORD", pg.password)
    return pg


def fields_by_name(package: Path) -> dict[str, dict[str, Any]]:
    descriptor = json.loads((package / "datapackage.json").read_text(encoding="utf-8"))
    return {f["name"]: f for f in descriptor["resources"][0]["schema"]["fields"]}


def every_file(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def classify_all(package: Path) -> None:
    """What a person does with the draft: take each suggestion (uncomment its line)."""
    rules = package / "rules.yaml"
    text = re.sub(r"(?m)^      # ([a-z0-9_]+: \{.*\})$", r"      \1", rules.read_text("utf-8"))
    rules.write_text(text, encoding="utf-8")


# --- PostgreSQL ---------------------------------------------------------------------------


def test_table_types_and_constraints(pg_env: Database, tmp_path: Path) -> None:
    out = tmp_path / "bidrag"
    result = import_sql(pg_env.url, table="bidrag", out=out)
    assert result.rows == len(GRANTS)
    assert result.changed
    fields = fields_by_name(out)
    assert list(fields) == [
        "id", "diarienummer", "mottagare", "belopp_kr", "andel", "beslutad", "registrerad",
        "aktiv", "personnummer", "kommentar", "referens", "stort",
    ]  # fmt: skip
    assert {n: f["type"] for n, f in fields.items()} == {
        "id": "integer", "diarienummer": "string", "mottagare": "string", "belopp_kr": "number",
        "andel": "number", "beslutad": "date", "registrerad": "datetime", "aktiv": "boolean",
        "personnummer": "string", "kommentar": "string", "referens": "string", "stort": "number",
    }  # fmt: skip
    assert fields["belopp_kr"]["title"] == "Belopp (kr)"
    assert fields["mottagare"]["title"] == "Mottagare"
    assert "title" not in fields["andel"]
    assert fields["referens"]["format"] == "uuid"
    assert fields["id"]["constraints"] == {"required": True}
    assert fields["diarienummer"]["constraints"] == {
        "required": True, "maxLength": 20, "unique": True
    }  # fmt: skip
    assert fields["beslutad"]["constraints"] == {"required": True}
    assert "constraints" not in fields["kommentar"]
    descriptor = json.loads((out / "datapackage.json").read_text("utf-8"))
    assert descriptor["resources"][0]["schema"]["primaryKey"] == ["id"]
    assert descriptor["resources"][0]["format"] == "parquet"
    # The multi-column UNIQUE has no Table Schema v1 form: said, not dropped silently.
    assert any("Mottagare" in note and "beslutad" in note for note in result.not_carried)


def test_snapshot_values_are_the_database_values(pg_env: Database, tmp_path: Path) -> None:
    out = tmp_path / "bidrag"
    import_sql(pg_env.url, table="bidrag", out=out)
    table = pq.read_table(out / "data" / "bidrag.parquet")
    rows = table.to_pylist()
    assert [r["id"] for r in rows] == [1, 2, 3, 4]  # primary-key order
    for row, source in zip(rows, GRANTS, strict=True):
        assert row["diarienummer"] == source[1]
        assert row["mottagare"] == source[2]
        assert row["belopp_kr"] == (None if source[3] is None else float(Decimal(source[3])))
        assert row["andel"] == source[4]
        assert row["beslutad"] == dt.date.fromisoformat(source[5])
        expected = dt.datetime.fromisoformat(source[6]) if source[6] else None
        assert row["registrerad"] == expected  # the same instant (stored in UTC)
        assert row["aktiv"] == source[7]
        assert row["personnummer"] == source[8]
        assert row["kommentar"] == source[9]
    assert rows[0]["referens"] == "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380000"
    # An unconstrained numeric keeps its exact decimal text.
    assert rows[0]["stort"] == "12345678901234567890.5"
    assert str(table.schema.field("registrerad").type) == "timestamp[us, tz=UTC]"


def test_drafts_hold_no_value_and_say_what_the_detectors_saw(
    pg_env: Database, tmp_path: Path
) -> None:
    out = tmp_path / "bidrag"
    result = CliRunner().invoke(
        cli, ["import", "sql", pg_env.url, "--table", "bidrag", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    drafts = {name: (out / name).read_text("utf-8") for name in
              ("datapackage.json", "rules.yaml", "import.json")}  # fmt: skip
    values = [MARKER, *PERSONNUMMER, "070-123 45 67", "asa@example.se", "Ängsbacken",
              "Schackklubb", "104824", "KS 2024/10"]  # fmt: skip
    for name, text in {**drafts, "output": result.output}.items():
        for value in values:
            assert value not in text, (name, value)
    rules = drafts["rules.yaml"]
    personnummer = rules[rules.index("      # personnummer: string") :].split("\n\n")[0]
    assert "75% of 4 sampled cells hold valid personnummer" in personnummer
    assert "25% of 4 sampled cells hold valid samordningsnummer" in personnummer
    assert "consider class secret, action drop, basis 21 kap. 7 § OSL" in personnummer
    assert "e-mail addresses" in rules and "Swedish phone numbers" in rules
    parsed = yaml.safe_load(rules)
    assert parsed["resources"]["bidrag"]["fields"] is None  # every field unclassified


def test_publish_waits_for_a_person_then_publishes(pg_env: Database, tmp_path: Path) -> None:
    out = tmp_path / "bidrag"
    import_sql(pg_env.url, table="bidrag", out=out)
    runner = CliRunner()
    portal = tmp_path / "portal"
    blocked = runner.invoke(cli, ["publish", str(out), "--to", str(portal)])
    assert blocked.exit_code == 5, blocked.output
    assert "bidrag.personnummer" in blocked.output
    assert not portal.exists()
    classify_all(out)
    done = runner.invoke(cli, ["publish", str(out), "--to", str(portal)])
    assert done.exit_code == 0, done.output
    published = (portal / "bidrag" / "data" / "bidrag.csv").read_text("utf-8")
    assert "personnummer" not in published.splitlines()[0]  # the suggestion dropped it
    for value in PERSONNUMMER:
        assert value not in published
    assert "Föreningen Ängsbacken" in published
    verified = runner.invoke(cli, ["verify", str(portal / "bidrag"), "--allow-unsigned"])
    assert verified.exit_code == 0, verified.output


def test_reimport_of_an_unchanged_table_is_byte_identical(pg_env: Database, tmp_path: Path) -> None:
    out = tmp_path / "bidrag"
    first = import_sql(pg_env.url, table="bidrag", out=out, now=JAN_2024)
    before = every_file(out)
    again = import_sql(
        pg_env.url, table="bidrag", out=out, now=dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    )
    assert first.changed and not again.changed
    assert every_file(out) == before  # the recorded import time included
    # A second folder from the same table holds the same bytes (but its own import time).
    other = tmp_path / "bidrag2"
    import_sql(pg_env.url, table="bidrag", out=other, now=JAN_2024)
    assert every_file(other) == before


def test_a_changed_table_is_a_new_snapshot_and_edited_rules_are_kept(
    pg_env: Database, tmp_path: Path
) -> None:
    pg_env.psql("CREATE TABLE andras (id integer PRIMARY KEY, namn text);"
                "INSERT INTO andras VALUES (1, 'Ett');")  # fmt: skip
    out = tmp_path / "andras"
    import_sql(pg_env.url, table="andras", out=out, now=JAN_2024)
    rules = out / "rules.yaml"
    edited = rules.read_text("utf-8").replace(
        "    fields:\n", "    fields:\n      id: {class: public}\n      namn: {class: public}\n"
    )
    rules.write_text(edited, encoding="utf-8")
    descriptor = json.loads((out / "datapackage.json").read_text("utf-8"))
    descriptor["title"] = "Ändrad titel"
    (out / "datapackage.json").write_text(json.dumps(descriptor), encoding="utf-8")
    pg_env.psql("INSERT INTO andras VALUES (2, 'Två');")
    result = import_sql(pg_env.url, table="andras", out=out,
                        now=dt.datetime(2025, 2, 3, tzinfo=dt.UTC))  # fmt: skip
    assert result.changed and result.rules == "kept" and result.unclassified == ()
    assert rules.read_text("utf-8") == edited
    assert json.loads((out / "datapackage.json").read_text("utf-8"))["title"] == "Ändrad titel"
    record = json.loads((out / "import.json").read_text("utf-8"))
    assert record["imported_at"] == "2025-02-03T00:00:00Z" and record["rows"] == 2
    pg_env.psql("DROP TABLE andras;")


def test_provenance_names_the_source_and_no_credential(pg_env: Database, tmp_path: Path) -> None:
    out = tmp_path / "q"
    query = 'SELECT id, "Mottagare" FROM bidrag WHERE aktiv ORDER BY id;'
    result = import_sql(pg_env.url, query=query, out=out, name="aktiva")
    record = json.loads((out / "import.json").read_text("utf-8"))
    assert record["source"] == {
        "driver": "postgresql", "host": "127.0.0.1", "port": pg_env.port,
        "database": pg_env.name, "query": query.rstrip(";"),
    }  # fmt: skip
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", record["imported_at"])
    assert result.rows == 2 and result.resource == "aktiva"
    for content in every_file(out).values():
        assert pg_env.password.encode() not in content
        assert pg_env.role.encode() not in content or pg_env.role == pg_env.name


def test_table_without_key_is_ordered_by_every_column(pg_env: Database, tmp_path: Path) -> None:
    out = tmp_path / "u"
    import_sql(pg_env.url, table="utan_nyckel", out=out)
    rows = pq.read_table(out / "data" / "utan_nyckel.parquet").to_pylist()
    assert [(r["namn"], r["antal"]) for r in rows] == [
        ("Västra", 1), ("Östra", 1), ("Östra", 2), (None, 3)
    ]  # fmt: skip


def test_quoted_and_qualified_table_names(pg_env: Database, tmp_path: Path) -> None:
    result = import_sql(pg_env.url, table='public."Stora Bokstäver"', out=tmp_path / "s")
    assert result.rows == 1 and result.resource == "stora-bokstaver"
    assert fields_by_name(tmp_path / "s")["id"]["title"] == "Id"


# --- SQLite ------------------------------------------------------------------------------


@pytest.mark.parametrize("absolute", [True, False])
def test_sqlite_table(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, absolute: bool) -> None:
    db = make_sqlite(tmp_path / "kommun.db")
    monkeypatch.chdir(tmp_path)
    url = f"sqlite:///{db}" if absolute else "sqlite:///kommun.db"
    out = tmp_path / "s"
    result = import_sql(url, table="bidrag", out=out)
    assert result.rows == len(GRANTS)
    fields = fields_by_name(out)
    assert {n: f["type"] for n, f in fields.items()} == {
        "id": "integer", "diarienummer": "string", "mottagare": "string", "belopp_kr": "number",
        "andel": "number", "beslutad": "date", "registrerad": "datetime", "aktiv": "boolean",
        "personnummer": "string", "kommentar": "string",
    }  # fmt: skip
    assert fields["diarienummer"]["constraints"] == {"required": True, "unique": True}
    assert fields["id"]["constraints"] == {"required": True}
    rows = pq.read_table(out / "data" / "bidrag.parquet").to_pylist()
    assert [r["aktiv"] for r in rows] == [True, False, None, True]
    assert rows[0]["mottagare"] == "Föreningen Ängsbacken"
    record = json.loads((out / "import.json").read_text("utf-8"))
    assert record["source"]["driver"] == "sqlite" and record["source"]["table"] == "bidrag"
    runner = CliRunner()
    assert runner.invoke(cli, ["validate", str(out)]).exit_code == 0
    assert runner.invoke(cli, ["publish", str(out), "--plan"]).exit_code == 5
    classify_all(out)
    published = runner.invoke(cli, ["publish", str(out), "--to", str(tmp_path / "portal")])
    assert published.exit_code == 0, published.output


def test_sqlite_reimport_is_byte_identical_and_the_file_is_not_written(tmp_path: Path) -> None:
    db = make_sqlite(tmp_path / "kommun.db")
    before_db = db.read_bytes()
    url = f"sqlite:///{db}"
    import_sql(url, table="bidrag", out=tmp_path / "a", now=JAN_2024)
    again = import_sql(url, table="bidrag", out=tmp_path / "a")
    assert not again.changed
    import_sql(url, table="bidrag", out=tmp_path / "b", now=JAN_2024)
    assert every_file(tmp_path / "a") == every_file(tmp_path / "b")
    assert db.read_bytes() == before_db
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a", "b", "kommun.db"]


# --- memory ------------------------------------------------------------------------------

_MEASURE = """
import sys
def peak_kib():  # this process's own peak: VmHWM restarts at exec, ru_maxrss does not
    with open('/proc/self/status') as status:
        return int(next(ln for ln in status if ln.startswith('VmHWM')).split()[1])
from pathlib import Path
from opengov.importers.sql import import_sql
result = import_sql(sys.argv[1], query=sys.argv[2], out=Path(sys.argv[3]), name="stor")
print(result.rows, peak_kib() * 1024)
"""


def _peak(pg: Database, query: str, out: Path) -> tuple[int, int]:
    done = subprocess.run(
        [sys.executable, "-c", _MEASURE, pg.url, query, str(out)],
        capture_output=True, text=True, check=True, env={**os.environ, **pg.env()},
    )  # fmt: skip
    rows, peak = done.stdout.split()
    return int(rows), int(peak)


def test_a_million_rows_stream_in_bounded_memory(pg: Database, tmp_path: Path) -> None:
    """Peak memory does not grow with the table: a quarter of the rows peaks about as high as
    all of them, and both stay well under what the table takes as Arrow in memory."""
    rows, peak_all = _peak(pg, "SELECT * FROM stor ORDER BY id", tmp_path / "all")
    assert rows == 1_000_000
    quarter, peak_quarter = _peak(
        pg, "SELECT * FROM stor WHERE id <= 250000 ORDER BY id", tmp_path / "quarter"
    )
    assert quarter == 250_000
    in_memory = pq.read_table(tmp_path / "all" / "data" / "stor.parquet").nbytes
    assert in_memory > 250 * 2**20  # the table is big enough for the check to mean something
    # Holding the rows would add three quarters of `in_memory` (over 190 MB) to the peak.
    assert peak_all - peak_quarter < 100 * 2**20, (peak_all, peak_quarter)
    assert peak_all < 400 * 2**20, peak_all
