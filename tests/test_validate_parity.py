"""The arrow engine reports exactly what frictionless reports, on a corpus and on random tables.

For each package both engines run; the sets of (error type, row number, field name) and the
totals per (field, error type) must be equal, and non-empty where errors were planted.
"""

from __future__ import annotations

import string
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from parity_corpus import Case, all_cases, csv_text, one

from opengov import progress as progress_module
from opengov.errors import ConfigError
from opengov.package import load_package
from opengov.sources import csv as csv_source
from opengov.sources import typed
from opengov.validate import arrow_engine, frictionless_engine
from opengov.validate.dispatch import validate_package_resources
from opengov.validate.model import ResourceResult

ALL = 10**9  # samples: keep every finding so the sets can be compared


def _key_set(result: ResourceResult) -> set[tuple[str, int | None, str | None]]:
    return {(f.type, f.row_number, f.field_name) for f in result.samples}


def _compare(folder: Path) -> tuple[list[ResourceResult], list[ResourceResult]]:
    package = load_package(folder)
    ours = arrow_engine.validate_resources(package, package.resources, samples=ALL)
    theirs = frictionless_engine.validate_resources(package, package.resources, samples=ALL)
    assert [r.name for r in ours] == [r.name for r in theirs]
    for mine, ref in zip(ours, theirs, strict=True):
        only_ours = sorted(_key_set(mine) - _key_set(ref), key=str)
        only_theirs = sorted(_key_set(ref) - _key_set(mine), key=str)
        assert not only_ours and not only_theirs, (
            f"{mine.name}: only arrow {only_ours}; only frictionless {only_theirs}"
        )
        assert Counter(mine.totals) == Counter(ref.totals), mine.name
        assert mine.rows == ref.rows, mine.name
        assert mine.labels == ref.labels, mine.name
    return ours, theirs


CASES = all_cases()


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_parity(case: Case, tmp_path: Path) -> None:
    folder = case.write(tmp_path / case.name)
    if case.fallback:
        package = load_package(folder)
        with pytest.raises(arrow_engine.NotOnFastPath):
            arrow_engine.validate_resources(package, package.resources, samples=ALL)
        results = validate_package_resources(package, samples=ALL, engine="auto")
        assert all(r.engine == "frictionless" and r.fallback_reason for r in results)
        return
    ours, _ = _compare(folder)
    found = sum(r.error_count for r in ours)
    assert bool(found) == case.expect_errors, f"{case.name}: {found} errors"


def test_big_case_in_many_small_batches(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Tiny parse blocks and batches: ragged rows and duplicates across batch boundaries."""
    monkeypatch.setattr(csv_source, "BLOCK_SIZE", 1 << 14)
    monkeypatch.setattr(typed, "BATCH_ROWS", 1000)
    case = next(c for c in CASES if c.name == "big_multi_batch")
    ours, _ = _compare(case.write(tmp_path / case.name))
    assert ours[0].error_count > 10


def test_dispatch_keeps_package_order_and_marks_fallbacks(tmp_path: Path) -> None:
    fast = Case(
        name="mixed",
        resources=[
            {
                "name": "slow",
                "path": "slow.csv",
                "dialect": {"commentChar": "#"},
                "schema": {"fields": [{"name": "a", "type": "integer"}]},
            },
            {
                "name": "fast",
                "path": "fast.csv",
                "schema": {"fields": [{"name": "a", "type": "integer"}]},
            },
        ],
        files={"slow.csv": b"a\n#c\nx\n", "fast.csv": b"a\n1\ny\n"},
    )
    package = load_package(fast.write(tmp_path / "mixed"))
    results = validate_package_resources(package, samples=ALL)
    assert [r.name for r in results] == ["slow", "fast"]
    assert results[0].engine == "frictionless" and "commentChar" in (
        results[0].fallback_reason or ""
    )
    assert results[1].engine == "arrow" and results[1].fallback_reason is None
    assert results[0].error_count == results[1].error_count == 1
    only_fl = validate_package_resources(package, samples=ALL, engine="frictionless")
    assert all(r.engine == "frictionless" for r in only_fl)
    with pytest.raises(ConfigError, match="commentChar"):
        validate_package_resources(package, samples=ALL, engine="arrow")


def test_samples_are_bounded_but_totals_exact(tmp_path: Path) -> None:
    rows = [["n"]] + [["x"] for _ in range(500)]
    case = one("many", csv_text(rows), [{"name": "n", "type": "integer"}])
    package = load_package(case.write(tmp_path / "many"))
    result = arrow_engine.validate_resources(package, package.resources, samples=7)[0]
    assert result.totals[("n", "type-error")] == 500
    assert len(result.samples) == 7
    assert [f.row_number for f in result.samples] == list(range(2, 9))


def test_parquet_is_validated_by_arrow(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(
        pa.table({"id": [1, 2, 2, None], "namn": ["a", "b", None, "d"]}), tmp_path / "d.parquet"
    )
    case = Case(
        name="pq",
        resources=[
            {
                "name": "d",
                "path": "d.parquet",
                "schema": {
                    "fields": [
                        {"name": "id", "type": "integer", "constraints": {"unique": True}},
                        {"name": "namn", "type": "string", "constraints": {"required": True}},
                    ]
                },
            }
        ],
    )
    case.write(tmp_path)
    package = load_package(tmp_path)
    result = arrow_engine.validate_resources(package, package.resources, samples=ALL)[0]
    assert _key_set(result) == {("unique-error", 4, "id"), ("constraint-error", 4, "namn")}


# --- random tables ------------------------------------------------------------------------------

FIELD_KINDS: list[tuple[dict[str, Any], list[str]]] = [
    ({"type": "integer"}, ["1", "2", "-3", "x", "", "07", "1.5", "+4"]),
    (
        {"type": "integer", "constraints": {"minimum": 0, "unique": True}},
        ["1", "2", "-1", "", "a", "2"],
    ),
    ({"type": "number", "decimalChar": ","}, ["1,5", "2", "1.5", "", "x", "-0,0", "0"]),
    (
        {"type": "number", "constraints": {"maximum": 10, "enum": [1, 2.5, 20]}},
        ["1", "2.5", "20", "1.0", "y"],
    ),
    ({"type": "string", "constraints": {"required": True}}, ["a", "", "Åsa", "b c"]),
    (
        {"type": "string", "constraints": {"pattern": "[a-c]+", "maxLength": 3}},
        ["a", "abcd", "d", "", "å"],
    ),
    ({"type": "string", "constraints": {"unique": True}}, ["a", "b", "a", "", "ab"]),
    ({"type": "boolean"}, ["true", "false", "1", "ja", ""]),
    ({"type": "boolean", "trueValues": ["ja"], "falseValues": ["nej"]}, ["ja", "nej", "true", ""]),
    (
        {"type": "date", "constraints": {"minimum": "2024-01-01"}},
        ["2024-01-05", "2023-05-05", "2024-02-30", "", "x"],
    ),
    ({"type": "datetime"}, ["2024-01-05T10:00:00", "2024-01-05T10:00:00Z", "2024-01-05", ""]),
    ({"type": "year", "constraints": {"enum": [2020, 2021]}}, ["2020", "2022", "20", ""]),
    ({"type": "any"}, ["x", "", "1"]),
    (
        {"type": "integer", "constraints": {"required": True, "enum": [1, 2]}},
        ["1", "2", "3", "", "NA"],
    ),
    (
        {"type": "time", "constraints": {"maximum": "12:00:00"}},
        ["10:00:00", "13:00:00", "25:00:00", ""],
    ),
    ({"type": "yearmonth", "constraints": {"unique": False}}, ["2024-01", "2024-1", "2024-13", ""]),
    ({"type": "string", "format": "email"}, ["a@b.se", "nope", ""]),
    ({"type": "string", "constraints": {"minLength": 2}}, ["a,b", "x\ny", "ab", "a", 'a"b']),
]
GLOBAL_POOL = sorted({v for _, values in FIELD_KINDS for v in values})


def _quote(cell: str) -> str:
    return '"' + cell.replace('"', '""') + '"'


@st.composite
def random_table(
    draw: st.DrawFn,
) -> tuple[list[dict[str, Any]], str, dict[str, Any], dict[str, Any] | None]:
    count = draw(st.integers(min_value=1, max_value=4))
    kinds = draw(st.lists(st.sampled_from(range(len(FIELD_KINDS))), min_size=count, max_size=count))
    fields = [{"name": f"f{i}", **FIELD_KINDS[k][0]} for i, k in enumerate(kinds)]
    schema: dict[str, Any] = {"fields": fields}
    if draw(st.booleans()):
        schema["primaryKey"] = [fields[0]["name"]]
    delimiter = draw(st.sampled_from([",", ";", ";", "\t", "|"]))
    dialect = {"delimiter": delimiter} if draw(st.booleans()) else None
    labels = [fd["name"] for fd in fields]
    if draw(st.integers(0, 9)) == 0:
        labels = labels[:-1] if len(labels) > 1 else [*labels, "extra"]
    lines = [delimiter.join(labels)]
    if draw(st.integers(0, 9)) == 0:
        lines.insert(0, "Rapport 2024")  # a title line: frictionless looks for the header
    quote_all = draw(st.integers(0, 5)) == 0
    for _ in range(draw(st.integers(min_value=0, max_value=12))):
        shape = draw(st.integers(0, 14))
        pool = draw(st.sampled_from(["own", "own", "own", "any"]))
        cells = [
            draw(st.sampled_from(FIELD_KINDS[k][1] if pool == "own" else GLOBAL_POOL))
            for k in kinds
        ]
        cells = [c[1:-1].replace('""', '"') if c.startswith('"') else c for c in cells]
        if shape == 0:
            cells = cells[:-1]
        elif shape == 1:
            cells = [*cells, draw(st.sampled_from(["", "x", "Öl"]))]
        elif shape == 2:
            cells = []
        elif shape == 3:
            cells = [""] * len(cells)
        cells = [
            _quote(c) if quote_all or delimiter in c or '"' in c or "\n" in c else c for c in cells
        ]
        lines.append(delimiter.join(cells))
    if draw(st.integers(0, 4)) == 0:
        schema["missingValues"] = draw(
            st.sampled_from([["", "NA"], ["NA", ""], [""], ["", "x", "0"]])
        )
    if len(fields) > 1 and draw(st.integers(0, 4)) == 0:
        schema["primaryKey"] = [fields[0]["name"], fields[1]["name"]]
    if draw(st.integers(0, 4)) == 0 and fields[-1]["type"] == fields[0]["type"]:
        schema["foreignKeys"] = [
            {
                "fields": [fields[-1]["name"]],
                "reference": {"resource": "", "fields": [fields[0]["name"]]},
            }
        ]
    newline = draw(st.sampled_from(["\n", "\n", "\r\n"]))
    return fields, newline.join(lines) + newline, schema, dialect


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(table=random_table(), word=st.text(alphabet=string.ascii_lowercase, min_size=6, max_size=6))
def test_random_tables(
    table: tuple[list[dict[str, Any]], str, dict[str, Any], dict[str, Any] | None],
    word: str,
    tmp_path: Path,
) -> None:
    fields, text, schema, dialect = table
    extra = {k: v for k, v in schema.items() if k != "fields"}
    case = one("random", text, fields, schema_extra=extra, dialect=dialect)
    folder = case.write(tmp_path / word)
    package = load_package(folder)
    assume(arrow_engine.fast_path_reason(package, package.resources[0]) is None)
    _compare(folder)


def test_fingerprint_collisions_never_become_findings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every key gets the same fingerprint: all rows are candidates, findings stay exact."""
    import pyarrow as pa
    import pyarrow.compute as pc

    from opengov.validate import keys

    monkeypatch.setattr(
        keys,
        "to_u32",
        lambda hashed: pc.cast(pc.bit_wise_and(hashed, pa.scalar(0, pa.uint64())), pa.uint32()),
    )
    for case in CASES:
        if case.name in {"unique_values", "composite_primary_key", "primary_key_and_unique"}:
            ours, _ = _compare(case.write(tmp_path / case.name))
            assert any(t in {"unique-error", "primary-key"} for r in ours for _, t in r.totals)


def test_large_self_referencing_foreign_key(tmp_path: Path) -> None:
    rows = [["id", "parent"]] + [
        [str(i), str(i - 1 if i % 1000 else i + 10**6)] for i in range(1, 9001)
    ]
    case = one(
        "self_fk",
        csv_text(rows),
        [{"name": "id", "type": "integer"}, {"name": "parent", "type": "integer"}],
        schema_extra={
            "foreignKeys": [{"fields": ["parent"], "reference": {"resource": "", "fields": ["id"]}}]
        },
    )
    ours, _ = _compare(case.write(tmp_path / "self_fk"))
    assert ours[0].totals[(None, "foreign-key")] == 10  # row 1 (parent 0) and every 1000th


PATTERNS = [
    "a|b",
    "[a-c]+",
    "\\d+",
    "\\w+",
    "F[0-9]{3}",
    ".+",
    "(?i:abc)",
    "(?i:k)+",
    "[^a-z]+",
    "..?",
    "[^x]*",
    "\\s*x",
    "å+",
    "a(?=b)b",
    "[[:alpha:]]+",
    "x{,2}",
    "a$",
    "^a",
    "(a|b)*c",
    "\\bx\\b",
    "\\S+",
    "[A-ZÅÄÖ][a-zåäö]+",
]
ALPHABET = "abcxFKß0123 \n\x0b\x1cåÅ٣\u212a"


@pytest.mark.filterwarnings("ignore::FutureWarning")  # "[[:alpha:]]" is a nested set to re
@settings(max_examples=400, deadline=None)
@given(
    pattern=st.sampled_from(PATTERNS),
    values=st.lists(st.text(alphabet=ALPHABET, max_size=6), min_size=1, max_size=20),
)
def test_pattern_kernel_matches_python_re(pattern: str, values: list[str]) -> None:
    import re

    import pyarrow as pa

    from opengov.validate.checks import _pattern_check

    array = pa.array(values, pa.string())
    ok = pa.array([True] * len(values))
    got = _pattern_check(pattern, array, ok).to_pylist()
    compiled = re.compile(f"^{pattern}$")
    assert got == [compiled.match(v) is None for v in values]


def test_progress_line_on_a_terminal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import sys

    monkeypatch.setattr(progress_module, "_AFTER", 0.0)
    monkeypatch.setattr(typed, "BATCH_ROWS", 100)
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    rows = [["n"]] + [[str(i)] for i in range(1000)]
    package = load_package(
        one("p", csv_text(rows), [{"name": "n", "type": "integer"}]).write(tmp_path)
    )
    arrow_engine.validate_resources(package, package.resources, samples=5, progress=True)
    assert "1,000 rows" in capsys.readouterr().err
    arrow_engine.validate_resources(package, package.resources, samples=5, progress=False)
    assert capsys.readouterr().err == ""


@settings(max_examples=200, deadline=None)
@given(values=st.lists(st.text(max_size=20), min_size=1, max_size=10))
def test_fingerprint_depends_on_the_value_alone(values: list[str]) -> None:
    """Equal values must hash alike whatever else shares their batch."""
    import pyarrow as pa

    from opengov.validate.keys import fingerprint

    together = fingerprint(pa.array(values, pa.string())).to_pylist()
    alone = [fingerprint(pa.array([v], pa.string())).to_pylist()[0] for v in values]
    assert together == alone
