"""Parquet is validated column by column with kernels, with the findings of the cell reader.

The reference is the per-cell path (every column through frictionless' cell reader, as all
parquet columns used to be) and, for text-compatible data, the same table written as CSV.
"""

from __future__ import annotations

import csv
import datetime as dt
import math
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from parity_corpus import Case

from opengov.package import load_package
from opengov.sources import typed
from opengov.validate import arrow_engine
from opengov.validate.model import ResourceResult

ALL = 10**9

FIELDS: list[dict[str, Any]] = [
    {"name": "id", "type": "integer", "constraints": {"unique": True, "required": True}},
    {"name": "n", "type": "number", "constraints": {"minimum": 0, "maximum": 100}},
    {
        "name": "s",
        "type": "string",
        "constraints": {"required": True, "pattern": "[a-z]+", "enum": ["a", "b", "zz", "Q"]},
    },
    {"name": "mixed", "type": "integer", "constraints": {"maximum": 10}},
    {"name": "flag", "type": "boolean", "constraints": {"enum": [True]}},
    {"name": "d", "type": "date", "constraints": {"minimum": "2020-01-01", "unique": True}},
    {"name": "mail", "type": "string", "format": "email"},
    {"name": "u", "type": "integer", "constraints": {"unique": True}},
]


def _columns(rows: int) -> dict[str, list[Any]]:
    ids = [i if i % 11 else (None if i % 22 == 0 else i - 1) for i in range(rows)]
    nums = [(i * 7.5) % 130 - 10 if i % 13 else None for i in range(rows)]
    texts = ["a", "b", "zz", "Q", "", None, "c", "a1"]
    mixed = ["5", "x", "", "12", None, "7", "1.5", "+4"]
    dates = [
        dt.date(2019, 6, 1) + dt.timedelta(days=(i * 37) % 900) if i % 9 else None
        for i in range(rows)
    ]
    mails = ["a@b.se", "not-an-email", "", None]
    return {
        "id": ids,
        "n": nums,
        "s": [texts[i % len(texts)] for i in range(rows)],
        "mixed": [mixed[i % len(mixed)] for i in range(rows)],
        "flag": [None if i % 5 == 0 else i % 3 == 0 for i in range(rows)],
        "d": dates,
        "mail": [mails[i % len(mails)] for i in range(rows)],
        "u": [i % 17 for i in range(rows)],
    }


def _write(
    folder: Path, table: pa.Table, fields: list[dict[str, Any]], fmt: str, **extra: Any
) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    if fmt == "parquet":
        pq.write_table(table, folder / "d.parquet")
    else:
        with (folder / "d.csv").open("w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow(table.column_names)
            for row in table.to_pylist():
                writer.writerow([_text(v) for v in row.values()])
    schema: dict[str, Any] = {"fields": fields, **extra}
    Case(name="pq", resources=[{"name": "d", "path": f"d.{fmt}", "schema": schema}]).write(folder)
    return folder


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _run(folder: Path) -> ResourceResult:
    package = load_package(folder)
    return arrow_engine.validate_resources(package, package.resources, samples=ALL)[0]


def _per_cell(folder: Path, monkeypatch: pytest.MonkeyPatch) -> ResourceResult:
    with monkeypatch.context() as m:
        m.setattr(
            typed._ParquetSource, "_plan", lambda self, kinds: [False] * len(self.header.expected)
        )
        return _run(folder)


def _full(result: ResourceResult) -> set[tuple[Any, ...]]:
    return {
        (f.type, f.row_number, f.field_name, f.field_number, f.note, f.cell) for f in result.samples
    }


def _keys(result: ResourceResult) -> set[tuple[Any, ...]]:
    return {(f.type, f.row_number, f.field_name) for f in result.samples}


@pytest.fixture(autouse=True)
def small_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    # Several batches, so duplicates across batches are exercised.
    monkeypatch.setattr(typed, "BATCH_ROWS", 16)


def test_planted_errors_match_per_cell_and_csv(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    table = pa.table(_columns(100))
    table = table.set_column(5, "d", pa.array(table.column("d").to_pylist(), pa.date32()))
    parquet = _write(tmp_path / "p", table, FIELDS, "parquet")
    fast = _run(parquet)
    slow = _per_cell(parquet, monkeypatch)
    assert _full(fast) == _full(slow)
    assert fast.totals == slow.totals
    assert fast.rows == slow.rows == 100
    types = {f.type for f in fast.samples}
    assert {"type-error", "constraint-error", "unique-error"} <= types
    required = {(f.row_number, f.field_name) for f in fast.samples if "required" in f.note}
    assert any(name == "id" for _, name in required) and any(n == "s" for _, n in required)
    # The same data as CSV, through the CSV engine: the same findings.
    csv_result = _run(_write(tmp_path / "c", table, FIELDS, "csv"))
    assert _keys(fast) == _keys(csv_result)


def test_primary_key_and_typed_kinds(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rows = 60
    table = pa.table(
        {
            "a": pa.array([i % 7 for i in range(rows)], pa.int32()),
            "b": pa.array([float(i % 5) if i % 8 else math.nan for i in range(rows)], pa.float32()),
            "c": pa.array([str(i % 3) for i in range(rows)]).dictionary_encode(),
            "t": pa.array(
                [dt.datetime(2024, 1, 1) + dt.timedelta(hours=i % 4) for i in range(rows)],
                pa.timestamp("ns"),
            ),
            "big": pa.array([2**63 + i if i % 2 else i for i in range(rows)], pa.uint64()),
        }
    )
    fields: list[dict[str, Any]] = [
        {"name": "a", "type": "integer"},
        {"name": "b", "type": "number", "constraints": {"maximum": 3, "unique": True}},
        {"name": "c", "type": "integer"},
        {"name": "t", "type": "datetime", "constraints": {"unique": True}},
        {"name": "big", "type": "integer"},
    ]
    for name, extra in [
        ("pk", {"primaryKey": ["a", "c"]}),
        ("pkmixed", {"primaryKey": ["a", "t"]}),
        ("missing", {"missingValues": ["", "3", "NA"]}),
    ]:
        folder = _write(tmp_path / name, table, fields, "parquet", **extra)
        fast = _run(folder)
        slow = _per_cell(folder, monkeypatch)
        assert _full(fast) == _full(slow), name
        assert fast.totals == slow.totals, name
        assert fast.samples, name


def test_string_nulls_are_not_missing_cells(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    table = pa.table({"s": ["a", None, "", None], "n": pa.array([1, None, 3, 4], pa.int64())})
    fields: list[dict[str, Any]] = [
        {"name": "s", "type": "string", "constraints": {"required": True}},
        {"name": "n", "type": "integer"},
    ]
    folder = _write(tmp_path, table, fields, "parquet")
    result = _run(folder)
    assert _full(result) == _full(_per_cell(folder, monkeypatch))
    assert _keys(result) == {
        ("blank-row", 3, None),
        ("constraint-error", 4, "s"),
        ("constraint-error", 5, "s"),
    }
