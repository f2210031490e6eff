"""Rows as the DataStore holds them: one canonical form, row hashes, a content hash, a diff.

The same canonical form is computed from the published Parquet (what opengov sends) and from
what `datastore_search` returns (what a citizen gets), so the two can be compared:

| DataStore type | canonical Arrow form | sent as | text hashed |
|---|---|---|---|
| int8 | int64 | number | decimal digits |
| numeric | float64, -0 as 0 | number; NaN and ±Infinity as strings | shortest round-trip text |
| date | date32 | `YYYY-MM-DD` | days since 1970-01-01 |
| timestamp | timestamp[us], UTC, floored to second | `YYYY-MM-DD HH:MM:SS.000000` | µs since 1970 |
| bool | bool | true / false | `true` / `false` |
| json | canonical JSON text (sorted keys, no spaces) | that text | the same |
| text | string | string | the same |

Timestamps are sent to the whole second because `datastore_search` shows them to the second
(CKAN 2.11) or the millisecond (2.12): what the DataStore holds is then exactly what its API
shows, on either, and what the content hash covers. What the API shows is read back to the
microsecond, so a fraction someone else wrote still differs.

A row is encoded as its columns' texts, each written `<byte length>:<text>` (a null is `-`), so
no two different rows share an encoding and, the number of columns being known, a run of
encodings splits back into rows. A table's content hash is sha256 over its rows' encodings in
sorted order: independent of the order the DataStore returns rows in, it counts duplicates, and
it needs no per-row hashing in Python (one sha256 over one buffer).
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from opengov.targets.ckan.dictionary import Column, DsType, TableDefinition

_ARROW: dict[DsType, pa.DataType] = {
    "int8": pa.int64(),
    "numeric": pa.float64(),
    "date": pa.date32(),
    "timestamp": pa.timestamp("us"),
    "bool": pa.bool_(),
    "json": pa.string(),
    "text": pa.string(),
}
_SECONDS_PER = {"s": 1, "ms": 1_000, "us": 1_000_000, "ns": 1_000_000_000}
_NON_FINITE = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


class RowsError(ValueError):
    """Rows that cannot take the DataStore's form (a value the column's type cannot hold)."""


def schema_of(definition: TableDefinition) -> pa.Schema:
    return pa.schema([pa.field(c.name, _ARROW[c.type]) for c in definition.columns])


# ----------------------------------------------------------------------------- canonical form


def canonical(table: pa.Table, definition: TableDefinition) -> pa.Table:
    """The published rows in the DataStore's form (columns in the definition's order)."""
    arrays = []
    for column in definition.columns:
        if column.name not in table.column_names:
            raise RowsError(f"column {column.name!r} is not in the published table")
        arrays.append(_local(table.column(column.name).combine_chunks(), column))
    return pa.Table.from_arrays(arrays, schema=schema_of(definition))


def _local(values: pa.Array, column: Column) -> pa.Array:
    if pa.types.is_dictionary(values.type):
        values = values.dictionary_decode()
    kind = column.type
    if kind == "int8":
        return values.cast(pa.int64())
    if kind == "numeric":
        # -0.0 + 0.0 is 0.0: PostgreSQL's numeric has no negative zero.
        return pc.add(values.cast(pa.float64()), 0.0)
    if kind == "date":
        return values.cast(pa.date32())
    if kind == "timestamp":
        return _to_seconds(values)
    if kind == "bool":
        return values.cast(pa.bool_())
    if kind == "json":
        return _json_texts(values)
    return _texts(values)


def _to_seconds(values: pa.Array) -> pa.Array:
    """UTC, floored to the whole second (a naive timestamp is UTC already)."""
    if not pa.types.is_timestamp(values.type):
        values = values.cast(pa.timestamp("us"))
    # Floor, not truncation: 1969-12-31T23:59:59.5 is second ...59, not 1970-01-01T00:00:00.
    floored = pc.floor_temporal(values, unit="second")
    storage = floored.view(pa.int64())  # UTC in the type's unit, now a whole number of seconds
    seconds = pc.divide(storage, _SECONDS_PER[values.type.unit])
    return pc.multiply(seconds, 1_000_000).cast(pa.timestamp("us"))


def _texts(values: pa.Array) -> pa.Array:
    if pa.types.is_string(values.type):
        return values
    if pa.types.is_large_string(values.type):
        return values.cast(pa.string())
    try:
        return values.cast(pa.string())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return pa.array([None if v is None else str(v) for v in values.to_pylist()], pa.string())


def _json_texts(values: pa.Array) -> pa.Array:
    out: list[str | None] = []
    for value in values.to_pylist():
        out.append(None if value is None else canonical_json(value))
    return pa.array(out, pa.string())


def canonical_json(value: Any) -> str:
    """A JSON value's canonical text; text that is not JSON is taken as a JSON string."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            pass
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def from_records(records: Sequence[Sequence[Any]], definition: TableDefinition) -> pa.Table:
    """Rows as `datastore_search` returned them (records_format=lists, the definition's
    columns in order) in the canonical form."""
    width = len(definition.columns)
    for row in records:
        if not isinstance(row, list | tuple) or len(row) != width:
            raise RowsError(f"a DataStore row is not a list of {width} values")
    arrays = []
    for i, column in enumerate(definition.columns):
        arrays.append(_remote([row[i] for row in records], column))
    return pa.Table.from_arrays(arrays, schema=schema_of(definition))


def _remote(values: list[Any], column: Column) -> pa.Array:
    kind = column.type
    try:
        if kind == "int8":
            return pa.array(values, pa.int64())
        if kind == "numeric":
            floats = [
                None if v is None else _NON_FINITE.get(v) if isinstance(v, str) and v in
                _NON_FINITE else float(v) for v in values
            ]  # fmt: skip
            return pc.add(pa.array(floats, pa.float64()), 0.0)
        if kind == "date":
            return pa.array(values, pa.string()).cast(pa.date32())
        if kind == "timestamp":
            # 2024-01-02T03:04:05 (CKAN 2.11) or 2024-01-02T03:04:05.000 (2.12)
            return pa.array(values, pa.string()).cast(pa.timestamp("us"))
        if kind == "bool":
            return pa.array(values, pa.bool_())
        if kind == "json":
            return pa.array([None if v is None else canonical_json(v) for v in values], pa.string())
        return pa.array([None if v is None else str(v) for v in values], pa.string())
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError) as exc:
        raise RowsError(f"column {column.name!r} holds a value that is not {kind}: {exc}") from None


# ----------------------------------------------------------------------------- texts and hashes


def _text(values: pa.Array, kind: DsType) -> pa.Array:
    """The text a value is hashed as (numbers for dates and times: strftime is slow)."""
    if kind == "timestamp":
        return values.view(pa.int64()).cast(pa.string())
    if kind == "date":
        return values.view(pa.int32()).cast(pa.string())
    if kind in ("json", "text"):
        return values
    return values.cast(pa.string())


def _encoded(table: pa.Table, definition: TableDefinition, names: Iterable[str]) -> pa.Array:
    kinds = {c.name: c.type for c in definition.columns}
    pieces = []
    for name in names:
        text = _text(table.column(name).combine_chunks(), kinds[name])
        length = pc.cast(pc.binary_length(text), pa.string())
        pieces.append(pc.fill_null(pc.binary_join_element_wise(length, text, ":"), "-"))
    if not pieces:
        return pa.array([""] * table.num_rows, pa.large_string())
    joined = pc.binary_join_element_wise(*pieces, "") if len(pieces) > 1 else pieces[0]
    return joined.cast(pa.large_string())


def keys(table: pa.Table, definition: TableDefinition) -> pa.Array:
    """Each row's primary key as one exact string (the key columns' encodings)."""
    return _encoded(table, definition, definition.key)


def encodings(table: pa.Table, definition: TableDefinition) -> pa.Array:
    """Each row's encoding (all columns)."""
    return _encoded(table, definition, definition.names)


def content_hash(table: pa.Table, definition: TableDefinition) -> str:
    """sha256 over the rows' encodings in sorted order: the content, whatever the row order."""
    encoded = encodings(table, definition)
    digest = hashlib.sha256()
    if len(encoded):
        ordered = encoded.take(pc.sort_indices(encoded))
        offsets = memoryview(ordered.buffers()[1]).cast("q")
        data = ordered.buffers()[2]
        start, stop = offsets[ordered.offset], offsets[ordered.offset + len(ordered)]
        if data is not None:
            digest.update(memoryview(data)[start:stop])
    return digest.hexdigest()


@dataclass(frozen=True)
class Summary:
    rows: int
    content: str

    def to_dict(self) -> dict[str, Any]:
        return {"rows": self.rows, "content": self.content}


def summary(table: pa.Table, definition: TableDefinition) -> Summary:
    return Summary(table.num_rows, content_hash(table, definition))


def usable_key(table: pa.Table, definition: TableDefinition) -> bool:
    """Whether the primary key identifies every row: no nulls in it, no duplicates.

    Redaction keeps `primaryKey` only when its fields are untouched, but a key the DataStore
    would refuse must not stop the load: the table is then treated as one without a key.
    """
    if not definition.key:
        return False
    for name in definition.key:
        if table.column(name).null_count:
            return False
    groups = table.select(list(definition.key)).group_by(list(definition.key)).aggregate([])
    return bool(groups.num_rows == table.num_rows)


def columns_with_nul(table: pa.Table, definition: TableDefinition) -> list[str]:
    """Text columns holding U+0000, which a PostgreSQL text value cannot."""
    out = []
    for column in definition.columns:
        if column.type == "text":
            found = pc.any(pc.match_substring(table.column(column.name), "\x00")).as_py()
            if found:
                out.append(column.name)
    return out


# ----------------------------------------------------------------------------- sending


def records(table: pa.Table, definition: TableDefinition) -> list[dict[str, Any]]:
    """JSON-ready records for datastore_create / datastore_upsert."""
    columns: list[list[Any]] = []
    for column in definition.columns:
        values = table.column(column.name).combine_chunks()
        if column.type == "numeric":
            columns.append([_number(v) for v in values.to_pylist()])
        elif column.type in ("date", "timestamp"):
            # ISO 8601 (a space before the time), which PostgreSQL reads for date and timestamp.
            columns.append(values.cast(pa.string()).to_pylist())
        else:
            columns.append(values.to_pylist())
    names = definition.names
    return [dict(zip(names, row, strict=True)) for row in zip(*columns, strict=True)]


def _number(value: float | None) -> float | str | None:
    if value is None or math.isfinite(value):
        return value
    if math.isnan(value):
        return "NaN"
    return "Infinity" if value > 0 else "-Infinity"


def filter_value(value: Any, kind: DsType) -> Any:
    """A key value as a datastore_delete/_search filter compares it with the column."""
    if kind == "numeric":
        return _number(value)
    if kind in ("date", "timestamp"):
        return str(value)  # 2024-01-02, 2024-01-02 03:04:05
    return value


# ----------------------------------------------------------------------------- diff


@dataclass(frozen=True)
class RowDiff:
    """Rows to upsert (positions in the new table) and rows to delete (positions in the old)."""

    upsert: pa.Array
    delete: pa.Array

    @property
    def empty(self) -> bool:
        return len(self.upsert) == 0 and len(self.delete) == 0


def diff(old: pa.Table, new: pa.Table, definition: TableDefinition) -> RowDiff:
    """Added, changed and removed rows: matched by primary key, compared column by column.

    A join on the key columns pairs the rows; a pair differs when any column differs (nulls
    equal nulls, NaN equals NaN). All of it runs in Arrow's kernels.
    """
    key = list(definition.key)

    def positioned(table: pa.Table) -> pa.Table:
        return table.select(key).append_column("pos", pa.array(range(table.num_rows), pa.int64()))

    joined = positioned(new).join(positioned(old), keys=key, join_type="full outer",
                                  left_suffix="_new", right_suffix="_old")  # fmt: skip
    pos_new, pos_old = joined.column("pos_new"), joined.column("pos_old")
    paired = pc.and_(pc.is_valid(pos_new), pc.is_valid(pos_old))
    at_new = pc.filter(pos_new, paired)
    at_old = pc.filter(pos_old, paired)
    differs: pa.Array | None = None
    for column in definition.columns:
        if column.name in key:
            continue
        this = _differ(new.column(column.name).take(at_new), old.column(column.name).take(at_old))
        differs = this if differs is None else pc.or_(differs, this)
    changed = pc.filter(at_new, differs) if differs is not None else at_new.slice(0, 0)
    added = pc.filter(pos_new, pc.is_null(pos_old))
    return RowDiff(
        upsert=_sorted(pa.chunked_array([_plain(added), _plain(changed)], pa.int64())),
        delete=_sorted(pc.filter(pos_old, pc.is_null(pos_new))),
    )


def _plain(values: pa.ChunkedArray | pa.Array) -> pa.Array:
    return values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values


def _differ(a: pa.ChunkedArray, b: pa.ChunkedArray) -> pa.Array:
    a, b = _plain(a), _plain(b)
    equal = pc.equal(a, b)
    if pa.types.is_floating(a.type):
        equal = pc.or_(equal, pc.and_(pc.is_nan(a), pc.is_nan(b)))
    both_null = pc.and_(pc.is_null(a), pc.is_null(b))
    return pc.invert(pc.or_(pc.fill_null(equal, False), both_null))


def _sorted(values: pa.ChunkedArray | pa.Array) -> pa.Array:
    arr = values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values
    return arr.take(pc.sort_indices(arr)).cast(pa.int64())
