"""Casting text cells to their Table Schema types, exactly as frictionless 5.21 would.

This is the shared kernel of publishing (`tables.read_typed`) and of the fast validator
(`validate.arrow_engine`): a cell is valid here if and only if frictionless' own field reader
accepts it, so the fast engine reports the same type errors and the published table holds
the same values the validator checked.

How it stays both fast and exact: each type has a strict *fast pattern* (for example
`-?[0-9]{1,18}` for integers) whose matches are cast with vectorised pyarrow kernels and are,
by construction, a subset of what frictionless accepts, with the same value. Everything else
(the residual: errors, exotic spellings such as "+5" or "1_000", custom date formats, JSON) goes
through frictionless' own value reader, once per distinct string. The residual is usually the
handful of bad cells, so the Python work is proportional to the errors, not to the rows.
"""

from __future__ import annotations

import datetime as dt
import decimal
import functools
import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from opengov.sources.textbytes import any_prefix, digits, from_numpy_bool, rewrite, text_bytes

DEFAULT_MISSING_VALUES: tuple[str, ...] = ("",)
DEFAULT_TRUE_VALUES: tuple[str, ...] = ("true", "True", "TRUE", "1")
DEFAULT_FALSE_VALUES: tuple[str, ...] = ("false", "False", "FALSE", "0")

# Table Schema types whose cast value is kept as the source text (JSON or ISO text is already
# the portable representation; there is no arrow type that would carry more).
TEXT_TYPES = frozenset(
    {"string", "any", "yearmonth", "duration", "geopoint", "geojson", "object", "array", "list"}
)

KNOWN_TYPES = TEXT_TYPES | {"integer", "number", "boolean", "date", "datetime", "time", "year"}

_INT_FAST = r"^-?[0-9]{1,18}$"  # fits int64 and needs no stripping or sign handling
_DATE_FAST = r"^[1-9][0-9]{3}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12][0-9]|3[01])$"
_HMS = r"(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]"
_DATETIME_NAIVE_FAST = r"^[1-9][0-9]{3}-[0-9]{2}-[0-9]{2}T" + _HMS + "$"
_DATETIME_AWARE_FAST = (
    r"^[1-9][0-9]{3}-[0-9]{2}-[0-9]{2}T" + _HMS + r"(?:Z|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])$"
)
_TIME_FAST = "^" + _HMS + "$"
_YEAR_FAST = r"^[0-9]{4}$"
_YEARMONTH_FAST = r"^[0-9]{4}-(?:0[1-9]|1[0-2])$"
# String formats through RE2: what each accepts is a subset of what frictionless' checker
# accepts (validators.email, rfc3986 with a scheme, uuid.UUID), so the rest (a quoted or
# non-ASCII local part, an IDN domain, braces around a UUID, and every invalid value) goes to
# frictionless' own checker once per distinct value: usually only the errors.
_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~\-]+"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_EMAIL_FAST = (
    # validators.email: one "@", a dot-atom local part of at most 64 characters, a domain of
    # at most 253 whose last label ends in a letter (ASCII here: no IDNA encoding needed).
    rf"^(?:{_ATOM}(?:\.{_ATOM})*)@(?:{_LABEL}\.)+[A-Za-z0-9][A-Za-z0-9-]{{0,61}}[A-Za-z]$"
)
_FORMAT_FAST = {
    "email": _EMAIL_FAST,
    # rfc3986 parses anything; frictionless asks only that a scheme was found.
    "uri": r"^[A-Za-z][A-Za-z0-9+.\-]*:",
    "uuid": r"^(?:[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}"
    r"|[0-9A-Fa-f]{32})$",
}


@dataclass(frozen=True)
class CastResult:
    """A cast column.

    `array`: the typed values (null where the cell was missing or invalid).
    `invalid`: true where a present, non-missing cell failed the type or format (a
    frictionless `type-error`); never null.
    `missing`: true where the cell is absent (null input) or one of the missing values; never
    null. Constraints such as `required` look at this.
    """

    array: pa.Array
    invalid: pa.BooleanArray
    missing: pa.BooleanArray


def arrow_type(field: dict[str, Any], *, aware: bool = False) -> pa.DataType:
    """The arrow type a Table Schema field is cast to."""
    ftype = str(field.get("type") or "any")
    if ftype == "integer":
        return pa.int64()
    if ftype == "number":
        return pa.float64()
    if ftype == "boolean":
        return pa.bool_()
    if ftype == "date":
        return pa.date32()
    if ftype == "datetime":
        return pa.timestamp("us", tz="UTC") if aware else pa.timestamp("us")
    if ftype == "time":
        return pa.time64("us")
    if ftype == "year":
        return pa.int32()
    return pa.string()


def field_missing_values(
    field: dict[str, Any], schema_missing: Sequence[str] | None = None
) -> list[str]:
    """Field-level missingValues win (Table Schema v2), then the schema's, then [""]."""
    raw = field.get("missingValues")
    if raw is None:
        raw = list(schema_missing) if schema_missing is not None else list(DEFAULT_MISSING_VALUES)
    # v2 allows {"value": ..., "label": ...} entries.
    return [str(v["value"]) if isinstance(v, dict) else str(v) for v in raw]


def frictionless_reader(field: dict[str, Any]) -> Callable[[Any], Any]:
    """frictionless' own value reader for this field: the arbiter of what is valid."""
    desc = {k: v for k, v in field.items() if k not in {"constraints", "missingValues"}}
    desc.setdefault("type", "any")
    desc.setdefault("name", "field")
    return _reader(json.dumps(desc, sort_keys=True, default=str))


@functools.lru_cache(maxsize=256)
def _reader(descriptor_json: str) -> Callable[[Any], Any]:
    # Building a frictionless Field validates its descriptor (about a millisecond): once per
    # field, not once per batch.
    from frictionless import Field

    reader: Callable[[Any], Any] = Field.from_descriptor(
        json.loads(descriptor_json)
    ).create_value_reader()
    return reader


def cast_field(
    values: pa.Array | pa.ChunkedArray,
    field: dict[str, Any],
    *,
    missing_values: Sequence[str] | None = None,
) -> CastResult:
    """Cast a string column to `field`'s type; see CastResult.

    `missing_values` is the schema-level list (default [""]); a field's own `missingValues`
    overrides it.
    """
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks() if values.num_chunks != 1 else values.chunk(0)
    if not pa.types.is_string(values.type):
        if pa.types.is_large_string(values.type) or pa.types.is_null(values.type):
            values = values.cast(pa.string())
        else:
            raise TypeError(f"cast_field expects strings, got {values.type}")
    missing_list = field_missing_values(field, missing_values)
    missing = _missing_mask(values, missing_list)
    present = pc.invert(missing)
    ftype = str(field.get("type") or "any")
    fmt = str(field.get("format") or "default")
    caster = _CASTERS.get(ftype, _cast_text)
    array, valid = caster(values, present, field, fmt)
    invalid = pc.and_(present, pc.invert(valid))
    return CastResult(array=array, invalid=_no_nulls(invalid), missing=missing)


# --- masks -------------------------------------------------------------------------------


def _no_nulls(mask: pa.Array) -> pa.BooleanArray:
    filled: pa.BooleanArray = pc.fill_null(mask, False)
    return filled


def _missing_mask(values: pa.Array, missing_list: Sequence[str]) -> pa.BooleanArray:
    # frictionless: `str(cell) in missing_values`, exact, no trimming; absent cells too.
    absent = pc.is_null(values)
    if not missing_list:
        return _no_nulls(absent)
    if len(missing_list) <= 3:
        # A few equality tests beat building a hash set per batch (the usual list is [""]).
        listed = None
        for item in missing_list:
            hit = pc.equal(values, item) if item else pc.equal(pc.binary_length(values), 0)
            listed = hit if listed is None else pc.or_(listed, hit)
    else:
        listed = pc.is_in(values, value_set=pa.array(list(missing_list), pa.string()))
    return _no_nulls(pc.or_(absent, pc.fill_null(listed, False)))


# Fast patterns that are runs of digits, checked over the bytes (`textbytes.digits`) rather
# than by RE2 once per value: (fewest digits, most digits, a leading "-" allowed).
_DIGIT_RUNS = {_INT_FAST: (1, 18, True), _YEAR_FAST: (4, 4, False)}


def _fast(values: pa.Array, present: pa.Array, pattern: str) -> pa.BooleanArray:
    run = _DIGIT_RUNS.get(pattern)
    if run is not None:
        low, high, minus = run
        found = digits(values, low, high, minus=minus)
        if found is not None:
            return _no_nulls(pc.and_(present, from_numpy_bool(found)))
    return _no_nulls(pc.and_(present, pc.match_substring_regex(values, pattern)))


# --- the residual: frictionless' reader per distinct string -------------------------------


def _residual(
    values: pa.Array,
    mask: pa.Array,
    field: dict[str, Any],
    to_arrow: Callable[[Any], Any],
    out_type: pa.DataType,
) -> tuple[pa.Array, pa.BooleanArray]:
    """Typed values and validity for the cells under `mask`, via frictionless' reader.

    Returns arrays aligned with `values`; outside `mask` they are null / false.
    """
    if not pc.any(mask).as_py():
        return pa.nulls(len(values), out_type), _no_nulls(pa.nulls(len(values), pa.bool_()))
    uniques = pc.unique(values.filter(mask))
    reader = frictionless_reader(field)
    typed: list[Any] = []
    ok: list[bool] = []
    for text in uniques.to_pylist():
        try:
            value = reader(text)
        except Exception:  # a reader that raises is a reader that rejects
            value = None
        ok.append(value is not None)
        typed.append(None if value is None else to_arrow(value))
    index = pc.index_in(values, value_set=uniques)
    index = pc.if_else(mask, index, pa.scalar(None, pa.int32()))
    typed_all = pa.array(typed, out_type).take(index)
    ok_all = pa.array(ok, pa.bool_()).take(index)
    return typed_all, _no_nulls(ok_all)


def _merge(
    fast_ok: pa.Array,
    fast_values: pa.Array,
    slow_ok: pa.Array,
    slow_values: pa.Array,
) -> tuple[pa.Array, pa.BooleanArray]:
    array = pc.if_else(fast_ok, fast_values, slow_values)
    valid = pc.or_(fast_ok, slow_ok)
    array = pc.if_else(valid, array, pa.scalar(None, array.type))
    return array, _no_nulls(valid)


def _hybrid(
    values: pa.Array,
    present: pa.Array,
    field: dict[str, Any],
    fast_ok: pa.Array,
    fast_values: pa.Array,
    to_arrow: Callable[[Any], Any],
) -> tuple[pa.Array, pa.BooleanArray]:
    rest = _no_nulls(pc.and_(present, pc.invert(fast_ok)))
    if not pc.any(rest).as_py():
        # Every present cell took the fast path (the usual case): nothing to merge.
        return fast_values, fast_ok
    slow_values, slow_ok = _residual(values, rest, field, to_arrow, fast_values.type)
    return _merge(fast_ok, fast_values, slow_ok, slow_values)


def _masked(values: pa.Array, mask: pa.Array) -> pa.Array:
    return pc.if_else(mask, values, pa.scalar(None, values.type))


def _masked_unless_all(values: pa.Array, mask: pa.BooleanArray) -> pa.Array:
    """`_masked`, without copying the values when the mask (never null) is all true."""
    if mask.true_count == len(mask):
        return values
    return _masked(values, mask)


# --- per type ------------------------------------------------------------------------------

_Caster = Callable[[pa.Array, pa.Array, dict[str, Any], str], tuple[pa.Array, pa.BooleanArray]]

_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1


def _int_or_none(value: Any) -> int | None:
    # Python ints beyond int64 are valid for frictionless but do not fit the column.
    as_int = int(value)
    return as_int if _INT64_MIN <= as_int <= _INT64_MAX else None


def _cast_integer(
    values: pa.Array, present: pa.Array, field: dict[str, Any], fmt: str
) -> tuple[pa.Array, pa.BooleanArray]:
    ok = _fast(values, present, _INT_FAST)
    fast_values = pc.cast(_masked(values, ok), pa.int64())
    return _hybrid(values, present, field, ok, fast_values, _int_or_none)


def _number_fast(
    values: pa.Array, present: pa.Array, field: dict[str, Any]
) -> tuple[pa.BooleanArray, pa.Array]:
    decimal_char = str(field.get("decimalChar", "."))
    group_char = str(field.get("groupChar", ""))
    if len(decimal_char) != 1 or len(group_char) > 1 or group_char == decimal_char:
        # Multi-character or clashing separators are legal but odd: frictionless decides.
        return _no_nulls(pa.nulls(len(values), pa.bool_())), pa.nulls(len(values), pa.float64())
    # frictionless strips, then removes every group char wherever it is; a value with no
    # surrounding whitespace gives the same result with the removal alone (and a value with
    # whitespace is not taken by the fast path). It rejects a "." left after removing group
    # chars, whatever follows, when the decimal char is another.
    swap = (decimal_char, ".") if decimal_char != "." else None
    rewritten = rewrite(values, group_char, swap) if group_char or swap else None
    usable = present
    if rewritten is not None:
        text, held_dot = rewritten
        if held_dot is not None and held_dot.any():
            usable = _no_nulls(pc.and_(present, from_numpy_bool(~held_dot)))
    else:
        text = values
        if group_char:
            text = pc.replace_substring(values, pattern=group_char, replacement="")
        if decimal_char != ".":
            usable = _no_nulls(pc.and_(present, pc.invert(pc.match_substring(text, "."))))
            text = pc.replace_substring(text, pattern=decimal_char, replacement=".")
    if field.get("bareNumber", True) is not False:
        # Arrow's float parser accepts a subset of what Decimal() accepts (digits, sign,
        # exponent, inf, nan; no whitespace, underscores or non-ASCII digits), with the same
        # value, correctly rounded. A batch where every usable cell parses needs nothing more.
        try:
            return usable, pc.cast(_masked_unless_all(text, usable), pa.float64())
        except pa.ArrowInvalid:
            pass
    # bareNumber=false strips leading and trailing non-digits ("inf" would become ""), so
    # only plain decimals are safe here; the rest goes to frictionless' reader.
    number = r"^-?[0-9]+(?:\.[0-9]+)?$"
    ok = _fast(text, usable, number)
    return ok, pc.cast(_masked(text, ok), pa.float64())


def _float_or_none(value: Any) -> float:
    # frictionless accepts "sNaN" (Decimal's signalling NaN) as a valid number; float() of it
    # raises. It is published as NaN, as "NaN" is.
    if isinstance(value, decimal.Decimal) and value.is_snan():
        return math.nan
    return float(value)


def _cast_number(
    values: pa.Array, present: pa.Array, field: dict[str, Any], fmt: str
) -> tuple[pa.Array, pa.BooleanArray]:
    ok, fast_values = _number_fast(values, present, field)
    return _hybrid(values, present, field, ok, fast_values, _float_or_none)


def _cast_boolean(
    values: pa.Array, present: pa.Array, field: dict[str, Any], fmt: str
) -> tuple[pa.Array, pa.BooleanArray]:
    # frictionless builds a dict true-values first, then false-values: a value in both lists
    # is false. The lookup is exact (no trimming, case-sensitive).
    true_values = [str(v) for v in field.get("trueValues", DEFAULT_TRUE_VALUES)]
    false_values = [str(v) for v in field.get("falseValues", DEFAULT_FALSE_VALUES)]
    is_false = _no_nulls(pc.is_in(values, value_set=pa.array(false_values, pa.string())))
    is_true = pc.and_(
        _no_nulls(pc.is_in(values, value_set=pa.array(true_values, pa.string()))),
        pc.invert(is_false),
    )
    valid = _no_nulls(pc.and_(present, pc.or_(is_true, is_false)))
    array = pc.if_else(valid, is_true, pa.scalar(None, pa.bool_()))
    return array, valid


def _strict_cast(
    text: pa.Array, ok: pa.BooleanArray, target: pa.DataType, fmt: str
) -> tuple[pa.Array, pa.BooleanArray]:
    """Cast text already in strict ISO form (`ok`) to a date or timestamp.

    Arrow's ISO cast is fast and rejects impossible calendar dates (2023-02-29), but fails
    the whole array when one value is impossible. Then the array is split in halves until
    the impossible values are isolated (a few casts for a few bad dates); past a budget of
    casts, the rest goes through strptime, printing each parse back (arrow's strptime rolls
    2023-02-29 over to 2023-03-01; only values that print back identically are real dates).
    """
    candidates = _masked(text, ok)
    budget = [256]
    parsed = _isolating_cast(candidates, target, fmt, budget)
    good = _no_nulls(pc.and_(ok, pc.is_valid(parsed)))
    return parsed, good


def _isolating_cast(text: pa.Array, target: pa.DataType, fmt: str, budget: list[int]) -> pa.Array:
    try:
        return pc.cast(text, target)
    except pa.ArrowInvalid:
        pass
    budget[0] -= 1
    if len(text) == 1:
        return pa.nulls(1, target)
    if budget[0] <= 0:
        parsed = pc.strptime(text, format=fmt, unit="s", error_is_null=True)
        same = _no_nulls(pc.equal(pc.strftime(parsed, format=fmt), text))
        return pc.cast(_masked(parsed, same), target)
    half = len(text) // 2
    left = _isolating_cast(text.slice(0, half), target, fmt, budget)
    right = _isolating_cast(text.slice(half), target, fmt, budget)
    return pa.concat_arrays([left, right])


def _to_date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    date_value: dt.date = value
    return date_value


def _cast_date(
    values: pa.Array, present: pa.Array, field: dict[str, Any], fmt: str
) -> tuple[pa.Array, pa.BooleanArray]:
    if fmt == "default":
        # Arrow's ISO date cast accepts only YYYY-MM-DD with a real calendar date and a year
        # from 0 to 9999: a subset of strptime("%Y-%m-%d"), with the same value, except year
        # 0, which strptime (and so frictionless) rejects. A column with a year-0 value takes
        # the strict path below, whose pattern leaves it to frictionless' reader.
        # (Asked of the bytes first: usually no value starts with "0000" and no kernel runs.)
        year_zero = (
            any_prefix(values, "0000") is not False
            and pc.any(_no_nulls(pc.and_(present, pc.starts_with(values, "0000")))).as_py()
        )
        if not year_zero:
            try:
                return pc.cast(_masked_unless_all(values, present), pa.date32()), present
            except pa.ArrowInvalid:
                pass
        ok = _fast(values, present, _DATE_FAST)
        fast_values, ok = _strict_cast(values, ok, pa.date32(), "%Y-%m-%d")
    else:
        # Custom strptime patterns and "any": Python's strptime and dateutil have rules
        # (single-digit days, locale names) arrow's does not share; dates repeat a lot, so
        # once per distinct value is cheap.
        ok = _no_nulls(pa.nulls(len(values), pa.bool_()))
        fast_values = pa.nulls(len(values), pa.date32())
    return _hybrid(values, present, field, ok, fast_values, _to_date)


def _to_utc_naive(value: dt.datetime) -> dt.datetime:
    if value.tzinfo is None:
        return value
    return value.astimezone(dt.UTC).replace(tzinfo=None)


def _cast_datetime(
    values: pa.Array, present: pa.Array, field: dict[str, Any], fmt: str
) -> tuple[pa.Array, pa.BooleanArray]:
    n = len(values)
    if fmt == "default":
        naive_ok = _fast(values, present, _DATETIME_NAIVE_FAST)
        aware_ok = _fast(values, present, _DATETIME_AWARE_FAST)
        head = pc.utf8_slice_codeunits(values, 0, 19)
        both = pc.or_(naive_ok, aware_ok)
        parsed, both = _strict_cast(head, both, pa.timestamp("s"), "%Y-%m-%dT%H:%M:%S")
        naive_ok = pc.and_(naive_ok, both)
        aware_ok = pc.and_(aware_ok, both)
        naive_parsed = aware_parsed = parsed
        offset = _offset_seconds(values, aware_ok)
        aware_utc = pc.subtract(pc.cast(aware_parsed, pa.int64()), offset)
        ok = pc.or_(naive_ok, aware_ok)
        seconds = pc.if_else(aware_ok, aware_utc, pc.cast(naive_parsed, pa.int64()))
        # Microseconds: a fraction on any value in the column must survive to publication.
        fast_values = pc.cast(pc.multiply(seconds, 1_000_000), pa.timestamp("us"))
        any_aware = bool(pc.any(aware_ok).as_py())
    else:
        ok = _no_nulls(pa.nulls(n, pa.bool_()))
        fast_values = pa.nulls(n, pa.timestamp("us"))
        any_aware = False
    aware_seen: list[bool] = []

    def to_arrow(value: Any) -> dt.datetime:
        if isinstance(value, dt.datetime) and value.tzinfo is not None:
            aware_seen.append(True)
        return _to_utc_naive(value)

    array, valid = _hybrid(values, present, field, ok, fast_values, to_arrow)
    if any_aware or aware_seen:
        # A column with any offset is a UTC column; naive values in it are taken as UTC.
        array = pc.assume_timezone(array, timezone="UTC") if len(array) else array
        array = array.cast(pa.timestamp("us", tz="UTC"))
    return array, valid


def _offset_seconds(values: pa.Array, aware: pa.Array) -> pa.Array:
    """Seconds east of UTC for `...+hh:mm` / `...Z` values (0 elsewhere)."""
    tail = pc.utf8_slice_codeunits(_masked(values, aware), 19)
    is_z = _no_nulls(pc.equal(tail, "Z"))
    numeric = pc.and_(aware, pc.invert(is_z))
    hours = pc.cast(_masked(pc.utf8_slice_codeunits(tail, 1, 3), numeric), pa.int64())
    minutes = pc.cast(_masked(pc.utf8_slice_codeunits(tail, 4, 6), numeric), pa.int64())
    total = pc.add(pc.multiply(hours, 3600), pc.multiply(minutes, 60))
    sign = pc.if_else(_no_nulls(pc.starts_with(tail, "-")), -1, 1)
    return pc.fill_null(pc.multiply(total, sign), 0)


def _to_time(value: Any) -> dt.time:
    if isinstance(value, dt.time) and value.tzinfo is not None:
        # Offsets on clock times are rare; keep the clock time as UTC.
        offset = value.utcoffset() or dt.timedelta(0)
        moment = dt.datetime.combine(dt.date(2000, 1, 1), value.replace(tzinfo=None)) - offset
        return moment.time()
    return value  # type: ignore[no-any-return]


def _cast_time(
    values: pa.Array, present: pa.Array, field: dict[str, Any], fmt: str
) -> tuple[pa.Array, pa.BooleanArray]:
    n = len(values)
    if fmt == "default":
        ok = _fast(values, present, _TIME_FAST)
        text = _masked(values, ok)
        hours = pc.cast(pc.utf8_slice_codeunits(text, 0, 2), pa.int64())
        minutes = pc.cast(pc.utf8_slice_codeunits(text, 3, 5), pa.int64())
        secs = pc.cast(pc.utf8_slice_codeunits(text, 6, 8), pa.int64())
        total = pc.add(pc.add(pc.multiply(hours, 3600), pc.multiply(minutes, 60)), secs)
        fast_values = pc.multiply(total, 1_000_000).cast(pa.time64("us"))
    else:
        ok = _no_nulls(pa.nulls(n, pa.bool_()))
        fast_values = pa.nulls(n, pa.time64("us"))
    return _hybrid(values, present, field, ok, fast_values, _to_time)


def _cast_year(
    values: pa.Array, present: pa.Array, field: dict[str, Any], fmt: str
) -> tuple[pa.Array, pa.BooleanArray]:
    ok = _fast(values, present, _YEAR_FAST)
    fast_values = pc.cast(_masked(values, ok), pa.int32())
    return _hybrid(values, present, field, ok, fast_values, int)


def _keep_text(
    values: pa.Array, present: pa.Array, field: dict[str, Any], fast_pattern: str | None
) -> tuple[pa.Array, pa.BooleanArray]:
    if fast_pattern is None:
        ok = _no_nulls(pa.nulls(len(values), pa.bool_()))
    else:
        ok = _fast(values, present, fast_pattern)
        if fast_pattern is _EMAIL_FAST:
            ok = _email_lengths(values, ok)
    rest = pc.and_(present, pc.invert(ok))
    _, slow_ok = _residual(values, rest, field, lambda _v: None, pa.null())
    valid = _no_nulls(pc.or_(ok, slow_ok))
    return _masked_unless_all(values, valid), valid


def _email_lengths(values: pa.Array, ok: pa.BooleanArray) -> pa.BooleanArray:
    """validators.email's length limits: local part <= 64, domain <= 253 (ASCII: bytes)."""
    if not pc.any(ok).as_py():
        return ok
    view = text_bytes(values)
    if view is not None and (not len(view.lengths) or int(view.lengths.max()) <= 64):
        # No value is longer than 64 bytes: neither part can be over its limit.
        return ok
    at = pc.find_substring(values, "@")
    total = pc.binary_length(values)
    short = pc.and_(
        pc.less_equal(at, 64), pc.less_equal(pc.subtract(pc.subtract(total, at), 1), 253)
    )
    return _no_nulls(pc.and_(ok, short))


def _cast_text(
    values: pa.Array, present: pa.Array, field: dict[str, Any], fmt: str
) -> tuple[pa.Array, pa.BooleanArray]:
    ftype = str(field.get("type") or "any")
    if ftype == "any" or (ftype == "string" and fmt == "default"):
        # Any text is a valid string; frictionless' string reader only rejects non-str cells.
        valid = _no_nulls(present)
        return _masked_unless_all(values, valid), valid
    if ftype == "yearmonth":
        return _keep_text(values, present, field, _YEARMONTH_FAST)
    if ftype == "string" and fmt in _FORMAT_FAST:
        return _keep_text(values, present, field, _FORMAT_FAST[fmt])
    return _keep_text(values, present, field, None)


_CASTERS: dict[str, _Caster] = {
    "integer": _cast_integer,
    "number": _cast_number,
    "boolean": _cast_boolean,
    "date": _cast_date,
    "datetime": _cast_datetime,
    "time": _cast_time,
    "year": _cast_year,
}


# --- native Python cells (inline data, spreadsheets) ----------------------------------------


def cast_python_cells(
    cells: Sequence[Any],
    field: dict[str, Any],
    *,
    missing_values: Sequence[str] | None = None,
) -> CastResult:
    """Cast native cells (ints, floats, datetimes, bools, strings, None) as frictionless would.

    Inline JSON data and spreadsheets hand frictionless typed cells, and its readers treat
    them differently from text (an integer cell is not a valid `string`). Small inputs, so a
    plain loop over frictionless' reader is both exact and fast enough.
    """
    missing_list = field_missing_values(field, missing_values)
    reader = frictionless_reader(field)
    out_type = arrow_type(field)
    typed: list[Any] = []
    invalid: list[bool] = []
    missing: list[bool] = []
    aware = False
    for cell in cells:
        if cell is None or str(cell) in missing_list:
            typed.append(None)
            invalid.append(False)
            missing.append(True)
            continue
        missing.append(False)
        try:
            value = reader(cell)
        except Exception:
            value = None
        invalid.append(value is None)
        if value is None:
            typed.append(None)
            continue
        py_value, is_aware = python_to_arrow(value, cell, field)
        aware = aware or is_aware
        typed.append(py_value)
    if aware:
        out_type = pa.timestamp("us", tz="UTC")
    array = pa.array(typed, out_type)
    return CastResult(
        array=array,
        invalid=pa.array(invalid, pa.bool_()),
        missing=pa.array(missing, pa.bool_()),
    )


def python_to_arrow(value: Any, cell: Any, field: dict[str, Any]) -> tuple[Any, bool]:
    ftype = str(field.get("type") or "any")
    if ftype == "integer":
        return _int_or_none(value), False
    if ftype == "number":
        return _float_or_none(value), False
    if ftype == "date":
        return _to_date(value), False
    if ftype == "datetime":
        aware = isinstance(value, dt.datetime) and value.tzinfo is not None
        return _to_utc_naive(value), aware
    if ftype == "time":
        return _to_time(value), False
    if ftype in {"boolean", "year"}:
        return value, False
    return cell_text(cell), False


def cell_text(cell: Any) -> str | None:
    """A native cell as text, the way frictionless prints it in error reports."""
    if cell is None:
        return None
    if isinstance(cell, str):
        return cell
    if isinstance(cell, bool):
        return "true" if cell else "false"
    if isinstance(cell, dict | list):
        return json.dumps(cell, ensure_ascii=False)
    return str(cell)
