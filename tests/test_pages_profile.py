"""Column profiles and the preview: exact where the page says so, close where it says
"ungefär", in memory that does not grow with the table, and the same when built in parts."""

from __future__ import annotations

import datetime as dt
import math
import random
from collections import Counter
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from opengov.release import profile as prof
from opengov.release.profile import Profile, preview_parquet, profile_parquet

ints = st.lists(st.none() | st.integers(-(2**40), 2**40), min_size=0, max_size=150)
floats = st.lists(
    st.none() | st.floats(allow_nan=True, allow_infinity=True, width=64), max_size=150
)
texts = st.lists(st.none() | st.text(max_size=12) | st.sampled_from(["Skola", "Vård", ""]),
                 max_size=150)  # fmt: skip
dates = st.lists(st.none() | st.dates(dt.date(1800, 1, 1), dt.date(2200, 1, 1)), max_size=150)


def run(table: pa.Table, batch: int, fields: list[dict[str, Any]] | None = None) -> Any:
    profile = Profile(table.schema, fields or [])
    for part in table.to_batches(max_chunksize=max(1, batch)):
        profile.update(part)
    return profile.finish()


def check_bars(column: Any, present: list[float]) -> None:
    """Every present value is counted once, in the bin that holds it."""
    assert sum(b.count for b in column.bars) == len(present)
    if column.chart == "histogram":
        for b in column.bars:
            inside = [v for v in present if b.low <= v < b.high]
            assert len(inside) == b.count, (b, column.name)


@settings(max_examples=60, deadline=None)
@given(values=ints, batch=st.integers(1, 60))
def test_integer_columns_are_exact(values: list[int | None], batch: int) -> None:
    column = run(pa.table({"n": pa.array(values, pa.int64())}), batch).columns[0]
    present = [v for v in values if v is not None]
    assert column.rows == len(values)
    assert column.empty == len(values) - len(present)
    assert column.distinct == len(set(present)) and column.distinct_exact
    assert column.minimum == (min(present) if present else None)
    assert column.maximum == (max(present) if present else None)
    if present:
        assert math.isclose(column.mean, sum(present) / len(present), rel_tol=1e-9)
    check_bars(column, [float(v) for v in present])
    if present and len(set(present)) <= prof.VALUE_BARS:
        assert column.chart == "values"
        assert {b.low: b.count for b in column.bars} == Counter(float(v) for v in present)


@settings(max_examples=60, deadline=None)
@given(values=floats, batch=st.integers(1, 60))
def test_float_columns_leave_out_what_is_not_a_number(
    values: list[float | None], batch: int
) -> None:
    column = run(pa.table({"x": pa.array(values, pa.float64())}), batch).columns[0]
    finite = [v for v in values if v is not None and math.isfinite(v)]
    assert column.empty == sum(v is None for v in values)
    assert column.minimum == (min(finite) if finite else None)
    assert column.maximum == (max(finite) if finite else None)
    assert column.distinct == len({v + 0.0 for v in finite})
    check_bars(column, finite)


@settings(max_examples=60, deadline=None)
@given(values=texts, batch=st.integers(1, 60))
def test_text_columns_count_empty_cells_and_values(values: list[str | None], batch: int) -> None:
    column = run(pa.table({"t": pa.array(values, pa.string())}), batch).columns[0]
    present = [v for v in values if v]
    counts = Counter(present)
    assert column.empty == len(values) - len(present)
    assert column.distinct == len(counts) and column.distinct_exact and column.top_exact
    for bar in column.top:
        assert bar.count == counts[next(v for v in counts if prof._shown_value(v) == bar.label)]
    if column.top:
        assert column.top[0].count == max(counts.values())
        assert len(column.top) <= prof.TOP_SHOWN


@settings(max_examples=80, deadline=None)
@given(values=dates, batch=st.integers(1, 60))
def test_date_columns_bin_every_date_once(values: list[dt.date | None], batch: int) -> None:
    column = run(pa.table({"d": pa.array(values, pa.date32())}), batch).columns[0]
    present = [v for v in values if v is not None]
    assert column.minimum == (min(present) if present else None)
    assert column.maximum == (max(present) if present else None)
    assert column.distinct == len(set(present))
    assert sum(b.count for b in column.bars) == len(present)


@settings(max_examples=60, deadline=None)
@given(numbers=ints, words=texts, cut=st.integers(0, 300), batch=st.integers(1, 50))
def test_profiles_of_parts_merge_into_the_profile_of_the_whole(
    numbers: list[int | None], words: list[str | None], cut: int, batch: int
) -> None:
    size = min(len(numbers), len(words))
    table = pa.table(
        {"n": pa.array(numbers[:size], pa.int64()), "t": pa.array(words[:size], pa.string())}
    )
    whole = run(table, batch)
    first, second = Profile(table.schema, []), Profile(table.schema, [])
    for part in table.slice(0, cut).to_batches(max_chunksize=batch):
        first.update(part)
    for part in table.slice(cut).to_batches(max_chunksize=batch):
        second.update(part)
    first.merge(second)
    merged = first.finish()
    assert merged.rows == whole.rows
    for a, b in zip(merged.columns, whole.columns, strict=True):
        assert (a.rows, a.empty, a.distinct, a.minimum, a.maximum) == (
            b.rows,
            b.empty,
            b.distinct,
            b.minimum,
            b.maximum,
        )
        assert sum(x.count for x in a.bars) == sum(x.count for x in b.bars)
        assert [(x.label, x.count) for x in a.top] == [(x.label, x.count) for x in b.top]


def test_large_columns_are_estimated_within_the_stated_error_in_bounded_memory() -> None:
    rng = random.Random(7)
    profile = Profile(
        pa.schema([("id", pa.int64()), ("fri", pa.string()), ("kat", pa.string())]), []
    )
    distinct_ids, heavy, rows = 0, 0, 0
    for b in range(40):  # 40 batches of 10,000 rows: 400,000 distinct ids and texts
        ids = list(range(b * 10_000, (b + 1) * 10_000))
        free = [f"text {rng.randrange(10**12)}" for _ in ids]
        kat = ["Skola" if i % 10 == 0 else f"k{rng.randrange(10**9)}" for i in ids]
        heavy += sum(1 for k in kat if k == "Skola")
        distinct_ids += len(ids)
        rows += len(ids)
        profile.update(pa.record_batch({"id": ids, "fri": free, "kat": kat}))
        for column in profile.columns:
            # What the profile keeps stays bounded however many values stream past.
            assert len(column.distinct.kept) <= prof.SKETCH_SIZE
            assert len(column.top.counts) <= prof.TOP_CAPACITY
            assert len(column.hist.bins) <= prof.WORKING_BINS
    result = profile.finish()
    ids_, free_, kat_ = result.columns
    for column, truth in ((ids_, distinct_ids), (free_, rows)):
        assert not column.distinct_exact
        assert abs(column.distinct - truth) / truth < 0.05, (column.name, column.distinct)
    # A value more common than 1/TOP_CAPACITY of the rows is found, its count a lower bound
    # at most rows/TOP_CAPACITY below the truth.
    assert not kat_.top_exact and kat_.top[0].label == "Skola"
    assert heavy - rows / prof.TOP_CAPACITY <= kat_.top[0].count <= heavy
    assert free_.top == [] and free_.bars == []


def test_far_values_widen_the_bins_instead_of_overflowing() -> None:
    table = pa.table({"x": pa.array([0.001, 0.002, 0.003, 1e300, -1e300, 5.0])})
    column = run(table, 3).columns[0]
    check_bars(column, [0.001, 0.002, 0.003, 1e300, -1e300, 5.0])
    assert column.minimum == -1e300 and column.maximum == 1e300


def test_timestamps_and_booleans(tmp_path: Path) -> None:
    utc = dt.UTC
    table = pa.table(
        {
            "t": pa.array(
                [
                    dt.datetime(2024, 1, 1, 12, tzinfo=utc),
                    None,
                    dt.datetime(2024, 3, 5, tzinfo=utc),
                ],
                pa.timestamp("s", tz="UTC"),
            ),
            "b": pa.array([True, False, True]),
        }
    )
    t, b = run(table, 2).columns
    assert t.kind == "time" and t.empty == 1 and t.distinct == 2
    assert t.minimum == dt.datetime(2024, 1, 1, 12, tzinfo=utc)
    assert b.kind == "boolean" and [(x.label, x.count) for x in b.top] == [("ja", 2), ("nej", 1)]


def test_year_columns_are_labelled_without_a_thousands_space(tmp_path: Path) -> None:
    table = pa.table({"ar": pa.array([2019, 2020, 2020], pa.int32())})
    column = run(table, 10, [{"name": "ar", "type": "year", "title": "År"}]).columns[0]
    assert [b.label for b in column.bars] == ["2019", "2020"]
    assert column.title == "År"


def test_preview_takes_the_first_rows_formatted_in_swedish(tmp_path: Path) -> None:
    path = tmp_path / "t.parquet"
    pq.write_table(
        pa.table(
            {
                "belopp": pa.array([1234.5 + i for i in range(150)]),
                "text": pa.array([f"rad {i}" for i in range(150)]),
                "datum": pa.array([dt.date(2024, 5, 1)] * 150),
            }
        ),
        path,
    )
    preview = preview_parquet(path)
    assert preview.total_rows == 150 and len(preview.rows) == prof.PREVIEW_ROWS
    first = preview.rows[0]
    assert first[0].text == "1\u00a0234,5" and first[0].sort == "1234.5"
    assert first[1].text == "rad 0" and first[2].text == "2024-05-01"
    assert profile_parquet(path, []).rows == 150


@pytest.mark.parametrize("value", ["x" * 500, '=HYPERLINK("x")', "<script>alert(1)</script>"])
def test_preview_cells_are_cut_and_carried_as_text(tmp_path: Path, value: str) -> None:
    path = tmp_path / "t.parquet"
    pq.write_table(pa.table({"t": [value]}), path)
    cell = preview_parquet(path).rows[0][0]
    assert len(cell.text) <= prof.PREVIEW_CELL_CHARS
    assert cell.text.startswith(value[: prof.PREVIEW_CELL_CHARS - 1])


def _reference_hash(value: str) -> int:
    """The sketch's text hash as its docstring defines it, one value at a time in Python."""
    from opengov.release import profile as P

    data = value.encode()
    weights = P._weights(max(len(data), 1))
    total = 0
    for j, byte in enumerate(data):
        total = (total + (byte + 1) * int(weights[j])) % (1 << 64)
    mixed = total ^ ((len(data) * 0x9E3779B97F4A7C15) % (1 << 64))
    return int(P._splitmix(pa.array([mixed], pa.uint64()))[0].as_py())


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.text(alphabet="aö€1 -\x00", max_size=70), min_size=1, max_size=20),
    st.sampled_from([None, 0, 11, 60]),
)
def test_text_hashes_agree_on_every_path(values: list[str], width: int | None) -> None:
    """Equal-length, short and long values take different numpy paths to one hash."""
    from opengov.release.profile import _text_hashes

    if width is not None:
        values = [(v * (width + 1))[:width] for v in values]  # one length: the matrix path
    expected = [_reference_hash(v) for v in values]
    sliced = pa.array(["pad", *values]).slice(1)
    assert _text_hashes(sliced).to_pylist() == expected
    assert _text_hashes(values).to_pylist() == expected


@pytest.mark.parametrize("rows", [50, 1900, 2500, 9000])
def test_unique_columns_profile_as_counted(rows: int) -> None:
    """A column the published schema declares unique skips hashing and counting: its profile
    is the counted one, with the number of distinct values exact where counting estimates it."""
    from opengov.release.profile import Profile

    table = pa.table(
        {
            "id": [f"F{i:07d}" for i in range(rows)],
            "nr": list(range(rows)),
            "dag": pa.array(list(range(rows)), pa.int32()).cast(pa.date32()),
        }
    )
    fields = [{"name": n, "type": t} for n, t in (("id", "string"), ("nr", "integer"),
                                                  ("dag", "date"))]  # fmt: skip
    batches = table.to_batches(max_chunksize=700)
    counted = Profile(table.schema, fields)
    known = Profile(table.schema, fields, frozenset({"id", "nr", "dag"}))
    for batch in batches:
        counted.update(batch)
        known.update(batch)
    mine, theirs = known.finish().to_dict(), counted.finish().to_dict()
    for column, reference in zip(mine["columns"], theirs["columns"], strict=True):
        assert column["distinct"] == rows and column["distinct_exact"] is True
        if reference["distinct_exact"]:
            assert column == reference
        else:
            assert abs(reference["distinct"] - rows) < 0.1 * rows
            assert {**column, "distinct": None, "distinct_exact": None} == {
                **reference,
                "distinct": None,
                "distinct_exact": None,
            }


def test_unique_columns_of_a_published_schema() -> None:
    from opengov.release.profile import unique_columns

    schema = {
        "fields": [
            {"name": "a", "constraints": {"unique": True}},
            {"name": "b", "constraints": {"unique": False, "required": True}},
            {"name": "c"},
        ],
        "primaryKey": "c",
    }
    assert unique_columns(schema) == {"a", "c"}
    assert unique_columns({**schema, "primaryKey": ["b", "c"]}) == {"a"}


@settings(max_examples=200, deadline=None)
@given(st.lists(st.floats(allow_nan=False, allow_infinity=False), min_size=1, max_size=40))
@example([1.7976931348623155e308, -2.9937604643020797e292, 0.0])
@example([1.7976931348623157e308, -1.7976931348623157e308])
def test_the_histogram_takes_any_finite_floats(values: list[float]) -> None:
    """The span of the largest floats (1.8e308 to -3e292) is past what a float holds: the first
    bin width once became infinite and the publish an internal error (found by the red team's
    XLSX test). Every value is still counted once."""
    from opengov.release.profile import _Histogram

    histogram = _Histogram(integer=False)
    histogram.add(pa.array(values, pa.float64()), min(values), max(values))
    assert sum(histogram.bins.values()) == len(values)
