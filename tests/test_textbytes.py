"""Checks over a batch's bytes (`sources.textbytes`) give what the per-value kernels give."""

from __future__ import annotations

import math

import pyarrow as pa
import pyarrow.compute as pc
from hypothesis import given, settings
from hypothesis import strategies as st

from opengov.sources.cast import cast_field, frictionless_reader
from opengov.sources.textbytes import any_byte, rewrite

CELLS = st.one_of(
    st.none(),
    st.text(alphabet="0123456789 ,.-+e\u00a0'’\nå", max_size=14),
    st.from_regex(r"-?[0-9]{1,3}( [0-9]{3}){0,3}(,[0-9]{1,2})?", fullmatch=True),
    st.text(max_size=6),
)


def _array(values: list[str | None], start: int) -> pa.Array:
    # A sliced array: its offsets do not start at zero.
    return pa.array(["pad"] * start + values, pa.string()).slice(start)


@settings(max_examples=300, deadline=None)
@given(
    values=st.lists(CELLS, max_size=12),
    start=st.integers(0, 2),
    drop=st.sampled_from(["", " ", "\u00a0", "’", "."]),
    swap=st.sampled_from([None, (",", "."), ("'", ".")]),
)
def test_rewrite_is_replace_substring(
    values: list[str | None], start: int, drop: str, swap: tuple[str, str] | None
) -> None:
    array = _array(values, start)
    out = rewrite(array, drop, swap)
    assert out is not None
    text, held = out
    expected = pc.replace_substring(array, drop, "") if drop else array
    present = [v is not None for v in values]
    if swap is not None:
        assert held is not None
        had = pc.match_substring(expected, swap[1]).to_pylist()
        assert [bool(h) and p for h, p in zip(had, present, strict=True)] == [
            bool(h) and p for h, p in zip(held.tolist(), present, strict=True)
        ]
        expected = pc.replace_substring(expected, swap[0], swap[1])
    got = text.to_pylist()
    want = expected.to_pylist()
    assert [g for g, p in zip(got, present, strict=True) if p] == [
        w for w, p in zip(want, present, strict=True) if p
    ]


@settings(max_examples=300, deadline=None)
@given(
    values=st.lists(CELLS, min_size=1, max_size=12),
    start=st.integers(0, 2),
    chars=st.sampled_from([(",", " "), (",", "\u00a0"), (",", "."), (".", ","), (",", "")]),
)
def test_numbers_with_decimal_and_group_chars_read_as_frictionless_reads_them(
    values: list[str | None], start: int, chars: tuple[str, str]
) -> None:
    decimal_char, group_char = chars
    field = {"name": "belopp", "type": "number", "decimalChar": decimal_char}
    if group_char:
        field["groupChar"] = group_char
    result = cast_field(_array(values, start), field)
    reader = frictionless_reader(field)
    for value, typed, invalid, missing in zip(
        values,
        result.array.to_pylist(),
        result.invalid.to_pylist(),
        result.missing.to_pylist(),
        strict=True,
    ):
        if value is None or value == "":
            assert missing and not invalid
            continue
        expected = reader(value)
        assert invalid == (expected is None), value
        if expected is not None:
            assert typed == float(expected) or (math.isnan(typed) and math.isnan(float(expected)))


@given(
    values=st.lists(st.one_of(st.none(), st.text(max_size=5)), max_size=8), start=st.integers(0, 2)
)
def test_any_byte_sees_newlines_and_non_ascii(values: list[str | None], start: int) -> None:
    array = _array(values, start)
    text = [v for v in values if v is not None]
    assert any_byte(array, "newline") == any("\n" in v for v in text)
    assert any_byte(array, "non-ascii") == any(not v.isascii() for v in text)


@given(
    values=st.lists(st.one_of(st.none(), st.text(alphabet="0-1é", max_size=6)), max_size=8),
    start=st.integers(0, 2),
    prefix=st.sampled_from(["0000", "0", "é0", "-1"]),
)
def test_any_prefix_is_starts_with(values: list[str | None], start: int, prefix: str) -> None:
    from opengov.sources.textbytes import any_prefix

    array = _array(values, start)
    assert any_prefix(array, prefix) == any(v is not None and v.startswith(prefix) for v in values)


@settings(max_examples=200, deadline=None)
@given(
    values=st.lists(
        st.one_of(
            st.none(),
            st.sampled_from(["", "0000-01-01", "0001-01-01", "2024-02-29", "2023-02-29", "x"]),
            st.dates().map(str),
        ),
        min_size=1,
        max_size=10,
    ),
    start=st.integers(0, 2),
)
def test_dates_read_as_frictionless_reads_them(values: list[str | None], start: int) -> None:
    field = {"name": "datum", "type": "date"}
    result = cast_field(_array(values, start), field)
    reader = frictionless_reader(field)
    for value, typed, invalid in zip(
        values, result.array.to_pylist(), result.invalid.to_pylist(), strict=True
    ):
        if value is None or value == "":
            assert not invalid and typed is None
            continue
        expected = reader(value)
        assert invalid == (expected is None), value
        assert typed == expected


def _number_texts(alphabet: str, min_size: int = 0) -> st.SearchStrategy[list[str | None]]:
    """Lists of cells: missing, text of `alphabet`, or integers beyond int64 either way."""
    return st.lists(
        st.one_of(
            st.none(),
            st.text(alphabet=alphabet, max_size=21),
            st.integers(-(10**21), 10**21).map(str),
        ),
        min_size=min_size,
        max_size=10,
    )


@settings(max_examples=300, deadline=None)
@given(values=_number_texts("0123456789-+ ١\n/:"), start=st.integers(0, 2))
def test_digit_runs_are_what_re2_matches(values: list[str | None], start: int) -> None:
    from opengov.sources.textbytes import digits

    array = _array(values, start)
    for pattern, low, high, minus in [
        (r"^-?[0-9]{1,18}$", 1, 18, True),
        (r"^[0-9]{4}$", 4, 4, False),
    ]:
        found = digits(array, low, high, minus=minus)
        assert found is not None
        expected = pc.fill_null(pc.match_substring_regex(array, pattern), False).to_pylist()
        assert found.tolist() == expected, pattern


@settings(max_examples=200, deadline=None)
@given(
    values=_number_texts("0123456789-+ e.", min_size=1),
    start=st.integers(0, 2),
    ftype=st.sampled_from(["integer", "year"]),
)
def test_integers_and_years_read_as_frictionless_reads_them(
    values: list[str | None], start: int, ftype: str
) -> None:
    field = {"name": "n", "type": ftype}
    result = cast_field(_array(values, start), field)
    reader = frictionless_reader(field)
    for value, typed, invalid in zip(
        values, result.array.to_pylist(), result.invalid.to_pylist(), strict=True
    ):
        if value is None or value == "":
            assert not invalid and typed is None
            continue
        try:
            expected = reader(value)
        except Exception:
            expected = None
        assert invalid == (expected is None), value
        if expected is not None and not -(2**63) <= expected < 2**63:
            assert typed is None  # valid, beyond int64: the exact checks take it
            continue
        assert typed == expected, value
