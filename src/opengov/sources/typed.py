"""One reader per resource, for validation and publishing alike: typed Arrow batches.

`open_typed` reads a resource's header, matches it to the schema (`header.py`) and yields
`TypedBatch`es: for every expected field the cast column (`cast.py`: typed values, which cells
failed their type, which are missing), the source text for reports, and the row numbers and
ragged rows validation reports on. Validation and redaction consume the same batches, so what
is published is what was validated.

CSV text is parsed by pyarrow in small blocks, joined into batches of BATCH_ROWS rows and cast
one column per thread; parsing the next batch overlaps casting this one. Parquet is streamed in
batches. Spreadsheets and inline data carry typed cells and are read as frictionless reads
them, cell by cell (`native.py`).

The sha256 of the source is known once the batches are exhausted (`TypedSource.sha256`): for
CSV it is of the bytes pyarrow parsed; XLSX files are read into memory once and hashed; Parquet
is hashed beside the read, and its size and change time are compared before and after, so a file
replaced during the run stops it.
"""

from __future__ import annotations

import abc
import hashlib
import os
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field
from queue import Empty, Full, Queue
from typing import Any, TypeVar

import pyarrow as pa
import pyarrow.compute as pc

from opengov.errors import InputError
from opengov.package import ResourceSpec
from opengov.sources import csv as csv_source
from opengov.sources.cast import (
    CastResult,
    arrow_type,
    cast_field,
    cell_text,
    python_to_arrow,
)
from opengov.sources.csv import RaggedRow, blank_row_filter, iter_csv_batches, python_records
from opengov.sources.dialect import CsvDialect, csv_dialect, csv_labels, head_records
from opengov.sources.header import Expected, Header, HeaderNotSupported, match_header
from opengov.sources.native import NATIVE_BATCH_ROWS, NativeRows
from opengov.sources.parquet import open_parquet, parquet_batches, without_nanoseconds

# Parsed blocks are joined into batches of BATCH_ROWS rows: each batch costs a few hundred
# kernel calls, and 32,768 rows (a few MB a column) measured fastest, large enough to amortise
# the calls, small enough to stay in cache.
BATCH_ROWS = 1 << 15
_T = TypeVar("_T")


class NeedsFrictionless(Exception):
    """Only frictionless can validate this resource as it reads it; `reason` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class TypedColumn:
    cast: CastResult
    absent: pa.BooleanArray  # the row has no such cell (a short row)
    cells: pa.Array  # the source cell as text, for reports
    exact: list[Any] | None = None  # native sources: frictionless' typed values (for keys)
    shown: pa.Array | None = None  # typed parquet cells: reports print them as Python does
    checked: CastResult | None = None  # what constraint checks see, when it differs from cast
    native_failures: list[tuple[str, pa.BooleanArray]] | None = None  # per-cell constraints


@dataclass
class TypedBatch:
    columns: list[TypedColumn]  # one per expected field, in the file's column order
    row_numbers: pa.Array
    ragged: list[RaggedRow] = field(default_factory=list)
    names: list[str] = field(default_factory=list)  # the expected fields' names, per column

    @property
    def num_rows(self) -> int:
        return len(self.row_numbers)

    def schema_arrays(self, fields: Sequence[dict[str, Any]]) -> list[pa.Array]:
        """The cast columns in schema order, matched by name: with `fieldsMatch` other than
        exact the file's columns may come in any order, and a field the file leaves out
        (an optional one) is a column of nulls. Columns of labels the schema does not have
        (`subset`, `partial`) are not among them."""
        index = {name: i for i, name in enumerate(self.names)}
        out = []
        for position, fdesc in enumerate(fields):
            i = index.get(str(fdesc["name"]), position if not self.names else None)
            if i is not None and i < len(self.columns):
                out.append(self.columns[i].cast.array)
            else:
                out.append(pa.nulls(self.num_rows, arrow_type(fdesc)))
        return out


class TypedSource(abc.ABC):
    """A resource opened for reading: its labels, its header, and then its batches (one
    subclass per reader: CSV through Arrow or Python's csv, Parquet, XLSX and inline data)."""

    def __init__(self, resource: ResourceSpec, labels: list[str], header: Header) -> None:
        self.resource = resource
        self.labels = labels
        self.header = header
        self.sha256: str | None = None  # known once the batches are exhausted
        self.size = 0
        self.total_bytes = resource.path.stat().st_size if resource.path else 0
        self.position = 0  # bytes of the source read so far (for progress)
        # The cells are the file's own text (a delimited text file): their bytes over the
        # rows of a batch estimate the file's rows. Not so for Parquet and XLSX.
        self.text_cells = False
        self.has_header = True  # the layout has a header row (labels come from the file)

    @property
    def names(self) -> list[str]:
        return [e.name for e in self.header.expected]

    @abc.abstractmethod
    def batches(self, pool: Executor | None = None) -> Iterator[TypedBatch]:
        """The typed batches, once; the source's sha256 is known when they are exhausted."""


def open_typed(resource: ResourceSpec, *, strict: bool) -> TypedSource:
    """Open `resource` for reading. `strict`: raise NeedsFrictionless where frictionless would
    read the file differently from these readers (validation then asks frictionless); for
    publishing such files are read as they are (`read_typed`'s rules)."""
    if resource.format in {"csv", "tsv"}:
        dialect = csv_dialect(resource)
        if dialect.arrow_reason():
            if strict:
                raise NeedsFrictionless(str(dialect.arrow_reason()))
            return _PythonCsvSource.open(resource, dialect)
        return _CsvSource.open(resource, dialect, strict=strict)
    if resource.format == "parquet":
        return _ParquetSource.open(resource)
    if resource.format in {"xlsx", "inline"}:
        return _NativeSource.open(resource)
    raise InputError(f"resource {resource.name!r}: unsupported format {resource.format!r}")


def _header(resource: ResourceSpec, labels: list[str], dialect: CsvDialect) -> Header:
    try:
        return match_header(resource, labels, dialect)
    except HeaderNotSupported as exc:
        raise NeedsFrictionless(exc.reason) from None


def _empty(resource: ResourceSpec) -> InputError:
    # frictionless: "the source is empty" (a source-error), which stops validation.
    return InputError(f"resource {resource.name!r}: the source is empty")


# --- CSV ---------------------------------------------------------------------------------------


class _CsvSource(TypedSource):
    dialect: CsvDialect

    @classmethod
    def open(cls, resource: ResourceSpec, dialect: CsvDialect, *, strict: bool) -> _CsvSource:
        labels = csv_labels(resource, dialect)
        if not labels and dialect.header and not head_records(resource, dialect, limit=1):
            raise _empty(resource)
        header = _header(resource, labels, dialect)
        if strict and not all("" in e.missing_values for e in header.expected):
            if _has_empty_lines(resource):
                # pyarrow reads an empty line as a row of "" cells, frictionless as a row of no
                # cells; they agree only when "" is a missing value.
                raise NeedsFrictionless('empty lines in a file whose missingValues leave out ""')
        source = cls(resource, labels, header)
        source.dialect = dialect
        source.has_header = dialect.header
        source.text_cells = True
        return source

    def batches(self, pool: Executor | None = None) -> Iterator[TypedBatch]:
        res = self.resource
        expected = self.header.expected
        n = len(expected)
        streams: list[Any] = []

        def open_file() -> Any:
            streams.append(csv_source.opener(res)())
            return streams[-1]

        raws = iter_csv_batches(
            res, self.dialect, n, block_size=csv_source.BLOCK_SIZE, open_file=open_file
        )
        mapper: Callable[..., Any] = pool.map if pool is not None else map

        def typed() -> Iterator[tuple[TypedBatch, int]]:
            # The reader thread only parses; the parsed blocks of a batch are joined column by
            # column on the workers (copying every cell once), off the parse's critical path.
            for group in _prefetch(_coalesce(raws, BATCH_ROWS)):
                numbers = _concat([b.row_numbers for b in group])
                ragged = [r for b in group for r in b.ragged]
                parts: list[list[pa.Array]] = [[b.columns[i] for b in group] for i in range(n)]
                if self.dialect.skip_blank_rows:
                    texts = [_concat(p) for p in parts]
                    keep = blank_row_filter(texts, ragged, numbers)
                    if not pc.all(keep).as_py():
                        texts = [t.filter(keep) for t in texts]
                        numbers = numbers.filter(keep)
                        kept = set(numbers.to_pylist()) if ragged else set()
                        ragged = [r for r in ragged if r.number in kept]
                    parts = [[t] for t in texts]
                columns = list(mapper(_joined_text_column, expected, parts))
                yield (
                    TypedBatch(columns, numbers, ragged, self.names),
                    (streams[-1].size if streams else 0),
                )

        # Casting batch k+1 (on a thread of its own, the casts on the pool) overlaps checking,
        # redacting and writing batch k, as parsing batch k+2 does on the reader's thread.
        for batch, position in _prefetch(typed(), name="opengov-csv-cast"):
            self.position = position
            yield batch
        last = streams[-1]
        self.sha256, self.size = last.sha256(), last.size


def _joined_text_column(expected: Expected, parts: list[pa.Array]) -> TypedColumn:
    return text_column(expected, _concat(parts))


def text_column(expected: Expected, text: pa.Array) -> TypedColumn:
    cast = cast_field(text, expected.descriptor, missing_values=expected.missing_values)
    absent: pa.BooleanArray = pc.is_null(text)
    return TypedColumn(cast=cast, absent=absent, cells=text)


class _PythonCsvSource(TypedSource):
    """Dialects pyarrow cannot parse as Python's csv does: Python's csv reads them, in batches.
    Only publishing reads these (frictionless validates them)."""

    dialect: CsvDialect

    @classmethod
    def open(cls, resource: ResourceSpec, dialect: CsvDialect) -> _PythonCsvSource:
        labels = csv_labels(resource, dialect)
        source = cls(resource, labels, _header(resource, labels, dialect))
        source.dialect = dialect
        source.has_header = dialect.header
        return source

    def batches(self, pool: Executor | None = None) -> Iterator[TypedBatch]:
        from opengov.sources.dialect import _comment_ok

        d = self.dialect
        expected = self.header.expected
        streams: list[Any] = []

        def open_file() -> Any:
            streams.append(csv_source.opener(self.resource)())
            return streams[-1]

        rows: list[tuple[int, list[str]]] = []
        for number, cells in python_records(self.resource, d, open_file):
            if number < d.first_content_row or not _comment_ok(d, number, cells):
                continue
            if d.skip_blank_rows and all(c == "" for c in cells):
                continue
            rows.append((number, cells))
            if len(rows) >= csv_source.PYTHON_BATCH_ROWS:
                yield self._batch(rows, expected)
                rows = []
        if rows:
            yield self._batch(rows, expected)
        self.sha256, self.size = streams[-1].sha256(), streams[-1].size

    @staticmethod
    def _batch(rows: list[tuple[int, list[str]]], expected: list[Expected]) -> TypedBatch:
        n = len(expected)
        texts = [
            pa.array([c[i] if i < len(c) else None for _, c in rows], pa.string()) for i in range(n)
        ]
        numbers = pa.array([number for number, _ in rows], pa.int64())
        ragged = [RaggedRow(number, cells) for number, cells in rows if len(cells) != n]
        columns = [text_column(e, t) for e, t in zip(expected, texts, strict=True)]
        return TypedBatch(columns, numbers, ragged, [e.name for e in expected])


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


# --- Parquet -----------------------------------------------------------------------------------


class _ParquetSource(TypedSource):
    """Parquet, streamed in batches of BATCH_ROWS rows (memory bounded by a batch).

    A column is cast with kernels when its cells are text (frictionless reads a str cell as it
    reads CSV text) or already carry the field's type; other columns go through frictionless'
    cell reader, one batch at a time.
    """

    file: Any

    @classmethod
    def open(cls, resource: ResourceSpec) -> _ParquetSource:
        assert resource.path is not None
        before = _stat(resource)
        file = open_parquet(resource)
        labels = [str(n) for n in file.schema_arrow.names]
        if not labels:
            raise _empty(resource)
        source = cls(resource, labels, _header(resource, labels, CsvDialect()))
        source.file = file
        source.before = before  # type: ignore[attr-defined]
        return source

    def batches(self, pool: Executor | None = None) -> Iterator[TypedBatch]:
        res = self.resource
        expected = self.header.expected
        plan: list[bool] | None = None
        offset = 2
        mapper: Callable[..., Any] = pool.map if pool is not None else map
        for record in parquet_batches(res, self.file, BATCH_ROWS):
            columns_in = [without_nanoseconds(c) for c in record.columns]
            if plan is None:
                plan = self._plan([c.type for c in columns_in])
            rows = record.num_rows
            numbers = pa.array(range(offset, offset + rows), pa.int64())
            offset += rows
            native: list[tuple[int, list[Any]]] = []
            if not all(plan):
                # Only the columns read cell by cell become Python values.
                py_columns = [
                    [None] * rows if fast else c.to_pylist()
                    for c, fast in zip(columns_in, plan + [False] * len(columns_in), strict=False)
                ]
                native = [(offset - rows + n, [col[n] for col in py_columns]) for n in range(rows)]
            vector = [i for i, fast in enumerate(plan) if fast]
            fast_columns = dict(
                zip(
                    vector,
                    mapper(
                        typed_column, [expected[i] for i in vector], [columns_in[i] for i in vector]
                    ),
                    strict=True,
                )
            )
            columns = [
                fast_columns[i] if fast else native_column(i, exp, native)
                for i, (exp, fast) in enumerate(zip(expected, plan, strict=True))
            ]
            ragged = _native_ragged(native, len(expected)) if not all(plan) else []
            self.position = min(self.position + record.nbytes, self.total_bytes)
            yield TypedBatch(columns, numbers, ragged, self.names)
        self.sha256, self.size = _hash_unchanged(res, self.before)  # type: ignore[attr-defined]

    def _plan(self, kinds: list[pa.DataType]) -> list[bool]:
        """Which expected columns are read with kernels (True) or cell by cell (False)."""
        expected = self.header.expected
        if len(kinds) != len(expected):
            return [False] * len(expected)  # ragged rows: the cell reader's rules
        plan = [
            vector_kind(k, e.descriptor, e.missing_values)
            for k, e in zip(kinds, expected, strict=True)
        ]
        # A primary key is compared either all by frictionless' values or all by text.
        pk = primary_key(self.resource.schema)
        names = [e.name for e in expected]
        pk_index = [names.index(n) for n in pk if n in names]
        if pk_index and not all(plan[i] for i in pk_index):
            for i in pk_index:
                plan[i] = False
        return plan


def primary_key(schema: dict[str, Any]) -> list[str]:
    pk = schema.get("primaryKey") or []
    return [pk] if isinstance(pk, str) else [str(p) for p in pk]


def _stat(resource: ResourceSpec) -> tuple[int, int, int, int]:
    assert resource.path is not None
    st = os.stat(resource.path)
    return (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)


def _hash_unchanged(resource: ResourceSpec, before: tuple[int, int, int, int]) -> tuple[str, int]:
    """The file's sha256, read after parsing, and a check that it did not change meanwhile."""
    assert resource.path is not None
    digest = hashlib.sha256()
    size = 0
    with resource.path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
            size += len(block)
    if _stat(resource) != before:
        raise InputError(
            f"resource {resource.name!r}: file {resource.path.name} changed while it was read; "
            "publish again once it is complete"
        )
    return digest.hexdigest(), size


def typed_column(expected: Expected, column: pa.Array) -> TypedColumn:
    """A parquet column: text is cast as CSV text is; typed values keep their type."""
    kind = column.type
    if pa.types.is_dictionary(kind):
        column = column.cast(kind.value_type)
        kind = column.type
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        text = text_column(expected, column.cast(pa.string()))
        # A null parquet cell is present (None), not absent as a short CSV row's cell is.
        text.absent = falses(len(column))
        return text
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
        array=nulled(typed, pc.invert(missing)) if extra else typed,
        invalid=falses(len(typed)),
        missing=missing,
    )
    checked = None
    if pa.types.is_floating(target):
        nan = pc.fill_null(pc.is_nan(typed), False)
        if pc.any(nan).as_py():
            # NaN is a valid number (Decimal("NaN")) that no kernel compares as frictionless
            # does: null it for the checks, which then ask frictionless for those cells.
            checked = CastResult(
                array=nulled(typed, pc.invert(nan)), invalid=cast.invalid, missing=missing
            )
    return TypedColumn(
        cast=cast, absent=falses(len(typed)), cells=text, shown=typed, checked=checked
    )


def vector_kind(kind: pa.DataType, field: dict[str, Any], missing_values: list[str]) -> bool:
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


# --- spreadsheets and inline data --------------------------------------------------------------


class _NativeSource(TypedSource):
    native: NativeRows
    digest: tuple[str, int] | None = None

    @classmethod
    def open(cls, resource: ResourceSpec) -> _NativeSource:
        digest: tuple[str, int] | None = None
        if resource.format == "xlsx":
            from opengov.sources.xlsx import read_workbook, xlsx_rows

            workbook = read_workbook(resource)
            digest = (workbook.sha256, len(workbook.data))
            native = xlsx_rows(resource, workbook)
        else:
            from opengov.sources.inline import inline_rows

            native = inline_rows(resource)
        if not native.labels and native.dialect.header and native.empty:
            raise _empty(resource)
        source = cls(resource, native.labels, _header(resource, native.labels, native.dialect))
        source.native = native
        source.digest = digest
        source.has_header = native.dialect.header
        return source

    def batches(self, pool: Executor | None = None) -> Iterator[TypedBatch]:
        expected = self.header.expected
        for rows in self.native.batches:
            numbers = pa.array([number for number, _ in rows], pa.int64())
            columns = [native_column(i, e, rows) for i, e in enumerate(expected)]
            yield TypedBatch(columns, numbers, _native_ragged(rows, len(expected)), self.names)
        if self.digest is not None:
            self.sha256, self.size = self.digest


def _native_ragged(rows: list[tuple[int, list[Any]]], n: int) -> list[RaggedRow]:
    return [
        RaggedRow(number=number, cells=[str(c) for c in cells])
        for number, cells in rows
        if len(cells) != n
    ]


def native_column(index: int, expected: Expected, rows: list[tuple[int, list[Any]]]) -> TypedColumn:
    """Native cells (spreadsheets, inline JSON, odd parquet columns): frictionless' cell reader,
    cell by cell. Their cells carry types (an integer cell is not a valid string), so reading them
    exactly as frictionless does beats any vectorised shortcut.

    The reader checks every constraint but `pattern`, which validation checks with RE2 (or a
    bounded Python check), never with an unbounded backtracking regex on the cell.
    """
    from opengov.validate.checks import cell_reader

    descriptor = expected.descriptor
    if "pattern" in (descriptor.get("constraints") or {}):
        descriptor = {
            **descriptor,
            "constraints": {k: v for k, v in descriptor["constraints"].items() if k != "pattern"},
        }
    reader = cell_reader(descriptor, expected.missing_values)
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
        texts.append((None if cell is None else str(cell)) if present else None)
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
    failed: list[str] = sorted(set().union(*notes_per_cell)) if notes_per_cell else []
    failures = [(n, pa.array([n in s for s in notes_per_cell], pa.bool_())) for n in failed]
    return TypedColumn(
        cast=cast,
        absent=pa.array(absent, pa.bool_()),
        cells=pa.array(texts, pa.string()),
        exact=exact,
        native_failures=failures,
    )


# --- helpers -----------------------------------------------------------------------------------


def falses(n: int) -> pa.BooleanArray:
    out: pa.BooleanArray = pc.fill_null(pa.nulls(n, pa.bool_()), False)
    return out


def nulled(array: pa.Array, valid: pa.Array) -> pa.Array:
    return pc.if_else(valid, array, pa.scalar(None, array.type))


def _coalesce(
    batches: Iterator[csv_source.CsvBatch], rows: int
) -> Iterator[list[csv_source.CsvBatch]]:
    """Group small parsed batches into groups of about `rows` rows (joined by the consumer).

    Parsing in small blocks keeps pyarrow's buffers small; checking in large batches keeps
    the fixed cost per batch (a few hundred kernel calls) small.
    """
    pending: list[csv_source.CsvBatch] = []
    count = 0
    for batch in batches:
        pending.append(batch)
        count += batch.num_rows
        if count >= rows:
            yield pending
            pending, count = [], 0
    if pending:
        yield pending


def _concat(parts: list[pa.Array]) -> pa.Array:
    return parts[0] if len(parts) == 1 else pa.concat_arrays(parts)


def _prefetch(
    items: Iterator[_T], depth: int = 2, name: str = "opengov-csv-reader"
) -> Iterator[_T]:
    """Produce `items` on another thread, so parsing the next batch overlaps working on this one.

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
        finally:
            # A generator stopped early (the consumer left) is closed here, on its own thread:
            # a nested prefetch stops its thread too.
            close = getattr(items, "close", None)
            if close is not None:
                close()

    thread = threading.Thread(target=produce, name=name, daemon=True)
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


def concat_typed(parts: Sequence[pa.Array], fallback: pa.DataType) -> pa.Array:
    """Batches of one column as one array (a datetime column aware in some batches only is UTC)."""
    if not parts:
        return pa.array([], fallback)
    kinds = {p.type for p in parts}
    if len(kinds) > 1:
        parts = [p.cast(pa.timestamp("us", tz="UTC")) for p in parts]
    return pa.concat_arrays(parts)


__all__ = [
    "BATCH_ROWS",
    "NATIVE_BATCH_ROWS",
    "NeedsFrictionless",
    "TypedBatch",
    "TypedColumn",
    "TypedSource",
    "cell_text",
    "open_typed",
]
