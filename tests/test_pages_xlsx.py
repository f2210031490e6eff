"""The XLSX download: opens in openpyxl with the rows of the published table (as Excel shows
them), numbers and dates typed, formula text neutralised as in the CSV, the same bytes for the
same data, and no file (but a note on the page) beyond Excel's row limit."""

from __future__ import annotations

import datetime as dt
import io
import json
import math
import re
import zipfile
from pathlib import Path
from typing import Any

import openpyxl
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner
from helpers import PackageFactory
from hypothesis import given, settings
from hypothesis import strategies as st

from opengov.cli import cli
from opengov.redact.gates import FORMULA_PREFIXES
from opengov.release import xlsx
from opengov.release.xlsx import XlsxWriter, column_letter, write_parquet

_ESCAPE = re.compile(r"_x([0-9A-Fa-f]{4})_")


def excel_text(stored: str) -> str:
    """What Excel shows for a stored string: it reads _xHHHH_ as the character U+HHHH
    (openpyxl does not, so the test does it)."""
    return _ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), stored)


def expected_text(value: str) -> str:
    value = value[: xlsx.CELL_CHARS]
    return "'" + value if value.startswith(FORMULA_PREFIXES) else value


def read(path: Path) -> list[tuple[Any, ...]]:
    book = openpyxl.load_workbook(path, read_only=True)
    return list(book["Data"].iter_rows(values_only=True))


def write(tmp_path: Path, table: pa.Table, batch: int = 7) -> Path:
    parquet, out = tmp_path / "t.parquet", tmp_path / "t.xlsx"
    pq.write_table(table, parquet, row_group_size=max(1, batch))
    result = write_parquet(parquet, out, [{"name": "text", "title": "Text", "type": "string"}])
    assert result.written and result.rows == table.num_rows
    return out


text_values = (
    st.none()
    | st.text(max_size=30)
    | st.sampled_from(
        [
            "=1+1",
            "+46",
            "-5",
            "@SUM(A1)",
            "\tx",
            "\rx",
            "_x0041_",
            " kant ",
            "a\r\nb",
            "\x00\x01\x1f",
            "<b>&amp;</b>",
            "ÅÄÖ åäö €",
            "\ufffe\uffff",
        ]
    )
)


@settings(max_examples=60, deadline=None)
@given(
    texts=st.lists(text_values, min_size=1, max_size=40),
    numbers=st.lists(st.none() | st.integers(-(2**63), 2**63 - 1), min_size=40, max_size=40),
    floats=st.lists(st.none() | st.floats(width=64), min_size=40, max_size=40),
    batch=st.integers(1, 20),
)
def test_cells_read_back_as_excel_shows_them(
    tmp_path_factory: pytest.TempPathFactory,
    texts: list[str | None],
    numbers: list[int | None],
    floats: list[float | None],
    batch: int,
) -> None:
    size = len(texts)
    table = pa.table(
        {
            "text": pa.array(texts, pa.string()),
            "heltal": pa.array(numbers[:size], pa.int64()),
            "tal": pa.array(floats[:size], pa.float64()),
        }
    )
    rows = read(write(tmp_path_factory.mktemp("x"), table, batch))
    assert rows[0] == ("text", "heltal", "tal")
    assert len(rows) == size + 1
    for (text, number, real), row in zip(
        zip(texts, numbers, floats, strict=False), rows[1:], strict=True
    ):
        got_text, got_number, got_real = row
        if text is None or text == "":
            assert got_text in (None, "")
        else:
            assert excel_text(got_text) == expected_text(text)
        if number is None:
            assert got_number is None
        elif abs(number) > 2**53:
            assert got_number == str(number)  # text: a double would change it
        else:
            assert got_number == number
        if real is None:
            assert got_real is None
        elif math.isfinite(real):
            assert got_real == real
        else:
            assert isinstance(got_real, str)


def test_dates_and_times_are_typed_and_early_dates_are_text(tmp_path: Path) -> None:
    utc = dt.UTC
    table = pa.table(
        {
            "datum": pa.array([dt.date(2024, 5, 1), dt.date(1899, 12, 31), None]),
            "tid": pa.array(
                [
                    dt.datetime(2024, 5, 1, 13, 45, 10, tzinfo=utc),
                    None,
                    dt.datetime(1850, 1, 1, tzinfo=utc),
                ],
                pa.timestamp("s", tz="UTC"),
            ),
            "ja": pa.array([True, False, None]),
        }
    )
    rows = read(write(tmp_path, table))
    assert rows[1] == (dt.datetime(2024, 5, 1), dt.datetime(2024, 5, 1, 13, 45, 10), True)
    assert rows[2] == ("1899-12-31", None, False)
    assert rows[3] == (None, "1850-01-01T00:00:00Z", None)


def test_text_beyond_the_cell_limit_is_cut_and_counted(tmp_path: Path) -> None:
    parquet, out = tmp_path / "t.parquet", tmp_path / "t.xlsx"
    pq.write_table(pa.table({"t": ["a" * 40_000, "kort"]}), parquet)
    result = write_parquet(parquet, out, [])
    assert result.truncated_cells == 1
    assert [len(r[0]) for r in read(out)[1:]] == [xlsx.CELL_CHARS, 4]


def test_same_data_same_bytes(tmp_path: Path) -> None:
    table = pa.table({"text": ["a", "b"], "n": [1, 2]})
    first = write(tmp_path / "1", table) if (tmp_path / "1").mkdir() is None else None
    second = write(tmp_path / "2", table) if (tmp_path / "2").mkdir() is None else None
    assert first is not None and second is not None
    assert first.read_bytes() == second.read_bytes()


def test_the_sheet_is_deflated_at_level_one(tmp_path: Path) -> None:
    """The sheet, by far the largest part, is deflated at zlib's level 1 (the ZipInfo it is
    opened with decides; it once fell back to level 6, five times slower on 100,000 rows)."""
    import zlib

    words = [f"Ärende {i} om bygglov, fastigheten Exempelby 1:{i % 97}" for i in range(20_000)]
    out = write(tmp_path, pa.table({"text": words, "n": list(range(20_000))}), batch=4096)
    with zipfile.ZipFile(out) as book:
        sheet = book.read("xl/worksheets/sheet1.xml")
        stored = book.getinfo("xl/worksheets/sheet1.xml").compress_size
    sizes = {}
    for level in (1, 6):
        deflate = zlib.compressobj(level, zlib.DEFLATED, -15)
        sizes[level] = len(deflate.compress(sheet) + deflate.flush())
    assert sizes[1] != sizes[6]  # the two levels tell apart on this sheet
    assert stored == sizes[1], (stored, sizes)


def test_every_part_is_well_formed_xml_and_the_workbook_has_two_sheets(tmp_path: Path) -> None:
    import xml.etree.ElementTree as ET

    out = write(tmp_path, pa.table({"text": ["\x00<&>\x1f", None], "n": [1, None]}))
    with zipfile.ZipFile(out) as book:
        names = book.namelist()
        for name in names:
            ET.fromstring(book.read(name))
    assert "xl/worksheets/sheet1.xml" in names and "xl/worksheets/sheet2.xml" in names
    workbook = openpyxl.load_workbook(out)
    assert workbook.sheetnames == ["Data", "Kolumner"]
    assert list(workbook["Kolumner"].iter_rows(values_only=True))[1] == (
        "text",
        "Text",
        "text",
        None,
    )


def test_a_failed_write_leaves_no_file(tmp_path: Path) -> None:
    out = tmp_path / "t.xlsx"
    schema = pa.schema([("n", pa.int64())])
    with pytest.raises(ValueError), XlsxWriter(out, schema, [], "") as writer:
        writer.write(pa.record_batch({"n": [1, 2]}))
        raise ValueError("a failure while the sheet is written")
    assert not out.exists()


@pytest.mark.parametrize(("index", "letters"), [(0, "A"), (25, "Z"), (26, "AA"), (701, "ZZ"),
                                                (702, "AAA"), (16383, "XFD")])  # fmt: skip
def test_column_letters(index: int, letters: str) -> None:
    assert column_letter(index) == letters


@pytest.mark.parametrize(
    ("limit", "note"),
    [
        ("MAX_DATA_ROWS", "fler rader än ett Excel-blad rymmer"),
        ("DOWNLOAD_MAX_ROWS", "Tabellen har 3 rader; Excel-filer görs för tabeller med högst 2"),
    ],
)
def test_a_table_over_a_row_limit_gets_csv_and_a_note_saying_why(
    make_package: PackageFactory,
    tmp_path: Path,
    key: str,
    monkeypatch: pytest.MonkeyPatch,
    limit: str,
    note: str,
) -> None:
    monkeypatch.setattr(xlsx, limit, 2)  # the staff table has 3 published rows
    portal = tmp_path / "portal"
    result = CliRunner().invoke(cli, ["publish", str(make_package()), "--to", str(portal)])
    assert result.exit_code == 0, result.output
    dataset = portal / "personal"
    assert not (dataset / "data" / "personal.xlsx").exists()
    descriptor = json.loads((dataset / "datapackage.json").read_text(encoding="utf-8"))
    assert [r["format"] for r in descriptor["resources"]] == ["csv", "parquet"]
    page = (dataset / "index.html").read_text(encoding="utf-8")
    assert note in page and ".xlsx" not in page


def test_published_xlsx_matches_the_published_csv(
    make_package: PackageFactory, tmp_path: Path, key: str
) -> None:
    import csv

    portal = tmp_path / "portal"
    result = CliRunner().invoke(cli, ["publish", str(make_package()), "--to", str(portal)])
    assert result.exit_code == 0, result.output
    data = portal / "personal" / "data"
    rows = read(data / "personal.xlsx")
    want = list(csv.reader(io.StringIO((data / "personal.csv").read_text(encoding="utf-8"))))
    assert [list(map(str, r)) for r in rows[:1]] == want[:1]
    shown = [["" if v is None else str(v) for v in r] for r in rows[1:]]
    assert shown == want[1:]  # the staff table: text, integers and year bands only
    descriptor = json.loads((portal / "personal" / "datapackage.json").read_text("utf-8"))
    csv_res = descriptor["resources"][0]
    assert csv_res["encoding"] == "utf-8" and csv_res["dialect"]["delimiter"] == ","
    assert descriptor["resources"][2]["mediatype"] == xlsx.MEDIA_TYPE


# Text that exercises every shortcut of the sheet builder: XML specials, Excel's _xHHHH_ escape,
# control characters, U+FFFE/U+FFFF, whitespace at either end, multi-byte letters, empty text.
_PIECES = st.sampled_from(
    ["a", "Å", "ö", "&", "<", ">", "_x", "_x00e5_", "_X00E5_", "_", "x", " ", "\t", "\n",
     "\r", "\f", "\v", "\x00", "\x1f", "\ufffe", "\uffff", "\uffbe", "€", ""]
)  # fmt: skip
_TEXTS = st.lists(
    st.one_of(st.none(), st.lists(_PIECES, max_size=6).map("".join)), min_size=1, max_size=30
)


@settings(max_examples=300, deadline=None)
@given(_TEXTS, st.integers(0, 3))
def test_the_byte_level_shortcuts_agree_with_the_kernels_they_skip(
    texts: list[str | None], start: int
) -> None:
    """The sheet builder looks at a batch's bytes (numpy) before running Arrow's kernels: it
    must decide exactly as the kernels would, on sliced arrays and with nulls too."""
    values = pa.array(texts + ["pad"] * 3, pa.string()).slice(start, len(texts))
    escaped, _ = xlsx._text_xml(values)
    slow = values
    slow = pc_replace_regex(slow, "_x[0-9A-Fa-f]{4}_", xlsx._EXCEL_ESCAPE, r"_x005F_\1")
    for char, entity in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;")):
        slow = pc.replace_substring(slow, char, entity)
    for char in xlsx._SPECIAL:
        slow = pc.replace_substring(slow, char, f"_x{ord(char):04X}_")
    assert escaped.to_pylist() == slow.to_pylist()
    special = pc.any(pc.match_substring_regex(values, xlsx._SPECIAL_PATTERN))
    assert xlsx._may_hold_special(values) >= bool(special.as_py())
    for piece in (b"_x", b"&", b"<"):
        kernel = pc.any(pc.match_substring(values, piece.decode())).as_py()
        assert xlsx._may_hold(xlsx._text_bytes(values), values, piece) >= bool(kernel)
    for array in (values, escaped):
        edges = pc.match_substring_regex(array, r"^\s|\s$")
        assert xlsx._edges(array).to_pylist() == edges.to_pylist()


def pc_replace_regex(values: pa.Array, test: str, pattern: str, replacement: str) -> pa.Array:
    if pc.any(pc.match_substring_regex(values, test)).as_py():
        return pc.replace_substring_regex(values, pattern, replacement)
    return values
