"""The fast validation engine: frictionless' findings, computed with pyarrow kernels.

For every input on the fast path the set of (error type, row number, field) and the totals
per (field, type) equal what frictionless 5.21 reports; `tests/test_validate_parity.py` holds
it to that. How:

- Reading: `tables` reads a CSV as frictionless does (same effective dialect, same labels,
  same row numbers; pyarrow parses, Python's csv re-reads the odd ragged row).
- Header: frictionless' own `Header` class judges labels against fields, so label errors and
  the field each column is read as are frictionless' by construction.
- Cells: `convert.cast_field` (type errors) and `checks.check_column` (constraints), one
  column at a time on a thread pool: pyarrow kernels release the GIL, so both cores work.
- Rows: blank rows, missing and extra cells follow frictionless' `Row` rules (a blank row
  reports only `blank-row`; missing cells also fail `required`).
- Keys: `keys.DuplicateFinder` (unique, primaryKey) and canonical keys (foreignKeys).

A resource that is not on the fast path raises `NotOnFastPath(reason)` (see
`fast_path_reason`); the dispatcher validates it with frictionless and records the reason.
"""

from __future__ import annotations

import functools
import os
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from queue import Empty, Full, Queue
from typing import Any, TypeVar

import pyarrow as pa
import pyarrow.compute as pc

from opengov.errors import InputError
from opengov.package import Package, ResourceSpec, sha256_file
from opengov.sources.cast import (
    KNOWN_TYPES,
    CastResult,
    arrow_type,
    cast_field,
    python_to_arrow,
)
from opengov.sources.readers import (
    CsvBatch,
    CsvDialect,
    NativeRows,
    RaggedRow,
    csv_dialect,
    csv_labels,
    head_records,
    inline_rows,
    iter_csv_batches,
    without_nanoseconds,
    xlsx_rows,
    xlsx_unsupported_option,
)
from opengov.validate import checks
from opengov.validate.checks import ConstraintFailure
from opengov.validate.keys import DuplicateFinder, canonical_key, make_spill_dir
from opengov.validate.model import Finding, ResourceResult, SampleCollector

# Key types whose frictionless values compare differently from their text or arrow value
# (yearmonth "2024-1" equals "2024-01"; JSON objects compare as dicts).
_EXACT_KEY_UNSAFE = {"yearmonth", "duration", "geopoint", "geojson", "object", "array", "list"}
_PROGRESS_AFTER = 1.0  # seconds before a progress bar appears
# pyarrow parses in blocks of BLOCK_SIZE bytes: its streaming reader holds a few dozen blocks'
# worth of buffers, so small blocks keep the peak memory small (1 MiB: ~45 MB of buffers;
# 4 MiB: ~125 MB). Parsed blocks are joined into batches of BATCH_ROWS rows for checking:
# each batch costs a few hundred kernel calls, and 32,768 rows (a few MB a column) measured
# fastest, large enough to amortise the calls, small enough to stay in cache.
BLOCK_SIZE = 1 << 20
BATCH_ROWS = 1 << 15
# Columns of a batch are cast and checked on this many threads; pyarrow's kernels release the
# GIL, so two threads use both cores of a two-core machine.
WORKERS = max(2, os.cpu_count() or 2)
_T = TypeVar("_T")


class NotOnFastPath(Exception):
    """This resource must be validated by frictionless; `reason` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# --- which resources take the fast path ---------------------------------------------------------


def fast_path_reason(package: Package, resource: ResourceSpec) -> str | None:
    """Why `resource` cannot be validated here (None when it can).

    Cheap: looks at the descriptor and, for CSV, the first lines. A few reasons only show while
    reading (for example empty lines when "" is not a missing value); those raise NotOnFastPath
    from validate_resources.
    """
    if resource.format not in {"csv", "tsv", "xlsx", "inline", "parquet"}:
        return f"format {resource.format!r}"
    schema = resource.schema
    fields = list(schema.get("fields") or [])
    if not fields:
        return "schema without fields"
    for fdesc in fields:
        ftype = str(fdesc.get("type") or "any")
        if ftype not in KNOWN_TYPES:
            return f"field {fdesc.get('name')!r} has type {ftype!r}"
        constraints = fdesc.get("constraints") or {}
        if constraints.get("unique") and ftype in _EXACT_KEY_UNSAFE:
            return f"unique on a {ftype} field ({fdesc.get('name')!r})"
    by_name = {str(f["name"]): f for f in fields}
    for name in _primary_key(schema):
        ftype = str(by_name.get(name, {}).get("type") or "any")
        if ftype in _EXACT_KEY_UNSAFE:
            return f"primaryKey on a {ftype} field ({name!r})"
    for fk in schema.get("foreignKeys") or []:
        reason = _foreign_key_reason(package, resource, fk, by_name)
        if reason:
            return reason
    if resource.format in {"csv", "tsv"}:
        dialect = csv_dialect(resource)
        reason = dialect.arrow_reason()
        if reason:
            return reason
    if resource.format == "xlsx":
        option = xlsx_unsupported_option(resource)
        if option:
            return f"XLSX option {option}"
    return None


def _primary_key(schema: dict[str, Any]) -> list[str]:
    pk = schema.get("primaryKey") or []
    return [pk] if isinstance(pk, str) else [str(p) for p in pk]


def _fk_parts(fk: dict[str, Any]) -> tuple[list[str], str, list[str]]:
    fields = fk.get("fields") or []
    ref = fk.get("reference") or {}
    ref_fields = ref.get("fields") or []

    def as_list(v: Any) -> list[str]:
        return [v] if isinstance(v, str) else [str(x) for x in v]

    return as_list(fields), str(ref.get("resource") or ""), as_list(ref_fields)


def _foreign_key_reason(
    package: Package, resource: ResourceSpec, fk: dict[str, Any], by_name: dict[str, Any]
) -> str | None:
    fields, source_name, ref_fields = _fk_parts(fk)
    if source_name and source_name != resource.name:
        try:
            source = package.resource(source_name)
        except Exception:
            return f"foreign key to a resource not in the package ({source_name!r})"
        if source.format in {"csv", "tsv"} and csv_dialect(source).arrow_reason():
            return f"foreign key to {source_name!r}, which is not on the fast path"
        source_fields = {str(f["name"]): f for f in source.schema.get("fields") or []}
    else:
        source = resource
        source_fields = by_name
    native = {"xlsx", "inline", "parquet"}
    typed_cells = resource.format in native or source.format in native
    if len(fields) != len(ref_fields):
        return "foreign key with different field counts"
    for mine, theirs in zip(fields, ref_fields, strict=True):
        t1 = str(by_name.get(mine, {}).get("type") or "any")
        t2 = str(source_fields.get(theirs, {}).get("type") or "any")
        numeric = {"integer", "number"}
        # Datetimes and times also compare by whether they carry an offset (a naive value
        # never equals an aware one), which the typed arrow column does not keep.
        unsafe = _EXACT_KEY_UNSAFE | {"datetime", "time"}
        if typed_cells:
            unsafe = unsafe | {"any"}  # native cells: 1 and "1" differ for frictionless
        if t1 in unsafe or t2 in unsafe:
            return f"foreign key on a {t1 if t1 in unsafe else t2} field"
        if t1 != t2 and not (t1 in numeric and t2 in numeric):
            return f"foreign key between a {t1} and a {t2} field"
    return None


# --- the engine ---------------------------------------------------------------------------------


def validate_resources(
    package: Package,
    resources: list[ResourceSpec],
    *,
    samples: int,
    progress: bool = False,
) -> list[ResourceResult]:
    """Validate each resource on the fast path; raises NotOnFastPath for one that is not."""
    results = []
    for resource in resources:
        reason = fast_path_reason(package, resource)
        if reason:
            raise NotOnFastPath(reason)
        results.append(_Run(package, resource, samples, progress).run())
    return results


@dataclass
class _Expected:
    """A column of the data as frictionless reads it (field_number = position + 1)."""

    number: int
    name: str
    descriptor: dict[str, Any]
    missing_values: list[str]
    supported: list[str]


@dataclass
class _Column:
    cast: CastResult
    absent: pa.BooleanArray
    failures: list[ConstraintFailure]
    cells: pa.Array  # the source cell as text, for samples
    exact: list[Any] | None = None  # native sources: frictionless' typed values
    shown: pa.Array | None = None  # typed parquet cells: samples print them as Python does


@dataclass
class _Batch:
    columns: list[_Column]
    row_numbers: pa.Array
    ragged: list[RaggedRow] = field(default_factory=list)


class _Run:
    """One resource through the fast path."""

    def __init__(self, package: Package, resource: ResourceSpec, samples: int, progress: bool):
        self.package = package
        self.resource = resource
        self.collector = SampleCollector(samples)
        self.progress = progress
        self.rows = 0
        self.schema_missing = [
            str(v["value"]) if isinstance(v, dict) else str(v)
            for v in resource.schema.get("missingValues", [""])
        ]

    # -- setup --

    def _header(self, labels: list[str], dialect: CsvDialect) -> list[_Expected]:
        from frictionless import FrictionlessException, Schema
        from frictionless.table import fields_match as fields_match_module
        from frictionless.table.header import Header

        schema = Schema.from_descriptor(self.resource.schema)
        declared = schema.fields_match if schema.has_defined("fields_match") else None
        try:
            header = Header(
                labels,
                fields=schema.fields,
                row_numbers=list(dialect.header_rows),
                ignore_case=not dialect.header_case,
                fields_match=fields_match_module.resolve(declared, schema_sync=False),
            )
            expected_fields = header.get_expected_fields()
        except FrictionlessException as exc:
            raise NotOnFastPath(f"header matching: {exc}") from None
        for error in header.errors:
            self.collector.add(
                Finding(
                    type=error.type,
                    row_number=getattr(error, "row_number", None),
                    field_name=getattr(error, "field_name", None),
                    field_number=getattr(error, "field_number", None),
                    note=str(getattr(error, "note", "") or ""),
                    label=getattr(error, "label", None),
                )
            )
        expected = []
        for number, fl_field in enumerate(expected_fields, start=1):
            descriptor = fl_field.to_descriptor()
            if fl_field.has_defined("missing_values"):
                missing = list(fl_field.missing_values)
            elif fl_field.schema is not None:
                missing = list(fl_field.schema.missing_values)
            else:
                missing = [""]
            descriptor["missingValues"] = missing
            expected.append(
                _Expected(
                    number=number,
                    name=fl_field.name,
                    descriptor=descriptor,
                    missing_values=missing,
                    supported=list(fl_field.supported_constraints),
                )
            )
        return expected

    # -- run --

    def run(self) -> ResourceResult:
        start = time.perf_counter()
        res = self.resource
        with make_spill_dir() as spill:
            self.spill = Path(spill)
            if res.format in {"csv", "tsv"}:
                labels, batches = self._csv_source()
            else:
                labels, batches = self._native_source()
            self._prepare_keys()
            with ThreadPoolExecutor(max_workers=WORKERS) as pool:
                self.pool = pool
                for batch in batches:
                    self._process(batch)
            self._finish_keys()
        result = ResourceResult(
            name=res.name,
            place=res.relpath or res.name,
            engine="arrow",
            labels=labels,
            rows=self.rows,
            fields=len(res.schema.get("fields") or []),
            bytes=res.path.stat().st_size if res.path else 0,
            sha256=self._sha256(),
            seconds=time.perf_counter() - start,
        )
        self.collector.fill(result)
        return result

    def _sha256(self) -> str:
        res = self.resource
        if res.path is None:
            return ""
        for item in self.package.inputs:
            if item.role == "data" and item.path == res.relpath:
                return item.sha256
        return sha256_file(res.path)

    # -- sources --

    def _csv_source(self) -> tuple[list[str], Iterator[_Batch]]:
        res = self.resource
        dialect = csv_dialect(res)
        labels = csv_labels(res, dialect)
        if not labels and dialect.header and not head_records(res, dialect, limit=1):
            # frictionless: "the source is empty" (a source-error), which stops validation.
            raise InputError(f"resource {res.name!r}: the source is empty")
        self.expected = self._header(labels, dialect)
        if not all("" in e.missing_values for e in self.expected) and _has_empty_lines(res):
            # pyarrow reads an empty line as a row of "" cells, frictionless as a row of no
            # cells; they agree only when "" is a missing value.
            raise NotOnFastPath('empty lines in a file whose missingValues leave out ""')
        return labels, self._csv_batches(dialect)

    def _csv_batches(self, dialect: CsvDialect) -> Iterator[_Batch]:
        res = self.resource
        assert res.path is not None
        total = res.path.stat().st_size
        bar = _Progress(total, res.name, enabled=self.progress)
        n = len(self.expected)
        try:
            raws = iter_csv_batches(res, dialect, n, block_size=BLOCK_SIZE)
            for raw in _prefetch(_coalesce(raws, BATCH_ROWS)):
                texts = raw.columns
                numbers = raw.row_numbers
                ragged = raw.ragged
                if dialect.skip_blank_rows:
                    keep = _nonblank(texts, ragged, numbers)
                    if not pc.all(keep).as_py():
                        texts = [t.filter(keep) for t in texts]
                        numbers = numbers.filter(keep)
                        kept = set(numbers.to_pylist()) if ragged else set()
                        ragged = [r for r in ragged if r.number in kept]
                if bar.enabled:
                    # Cell text plus one delimiter or line end per cell: close to the file's bytes.
                    size = sum(int(pc.sum(pc.binary_length(t)).as_py() or 0) for t in texts)
                    bar.update(len(numbers), size + len(numbers) * max(n, 1))
                columns = list(self.pool.map(self._text_column, self.expected, texts))
                yield _Batch(columns=columns, row_numbers=numbers, ragged=ragged)
        finally:
            bar.close()

    def _text_column(self, expected: _Expected, text: pa.Array) -> _Column:
        cast = cast_field(text, expected.descriptor, missing_values=expected.missing_values)
        failures = checks.check_column(
            expected.descriptor, cast, text, expected.missing_values, expected.supported
        )
        absent: pa.BooleanArray = pc.is_null(text)
        return _Column(cast=cast, absent=absent, failures=failures, cells=text)

    def _native_source(self) -> tuple[list[str], Iterator[_Batch]]:
        res = self.resource
        if res.format == "parquet":
            return self._parquet_source()
        if res.format == "xlsx":
            native = xlsx_rows(res)
        else:
            native = inline_rows(res)
        if not native.labels and native.dialect.header and not native.rows:
            raise InputError(f"resource {res.name!r}: the source is empty")
        self.expected = self._header(native.labels, native.dialect)
        return native.labels, iter([self._native_batch(native)])

    def _parquet_source(self) -> tuple[list[str], Iterator[_Batch]]:
        """Parquet, streamed in batches of BATCH_ROWS rows (memory bounded by a batch).

        A column is cast with kernels when its cells are text (frictionless reads a str cell
        as it reads CSV text) or already carry the field's type; other columns go through
        frictionless' cell reader, one batch at a time.
        """
        import pyarrow.parquet as pq

        res = self.resource
        assert res.path is not None
        try:
            source = pq.ParquetFile(str(res.path))
        except (pa.ArrowInvalid, OSError):
            raise InputError(
                f"resource {res.name!r}: file {res.path.name} is not readable parquet"
            ) from None
        labels = [str(n) for n in source.schema_arrow.names]
        if not labels:
            raise InputError(f"resource {res.name!r}: the source is empty")
        self.expected = self._header(labels, CsvDialect())
        return labels, self._parquet_batches(source)

    def _parquet_plan(self, kinds: list[pa.DataType]) -> list[bool]:
        """Which expected columns are read with kernels (True) or cell by cell (False)."""
        if len(kinds) != len(self.expected):
            return [False] * len(self.expected)  # ragged rows: the cell reader's rules
        plan = [
            _vector_kind(k, e.descriptor, e.missing_values)
            for k, e in zip(kinds, self.expected, strict=True)
        ]
        # A primary key is compared either all by frictionless' values or all by text.
        pk = _primary_key(self.resource.schema)
        names = [e.name for e in self.expected]
        pk_index = [names.index(n) for n in pk if n in names]
        if pk_index and not all(plan[i] for i in pk_index):
            for i in pk_index:
                plan[i] = False
        return plan

    def _parquet_batches(self, source: Any) -> Iterator[_Batch]:
        plan: list[bool] | None = None
        offset = 2
        for record in source.iter_batches(batch_size=BATCH_ROWS):
            columns_in = [without_nanoseconds(c) for c in record.columns]
            if plan is None:
                plan = self._parquet_plan([c.type for c in columns_in])
            rows = record.num_rows
            numbers = pa.array(range(offset, offset + rows), pa.int64())
            offset += rows
            native = NativeRows(labels=[], rows=[])
            if not all(plan):
                # Only the columns read cell by cell become Python values.
                py_columns = [
                    [None] * rows if fast else c.to_pylist()
                    for c, fast in zip(columns_in, plan + [False] * len(columns_in), strict=False)
                ]
                native.rows = [
                    (offset - rows + n, [col[n] for col in py_columns]) for n in range(rows)
                ]
            pool = getattr(self, "pool", None)
            vector = [i for i, fast in enumerate(plan) if fast]
            mapper = pool.map if pool is not None else map
            fast_columns = dict(
                zip(
                    vector,
                    mapper(
                        self._typed_column,
                        [self.expected[i] for i in vector],
                        [columns_in[i] for i in vector],
                    ),
                    strict=True,
                )
            )
            columns = [
                fast_columns[i] if fast else self._native_column(i, exp, native.rows)
                for i, (exp, fast) in enumerate(zip(self.expected, plan, strict=True))
            ]
            ragged = self._native_ragged(native) if not all(plan) else []
            yield _Batch(columns=columns, row_numbers=numbers, ragged=ragged)

    def _typed_column(self, expected: _Expected, column: pa.Array) -> _Column:
        kind = column.type
        if pa.types.is_dictionary(kind):
            column = column.cast(kind.value_type)
            kind = column.type
        if pa.types.is_string(kind) or pa.types.is_large_string(kind):
            text_column = self._text_column(expected, column.cast(pa.string()))
            # A null parquet cell is present (None), not absent as a short CSV row's cell is.
            text_column.absent = _falses(len(column))
            return text_column
        target = arrow_type(expected.descriptor)
        typed = column.cast(target)
        absent = pc.is_null(typed)
        text = typed.cast(pa.string())
        missing = absent
        extra = [m for m in expected.missing_values if m != ""]
        if extra and pa.types.is_integer(target):
            missing = pc.or_(absent, pc.fill_null(pc.is_in(text, value_set=pa.array(extra)), False))
        missing = pc.fill_null(missing, True)
        cast = CastResult(
            array=_nulled(typed, pc.invert(missing)) if extra else typed,
            invalid=pa.array(_falses(len(typed))),
            missing=missing,
        )
        checked = cast
        if pa.types.is_floating(target):
            nan = pc.fill_null(pc.is_nan(typed), False)
            if pc.any(nan).as_py():
                # NaN is a valid number (Decimal("NaN")) that no kernel compares as frictionless
                # does: null it for the checks, which then ask frictionless for those cells.
                checked = CastResult(
                    array=_nulled(typed, pc.invert(nan)), invalid=cast.invalid, missing=missing
                )
        failures = checks.check_column(
            expected.descriptor, checked, text, expected.missing_values, expected.supported
        )
        return _Column(
            cast=cast,
            absent=pa.array(_falses(len(typed))),
            failures=failures,
            cells=text,
            shown=typed,
        )

    def _native_ragged(self, native: NativeRows) -> list[RaggedRow]:
        n = len(self.expected)
        return [
            RaggedRow(number=number, cells=[str(c) for c in cells])
            for number, cells in native.rows
            if len(cells) != n
        ]

    def _native_batch(self, native: NativeRows) -> _Batch:
        """Native cells (spreadsheets, inline JSON): frictionless' cell reader, cell by cell.

        These tables are small, and their cells carry types (an integer cell is not a valid
        string), so reading them exactly as frictionless does beats any vectorised shortcut.
        """
        numbers = pa.array([number for number, _ in native.rows], pa.int64())
        columns = [
            self._native_column(index, expected, native.rows)
            for index, expected in enumerate(self.expected)
        ]
        return _Batch(columns=columns, row_numbers=numbers, ragged=self._native_ragged(native))

    def _native_column(
        self, index: int, expected: _Expected, rows: list[tuple[int, list[Any]]]
    ) -> _Column:
        reader = checks.cell_reader(expected.descriptor, expected.missing_values)
        typed: list[Any] = []
        exact: list[Any] = []
        invalid: list[bool] = []
        missing: list[bool] = []
        absent: list[bool] = []
        texts: list[str | None] = []
        notes_per_cell: list[set[str]] = []
        for _, cells in rows:
            present = index < len(cells)
            cell = cells[index] if present else None
            value, notes = reader(cell)
            names = set(notes or ())
            is_invalid = "type" in names
            invalid.append(is_invalid)
            missing.append(value is None and not is_invalid)
            absent.append(not present)
            texts.append(_str(cell) if present else None)
            notes_per_cell.append(names - {"type"})
            exact.append(value)
            if value is None:
                typed.append(None)
            else:
                typed.append(python_to_arrow(value, cell, expected.descriptor)[0])
        aware = any(getattr(v, "tzinfo", None) is not None for v in exact)
        cast = CastResult(
            array=pa.array(typed, arrow_type(expected.descriptor, aware=aware)),
            invalid=pa.array(invalid, pa.bool_()),
            missing=pa.array(missing, pa.bool_()),
        )
        constraint_names = sorted(set().union(*notes_per_cell)) if notes_per_cell else []
        failures = [
            ConstraintFailure(name, pa.array([name in s for s in notes_per_cell], pa.bool_()))
            for name in constraint_names
        ]
        return _Column(
            cast=cast,
            absent=pa.array(absent, pa.bool_()),
            failures=failures,
            cells=pa.array(texts, pa.string()),
            exact=exact,
        )

    # -- rows --

    def _process(self, batch: _Batch) -> None:
        cols = batch.columns
        numbers = batch.row_numbers
        self.rows += len(numbers)
        if not len(numbers):
            return
        blank: pa.Array = cols[0].cast.missing
        for col in cols[1:]:
            blank = pc.and_(blank, col.cast.missing)
        blank = pc.fill_null(blank, False)
        alive = pc.invert(blank)
        for exp, col in zip(self.expected, cols, strict=True):
            self._emit(
                pc.and_(col.cast.invalid, alive),
                numbers,
                "type-error",
                exp,
                col.cells,
                note=f'type is "{exp.descriptor.get("type", "any")}/'
                f'{exp.descriptor.get("format", "default")}"',
                shown=col.shown,
            )
            for failure in col.failures:
                constraint = (exp.descriptor.get("constraints") or {}).get(failure.name)
                self._emit(
                    pc.and_(failure.mask, alive),
                    numbers,
                    "constraint-error",
                    exp,
                    col.cells,
                    note=f'constraint "{failure.name}" is "{constraint}"',
                    shown=col.shown,
                )
            self._emit(pc.and_(col.absent, alive), numbers, "missing-cell", exp, None, note="")
        self._emit_rows(blank, numbers, "blank-row", None, note="")
        if batch.ragged:
            self._extra_cells(batch, blank)
        self._keys(batch, blank)

    def _extra_cells(self, batch: _Batch, blank: pa.Array) -> None:
        n = len(self.expected)
        blank_rows = set(
            batch.row_numbers.filter(blank).to_pylist() if pc.any(blank).as_py() else []
        )
        for row in batch.ragged:
            if len(row.cells) <= n or row.number in blank_rows:
                continue
            for number, cell in enumerate(row.cells[n:], start=n + 1):
                self.collector.add(
                    Finding(
                        type="extra-cell",
                        row_number=row.number,
                        field_name="",
                        field_number=number,
                        cell=cell,
                    )
                )

    def _emit(
        self,
        mask: pa.Array,
        numbers: pa.Array,
        type_: str,
        exp: _Expected,
        cells: pa.Array | None,
        *,
        note: str,
        shown: pa.Array | None = None,
    ) -> None:
        mask = pc.fill_null(mask, False)
        count = int(pc.sum(mask).as_py() or 0)
        if not count:
            return
        key = (exp.name, type_)
        room = max(0, self.collector.limit - self.collector.totals[key])
        if room:
            where = pc.indices_nonzero(mask).slice(0, room)
            rows = numbers.take(where).to_pylist()
            if cells is None:
                texts: list[Any] = [""] * len(rows)
            elif shown is not None:
                texts = [_str(v) for v in shown.take(where).to_pylist()]
            else:
                texts = cells.take(where).to_pylist()
            for row, text in zip(rows, texts, strict=True):
                self.collector.add(
                    Finding(
                        type=type_,
                        row_number=row,
                        field_name=exp.name,
                        field_number=exp.number,
                        note=note,
                        cell="None" if text is None and type_ == "constraint-error" else text,
                    )
                )
            count -= len(rows)
        if count:
            self.collector.add_count(exp.name, type_, count)

    def _emit_rows(
        self, mask: pa.Array, numbers: pa.Array, type_: str, field_name: str | None, *, note: str
    ) -> None:
        mask = pc.fill_null(mask, False)
        count = int(pc.sum(mask).as_py() or 0)
        if not count:
            return
        room = max(0, self.collector.limit - self.collector.totals[(field_name, type_)])
        rows = numbers.filter(mask).slice(0, room).to_pylist() if room else []
        for row in rows:
            self.collector.add(
                Finding(type=type_, row_number=row, field_name=field_name, note=note)
            )
        if count > len(rows):
            self.collector.add_count(field_name, type_, count - len(rows))

    # -- keys --

    def _prepare_keys(self) -> None:
        names = [e.name for e in self.expected]
        index = {name: i for i, name in enumerate(names)}
        self.unique_finders: list[tuple[int, DuplicateFinder]] = []
        for i, exp in enumerate(self.expected):
            if (exp.descriptor.get("constraints") or {}).get("unique"):
                finder = DuplicateFinder(
                    name=f"unique-{i}",
                    fields=[exp.descriptor],
                    missing_values=[exp.missing_values],
                    spill_dir=self.spill,
                )
                self.unique_finders.append((i, finder))
        pk = _primary_key(self.resource.schema)
        self.pk_index = [index[name] for name in pk] if pk and set(pk) <= set(names) else []
        self.pk_finder = (
            DuplicateFinder(
                name="primary-key",
                fields=[self.expected[i].descriptor for i in self.pk_index],
                missing_values=[self.expected[i].missing_values for i in self.pk_index],
                spill_dir=self.spill,
            )
            if self.pk_index
            else None
        )
        self.fk_groups: list[tuple[list[int], pa.Array, str]] = []
        for fk in self.resource.schema.get("foreignKeys") or []:
            fields, source_name, ref_fields = _fk_parts(fk)
            if not set(fields) <= set(names):
                continue
            lookup = _lookup_keys(self.package, self.resource, source_name, ref_fields)
            note = f'for "{", ".join(fields)}": not found in the lookup table'
            self.fk_groups.append(([index[f] for f in fields], lookup, note))
        self.exact_seen: dict[str, dict[Any, int]] = {}

    def _keys(self, batch: _Batch, blank: pa.Array) -> None:
        cols = batch.columns
        numbers = batch.row_numbers
        valid = [pc.invert(pc.or_(c.cast.missing, c.cast.invalid)) for c in cols]
        for i, finder in self.unique_finders:
            exact = cols[i].exact
            if exact is not None:
                self._exact_duplicates(f"u{i}", [exact], numbers, valid[i], "unique-error", i)
            else:
                finder.add([cols[i].cast.array], [cols[i].cells], valid[i], numbers)
        if self.pk_index:
            all_none: pa.Array = pc.invert(valid[self.pk_index[0]])
            for i in self.pk_index[1:]:
                all_none = pc.and_(all_none, pc.invert(valid[i]))
            self._emit_rows(
                all_none,
                numbers,
                "primary-key",
                None,
                note='cells composing the primary keys are all "None"',
            )
            keyed = pc.invert(all_none)
            exacts = [cols[i].exact for i in self.pk_index]
            if all(e is not None for e in exacts):
                self._exact_duplicates(
                    "pk", [e for e in exacts if e is not None], numbers, keyed, "primary-key", None
                )
            elif self.pk_finder is not None:
                self.pk_finder.add(
                    [_nulled(cols[i].cast.array, valid[i]) for i in self.pk_index],
                    [_nulled(cols[i].cells, valid[i]) for i in self.pk_index],
                    keyed,
                    numbers,
                )
        for index, lookup, note in self.fk_groups:
            parts = [_nulled(cols[i].cast.array, valid[i]) for i in index]
            any_value: pa.Array = valid[index[0]]
            for i in index[1:]:
                any_value = pc.or_(any_value, valid[i])
            key = canonical_key([_fold_zero(p) for p in parts])
            missing = pc.and_(any_value, pc.invert(_member(key, lookup)))
            self._emit_rows(missing, numbers, "foreign-key", None, note=note)

    def _exact_duplicates(
        self,
        name: str,
        values: Sequence[list[Any]],
        numbers: pa.Array,
        keyed: pa.Array,
        type_: str,
        field_index: int | None,
    ) -> None:
        seen = self.exact_seen.setdefault(name, {})
        flags = pc.fill_null(keyed, False).to_pylist()
        for offset, number in enumerate(numbers.to_pylist()):
            if not flags[offset]:
                continue
            key = tuple(v[offset] for v in values)
            try:
                earlier = seen.get(key)
            except TypeError:
                key = tuple(repr(k) for k in key)
                earlier = seen.get(key)
            seen[key] = number
            if earlier is not None:
                self._key_finding(type_, number, earlier, field_index)

    def _key_finding(self, type_: str, row: int, earlier: int, field_index: int | None) -> None:
        exp = self.expected[field_index] if field_index is not None else None
        name = exp.name if exp else None
        if self.collector.totals[(name, type_)] >= self.collector.limit:
            self.collector.add_count(name, type_, 1)  # counted, not kept: samples are bounded
            return
        self.collector.add(
            Finding(
                type=type_,
                row_number=row,
                field_name=name,
                field_number=exp.number if exp else None,
                note=f"the same as in the row at position {earlier}",
            )
        )

    def _finish_keys(self) -> None:
        for i, finder in self.unique_finders:
            finder.duplicates(functools.partial(self._key_finding, "unique-error", field_index=i))
        if self.pk_finder is not None:
            self.pk_finder.duplicates(
                functools.partial(self._key_finding, "primary-key", field_index=None)
            )


# --- helpers -------------------------------------------------------------------------------------


def _str(cell: Any) -> str | None:
    return None if cell is None else str(cell)


def _member(keys: pa.Array, lookup: pa.Array) -> pa.Array:
    """Whether each key is in `lookup` (sorted, distinct).

    `is_in` builds a hash table of the lookup on every call, once per batch; a binary search
    in the sorted lookup costs nothing to set up, which wins for large referenced tables.
    """
    if len(lookup) <= 4096:
        return pc.is_in(keys, value_set=lookup)
    index = pc.search_sorted(lookup, keys)
    inside = pc.less(index, len(lookup))
    safe = pc.if_else(inside, index, 0)
    found = pc.equal(lookup.take(safe), keys)
    return pc.fill_null(pc.and_(inside, found), False)


def _nulled(array: pa.Array, valid: pa.Array) -> pa.Array:
    return pc.if_else(valid, array, pa.scalar(None, array.type))


def _fold_zero(array: pa.Array) -> pa.Array:
    # -0.0 and 0.0 are one number (and one Decimal) for frictionless; arrow prints "-0".
    if pa.types.is_floating(array.type):
        return pc.add(array, 0.0)
    return array


def _nonblank(
    texts: Sequence[pa.Array], ragged: Sequence[RaggedRow], numbers: pa.Array
) -> pa.Array:
    from opengov.sources.readers import blank_row_filter

    return blank_row_filter(texts, ragged, numbers)


def _has_empty_lines(resource: ResourceSpec) -> bool:
    """Whether the file has an empty line (a line break right after a line break)."""
    assert resource.path is not None
    previous = b"\n"
    with resource.path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 22), b""):
            joined = previous + block
            if b"\n\n" in joined or b"\r\n\r\n" in joined or b"\r\r" in joined:
                return True
            previous = block[-3:]
    return False


def _falses(n: int) -> pa.BooleanArray:
    falses: pa.BooleanArray = pc.fill_null(pa.nulls(n, pa.bool_()), False)
    return falses


def _vector_kind(kind: pa.DataType, field: dict[str, Any], missing_values: list[str]) -> bool:
    """Whether a parquet column of this type reads with kernels as frictionless reads its cells.

    Text cells are read as CSV text is (for any field type). Typed cells must already carry the
    field's type, and no missing value may spell one of them (frictionless compares
    `str(cell)` with the missing values).
    """
    if pa.types.is_dictionary(kind):
        kind = kind.value_type
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        return True
    ftype = str(field.get("type") or "any")
    extra = [m for m in missing_values if m != ""]
    if ftype == "integer":
        small_unsigned = pa.types.is_unsigned_integer(kind) and kind.bit_width <= 32
        return bool(pa.types.is_signed_integer(kind) or small_unsigned)
    if ftype == "number":
        return pa.types.is_floating(kind) and not any(_floatish(m) for m in extra)
    if ftype == "boolean":
        return pa.types.is_boolean(kind) and not ({"True", "False"} & set(extra))
    if ftype == "date":
        return pa.types.is_date32(kind) and not any(m[:1].isdigit() for m in extra)
    return False


def _floatish(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _lookup_keys(
    package: Package, resource: ResourceSpec, source_name: str, ref_fields: list[str]
) -> pa.Array:
    """Canonical keys of the referenced rows (frictionless skips all-None keys)."""
    source = resource if not source_name or source_name == resource.name else None
    if source is None:
        source = package.resource(source_name)
    table = _typed_columns(package, source, ref_fields)
    if table is None or not table.num_rows:
        return pa.array([], pa.string())
    parts = [_fold_zero(table.column(i).combine_chunks()) for i in range(table.num_columns)]
    any_value: pa.Array = pc.is_valid(parts[0])
    for part in parts[1:]:
        any_value = pc.or_(any_value, pc.is_valid(part))
    keys = canonical_key(parts).filter(any_value)
    unique = pc.unique(keys)
    ordered: pa.Array = unique.take(pc.sort_indices(unique))
    return ordered


def _typed_columns(package: Package, source: ResourceSpec, names: list[str]) -> pa.Table | None:
    """The referenced resource's columns, typed as frictionless reads them (by expected field)."""
    run = _Run(package, source, 0, progress=False)
    with make_spill_dir() as spill:
        run.spill = Path(spill)
        if source.format in {"csv", "tsv"}:
            dialect = csv_dialect(source)
            labels = csv_labels(source, dialect)
            run.collector = SampleCollector(0)
            run.expected = run._header(labels, dialect)
            expected_names = [e.name for e in run.expected]
            if not set(names) <= set(expected_names):
                return None
            index = [expected_names.index(n) for n in names]
            parts: list[list[pa.Array]] = [[] for _ in names]
            for raw in iter_csv_batches(source, dialect, len(run.expected)):
                texts = raw.columns
                if dialect.skip_blank_rows:
                    keep = _nonblank(texts, raw.ragged, raw.row_numbers)
                    texts = [t.filter(keep) for t in texts]
                for slot, i in enumerate(index):
                    exp = run.expected[i]
                    cast = cast_field(texts[i], exp.descriptor, missing_values=exp.missing_values)
                    parts[slot].append(cast.array)
            arrays = [
                _concat(p, arrow_type(run.expected[i].descriptor))
                for p, i in zip(parts, index, strict=True)
            ]
            return pa.table(arrays, names=[f"k{i}" for i in range(len(arrays))])
        labels, batches = run._native_source()
        expected_names = [e.name for e in run.expected]
        if not set(names) <= set(expected_names):
            return None
        index = [expected_names.index(n) for n in names]
        parts = [[] for _ in names]
        for batch in batches:
            for slot, i in enumerate(index):
                parts[slot].append(batch.columns[i].cast.array)
        arrays = [
            _concat(p, arrow_type(run.expected[i].descriptor))
            for p, i in zip(parts, index, strict=True)
        ]
        return pa.table(arrays, names=[f"k{i}" for i in range(len(arrays))])


def _concat(parts: list[pa.Array], fallback: pa.DataType) -> pa.Array:
    if not parts:
        return pa.array([], fallback)
    kinds = {p.type for p in parts}
    if len(kinds) > 1:  # a datetime column aware in some batches only
        parts = [p.cast(pa.timestamp("us", tz="UTC")) for p in parts]
    return pa.concat_arrays(parts)


def _coalesce(batches: Iterator[CsvBatch], rows: int) -> Iterator[CsvBatch]:
    """Join small parsed batches into batches of about `rows` rows.

    Parsing in small blocks keeps pyarrow's buffers small; checking in large batches keeps
    the fixed cost per batch (a few hundred kernel calls) small.
    """
    pending: list[CsvBatch] = []
    count = 0
    for batch in batches:
        pending.append(batch)
        count += batch.num_rows
        if count >= rows:
            yield _join(pending)
            pending, count = [], 0
    if pending:
        yield _join(pending)


def _join(batches: list[CsvBatch]) -> CsvBatch:
    if len(batches) == 1:
        return batches[0]
    width = len(batches[0].columns)
    return CsvBatch(
        columns=[pa.concat_arrays([b.columns[i] for b in batches]) for i in range(width)],
        row_numbers=pa.concat_arrays([b.row_numbers for b in batches]),
        ragged=[r for b in batches for r in b.ragged],
    )


def _prefetch(items: Iterator[_T], depth: int = 2) -> Iterator[_T]:
    """Produce `items` on another thread, so parsing the next batch overlaps checking this one.

    pyarrow's parser releases the GIL; with two cores the parse of batch k+1 and the kernels
    of batch k run at the same time.
    """
    queue: Queue[tuple[str, Any]] = Queue(maxsize=depth)
    stop = threading.Event()

    def produce() -> None:
        try:
            for item in items:
                while not stop.is_set():
                    try:
                        queue.put(("item", item), timeout=0.1)
                        break
                    except Full:
                        continue
                if stop.is_set():
                    return
            queue.put(("end", None))
        except BaseException as exc:  # handed to the consumer, raised there
            queue.put(("error", exc))

    thread = threading.Thread(target=produce, name="opengov-csv-reader", daemon=True)
    thread.start()
    try:
        while True:
            kind, value = queue.get()
            if kind == "end":
                return
            if kind == "error":
                raise value
            yield value
    finally:
        stop.set()
        while thread.is_alive():
            try:
                queue.get_nowait()
            except Empty:
                thread.join(timeout=0.05)


# --- progress ------------------------------------------------------------------------------------


class _Progress:
    """A progress line on stderr for long files: only on a terminal, only after a second.

    pyarrow does not say how far into the file a batch ends; the share done is estimated from
    the text per row seen so far.
    """

    def __init__(self, total_bytes: int, name: str, *, enabled: bool) -> None:
        self.enabled = enabled and sys.stderr.isatty()
        self.name = name
        self.total = max(total_bytes, 1)
        self.start = time.perf_counter()
        self.rows = 0
        self.bytes = 0
        self.shown = False

    def update(self, rows: int, text_bytes: int) -> None:
        self.rows += rows
        self.bytes += text_bytes
        if not self.enabled:
            return
        elapsed = time.perf_counter() - self.start
        if elapsed < _PROGRESS_AFTER:
            return
        self.shown = True
        share = min(self.bytes / self.total, 0.99)
        width = 30
        filled = int(share * width)
        bar = "#" * filled + "-" * (width - filled)
        rate = self.rows / elapsed if elapsed else 0
        sys.stderr.write(
            f"\r  {self.name} [{bar}] {share:4.0%} {self.rows:,} rows ({rate:,.0f} rows/s)"
        )
        sys.stderr.flush()

    def close(self) -> None:
        if self.shown:
            sys.stderr.write("\n")
            sys.stderr.flush()
