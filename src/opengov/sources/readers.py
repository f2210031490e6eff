"""A resource as one typed table: the published columns of a small resource, for callers that
want it whole (tests, the in-memory `redact` API). Publishing streams the same batches instead
(`opengov.pipeline`), so both read the same cells.

Columns are the schema's fields in schema order, named by field name. Cells that are missing or
fail their type are null (the validator reports the failures). Rows that are blank stay in, as
frictionless' row stream keeps them (unless `skipBlankRows`); cells a short row lacks are null;
extra cells are dropped.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from opengov.errors import InputError
from opengov.package import ResourceSpec
from opengov.sources.cast import CastResult, arrow_type, cell_text
from opengov.sources.csv import CsvBatch, RaggedRow, iter_csv_batches
from opengov.sources.dialect import CsvDialect, csv_dialect, csv_labels, header_lines
from opengov.sources.header import Header, schema_missing_values
from opengov.sources.parquet import without_nanoseconds
from opengov.sources.typed import TypedBatch, TypedSource, concat_typed, open_typed
from opengov.sources.xlsx import xlsx_unsupported_option

__all__ = [
    "CsvBatch",
    "CsvDialect",
    "RaggedRow",
    "cell_text",
    "check_kept",
    "check_labels",
    "csv_dialect",
    "csv_labels",
    "header_lines",
    "iter_csv_batches",
    "open_for_publishing",
    "python_csv_rows",
    "read_typed",
    "schema_missing_values",
    "without_nanoseconds",
    "xlsx_rows",
]


def open_for_publishing(resource: ResourceSpec) -> TypedSource:
    """The reader publishing uses: the header must name the schema's fields in order."""
    if resource.format == "xlsx":
        option = xlsx_unsupported_option(resource)
        if option:
            raise InputError(
                f"resource {resource.name!r}: XLSX option {option} is not supported for publishing"
            )
    source = open_typed(resource, strict=False)
    check_labels(resource, source.labels, source.header, has_header=source.has_header)
    return source


def check_labels(
    resource: ResourceSpec, labels: list[str], header: Header, *, has_header: bool
) -> None:
    """Publishing needs every label matched to its field: by position, or by name under a
    `fieldsMatch` that maps by name (the batches then carry each column's field name and the
    published table is put in schema order, `TypedBatch.schema_arrays`)."""
    if header.exact or not has_header:
        return
    if header.by_name and not header.problems:
        return
    names = resource.field_names
    problems = []
    for index in range(max(len(labels), len(names))):
        label = labels[index] if index < len(labels) else None
        name = names[index] if index < len(names) else None
        if label != name:
            if name is None:
                problems.append(f"column {index + 1}: a label the schema does not have")
            elif label is None:
                problems.append(f"column {index + 1}: no label for field {name!r}")
            else:
                problems.append(f"column {index + 1}: the label is not field {name!r}")
    if not problems:
        return
    raise InputError(
        f"resource {resource.name!r}: the header does not match the schema's fields",
        details=problems[:20],
    )


def check_kept(resource: ResourceSpec, batch: TypedBatch) -> None:
    """Fail closed where a cell is valid (frictionless accepts it) but its value did not make it
    into the column: publishing must never turn a valid value into a null. The message names
    the field and row, never the value (it may be personal data)."""
    fields = resource.schema.get("fields", [])
    if batch.names:
        by_name = {str(f["name"]): f for f in fields}
        named = zip(batch.names, batch.columns, strict=False)
        pairs = [(by_name[n], c) for n, c in named if n in by_name]
    else:
        pairs = list(zip(fields, batch.columns, strict=False))
    for fdesc, column in pairs:
        _check_kept(resource, fdesc, column.cast, batch.row_numbers)


def _check_kept(
    resource: ResourceSpec, fdesc: dict[str, Any], result: CastResult, row_numbers: pa.Array
) -> None:
    lost = pc.and_(pc.invert(pc.or_(result.invalid, result.missing)), pc.is_null(result.array))
    if not pc.any(lost).as_py():
        return
    index = pc.index(lost, True).as_py()
    row = row_numbers[index].as_py()
    ftype = str(fdesc.get("type") or "any")
    hint = ""
    if ftype == "integer":
        hint = (
            " (an integer beyond 64 bits, such as a long reference number);"
            " declare the field as string to publish it"
        )
    raise InputError(
        f"resource {resource.name!r}: field {fdesc.get('name')!r}, row {row}: a valid "
        f"{ftype} value that the published column cannot hold{hint}"
    )


def read_typed(resource: ResourceSpec) -> pa.Table:
    """The whole resource as a typed table (see the module docstring)."""
    source = open_for_publishing(resource)
    fields: list[dict[str, Any]] = list(resource.schema.get("fields", []))
    parts: list[list[pa.Array]] = [[] for _ in fields]
    for batch in source.batches():
        check_kept(resource, batch)
        for index, array in enumerate(batch.schema_arrays(fields)):
            parts[index].append(array)
    if not fields:
        return pa.table({})
    arrays = [concat_typed(p, arrow_type(f)) for p, f in zip(parts, fields, strict=True)]
    schema = pa.schema(
        [pa.field(str(f["name"]), a.type) for f, a in zip(fields, arrays, strict=True)]
    )
    return pa.Table.from_arrays(arrays, schema=schema)


# --- whole-table helpers for small files (the social-media classifier reads its decision table) --


@dataclass
class WholeRows:
    """Labels and every content row of a small table, as frictionless receives them."""

    labels: list[str]
    rows: list[tuple[int, list[Any]]]


def xlsx_rows(resource: ResourceSpec) -> WholeRows:
    from opengov.sources.xlsx import xlsx_rows as stream

    native = stream(resource)
    return WholeRows(native.labels, [row for batch in native.batches for row in batch])


def python_csv_rows(resource: ResourceSpec, dialect: CsvDialect) -> WholeRows:
    """The whole CSV through Python's csv module (records bounded by the record limit)."""
    from opengov.sources.csv import python_records
    from opengov.sources.dialect import _comment_ok, join_labels

    records = list(python_records(resource, dialect))
    labels = join_labels(records, dialect)
    first = dialect.first_content_row
    rows = [
        (n, cells)
        for n, cells in records
        if n >= first
        and _comment_ok(dialect, n, cells)
        and not (dialect.skip_blank_rows and all(c == "" for c in cells))
    ]
    return WholeRows(labels, rows)
