"""Per-column constraint checks with frictionless' exact semantics, vectorised where safe.

frictionless checks a cell's constraints only when its type cast succeeded, reports one
`constraint-error` per failing constraint, and (for a missing cell) only `required`. Here each
constraint is either a pyarrow kernel over the whole column, when the kernel provably agrees
with frictionless' Python check (for example string `pattern` through RE2 on ASCII text without
newlines; numeric bounds with ties re-checked exactly), or frictionless' own cell reader applied
once per distinct value (enum on durations, bounds on yearmonths, patterns RE2 reads differently).
"""

from __future__ import annotations

import datetime as dt
import decimal
import functools
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from opengov.sources.cast import CastResult, frictionless_reader
from opengov.sources.textbytes import any_byte, from_numpy, from_numpy_bool
from opengov.validate import patterns, shapes

_BOUNDS = {
    "minimum": pc.greater_equal,
    "maximum": pc.less_equal,
    "exclusiveMinimum": pc.greater,
    "exclusiveMaximum": pc.less,
}
_VECTOR_ENUM_TYPES = {"string", "integer", "number", "boolean", "date", "year"}
_VECTOR_BOUND_TYPES = {"integer", "number", "date", "year"}


@dataclass(frozen=True)
class ConstraintFailure:
    name: str  # "required", "pattern", ...
    mask: pa.BooleanArray


V2_TABLE_SCHEMA = "https://datapackage.org/profiles/2.0/tableschema.json"


@functools.lru_cache(maxsize=256)
def _cell_reader(field_json: str, missing_json: str) -> Callable[[Any], Any]:
    from frictionless import FrictionlessException, Schema

    descriptor = {"fields": [json.loads(field_json)], "missingValues": json.loads(missing_json)}
    try:
        schema = Schema.from_descriptor(descriptor)
    except FrictionlessException:
        # The package loader has accepted the schema under its profile; a v2 constraint
        # (exclusiveMinimum, ...) needs the v2 profile to build a reader.
        schema = Schema.from_descriptor({"$schema": V2_TABLE_SCHEMA, **descriptor})
    reader: Callable[[Any], Any] = schema.fields[0].create_cell_reader()
    return reader


def cell_reader(field: dict[str, Any], missing_values: list[str]) -> Callable[[Any], Any]:
    """frictionless' cell reader (type and constraints) for this field."""
    return _cell_reader(json.dumps(field, sort_keys=True), json.dumps(missing_values))


@functools.lru_cache(maxsize=256)
def _constraint_value(field_json: str, name: str) -> Any:
    field = json.loads(field_json)
    reader = frictionless_reader(field)
    raw = field["constraints"][name]
    if name == "enum":
        return [reader(item) for item in raw]
    return reader(raw)


def constraint_value(field: dict[str, Any], name: str) -> Any:
    """The constraint as frictionless holds it: read through the field's value reader.

    The plain cases (an integer, a number, a default-format string or date) are read here, as
    frictionless' readers read them, so checking them needs no frictionless import.
    """
    raw = (field.get("constraints") or {}).get(name)
    plain = _plain_value(str(field.get("type") or "any"), str(field.get("format") or "default"))
    if plain is not None:
        items = raw if name == "enum" and isinstance(raw, list) else [raw]
        values = [plain(item) for item in items]
        if all(v is not _UNREAD for v in values):
            return values if name == "enum" else values[0]
    return _constraint_value(json.dumps(field, sort_keys=True), name)


_UNREAD = object()


def _plain_value(ftype: str, fmt: str) -> Callable[[Any], Any] | None:
    if fmt != "default":
        return None

    def integer(item: Any) -> Any:
        return item if type(item) is int else _UNREAD

    def number(item: Any) -> Any:
        if type(item) is int:
            return item
        return decimal.Decimal(str(item)) if type(item) is float else _UNREAD

    def string(item: Any) -> Any:
        return item if isinstance(item, str) else _UNREAD

    def date(item: Any) -> Any:
        if isinstance(item, str) and re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", item):
            try:
                return dt.date.fromisoformat(item)
            except ValueError:
                return _UNREAD
        return _UNREAD

    return {"integer": integer, "number": number, "string": string, "date": date}.get(ftype)


def check_column(
    field: dict[str, Any],
    cast: CastResult,
    text: pa.Array,
    missing_values: list[str],
    supported: list[str],
    *,
    notes: dict[tuple[str, str], str] | None = None,
    field_name: str = "",
) -> list[ConstraintFailure]:
    """Constraint failures of one column (each mask true where frictionless reports it)."""
    constraints: dict[str, Any] = dict(field.get("constraints") or {})
    wanted = [n for n in supported if constraints.get(n) is not None]
    if not wanted:
        return []
    ftype = str(field.get("type") or "any")
    ok = _and_not(pc.invert(cast.missing), cast.invalid)  # a value that passed its type
    failures: list[ConstraintFailure] = []
    python_names: list[str] = []
    for name in wanted:
        if name == "required":
            if constraints[name]:
                failures.append(ConstraintFailure("required", cast.missing))
            continue
        mask = _vector_check(name, field, ftype, cast, text, ok, field_name, notes)
        if mask is None:
            python_names.append(name)
        else:
            failures.append(ConstraintFailure(name, mask))
    if python_names:
        failures.extend(_python_checks(field, python_names, text, ok, missing_values))
    return [f for f in failures if _any(f.mask)]


def _any(mask: pa.Array) -> bool:
    return bool(pc.any(mask).as_py())


def _and_not(a: pa.Array, b: pa.Array) -> pa.BooleanArray:
    result: pa.BooleanArray = pc.fill_null(pc.and_(a, pc.invert(b)), False)
    return result


def _vector_check(
    name: str,
    field: dict[str, Any],
    ftype: str,
    cast: CastResult,
    text: pa.Array,
    ok: pa.BooleanArray,
    field_name: str = "",
    notes: dict[tuple[str, str], str] | None = None,
) -> pa.BooleanArray | None:
    """A mask of failures, or None when only frictionless' reader can decide."""
    values = cast.array
    # Cells valid for frictionless whose value does not fit the arrow column (integers beyond
    # int64, far-away dates): only the exact check knows; let Python take the whole column.
    if _any(_and_not(ok, pc.is_valid(values))):
        return None
    if name in {"minLength", "maxLength"}:
        if ftype != "string":
            return None
        length = pc.utf8_length(values)
        limit = int(field["constraints"][name])
        bad = pc.less(length, limit) if name == "minLength" else pc.greater(length, limit)
        return _mask(ok, bad)
    if name == "pattern":
        pattern = str(field["constraints"]["pattern"])
        return pattern_failures(pattern, values, ok, field_name, notes)
    if name == "enum":
        if ftype not in _VECTOR_ENUM_TYPES:
            return None
        if ftype == "number" and _has_long_numbers(text, ok):
            return None
        items = [v for v in constraint_value(field, "enum") if v is not None]
        if ftype == "number":
            items = [float(v) for v in items]
        value_set = pa.array(items, values.type) if items else pa.array([], values.type)
        return _mask(ok, pc.invert(pc.is_in(values, value_set=value_set)))
    if name in _BOUNDS:
        if ftype not in _VECTOR_BOUND_TYPES:
            return None
        bound = constraint_value(field, name)
        if bound is None:
            return None
        if ftype == "number":
            bound_f = float(bound)
            # Floats are exact for the ordinary cases; a value equal to the bound as a float may
            # still differ as a Decimal (0.1000000000000000001 vs 0.1): ask frictionless.
            if _any(pc.and_(ok, pc.fill_null(pc.equal(values, bound_f), False))) and (
                _has_long_numbers(text, ok)
            ):
                return None
            scalar = pa.scalar(bound_f, pa.float64())
        else:
            scalar = pa.scalar(bound, values.type)
        passed = _BOUNDS[name](values, scalar)
        return _mask(ok, pc.invert(pc.fill_null(passed, False)))
    return None


def _mask(ok: pa.BooleanArray, bad: pa.Array) -> pa.BooleanArray:
    result: pa.BooleanArray = pc.fill_null(pc.and_(ok, bad), False)
    return result


def _has_long_numbers(text: pa.Array, ok: pa.BooleanArray) -> bool:
    """Numbers with more digits than a float holds exactly (15 significant digits)."""
    long_text = pc.fill_null(pc.greater(pc.utf8_length(text), 16), False)
    return _any(pc.and_(ok, long_text))


def pattern_failures(
    pattern: str,
    values: pa.Array,
    ok: pa.BooleanArray,
    field_name: str = "",
    notes: dict[tuple[str, str], str] | None = None,
) -> pa.BooleanArray:
    """Where a string value under `ok` fails frictionless' `re.match("^" + p + "$")`: RE2
    where it decides as Python would, Python with a time budget for the rest (`patterns`).
    Where Python decided, `notes` says why (the report shows it).

    A fixed-width pattern first accepts what it can over the column's bytes (`shapes`); only
    the values it does not accept (usually none, or the failures) go on to RE2 and Python.
    """
    table = shapes.fixed_shape(pattern)
    if table is not None:
        sure = shapes.accepted(table, values)
        if sure is not None:
            wanted = ok.to_numpy(zero_copy_only=False) & ~sure
            out = np.zeros(len(values), dtype=bool)
            rest = np.flatnonzero(wanted)
            if len(rest):
                subset = values.take(from_numpy(rest.astype(np.int64), pa.int64()))
                everywhere = pc.is_valid(subset)
                out[rest] = _pattern_failures(
                    pattern, subset, everywhere, field_name, notes
                ).to_numpy(zero_copy_only=False)
            return from_numpy_bool(out)
    return _pattern_failures(pattern, values, ok, field_name, notes)


def _pattern_failures(
    pattern: str,
    values: pa.Array,
    ok: pa.BooleanArray,
    field_name: str,
    notes: dict[tuple[str, str], str] | None,
) -> pa.BooleanArray:
    re2 = patterns.translate(pattern)
    if re2 is None:
        if notes is not None and _any(ok):
            notes[(field_name, "pattern")] = (
                "RE2 cannot run this pattern as Python does (lookaround, backreferences or "
                "syntax RE2 reads differently): Python's re checked it, with a time budget"
            )
        return _python_pattern(pattern, values, ok, field_name)
    # Python's `$` also matches before a final newline: values with a newline go to Python.
    # (A look at the batch's bytes first: usually no value has one, and no kernel runs.)
    plain: pa.Array | None = None
    if any_byte(values, "newline") is not False:
        plain = pc.invert(pc.match_substring(values, "\n"))
    if patterns.ascii_only(pattern) and any_byte(values, "non-ascii") is not False:
        # \b, \B and case folding mean more in Python than in RE2 beyond ASCII.
        ascii_values = pc.string_is_ascii(values)
        plain = ascii_values if plain is None else pc.and_(plain, ascii_values)
    if plain is None:
        plain = pc.is_valid(values)
    fast_ok = pc.and_(ok, plain)
    bad = _mask(fast_ok, pc.invert(pc.match_substring_regex(values, re2)))
    rest = _and_not(ok, plain)
    if _any(rest):
        if notes is not None:
            notes[(field_name, "pattern")] = (
                "values with a line break, or non-ASCII values under \\b or case folding, "
                "were checked by Python's re (with a time budget), the rest by RE2"
            )
        bad = pc.or_(bad, _python_pattern(pattern, values, rest, field_name))
    result: pa.BooleanArray = bad
    return result


def _pattern_check(pattern: str, values: pa.Array, ok: pa.BooleanArray) -> pa.BooleanArray:
    return pattern_failures(pattern, values, ok)


def _python_pattern(
    pattern: str, values: pa.Array, ok: pa.BooleanArray, field_name: str
) -> pa.BooleanArray:
    if not _any(ok):
        return pa.array([False] * len(values), pa.bool_())
    uniques = pc.unique(values.filter(ok))
    verdict = pa.array(patterns.python_fails(pattern, uniques.to_pylist(), field_name), pa.bool_())
    index = pc.index_in(values, value_set=uniques)
    out: pa.BooleanArray = pc.fill_null(pc.and_(ok, verdict.take(index)), False)
    return out


def _per_unique(
    values: pa.Array, ok: pa.BooleanArray, fails: Callable[[Any], bool]
) -> pa.BooleanArray:
    """Apply a Python predicate once per distinct value under `ok`."""
    if not _any(ok):
        return pa.array([False] * len(values), pa.bool_())
    uniques = pc.unique(values.filter(ok))
    verdict = pa.array([fails(v) for v in uniques.to_pylist()], pa.bool_())
    index = pc.index_in(values, value_set=uniques)
    result = pc.fill_null(pc.and_(ok, verdict.take(index)), False)
    out: pa.BooleanArray = result
    return out


def _python_checks(
    field: dict[str, Any],
    names: list[str],
    text: pa.Array,
    ok: pa.BooleanArray,
    missing_values: list[str],
) -> list[ConstraintFailure]:
    """frictionless' own cell reader, once per distinct source text, for these constraints."""
    reader = cell_reader(field, missing_values)
    if not _any(ok):
        return []
    uniques = pc.unique(text.filter(ok))
    verdicts: dict[str, list[bool]] = {name: [] for name in names}
    for value in uniques.to_pylist():
        _, notes = reader(value)
        failed = set(notes or ())
        for name in names:
            verdicts[name].append(name in failed)
    index = pc.index_in(text, value_set=uniques)
    failures = []
    for name in names:
        verdict = pa.array(verdicts[name], pa.bool_())
        mask = pc.fill_null(pc.and_(ok, verdict.take(index)), False)
        failures.append(ConstraintFailure(name, mask))
    return failures
