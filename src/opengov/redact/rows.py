"""Row rules (`drop_when`): which rows a rule withholds, compared as the field reads.

Text compares as a steward means it, not byte for byte: `equals: skyddad` matches `Skyddad`,
`SKYDDAD`, ` skyddad `, a fullwidth `ｓｋｙｄｄａｄ` and `skyd\u00addad` (a soft hyphen), because a
row the rule was written for must not be published for how it happens to be typed. Both sides
go through `normalise_text` (NFKC, no format characters, one space for any run of white space,
trimmed, lower case) unless the rule says `exact: true`.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.compute as pc

from opengov.errors import RulesError
from opengov.rules import RowRule

if TYPE_CHECKING:
    from opengov.redact.apply import PublishedValues

_DEFAULT_TRUE = ("true", "True", "TRUE", "1")

_DEFAULT_FALSE = ("false", "False", "FALSE", "0")


# Format characters (soft hyphen, zero-width space and joiners, bidi marks, BOM): invisible.
_FORMAT = r"\p{Cf}"
# Any run of white space, including no-break and narrow no-break spaces, line separators.
_SPACE = r"[\s\x0b\x85\p{Z}]+"


def normalise_text(values: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """The comparison form of text: the same function for cells and rule values."""
    out = pc.utf8_normalize(values, form="NFKC")
    out = pc.replace_substring_regex(out, pattern=_FORMAT, replacement="")
    out = pc.replace_substring_regex(out, pattern=_SPACE, replacement=" ")
    out = pc.utf8_trim_whitespace(out)
    out = pc.utf8_lower(out)
    # Lower-casing can leave a sequence that NFKC writes otherwise (rare, but then it matters).
    return pc.utf8_normalize(out, form="NFKC")


def _normalise_one(text: str) -> str:
    return str(normalise_text(pa.array([text], pa.string()))[0].as_py())


def _canonical(value: Any) -> str:
    """One text form for a rule value, matching `as_text` of the typed column."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC).replace(tzinfo=None)
        return str(value.strftime("%Y-%m-%dT%H:%M:%S"))
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def as_text(column: pa.ChunkedArray) -> pa.ChunkedArray:
    if pa.types.is_boolean(column.type):
        return pc.if_else(column, "true", "false")
    if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
        return column
    if pa.types.is_timestamp(column.type):
        # Whole seconds, wall time in UTC: the form `_canonical` gives rule values.
        whole = column.cast(pa.timestamp("s", tz=column.type.tz), safe=False)
        return pc.strftime(whole, format="%Y-%m-%dT%H:%M:%S")
    return pc.cast(column, pa.string())


def _rule_value(value: Any, column: pa.ChunkedArray, field: dict[str, Any], rule: RowRule) -> Any:
    """Read a rules.yaml value the way the field reads its cells (`ja` on a ja/nej boolean).

    A value that reads as neither true nor false on a boolean field would match no row: the
    rule would withhold nothing without a word, so it is an error.
    """
    if not pa.types.is_boolean(column.type) or isinstance(value, bool):
        return value
    trues = [str(v) for v in field.get("trueValues", _DEFAULT_TRUE)] + ["true"]
    falses = [str(v) for v in field.get("falseValues", _DEFAULT_FALSE)] + ["false"]
    text = str(value)
    if not rule.exact:
        text = _normalise_one(text)
        trues, falses = [_normalise_one(t) for t in trues], [_normalise_one(f) for f in falses]
    if text in trues:
        return True
    if text in falses:
        return False
    raise RulesError(
        f"row rule {rule.id}: a value of its condition reads as neither true nor false for the "
        f"boolean field {rule.field!r} (true: {', '.join(trues)}; false: {', '.join(falses)}), "
        "so the rule would withhold no row"
    )


def _temporal(column: pa.ChunkedArray, values: list[Any]) -> pa.Array | None:
    """Rule values as the column's own date or timestamp type, or None if one does not read."""
    type_ = column.type
    if not (pa.types.is_timestamp(type_) or pa.types.is_date(type_)):
        return None
    out: list[Any] = []
    for value in values:
        if isinstance(value, str):
            try:
                value = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError:
                return None
        if pa.types.is_date(type_):
            if isinstance(value, dt.datetime):
                value = value.date()
            if not isinstance(value, dt.date):
                return None
        else:
            if not isinstance(value, dt.datetime):
                if not isinstance(value, dt.date):
                    return None
                value = dt.datetime(value.year, value.month, value.day)
            if value.tzinfo is not None:
                value = value.astimezone(dt.UTC).replace(tzinfo=None)
        out.append(value)
    if pa.types.is_timestamp(type_) and type_.tz:
        return pa.array(out, pa.timestamp(type_.unit)).cast(pa.timestamp(type_.unit, tz="UTC"))
    return pa.array(out, type_)


def _numeric(column: pa.ChunkedArray, values: list[Any]) -> bool:
    numbers = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)
    return numbers and (pa.types.is_integer(column.type) or pa.types.is_floating(column.type))


def row_mask(
    table: pa.Table, rule: RowRule, published: PublishedValues, field: dict[str, Any]
) -> pa.ChunkedArray | pa.Array:
    column = table[rule.field]
    op, value = rule.condition, rule.value
    if op == "is_null":
        mask = pc.is_null(column)
        return mask if value else pc.invert(mask)
    if op == "not_in_published":
        other, ofield = str(value).split(".")
        if not published.published(other):
            raise RulesError(
                f"row rule {rule.id}: resource {other!r} must be published to filter by it"
            )
        if ofield not in published.fields(other):
            raise RulesError(f"row rule {rule.id}: {value} is not a published field")
        allowed = published.values(other, ofield)
        return pc.invert(pc.fill_null(pc.is_in(as_text(column), value_set=allowed), False))
    values = [_rule_value(v, column, field, rule) for v in (value if op != "equals" else [value])]
    moments = _temporal(column, values)
    if moments is not None:
        hit = pc.fill_null(pc.is_in(column, value_set=moments), False)
    elif _numeric(column, values):
        # Numbers compare as numbers: 1e16 written out is not "1e+16".
        candidates = pa.array([float(v) for v in values], pa.float64())
        hit = pc.fill_null(pc.is_in(pc.cast(column, pa.float64()), value_set=candidates), False)
    else:
        texts = pa.array([_canonical(v) for v in values], pa.string())
        cells = as_text(column)
        if not rule.exact:
            texts, cells = normalise_text(texts), normalise_text(cells)
        hit = pc.fill_null(pc.is_in(cells, value_set=texts), False)
    if op in ("in", "equals"):
        return hit
    # not_in: a missing value is not in the list, so the row is dropped (fail closed).
    return pc.invert(hit)
