"""Regressions from the review of the table reader and caster (tables.py, convert.py).

Each case checks that the fast engine reports what frictionless reports, and that
`read_typed` publishes exactly the rows frictionless reads (or refuses, never silently nulls).
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from opengov.errors import InputError
from opengov.package import load_package
from opengov.sources.readers import read_typed
from opengov.validate import arrow_engine, frictionless_engine
from opengov.validate.dispatch import validate_package_resources
from opengov.validate.model import ResourceResult

ALL = 10_000


def _package(
    tmp_path: Path,
    data: bytes,
    fields: list[dict[str, Any]],
    *,
    name: str = "d.csv",
    extra: dict[str, Any] | None = None,
) -> Path:
    (tmp_path / name).write_bytes(data)
    resource: dict[str, Any] = {"name": "d", "path": name, "schema": {"fields": fields}}
    resource.update(extra or {})
    (tmp_path / "datapackage.json").write_text(
        json.dumps({"name": "p", "resources": [resource]}), encoding="utf-8"
    )
    return tmp_path


def _keys(result: ResourceResult) -> set[tuple[str, int | None, str | None]]:
    return {(f.type, f.row_number, f.field_name) for f in result.samples}


def _same_findings(folder: Path) -> ResourceResult:
    """Both engines report the same findings; returns the arrow engine's result."""
    package = load_package(folder)
    ours = arrow_engine.validate_resources(package, package.resources, samples=ALL)[0]
    theirs = frictionless_engine.validate_resources(package, package.resources, samples=ALL)[0]
    assert _keys(ours) == _keys(theirs)
    assert Counter(ours.totals) == Counter(theirs.totals)
    assert ours.rows == theirs.rows
    return ours


def _typed(folder: Path) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = read_typed(load_package(folder).resources[0]).to_pylist()
    return rows


# --- 1. a header label with a line break --------------------------------------------------------


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])
def test_multiline_header_label_is_one_record(tmp_path: Path, newline: str) -> None:
    label = f"Belopp{newline}(kr)"
    text = f'id;"{label}"{newline}1;5{newline}2;7{newline}'
    fields = [{"name": "id", "type": "integer"}, {"name": label, "type": "integer"}]
    folder = _package(tmp_path, text.encode(), fields, extra={"dialect": {"delimiter": ";"}})
    result = _same_findings(folder)
    assert result.error_count == 0
    assert result.rows == 2
    assert _typed(folder) == [{"id": 1, label: 5}, {"id": 2, label: 7}]


def test_multiline_labels_keep_row_numbers_of_ragged_rows(tmp_path: Path) -> None:
    text = (
        '"Namn\r\n(förnamn)";"Enhet\r\n(förvaltning)"\r\n'
        "Anna;Skola\r\nBo\r\n"
        'Cia;"Vård\r\nomsorg"\r\nDan;Skola;extra\r\nEva;Kultur\r\n'
    )
    fields = [
        {"name": "Namn\r\n(förnamn)", "type": "string"},
        {"name": "Enhet\r\n(förvaltning)", "type": "string"},
    ]
    folder = _package(tmp_path, text.encode(), fields, extra={"dialect": {"delimiter": ";"}})
    result = _same_findings(folder)
    assert {(f.type, f.row_number) for f in result.samples} == {
        ("missing-cell", 3),
        ("extra-cell", 5),
    }
    assert [r["Namn\r\n(förnamn)"] for r in _typed(folder)] == ["Anna", "Bo", "Cia", "Dan", "Eva"]


def test_multiline_title_row_before_guessed_header(tmp_path: Path) -> None:
    # No header declared: frictionless guesses the header row, after a two-line title.
    text = '"Rapport\nKommun X"\nid,namn\n1,a\n2,b\n3,c\n4,d\n'
    fields = [{"name": "id", "type": "integer"}, {"name": "namn", "type": "string"}]
    folder = _package(tmp_path, text.encode(), fields)
    _same_findings(folder)


# --- 2. a header-only file without a final newline ----------------------------------------------


@pytest.mark.parametrize("data", [b"id;namn", b"\xef\xbb\xbfid;namn", b"id;namn\r\n"])
def test_header_only_file_is_an_empty_table(tmp_path: Path, data: bytes) -> None:
    fields = [{"name": "id", "type": "integer"}, {"name": "namn", "type": "string"}]
    folder = _package(tmp_path, data, fields, extra={"dialect": {"delimiter": ";"}})
    result = _same_findings(folder)
    assert result.error_count == 0 and result.rows == 0
    package = load_package(folder)
    auto = validate_package_resources(package, samples=ALL, engine="auto")[0]
    assert auto.engine == "arrow" and auto.error_count == 0
    table = read_typed(package.resources[0])
    assert table.num_rows == 0
    assert table.schema.names == ["id", "namn"]


# --- 3. integers beyond int64 -------------------------------------------------------------------


def test_integer_beyond_int64_is_valid_but_not_published_as_null(tmp_path: Path) -> None:
    text = "id;ocr\n1;123\n2;\n3;12345678901234567890123\n"
    fields = [{"name": "id", "type": "integer"}, {"name": "ocr", "type": "integer"}]
    folder = _package(tmp_path, text.encode(), fields, extra={"dialect": {"delimiter": ";"}})
    assert _same_findings(folder).error_count == 0  # frictionless: a valid Python int
    with pytest.raises(InputError) as caught:
        read_typed(load_package(folder).resources[0])
    message = str(caught.value)
    assert "'ocr'" in message and "row 4" in message and "string" in message
    assert "12345678901234567890123" not in message  # never the value


def test_integer_beyond_int64_in_inline_data_fails_closed(tmp_path: Path) -> None:
    resource = {
        "name": "d",
        "data": [["id", "ocr"], [1, 5], [2, 2**70]],
        "schema": {
            "fields": [{"name": "id", "type": "integer"}, {"name": "ocr", "type": "integer"}]
        },
    }
    (tmp_path / "datapackage.json").write_text(json.dumps({"name": "p", "resources": [resource]}))
    with pytest.raises(InputError, match=r"'ocr', row 3"):
        read_typed(load_package(tmp_path).resources[0])


def test_int64_bounds_are_published(tmp_path: Path) -> None:
    text = f"id\n{2**63 - 1}\n{-(2**63)}\n"
    folder = _package(tmp_path, text.encode(), [{"name": "id", "type": "integer"}])
    assert _typed(folder) == [{"id": 2**63 - 1}, {"id": -(2**63)}]


# --- 4. year 0 ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ftype", "cells"),
    [
        ("date", ["2024-03-01", "0000-01-01", "0001-01-01", "0000-02-29"]),
        ("datetime", ["2024-03-01T00:00:00", "0000-01-01T00:00:00", "0001-01-01T10:00:00Z", "x"]),
    ],
)
def test_year_zero_is_a_type_error(tmp_path: Path, ftype: str, cells: list[str]) -> None:
    text = "id;d\n" + "".join(f"{n};{c}\n" for n, c in enumerate(cells, start=1))
    fields = [{"name": "id", "type": "integer"}, {"name": "d", "type": ftype}]
    folder = _package(tmp_path, text.encode(), fields, extra={"dialect": {"delimiter": ";"}})
    result = _same_findings(folder)
    assert ("type-error", 3, "d") in _keys(result)
    assert _typed(folder)[1]["d"] is None


def test_year_zero_alone_in_a_date_column(tmp_path: Path) -> None:
    folder = _package(tmp_path, b"d\n0000-01-01\n", [{"name": "d", "type": "date"}])
    assert _keys(_same_findings(folder)) == {("type-error", 2, "d")}


# --- 5. parquet with nanosecond timestamps ------------------------------------------------------


@pytest.mark.parametrize("tz", [None, "Europe/Stockholm"])
def test_parquet_nanosecond_timestamps(tmp_path: Path, tz: str | None) -> None:
    import pyarrow.parquet as pq

    table = pa.table(
        {
            "id": pa.array([1, 2, 3]),
            "ts": pa.array(
                [1704448800123456789, 1704448800000000000, None], pa.timestamp("ns", tz=tz)
            ),
        }
    )
    pq.write_table(table, tmp_path / "d.parquet")
    fields = [{"name": "id", "type": "integer"}, {"name": "ts", "type": "datetime"}]
    (tmp_path / "datapackage.json").write_text(
        json.dumps(
            {
                "name": "p",
                "resources": [
                    {
                        "name": "d",
                        "path": "d.parquet",
                        "format": "parquet",
                        "schema": {"fields": fields},
                    }
                ],
            }
        )
    )
    package = load_package(tmp_path)
    result = arrow_engine.validate_resources(package, package.resources, samples=ALL)[0]
    assert result.error_count == 0 and result.rows == 3
    rows = read_typed(package.resources[0]).to_pylist()
    moment = dt.datetime(2024, 1, 5, 10, 0, 0)
    assert [r["ts"].replace(tzinfo=None) if r["ts"] else None for r in rows] == [
        moment.replace(microsecond=123456),  # nanoseconds to microseconds, nothing more lost
        moment,
        None,
    ]


# --- 6. signalling NaN --------------------------------------------------------------------------


def test_signalling_nan_is_a_number_like_nan(tmp_path: Path) -> None:
    # frictionless reads "sNaN" as Decimal('sNaN'): a valid number. It is published as NaN.
    text = "id;n\n1;sNaN\n2;1.5\n3;-sNaN\n4;NaN\n"
    fields = [{"name": "id", "type": "integer"}, {"name": "n", "type": "number"}]
    folder = _package(tmp_path, text.encode(), fields, extra={"dialect": {"delimiter": ";"}})
    assert _same_findings(folder).error_count == 0
    values = [r["n"] for r in _typed(folder)]
    assert values[1] == 1.5
    assert all(v != v for v in (values[0], values[2], values[3]))  # NaN


def test_signalling_nan_in_inline_data(tmp_path: Path) -> None:
    resource = {
        "name": "d",
        "data": [["n"], ["sNaN"], ["2"]],
        "schema": {"fields": [{"name": "n", "type": "number"}]},
    }
    (tmp_path / "datapackage.json").write_text(json.dumps({"name": "p", "resources": [resource]}))
    values = [r["n"] for r in _typed(tmp_path)]
    assert values[0] != values[0] and values[1] == 2.0


# --- 8. XLSX options the fast reader does not apply -----------------------------------------------


def _xlsx_package(tmp_path: Path, dialect: dict[str, Any]) -> Path:
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["id", "namn"])
    sheet.append([1, "Åsa"])
    sheet.append([2, "Per"])
    sheet.merge_cells("B2:B3")
    book.save(tmp_path / "d.xlsx")
    fields = [{"name": "id", "type": "integer"}, {"name": "namn", "type": "string"}]
    resource = {
        "name": "d",
        "path": "d.xlsx",
        "format": "xlsx",
        "dialect": dialect,
        "schema": {"fields": fields},
    }
    (tmp_path / "datapackage.json").write_text(json.dumps({"name": "p", "resources": [resource]}))
    return tmp_path


@pytest.mark.parametrize(
    "dialect",
    [
        {"fillMergedCells": True},
        {"excel": {"fillMergedCells": True}},
        {"excel": {"stringified": True}},
        {"preserveFormatting": True},
        {"excel": {"adjustFloatingPointError": True}},
    ],
)
def test_xlsx_options_go_to_frictionless_and_are_not_published(
    tmp_path: Path, dialect: dict[str, Any]
) -> None:
    folder = _xlsx_package(tmp_path, dialect)
    package = load_package(folder)
    resource = package.resources[0]
    assert arrow_engine.fast_path_reason(package, resource)
    result = validate_package_resources(package, samples=ALL, engine="auto")[0]
    assert result.engine == "frictionless" and result.fallback_reason
    with pytest.raises(InputError, match=r"XLSX option \w+ is not supported for publishing"):
        read_typed(resource)


def test_xlsx_options_declared_false_stay_on_the_fast_path(tmp_path: Path) -> None:
    folder = _xlsx_package(tmp_path, {"excel": {"fillMergedCells": False, "stringified": False}})
    package = load_package(folder)
    assert arrow_engine.fast_path_reason(package, package.resources[0]) is None
    assert [r["id"] for r in _typed(folder)] == [1, 2]
