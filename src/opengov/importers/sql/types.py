"""Database column types as Table Schema types, and the Arrow column each is written as.

The mapping is documented in docs/importers.md. It is decided from the Arrow type the driver
delivers and the database's own type name (PostgreSQL's, which the ADBC driver puts in the
field metadata; SQLite's declared type), before any row is written. A type with no Table
Schema equivalent stops the import with the column and type named, and the cast to use in a
`--query`.

PostgreSQL `numeric(p, s)` with p <= 15 becomes a float64 column: every decimal of at most 15
significant digits survives the round trip through a double exactly. Wider or unconstrained
numerics stay their exact decimal text in the snapshot, with type `number` (the validator reads
the text). Timestamps with time zone are UTC instants; without, local times as stored.
"""

from __future__ import annotations

import binascii
import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from opengov.errors import UnsupportedColumnType

FLOAT_EXACT_DIGITS = 15

# PostgreSQL types the driver delivers in a shape that is not the value a reader expects,
# with what to write in a --query instead.
_PG_UNSUPPORTED = {
    "money": "cast it to numeric (col::numeric): money is delivered as whole cents",
    "interval": "cast it to text (col::text) or to seconds (extract(epoch from col))",
    "bytea": "binary data has no Table Schema type; leave it out, or encode(col, 'base64')",
    "timetz": "cast it to time (col::time) or to text (col::text)",
    "bit": "cast it to text (col::text)",
    "varbit": "cast it to text (col::text)",
}
_PG_TEXT = {"json", "jsonb"}


@dataclass(frozen=True)
class Declared:
    """What the database's catalog says about a table column (absent for a --query)."""

    not_null: bool = False
    max_length: int | None = None
    declared_type: str | None = None  # SQLite's declared type, e.g. "DATE", "BOOLEAN"


@dataclass(frozen=True)
class ColumnPlan:
    """One column: its source name, its Table Schema field, and how a batch is converted."""

    source: str
    db_type: str
    field: dict[str, Any]
    arrow_type: pa.DataType
    convert: Callable[[pa.Array], pa.Array] = dataclasses.field(compare=False)


def _identity(array: pa.Array) -> pa.Array:
    return array


def _cast(to: pa.DataType) -> Callable[[pa.Array], pa.Array]:
    def run(array: pa.Array) -> pa.Array:
        return array if array.type == to else pc.cast(array, to)

    return run


def _storage(to: pa.DataType) -> Callable[[pa.Array], pa.Array]:
    """An extension array's storage (opaque numeric text, JSON text) as `to`."""

    def run(array: pa.Array) -> pa.Array:
        storage = array.storage if isinstance(array, pa.ExtensionArray) else array
        return storage if storage.type == to else pc.cast(storage, to)

    return run


def _uuid_text(array: pa.Array) -> pa.Array:
    """16-byte UUIDs as their canonical text, hex-encoded in one pass over the buffer."""
    storage = array.storage if isinstance(array, pa.ExtensionArray) else array
    n = len(storage)
    if n == 0:
        return pa.array([], pa.string())
    data = storage.buffers()[1]
    start = storage.offset * 16
    hexed = binascii.hexlify(memoryview(data)[start : start + 16 * n])
    offsets = pa.array(range(0, 32 * n + 1, 32), pa.int32()).buffers()[1]
    flat = pa.StringArray.from_buffers(n, offsets, pa.py_buffer(hexed))
    parts = [pc.utf8_slice_codeunits(flat, a, b) for a, b in ((0, 8), (8, 12), (12, 16), (16, 20))]
    parts.append(pc.utf8_slice_codeunits(flat, 20, 32))
    text = pc.binary_join_element_wise(*parts, "-")
    return pc.if_else(pc.is_null(storage), pa.scalar(None, pa.string()), text)


def _numeric_precision(typmod: int | None) -> tuple[int, int] | None:
    if typmod is None or typmod < 4:
        return None
    value = typmod - 4
    return (value >> 16) & 0xFFFF, value & 0xFFFF


def _meta(field_: pa.Field, key: str) -> str | None:
    meta = field_.metadata or {}
    value = meta.get(key.encode())
    return value.decode() if value is not None else None


def _unsupported(name: str, db_type: str, advice: str) -> UnsupportedColumnType:
    return UnsupportedColumnType(
        f"column {name!r} has type {db_type}, which has no Table Schema equivalent: {advice}"
    )


def plan_column(arrow_field: pa.Field, driver: str, declared: Declared | None = None) -> ColumnPlan:
    """The Table Schema field and conversion for one result column, or UnsupportedColumnType."""
    declared = declared or Declared()
    name = arrow_field.name
    kind = arrow_field.type
    if driver == "postgresql":
        db_type = _meta(arrow_field, "POSTGRESQL:type") or str(kind)
        typmod_text = _meta(arrow_field, "POSTGRESQL:typmod")
        typmod = int(typmod_text) if typmod_text else None
    else:
        db_type = (declared.declared_type or "").upper() or "(no declared type)"
        typmod = None
    field_: dict[str, Any] = {}
    constraints: dict[str, Any] = {}
    if declared.not_null:
        constraints["required"] = True
    if declared.max_length:
        constraints["maxLength"] = declared.max_length

    def done(ftype: str, to: pa.DataType, convert: Callable[[pa.Array], pa.Array]) -> ColumnPlan:
        field_["type"] = ftype
        if constraints:
            field_["constraints"] = constraints
        return ColumnPlan(name, db_type, field_, to, convert)

    if driver == "postgresql":
        if db_type in _PG_UNSUPPORTED:
            raise _unsupported(name, db_type, _PG_UNSUPPORTED[db_type])
        if db_type.startswith("_") or pa.types.is_list(kind) or pa.types.is_large_list(kind):
            raise _unsupported(
                name,
                f"{db_type.lstrip('_')}[] (an array)",
                "unnest it, or array_to_string(col, ';')",
            )
        if db_type == "numeric":
            precision = _numeric_precision(typmod)
            if precision and precision[0] <= FLOAT_EXACT_DIGITS:
                return done("number", pa.float64(), _storage(pa.float64()))
            return done("number", pa.string(), _storage(pa.string()))
        if db_type == "uuid":
            field_["format"] = "uuid"
            return done("string", pa.string(), _uuid_text)
        if db_type in _PG_TEXT:
            return done("string", pa.string(), _storage(pa.string()))
    if driver == "sqlite":
        plan = _sqlite_declared(declared, kind, done)
        if plan is not None:
            return plan
    if isinstance(kind, pa.ExtensionType):
        raise _unsupported(name, db_type, "cast it to text (col::text) in a --query")
    if pa.types.is_integer(kind):
        return done("integer", pa.int64(), _cast(pa.int64()))
    if pa.types.is_floating(kind):
        return done("number", pa.float64(), _cast(pa.float64()))
    if pa.types.is_decimal(kind):
        return done("number", pa.string(), _cast(pa.string()))
    if pa.types.is_boolean(kind):
        return done("boolean", pa.bool_(), _identity)
    if pa.types.is_date(kind):
        return done("date", pa.date32(), _cast(pa.date32()))
    if pa.types.is_timestamp(kind):
        to = pa.timestamp("us", tz="UTC" if kind.tz else None)
        return done("datetime", to, _cast(to))
    if pa.types.is_time(kind):
        return done("time", pa.time64("us"), _cast(pa.time64("us")))
    if pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_null(kind):
        return done("string", pa.string(), _cast(pa.string()))
    if pa.types.is_binary(kind) or pa.types.is_large_binary(kind):
        raise _unsupported(
            name, db_type, "binary data has no Table Schema type; leave the column out"
        )
    raise _unsupported(name, db_type, "cast it to text in a --query")


def _sqlite_declared(
    declared: Declared,
    kind: pa.DataType,
    done: Callable[[str, pa.DataType, Callable[[pa.Array], pa.Array]], ColumnPlan],
) -> ColumnPlan | None:
    """SQLite stores dates as text and booleans as 0/1: its declared type says what they are.

    Dates and datetimes stay the text that is stored, typed `date`/`datetime` in the schema, so
    the validator reports a cell that is not one (row and field, never the value).
    """
    declared_type = (declared.declared_type or "").upper()
    text = pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_null(kind)
    if declared_type == "DATE" and text:
        return done("date", pa.string(), _cast(pa.string()))
    if declared_type in ("DATETIME", "TIMESTAMP") and text:
        return done("datetime", pa.string(), _cast(pa.string()))
    if declared_type in ("BOOLEAN", "BOOL") and (
        pa.types.is_integer(kind) or pa.types.is_null(kind)
    ):
        return done("boolean", pa.bool_(), _zero_one)
    return None


def _zero_one(array: pa.Array) -> pa.Array:
    """SQLite's 0/1 as booleans; any other number is not a boolean and stops the import."""
    numbers = pc.cast(array, pa.int64())
    if not pc.all(pc.is_in(pc.drop_null(numbers), pa.array([0, 1], pa.int64()))).as_py():
        raise UnsupportedColumnType(
            "a column declared BOOLEAN holds numbers other than 0 and 1; CAST it in a --query"
        )
    return pc.not_equal(numbers, 0)
