"""convert.cast_field: every Table Schema type, its options, and agreement with frictionless."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pyarrow as pa
import pytest
from frictionless import Field

from opengov.sources.cast import cast_field, cast_python_cells

UTC = dt.UTC

# (field descriptor, [(text, expected value)], [texts that must fail])
CASES: list[tuple[dict[str, Any], list[tuple[str, Any]], list[str]]] = [
    (
        {"type": "integer"},
        [("1", 1), ("-2", -2), ("007", 7), ("+3", 3), (" 4 ", 4), ("1_000", 1000)],
        ["1.5", "x", "1 000", "1e3", "--1", "0x10"],
    ),
    (
        {"type": "integer", "bareNumber": False},
        [("15%", 15), ("SEK 120", 120), ("-7 kr", -7)],
        ["abc", "1.5.6"],
    ),
    (
        {"type": "number"},
        [("1.5", 1.5), ("-0.25", -0.25), ("3", 3.0), ("1e3", 1000.0), (".5", 0.5)],
        ["1,5", "abc", "1.2.3"],
    ),
    (
        {"type": "number", "decimalChar": ",", "groupChar": " "},
        [("1,5", 1.5), ("1 000,25", 1000.25), ("-0,5", -0.5), (" 2,5", 2.5), ("12", 12.0)],
        ["1.5", "1,5,5", "x"],
    ),
    (
        {"type": "number", "decimalChar": ",", "groupChar": "."},
        [("1.000,5", 1000.5), ("2,25", 2.25)],
        ["1,000,5", "x"],
    ),
    (
        {"type": "number", "bareNumber": False, "decimalChar": ","},
        [("12,50 kr", 12.5), ("€ 3,5", 3.5)],
        ["kr"],
    ),
    (
        {"type": "boolean"},
        [("true", True), ("False", False), ("1", True), ("0", False), ("TRUE", True)],
        ["yes", "ja", " true", "tRue"],
    ),
    (
        {"type": "boolean", "trueValues": ["ja", "Ja"], "falseValues": ["nej", "Nej"]},
        [("ja", True), ("Nej", False)],
        ["true", "JA", "0"],
    ),
    (
        {"type": "date"},
        [("2024-01-05", dt.date(2024, 1, 5)), ("2024-2-29", dt.date(2024, 2, 29))],
        ["2023-02-29", "2024-13-01", "05/01/2024", "2024-01-05T00:00:00", " 2024-01-05"],
    ),
    (
        {"type": "date", "format": "%d/%m/%Y"},
        [("05/01/2024", dt.date(2024, 1, 5))],
        ["2024-01-05", "31/02/2024"],
    ),
    (
        {"type": "date", "format": "any"},
        [("2024-01-05", dt.date(2024, 1, 5)), ("5 Jan 2024", dt.date(2024, 1, 5))],
        ["not a date"],
    ),
    (
        {"type": "datetime"},
        [
            ("2024-01-05T10:00:00", dt.datetime(2024, 1, 5, 10)),
            ("2024-01-05T10:00:00.5", dt.datetime(2024, 1, 5, 10, 0, 0, 500000)),
        ],
        ["2024-01-05", "2024-01-05T25:00:00", "2024-02-30T10:00:00", "x"],
    ),
    (
        {"type": "datetime"},
        [
            ("2024-01-05T10:00:00Z", dt.datetime(2024, 1, 5, 10, tzinfo=UTC)),
            ("2024-01-05T10:00:00+02:00", dt.datetime(2024, 1, 5, 8, tzinfo=UTC)),
            ("2024-01-05T10:00:00-01:30", dt.datetime(2024, 1, 5, 11, 30, tzinfo=UTC)),
        ],
        ["2024-01-05T10:00"],
    ),
    (
        {"type": "datetime", "format": "%d.%m.%Y %H:%M"},
        [("05.01.2024 10:30", dt.datetime(2024, 1, 5, 10, 30))],
        ["2024-01-05T10:30:00"],
    ),
    (
        {"type": "time"},
        [("10:00:00", dt.time(10)), ("23:59:59", dt.time(23, 59, 59))],
        ["24:00:01", "10:00", "x", "10.00.00"],
    ),
    (
        {"type": "time", "format": "%H.%M"},
        [("10.30", dt.time(10, 30))],
        ["10:30:00"],
    ),
    ({"type": "year"}, [("2024", 2024), ("0001", 1), ("+123", 123)], ["12345", "x", "24"]),
    (
        {"type": "yearmonth"},
        [("2024-01", "2024-01"), ("2024-1", "2024-1")],
        ["2024-13", "2024", "x-01"],
    ),
    ({"type": "duration"}, [("P1D", "P1D"), ("PT1H30M", "PT1H30M")], ["1 day", "P"]),
    ({"type": "geopoint"}, [("18.06, 59.33", "18.06, 59.33")], ["200, 0", "x"]),
    (
        {"type": "object"},
        [('{"a": 1}', '{"a": 1}')],
        ["[1]", "{", "1"],
    ),
    ({"type": "array"}, [("[1, 2]", "[1, 2]")], ['{"a": 1}', "["]),
    (
        {"type": "geojson"},
        [('{"type": "Point", "coordinates": [18.0, 59.3]}', None)],
        ['{"type": "Nope"}', "x"],
    ),
    ({"type": "string"}, [("anything", "anything"), (" ", " ")], []),
    (
        {"type": "string", "format": "email"},
        [("kommun@example.se", "kommun@example.se")],
        ["not-an-email", "a@"],
    ),
    (
        {"type": "string", "format": "uuid"},
        [("6a2f41a3-c54c-fce8-32d2-0324e1c32e22", "6a2f41a3-c54c-fce8-32d2-0324e1c32e22")],
        ["1234"],
    ),
    ({"type": "any"}, [("x", "x"), ("1", "1")], []),
]


def _ids() -> list[str]:
    return [f"{i}-{c[0]['type']}-{c[0].get('format', '')}" for i, c in enumerate(CASES)]


@pytest.mark.parametrize(("field", "good", "bad"), CASES, ids=_ids())
def test_cast_field_types(
    field: dict[str, Any], good: list[tuple[str, Any]], bad: list[str]
) -> None:
    texts = [t for t, _ in good] + bad
    result = cast_field(pa.array(texts, pa.string()), {"name": "f", **field})
    invalid = result.invalid.to_pylist()
    values = result.array.to_pylist()
    for index, (text, expected) in enumerate(good):
        assert not invalid[index], f"{text!r} should be valid"
        if expected is not None:
            assert values[index] == expected, text
    for index, text in enumerate(bad, start=len(good)):
        assert invalid[index], f"{text!r} should be invalid"
        assert values[index] is None
    assert not any(result.missing.to_pylist()) or "" in texts


@pytest.mark.parametrize(("field", "good", "bad"), CASES, ids=_ids())
def test_cast_field_agrees_with_frictionless(
    field: dict[str, Any], good: list[tuple[str, Any]], bad: list[str]
) -> None:
    """The kernel's verdict is frictionless' verdict, cell by cell."""
    texts = [t for t, _ in good] + bad
    reader = Field.from_descriptor({"name": "f", **field}).create_cell_reader()
    result = cast_field(pa.array(texts, pa.string()), {"name": "f", **field})
    for text, invalid in zip(texts, result.invalid.to_pylist(), strict=True):
        _, notes = reader(text)
        assert invalid == bool(notes and "type" in notes), text


def test_missing_values_and_nulls() -> None:
    values = pa.array(["", "NA", "-", "5", None], pa.string())
    result = cast_field(values, {"name": "n", "type": "integer"}, missing_values=["", "NA", "-"])
    assert result.array.to_pylist() == [None, None, None, 5, None]
    assert result.missing.to_pylist() == [True, True, True, False, True]
    assert result.invalid.to_pylist() == [False] * 5


def test_missing_values_default_is_empty_string_only() -> None:
    result = cast_field(pa.array(["", "NA"], pa.string()), {"name": "n", "type": "integer"})
    assert result.missing.to_pylist() == [True, False]
    assert result.invalid.to_pylist() == [False, True]


def test_field_missing_values_override_schema() -> None:
    field = {"name": "n", "type": "integer", "missingValues": ["x"]}
    result = cast_field(pa.array(["", "x"], pa.string()), field, missing_values=[""])
    assert result.missing.to_pylist() == [False, True]
    assert result.invalid.to_pylist() == [True, False]


def test_value_in_both_boolean_lists_is_false() -> None:
    field = {"name": "b", "type": "boolean", "trueValues": ["x"], "falseValues": ["x"]}
    result = cast_field(pa.array(["x"], pa.string()), field)
    assert result.array.to_pylist() == [False]


def test_datetime_column_types() -> None:
    naive = cast_field(pa.array(["2024-01-05T10:00:00"]), {"name": "t", "type": "datetime"})
    assert naive.array.type == pa.timestamp("us")  # microseconds: fractions are kept
    aware = cast_field(
        pa.array(["2024-01-05T10:00:00", "2024-01-05T10:00:00Z"]),
        {"name": "t", "type": "datetime"},
    )
    assert aware.array.type == pa.timestamp("us", tz="UTC")


@pytest.mark.parametrize(
    ("ftype", "arrow"),
    [
        ("integer", pa.int64()),
        ("number", pa.float64()),
        ("boolean", pa.bool_()),
        ("date", pa.date32()),
        ("time", pa.time64("us")),
        ("year", pa.int32()),
        ("string", pa.string()),
        ("object", pa.string()),
    ],
)
def test_output_types(ftype: str, arrow: pa.DataType) -> None:
    result = cast_field(pa.array(["x"], pa.string()), {"name": "f", "type": ftype})
    assert result.array.type == arrow


def test_large_column_uses_fast_path_and_stays_exact() -> None:
    texts = [str(i) for i in range(50_000)] + ["x", "+1"]
    result = cast_field(pa.array(texts), {"name": "i", "type": "integer"})
    assert result.invalid.to_pylist()[-2:] == [True, False]
    assert result.array.to_pylist()[-1] == 1
    assert sum(result.invalid.to_pylist()) == 1


def test_integer_beyond_int64_is_valid_but_null() -> None:
    result = cast_field(pa.array(["99999999999999999999"]), {"name": "i", "type": "integer"})
    assert result.invalid.to_pylist() == [False]
    assert result.array.to_pylist() == [None]


def test_chunked_input() -> None:
    chunked = pa.chunked_array([["1", "2"], ["x"]], pa.string())
    result = cast_field(chunked, {"name": "i", "type": "integer"})
    assert result.array.to_pylist() == [1, 2, None]


def test_non_string_input_is_refused() -> None:
    with pytest.raises(TypeError):
        cast_field(pa.array([1, 2]), {"name": "i", "type": "integer"})


@pytest.mark.parametrize(
    ("cells", "field", "invalid"),
    [
        ([1, 2.0, "3", True, None], {"type": "integer"}, [False, False, False, True, False]),
        ([1, "a"], {"type": "string"}, [True, False]),
        ([True, "true", 1], {"type": "boolean"}, [False, False, True]),
        ([dt.datetime(2024, 1, 5), "2024-01-05"], {"type": "date"}, [False, False]),
        ([1.5, "1,5"], {"type": "number", "decimalChar": ","}, [False, False]),
    ],
)
def test_python_cells_as_frictionless(
    cells: list[Any], field: dict[str, Any], invalid: list[bool]
) -> None:
    result = cast_python_cells(cells, {"name": "f", **field})
    assert result.invalid.to_pylist() == invalid
