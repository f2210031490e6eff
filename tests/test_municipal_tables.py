"""Supplier ledgers in the shapes municipalities and regions publish, against the national
schema (schemas/leverantorsreskontra-1.1.json): columns matched by name, optional columns
left out, UTF-16, Windows-1252, UTF-8 with a BOM, `,` `;` tab `|`, bare carriage returns.

Every fixture (tests/fixtures/leverantorsreskontra/, see its README) is validated and
published; the records read, validated and published are counted and must all be equal.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from opengov.cli import cli
from opengov.errors import InputError, SheetChoiceNeeded
from opengov.targets.static import publish_static
from opengov.validate import validate

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures" / "leverantorsreskontra"
SCHEMA = ROOT / "schemas" / "leverantorsreskontra-1.1.json"
EXAMPLE_RULES = ROOT / "datapackages" / "leverantorsreskontra-2024" / "rules.yaml"
SPEC = [f["name"] for f in json.loads(SCHEMA.read_text(encoding="utf-8"))["fields"]]
# fixture -> (encoding, delimiter, data rows)
VALID = {
    "kommun-utf16.csv": ("utf-16", ",", 24),
    "region-cp1252.csv": ("cp1252", ";", 30),
    "region-bom-cr.csv": ("utf-8-sig", ";", 18),
    "kommun-alfabetisk.csv": ("utf-8", ",", 20),
    "kommun-tabb.txt": ("cp1252", "\t", 12),
    "kommun-pipe.csv": ("utf-8", "|", 10),
}


def _source_rows(name: str) -> list[dict[str, str]]:
    """The fixture read independently of opengov (Python's csv, the known encoding)."""
    encoding, delimiter, _ = VALID[name]
    text = (FIXTURES / name).read_bytes().decode(encoding)
    return list(csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter))


def _amount(text: str) -> Decimal:
    return Decimal(text.replace(" ", "").replace(",", "."))


@pytest.mark.parametrize("name", sorted(VALID))
def test_fixture_validates_every_row(name: str) -> None:
    report = validate(FIXTURES / name, schema=SCHEMA)
    assert report.passed, report.to_dict()["resources"]
    (result,) = report.results
    assert result.rows == VALID[name][2] == len(_source_rows(name))
    assert result.error_count == 0


@pytest.mark.parametrize("name", sorted(VALID))
def test_fixture_publishes_every_record(name: str, tmp_path: Path) -> None:
    package = tmp_path / "ledger"
    (package / "data").mkdir(parents=True)
    (package / "schemas").mkdir()
    shutil.copy(FIXTURES / name, package / "data" / name)
    shutil.copy(SCHEMA, package / "schemas" / SCHEMA.name)
    shutil.copy(EXAMPLE_RULES, package / "rules.yaml")
    descriptor: dict[str, Any] = {
        "name": "ledger",
        "resources": [
            {
                "name": "fakturor",
                "path": f"data/{name}",
                "format": "csv",
                "schema": f"schemas/{SCHEMA.name}",
            }
        ],
    }
    (package / "datapackage.json").write_text(json.dumps(descriptor), encoding="utf-8")
    result = publish_static(package, tmp_path / "portal")
    assert result.status == "published"
    table = pq.read_table(tmp_path / "portal" / "ledger" / "data" / "fakturor.parquet")
    source = _source_rows(name)
    # In and out: every record, in schema order, the optional columns a file leaves out null.
    assert table.num_rows == len(source) == VALID[name][2]
    assert table.column_names == SPEC
    published = table.to_pylist()
    assert [r["verifikationsnummer"] for r in published] == [
        r["verifikationsnummer"] for r in source
    ]
    assert [Decimal(str(r["belopp"])) for r in published] == [_amount(r["belopp"]) for r in source]
    for column in SPEC:
        if column not in source[0]:
            assert all(r[column] is None for r in published), column
    konto = [r["konto_nr"] for r in published]
    assert konto == [int(r["konto_nr"]) for r in source]


@pytest.mark.parametrize(
    ("name", "error"), [("saknar-datum.csv", "missing-label"), ("extra-kolumn.csv", "extra-label")]
)
def test_a_mandatory_column_missing_or_a_foreign_column_fails(name: str, error: str) -> None:
    report = validate(FIXTURES / name, schema=SCHEMA)
    assert not report.passed
    types = {f.type for r in report.results for f in r.samples}
    assert types == {error}


def test_every_optional_column_may_be_left_out_but_no_mandatory_one(tmp_path: Path) -> None:
    rows = _source_rows("kommun-pipe.csv")
    for dropped in SPEC:
        columns = [c for c in SPEC if c != dropped]
        path = tmp_path / f"utan-{dropped}.csv"
        out = io.StringIO()
        writer = csv.writer(out, delimiter=";", lineterminator="\n")
        writer.writerow(columns)
        writer.writerows([[r[c] for c in columns] for r in rows])
        path.write_text(out.getvalue(), encoding="utf-8")
        report = validate(path, schema=SCHEMA)
        mandatory = SPEC.index(dropped) < 9
        assert report.passed is not mandatory, dropped
        if mandatory:
            (finding,) = report.results[0].samples
            assert (finding.type, finding.field_name) == ("missing-label", dropped)


def test_utf16_labels_are_read_not_masked() -> None:
    report = validate(FIXTURES / "kommun-utf16.csv", schema=SCHEMA)
    assert report.results[0].labels == SPEC


@pytest.mark.parametrize(
    ("data", "why"),
    [
        ("kopare;belopp\n".encode("utf-16-le"), "zero bytes and no byte order mark"),
        (b"kopare;belopp\n\x81\x8d;1\n", "not UTF-8, and bytes Windows-1252 does not define"),
    ],
)
def test_an_undetectable_encoding_names_the_choices(tmp_path: Path, data: bytes, why: str) -> None:
    path = tmp_path / "okand.csv"
    path.write_bytes(data)
    with pytest.raises(InputError) as caught:
        validate(path, schema=SCHEMA)
    message = caught.value.message
    assert why in message and "utf-16" in message and "windows-1252" in message


@pytest.mark.parametrize(
    ("encoding", "bom"),
    [("utf-16-le", b"\xff\xfe"), ("utf-16-be", b"\xfe\xff"), ("utf-32-le", b"\xff\xfe\x00\x00")],
)
def test_wide_encodings_are_told_by_their_byte_order_mark(
    tmp_path: Path, encoding: str, bom: str
) -> None:
    text = (FIXTURES / "kommun-pipe.csv").read_text(encoding="utf-8")
    path = tmp_path / "bred.csv"
    path.write_bytes(bom + text.encode(encoding))
    report = validate(path, schema=SCHEMA)
    assert report.passed and report.results[0].rows == 10


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_delimiter_is_sniffed_even_when_the_header_holds_another(
    tmp_path: Path, delimiter: str
) -> None:
    schema = tmp_path / "s.json"
    fields = [{"name": "Leverantör;Belopp, kr"}, {"name": "Belopp", "type": "integer"}]
    schema.write_text(json.dumps({"fields": fields}), encoding="utf-8")
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\n")
    writer.writerow([f["name"] for f in fields])
    writer.writerows([[f"Leverantör {i}", str(i * 100)] for i in range(30)])
    path = tmp_path / "d.csv"
    path.write_text(out.getvalue(), encoding="utf-8")
    report = validate(path, schema=schema)
    assert report.passed, report.to_dict()
    assert report.results[0].rows == 30


def test_cli_options_for_a_single_file(tmp_path: Path) -> None:
    """--delimiter and --encoding override what is worked out; both refused for packages."""
    path = tmp_path / "d.csv"
    text = (FIXTURES / "kommun-tabb.txt").read_bytes().decode("cp1252").replace("\t", ":")
    path.write_bytes(text.encode("cp1252"))
    runner = CliRunner()
    base = ["validate", str(path), "--schema", str(SCHEMA)]
    assert runner.invoke(cli, [*base, "--delimiter", ":"]).exit_code == 0
    wrong = runner.invoke(cli, [*base, "--delimiter", ":", "--encoding", "utf-8"])
    assert wrong.exit_code == 6 and "not valid utf-8" in wrong.output.lower()
    example = str(ROOT / "datapackages" / "leverantorsreskontra-2024")
    package = runner.invoke(cli, ["validate", example, "--encoding", "utf-8"])
    assert package.exit_code == 6 and "single data file" in package.output


def _workbook(path: Path, sheets: list[tuple[str, list[list[Any]]]]) -> None:
    import openpyxl

    book = openpyxl.Workbook()
    book.remove(book.active)
    for title, rows in sheets:
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
    book.save(path)


def test_xlsx_with_a_description_sheet_first_names_the_sheets(tmp_path: Path) -> None:
    rows = _source_rows("kommun-pipe.csv")
    data = [SPEC] + [[r[c] for c in SPEC] for r in rows]
    path = tmp_path / "ledger.xlsx"
    about = [["Leverantörsreskontra 2024"], ["Källa: ekonomisystemet"]]
    _workbook(path, [("Beskrivning", about), ("Data", data)])
    with pytest.raises(SheetChoiceNeeded) as caught:
        validate(path, schema=SCHEMA)
    assert "'Beskrivning'" in caught.value.message and "'Data'" in caught.value.message
    report = validate(path, schema=SCHEMA, sheet="Data")
    assert report.passed and report.results[0].rows == 10
    with pytest.raises(SheetChoiceNeeded, match="'Beskrivning', 'Data'"):
        validate(path, schema=SCHEMA, sheet="Blad1")
    result = CliRunner().invoke(cli, ["validate", str(path), "--schema", str(SCHEMA)])
    assert result.exit_code == SheetChoiceNeeded.exit_code and "--sheet" in result.output


def _declared_package(tmp_path: Path, extra: dict[str, Any]) -> Path:
    package = tmp_path / "ledger"
    (package / "data").mkdir(parents=True, exist_ok=True)
    shutil.copy(FIXTURES / "kommun-pipe.csv", package / "data" / "f.csv")
    shutil.copy(EXAMPLE_RULES, package / "rules.yaml")
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    resource = {"name": "fakturor", "path": "data/f.csv", "schema": schema, **extra}
    (package / "datapackage.json").write_text(
        json.dumps({"name": "ledger", "resources": [resource]}), encoding="utf-8"
    )
    return package


def _digests() -> tuple[str, str, int]:
    import hashlib

    data = (FIXTURES / "kommun-pipe.csv").read_bytes()
    return hashlib.sha256(data).hexdigest(), hashlib.md5(data).hexdigest(), len(data)


@pytest.mark.parametrize("engine", ["auto", "frictionless"])
def test_declared_hash_bytes_and_rows_are_checked(tmp_path: Path, engine: str) -> None:
    sha, md5, size = _digests()
    right = {"hash": f"sha256:{sha}", "bytes": size, "rows": 10, "fields": 15}
    report = validate(_declared_package(tmp_path / "a", right), engine=engine)
    assert report.passed, report.to_dict()
    assert validate(_declared_package(tmp_path / "m", {"hash": md5}), engine=engine).passed
    wrong = {"hash": "sha256:" + "0" * 64, "bytes": size + 1, "rows": 11, "fields": 14}
    report = validate(_declared_package(tmp_path / "b", wrong), engine=engine)
    assert not report.passed
    types = sorted(f.type for r in report.results for f in r.samples)
    assert types == ["byte-count", "field-count", "hash-count", "row-count"]
    bad_md5 = validate(_declared_package(tmp_path / "c", {"hash": "0" * 32}), engine=engine)
    assert [f.type for r in bad_md5.results for f in r.samples] == ["hash-count"]


def test_a_declared_hash_mismatch_refuses_the_publish(tmp_path: Path) -> None:
    from opengov.errors import ValidationFailed

    package = _declared_package(tmp_path, {"hash": "sha256:" + "1" * 64})
    with pytest.raises(ValidationFailed):
        publish_static(package, tmp_path / "portal")
    assert not (tmp_path / "portal" / "ledger").exists()
    sha, _, size = _digests()
    ok = _declared_package(tmp_path / "ok", {"hash": f"sha256:{sha}", "bytes": size})
    assert publish_static(ok, tmp_path / "portal").status == "published"
