"""Real-world CSV shapes (tests/fixtures/real-shapes/, see its README): every record counted in,
validated and published, or the file refused with its own exit code; and frictionless, the
reference, asked the same question.

Each fixture goes through `opengov validate FILE` (no schema: the one `opengov init` drafts),
through frictionless' own `validate`, and, where it validates, through `opengov init` and
`opengov publish` to a static portal, whose CSV and Parquet are counted. The rows the file
holds are counted independently (Python's csv module, the known encoding and delimiter).
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import re
import warnings
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from opengov.cli import cli
from opengov.errors import InputError
from opengov.validate import validate

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "real-shapes"


@dataclass(frozen=True)
class Shape:
    encoding: str
    delimiter: str
    errors: frozenset[str] = frozenset()  # the error types opengov must report
    lines_above: int = 0  # title, comment or sep= lines above the header
    frictionless_differs: str = ""  # why frictionless' reading is not the reference here


def _shape(
    encoding: str,
    delimiter: str,
    *errors: str,
    lines_above: int = 0,
    frictionless_differs: str = "",
) -> Shape:
    return Shape(encoding, delimiter, frozenset(errors), lines_above, frictionless_differs)


_SNIFF = "frictionless takes the first line for the header and sniffs no delimiter from it"
_LABEL = "frictionless reports the empty label; opengov's draft names it (field_3)"

READ: dict[str, Shape] = {
    "excel-summa.csv": _shape("cp1252", ";"),
    "nbsp-thousands.csv": _shape("cp1252", ";"),
    "narrow-nbsp-thousands.csv": _shape("utf-8", ";"),
    "sep-hint.csv": _shape("cp1252", ";", lines_above=1, frictionless_differs=_SNIFF),
    "scb-title.csv": _shape("cp1252", ";", lines_above=2, frictionless_differs=_SNIFF),
    "comment-lines.csv": _shape("utf-8", ";", lines_above=2, frictionless_differs=_SNIFF),
    "unicode-text.txt": _shape(
        "utf-16", "\t", frictionless_differs="frictionless reads a .txt file as text, no table"
    ),
    "utf16-bare-cr.csv": _shape("utf-16", ";"),
    "utf32.csv": _shape(
        "utf-32", ",", frictionless_differs="frictionless' detector does not know UTF-32"
    ),
    "bare-cr-one-column.csv": _shape(
        "utf-8", ";", frictionless_differs="frictionless splits the decimal commas"
    ),
    "bare-cr-quoted.csv": _shape("utf-8", ","),
    "quoted-newlines.csv": _shape("utf-8", ","),
    "stray-quote.csv": _shape("utf-8", ","),
    "trailing-delimiter.csv": _shape("utf-8", ";", frictionless_differs=_LABEL),
    "ragged.csv": _shape("utf-8", ",", "extra-cell", "missing-cell"),
    "empty-lines.csv": _shape("utf-8", ",", "blank-row"),
    "no-final-newline.csv": _shape("utf-8", ","),
    "mixed-line-ends.csv": _shape("utf-8", ","),
    "ctrl-z-end.csv": _shape("utf-8", ",", "missing-cell"),
    "line-separators-in-cells.csv": _shape("utf-8", ","),
    "cp1252-ellipsis.csv": _shape("cp1252", ";"),
    "long-numbers.csv": _shape("utf-8", ";"),
    "yaml-words.csv": _shape("utf-8", ","),
    "ja-nej-dates.csv": _shape("utf-8", ";"),
}
# Refused with exit 6 (InputError) and a message naming the problem.
REFUSED: dict[str, str] = {
    "mixed-encodings.csv": "mixes encodings",
    "nul-byte.csv": "cannot tell the encoding",
    "utf16-no-bom.csv": "cannot tell the encoding",
}


def test_every_fixture_is_listed() -> None:
    on_disk = {p.name for p in FIXTURES.iterdir() if p.suffix in {".csv", ".txt"}}
    assert on_disk == set(READ) | set(REFUSED)


def source_rows(name: str) -> int:
    """The table's records as Python's csv reads them, header and lines above left out."""
    shape = READ[name]
    text = (FIXTURES / name).read_bytes().decode(shape.encoding)
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff"), newline=""), delimiter=shape.delimiter)
    return len(list(reader)) - 1 - shape.lines_above


@pytest.mark.parametrize("name", sorted(READ))
def test_opengov_reads_every_record(name: str) -> None:
    shape = READ[name]
    report = validate(FIXTURES / name)
    (result,) = report.results
    assert result.rows == source_rows(name)
    assert {kind for _, kind in result.totals} == shape.errors
    assert report.valid == (not shape.errors)
    above = [w for w in result.warnings if "header is on line" in w]
    assert len(above) == (1 if shape.lines_above else 0)


def _frictionless(path: Path) -> tuple[int | None, set[str]]:
    from frictionless import validate as fl_validate

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        report = fl_validate(path.name, basepath=str(path.parent))
    task = report.tasks[0] if report.tasks else None
    rows = task.stats.get("rows") if task else None
    return rows, {e.type for e in (task.errors if task else report.errors)}


@pytest.mark.parametrize("name", sorted(READ))
def test_frictionless_agrees_or_the_difference_is_listed(name: str) -> None:
    shape = READ[name]
    rows, types = _frictionless(FIXTURES / name)
    agrees = rows == source_rows(name) and types == set(shape.errors)
    # A listed difference must still differ: when frictionless comes to agree, unlist it.
    assert agrees != bool(shape.frictionless_differs), (rows, types)


@pytest.mark.parametrize("name", sorted(n for n, s in READ.items() if not s.errors))
def test_published_rows_are_the_rows_in(name: str, tmp_path: Path) -> None:
    runner = CliRunner()
    out = tmp_path / "pkg"
    drafted = runner.invoke(cli, ["init", str(FIXTURES / name), "--out", str(out), "--json"])
    assert drafted.exit_code == 0, drafted.output
    resource = json.loads(drafted.output)["resource"]
    rules = out / "rules.yaml"
    text = re.sub(
        r'(?m)^      # ("?[a-z0-9_]+"?: \{class: public\})$', r"      \1", rules.read_text()
    )
    rules.write_text(text, encoding="utf-8")
    portal = tmp_path / "portal"
    done = runner.invoke(cli, ["publish", str(out), "--to", str(portal)])
    assert done.exit_code == 0, done.output
    data = portal / resource / "data"
    published = (data / f"{resource}.csv").read_text("utf-8-sig")
    csv_rows = len(list(csv.reader(io.StringIO(published, newline="")))) - 1
    parquet_rows = pq.read_metadata(data / f"{resource}.parquet").num_rows
    assert csv_rows == parquet_rows == source_rows(name)


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_refused_with_exit_6(name: str, tmp_path: Path) -> None:
    with pytest.raises(InputError, match=REFUSED[name]):
        validate(FIXTURES / name)
    for args in (["validate", str(FIXTURES / name)], ["init", str(FIXTURES / name), "--out",
                 str(tmp_path / "pkg")]):  # fmt: skip
        result = CliRunner().invoke(cli, args)
        assert result.exit_code == 6, result.output
        assert "Traceback" not in result.output


def test_declared_utf16_without_a_byte_order_mark_is_refused(tmp_path: Path) -> None:
    """Python's utf-16 codec needs the mark to know the byte order: an internal error before."""
    schema = tmp_path / "schema.json"
    schema.write_text('{"fields": [{"name": "a"}, {"name": "b"}]}', encoding="utf-8")
    path = FIXTURES / "utf16-no-bom.csv"
    for encoding, code in (("utf-16", 6), ("utf-32", 6), ("utf-16-le", 0)):
        result = CliRunner().invoke(
            cli, ["validate", str(path), "--schema", str(schema), "--encoding", encoding]
        )
        assert result.exit_code == code, (encoding, result.output)


def _zip(data: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("data.csv", data)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("kind", "content"),
    [
        ("gzip", gzip.compress(b"a,b\n1,2\n", mtime=0)),
        ("zip archive", _zip(b"a,b\n1,2\n")),
        ("Excel 97-2003", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504)),
        ("bzip2", b"BZh91AY&SY" + bytes(40)),
        ("xz", b"\xfd7zXZ\x00" + bytes(40)),
    ],
    ids=["gzip", "zip", "xls", "bzip2", "xz"],
)
def test_a_binary_file_named_csv_is_refused_by_what_it_is(
    tmp_path: Path, kind: str, content: bytes
) -> None:
    """A workbook or a compressed file saved as .csv was read as text: 'zero bytes: UTF-16?'."""
    path = tmp_path / "tabell.csv"
    path.write_bytes(content)
    schema = tmp_path / "schema.json"
    schema.write_text('{"fields": [{"name": "a"}, {"name": "b"}]}', encoding="utf-8")
    for args in (
        ["validate", str(path)],
        ["validate", str(path), "--schema", str(schema)],
        ["validate", str(path), "--schema", str(schema), "--encoding", "utf-8"],
        ["init", str(path), "--out", str(tmp_path / "pkg")],
    ):
        result = CliRunner().invoke(cli, args)
        assert result.exit_code == 6, result.output
        assert kind in result.output and "Traceback" not in result.output


def test_a_header_starting_like_a_magic_number_is_still_text(tmp_path: Path) -> None:
    path = tmp_path / "bzh.csv"
    path.write_bytes(b"BZh,PK\n1,2\n")
    assert validate(path).results[0].rows == 1


def test_a_sheet_without_a_header_row_is_named_in_the_message(tmp_path: Path) -> None:
    """The message named `.sheet.csv`, a staging file the steward never saw."""
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Blad1"
    sheet["B4"] = "Rubrik"
    sheet["B5"] = "värde"
    book.save(tmp_path / "bok.xlsx")
    result = CliRunner().invoke(cli, ["validate", str(tmp_path / "bok.xlsx")])
    assert result.exit_code == 6, result.output
    assert "sheet 'Blad1' of bok.xlsx" in result.output and ".sheet.csv" not in result.output


def test_a_huge_field_is_read_whole(tmp_path: Path) -> None:
    path = tmp_path / "stor.csv"
    path.write_bytes(b'id,text\n1,"' + (b"y" * 999 + b"\n") * 300 + b'"\n2,kort\n')
    (result,) = validate(path).results
    assert (result.rows, result.error_count) == (2, 0)


@pytest.mark.parametrize(
    ("last", "noted"),
    [
        ("Summa", True),
        ("SUMMA", True),
        ("Totalt", True),
        ("Total", True),
        ("Totalsumma", True),
        (" Summa kommunen", True),
        ("Summan av allt", False),
        ("Lerum", False),
        ("", False),
    ],
)
def test_a_total_row_under_the_table_is_noted_and_kept(
    tmp_path: Path, last: str, noted: bool
) -> None:
    """A "Summa" row is a row to every reader (frictionless too): it is published, so the
    steward is told, never left to find the total counted twice."""
    path = tmp_path / "budget.csv"
    rows = ["Förvaltning;Belopp", "Skola;100,00", "Summa;5,00", "Vård;250,00", f"{last};350,00"]
    path.write_bytes(("\r\n".join(rows) + "\r\n").encode("cp1252"))
    result = CliRunner().invoke(cli, ["init", str(path), "--out", str(tmp_path / "pkg"), "--json"])
    assert result.exit_code == 0, result.output
    drafted = json.loads(result.output)
    assert (drafted["rows"], drafted["total_row"]) == (4, noted)
    (checked,) = validate(path).results
    assert checked.rows == 4
    assert any("looks like a total" in w for w in checked.warnings) == noted


def _merged_title_book(path: Path) -> Path:
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    for row in (["Bidrag 2024", None, None], ["förening", "belopp", "datum"], ["IF Ale", 5, 1]):
        sheet.append(row)
    sheet.merge_cells("A1:C1")
    book.save(path)
    return path


@pytest.mark.parametrize(
    ("name", "content", "unlabelled"),
    [
        ("gap.csv", b"id;;namn\n1;x;Ale\n2;y;Lerum\n", ["field_2"]),
        ("tom-kolumn.csv", b"a;b;\n1;2;\n3;4;\n", []),  # a trailing delimiter: no data there
        ("titel.xlsx", None, ["field_2", "field_3"]),  # a merged title row over the header
    ],
)
def test_an_empty_header_cell_over_data_is_noted(
    tmp_path: Path, name: str, content: bytes | None, unlabelled: list[str]
) -> None:
    """frictionless reports blank-label; the draft names the column field_N and read the title
    row of a sheet as the header (its real header a data row) without a word."""
    path = tmp_path / name
    if content is None:
        _merged_title_book(path)
    else:
        path.write_bytes(content)
    result = CliRunner().invoke(cli, ["init", str(path), "--out", str(tmp_path / "pkg"), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["unlabelled"] == unlabelled
    (checked,) = validate(path).results
    notes = [w for w in checked.warnings if "header cell is empty" in w]
    assert len(notes) == (1 if unlabelled else 0)
    assert all(n in notes[0] for n in unlabelled)
