"""Reading a resource into a typed arrow table, reading it the way frictionless does.

Publishing (`read_typed`) and the fast validator share the readers here, so the rows that are
published are exactly the rows that were validated, with the same row numbers:

- CSV/TSV: frictionless' effective dialect (including its delimiter sniffing when the package
  declares none), labels from the header row(s) via Python's csv module (what frictionless
  uses), data through `pyarrow.csv` as strings. Rows with the wrong number of cells are set
  aside by pyarrow, re-parsed with Python's csv module and put back at their row numbers.
- XLSX: openpyxl in read-only mode, cells as frictionless receives them (native types).
- Parquet: pyarrow.parquet.
- Inline: the descriptor's `data` (a header row then rows, or a list of objects).
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from opengov.errors import InputError
from opengov.package import ResourceSpec
from opengov.sources.cast import (
    CastResult,
    arrow_type,
    cast_field,
    cast_python_cells,
    cell_text,
)

# frictionless reads this many text lines to sniff a CSV dialect.
_SNIFF_LINES = 100
_SNIFF_DELIMITERS = ",\t;|"
# A field may be large (free text); frictionless raises Python's limit the same way.
csv.field_size_limit(2**31 - 1)

BLOCK_SIZE = 1 << 23  # 8 MiB of text per record batch: ~80,000 invoice rows


@dataclass(frozen=True)
class CsvDialect:
    """What frictionless would use to read a CSV, after defaults and sniffing."""

    delimiter: str = ","
    quote_char: str = '"'
    double_quote: bool = True
    escape_char: str | None = None
    skip_initial_space: bool = False
    header: bool = True
    header_rows: tuple[int, ...] = (1,)
    header_join: str = " "
    header_case: bool = True
    comment_char: str | None = None
    comment_rows: tuple[int, ...] = ()
    skip_blank_rows: bool = False

    @property
    def first_content_row(self) -> int:
        return self.header_rows[-1] + 1 if self.header and self.header_rows else 1

    def python(self) -> type[csv.Dialect]:
        """The `csv` dialect frictionless hands to `csv.reader`."""
        quote_char = self.quote_char

        class Dialect(csv.excel):
            delimiter = self.delimiter
            # frictionless ignores doubleQuote=false unless an escape char is set.
            doublequote = self.double_quote if self.escape_char else True
            escapechar = self.escape_char
            quotechar = quote_char or '"'
            quoting = csv.QUOTE_NONE if quote_char == "" else csv.QUOTE_MINIMAL
            skipinitialspace = self.skip_initial_space

        return Dialect

    def arrow_reason(self) -> str | None:
        """Why pyarrow.csv cannot read this dialect as Python's csv does, or None."""
        if self.skip_initial_space:
            return "dialect skipInitialSpace (pyarrow cannot skip spaces before a quote)"
        if self.comment_char or self.comment_rows:
            return "dialect commentChar/commentRows (pyarrow has no comment lines)"
        if len(self.delimiter) != 1 or (self.quote_char and len(self.quote_char) != 1):
            return "multi-character delimiter or quote char"
        if self.escape_char is not None and len(self.escape_char) != 1:
            return "multi-character escape char"
        return None


def _decode_head(path: Path, encoding: str, limit_lines: int) -> list[str]:
    """The first lines of text, split the way frictionless' text stream splits them."""
    lines: list[str] = []
    with path.open("rb") as raw:
        text = io.TextIOWrapper(raw, encoding=encoding, newline="", errors="strict")
        try:
            for line in text:
                lines.append(line)
                if len(lines) >= limit_lines:
                    break
        except UnicodeDecodeError as exc:
            raise InputError(
                f"file {path.name} is not valid {encoding} (near byte {exc.start} of a block)"
            ) from None
        finally:
            text.detach()
    return lines


def csv_dialect(resource: ResourceSpec) -> CsvDialect:
    """frictionless' effective dialect for a CSV/TSV resource.

    Where the package leaves something out, frictionless sniffs it from the first 100 lines
    with `csv.Sniffer` (delimiter among `,\\t;|`, and whether spaces follow delimiters); we
    do the same, or the two engines would read different cells.
    """
    d = resource.dialect or {}
    # frictionless v1 puts CSV options at the top level; v2 nests them under "csv".
    nested = d.get("csv")
    opts: dict[str, Any] = {**d, **(nested if isinstance(nested, dict) else {})}
    delimiter = opts.get("delimiter")
    if delimiter is None and resource.format == "tsv":
        delimiter = "\t"
    sniffed_delimiter = ","
    sniffed_space = False
    if (delimiter is None or "skipInitialSpace" not in opts) and resource.path is not None:
        sample = _decode_head(resource.path, resource.encoding or "utf-8", _SNIFF_LINES)
        try:
            sniffed = csv.Sniffer().sniff("".join(sample), delimiter or _SNIFF_DELIMITERS)
            sniffed_delimiter = sniffed.delimiter
            sniffed_space = bool(sniffed.skipinitialspace)
        except csv.Error:
            pass  # frictionless falls back to csv.excel: comma, no space skipping
    header_rows = opts.get("headerRows") or ([opts["headerRow"]] if "headerRow" in opts else [1])
    dialect = CsvDialect(
        delimiter=str(delimiter if delimiter is not None else sniffed_delimiter),
        quote_char=str(opts.get("quoteChar", '"')),
        double_quote=bool(opts.get("doubleQuote", True)),
        escape_char=opts.get("escapeChar"),
        skip_initial_space=bool(opts.get("skipInitialSpace", sniffed_space)),
        header=bool(opts.get("header", True)),
        header_rows=tuple(int(r) for r in header_rows),
        header_join=str(opts.get("headerJoin", " ")),
        header_case=bool(opts.get("caseSensitiveHeader", opts.get("headerCase", True))),
        comment_char=opts.get("commentChar"),
        comment_rows=tuple(int(r) for r in opts.get("commentRows", ())),
        skip_blank_rows=bool(opts.get("skipBlankRows", False)),
    )
    if resource.path is None or _header_declared(opts):
        return dialect
    return detect_header_rows(dialect, head_records(resource, dialect))


def _header_declared(opts: dict[str, Any]) -> bool:
    return "header" in opts or "headerRows" in opts or "headerRow" in opts


def detect_header_rows(dialect: CsvDialect, sample: Sequence[Sequence[Any]]) -> CsvDialect:
    """frictionless' header guess when the dialect declares no header: the first of the first
    100 rows whose width is within 10% of their average width (so leading title or comment
    lines are skipped), else row 1."""
    if not sample:
        return dialect
    widths = [len(cells) for cells in sample]
    width = round(sum(widths) / len(widths))  # Python's round, as frictionless: half to even
    drift = max(round(width * 0.1), 1)
    match = range(width - drift, width + drift + 1)
    header_row = 1
    for number, cells in enumerate(sample, start=1):
        if not _comment_ok(dialect, number, cells):
            continue
        if len(cells) in match:
            header_row = number
            break
    return replace(dialect, header_rows=(header_row,))


def _comment_ok(dialect: CsvDialect, number: int, cells: Sequence[Any]) -> bool:
    if dialect.comment_rows and number in dialect.comment_rows:
        return False
    if dialect.comment_char and cells and isinstance(cells[0], str):
        if cells[0].startswith(dialect.comment_char):
            return False
    return True


def head_records(resource: ResourceSpec, dialect: CsvDialect, limit: int = 100) -> list[list[str]]:
    """The first records as Python's csv (frictionless' parser) reads them."""
    assert resource.path is not None
    records: list[list[str]] = []
    with resource.path.open("rb") as raw:
        text = io.TextIOWrapper(raw, encoding=resource.encoding or "utf-8", newline="")
        try:
            for cells in csv.reader(text, dialect=dialect.python()):
                records.append(cells)
                if len(records) >= limit:
                    break
        except (UnicodeDecodeError, csv.Error) as exc:
            raise _reading_error(resource, exc, len(records) + 1) from None
        finally:
            text.detach()
    return records


def _reading_error(resource: ResourceSpec, exc: Exception, row: int) -> InputError:
    """Decoding and parsing failures as a message naming file and position, never content."""
    name = resource.path.name if resource.path else resource.name
    if isinstance(exc, UnicodeDecodeError):
        return InputError(
            f"resource {resource.name!r}: file {name} is not valid {resource.encoding} "
            f"(near byte {exc.start} of a block)"
        )
    return InputError(
        f"resource {resource.name!r}: cannot parse file {name} as CSV "
        f"(row {row}: {str(exc).split(':')[0]})"
    )


def header_lines(resource: ResourceSpec, dialect: CsvDialect) -> tuple[int, bool]:
    """How many physical lines the records before the first content row take, and whether
    any text follows them.

    pyarrow's `skip_rows` counts lines, while frictionless' header rows are records: a quoted
    label with a line break ("Belopp\\r\\n(kr)") is one record over two lines. Python's csv
    reader (frictionless' parser) counts the lines it consumed in `line_num`; it splits lines
    at \\n, \\r\\n and \\r, as pyarrow does.
    """
    assert resource.path is not None
    records = dialect.first_content_row - 1
    with resource.path.open("rb") as raw:
        text = io.TextIOWrapper(raw, encoding=resource.encoding or "utf-8", newline="")
        try:
            reader = csv.reader(text, dialect=dialect.python())
            for _ in range(records):
                if next(reader, None) is None:
                    return reader.line_num, False
            return reader.line_num, next(text, "") != ""
        except (UnicodeDecodeError, csv.Error) as exc:
            raise _reading_error(resource, exc, reader.line_num) from None
        finally:
            text.detach()


def join_labels(rows: Sequence[tuple[int, Sequence[Any]]], dialect: CsvDialect) -> list[str]:
    """Labels from header rows, as frictionless' Dialect.read_labels builds them."""
    lists: list[list[str]] = []
    for number, cells in rows:
        if not _comment_ok(dialect, number, cells):
            continue
        if dialect.header and number in dialect.header_rows:
            lists.append(["" if c is None else str(c).strip() for c in cells])
        if number >= dialect.first_content_row:
            break
    labels: list[str] = []
    previous: dict[int, str] = {}
    for cells in lists:
        for index, cell in enumerate(cells):
            if previous.get(index) == cell:
                continue
            previous[index] = cell
            if len(labels) <= index:
                labels.append(cell)
            else:
                labels[index] = dialect.header_join.join([labels[index], cell])
    return labels


def csv_labels(resource: ResourceSpec, dialect: CsvDialect) -> list[str]:
    if not dialect.header or resource.path is None:
        return []
    head = head_records(resource, dialect, limit=dialect.first_content_row)
    return join_labels(list(enumerate(head, start=1)), dialect)


# --- CSV data through pyarrow -----------------------------------------------------------------


@dataclass
class RaggedRow:
    """A record whose cell count differs from the field count; pyarrow leaves these to us."""

    number: int  # frictionless row number (the header is row 1)
    cells: list[str]


@dataclass
class CsvBatch:
    """Some rows: one string column per expected field, with their row numbers."""

    columns: list[pa.Array]
    row_numbers: pa.Array  # int64
    ragged: list[RaggedRow] = field(default_factory=list)  # rows of this batch, also in columns

    @property
    def num_rows(self) -> int:
        return len(self.row_numbers)


class _NeedNumbers(Exception):
    """A ragged row turned up while parsing threaded, where pyarrow gives no row numbers."""


def _arrow_encoding(encoding: str | None) -> str:
    # pyarrow skips a UTF-8 BOM itself and transcodes anything else through Python's codecs.
    name = codecs.lookup(encoding or "utf-8").name
    return "utf8" if name in {"utf-8", "utf-8-sig"} else name


def iter_csv_batches(
    resource: ResourceSpec,
    dialect: CsvDialect,
    n_columns: int,
    *,
    block_size: int = BLOCK_SIZE,
    use_threads: bool = True,
) -> Iterator[CsvBatch]:
    """Stream a CSV's content rows as string columns (`n_columns` of them) with row numbers.

    Rows with a different cell count are re-parsed by Python's csv (as frictionless would
    read them), padded with nulls or cut to `n_columns`, and kept in `ragged` with their full
    cell list so the validator can report missing and extra cells.

    pyarrow reports the row number of a ragged row only when parsing on one thread; so the
    threaded pass stops at the first ragged row and the file is read again on one thread.
    Clean files (the usual case) are read once, threaded.
    """
    reason = dialect.arrow_reason()
    if reason:
        raise InputError(f"resource {resource.name!r}: internal: pyarrow cannot read {reason}")
    skip_lines, more = header_lines(resource, dialect)
    if not more:
        # The file ends within the header (a header-only file, perhaps without a final
        # newline): no rows. pyarrow would fail to skip the header.
        return
    yielded = 0  # rows handed out so far, in row order
    threaded = use_threads
    while True:
        skip = yielded
        try:
            for batch in _csv_pass(
                resource, dialect, n_columns, block_size, threaded=threaded, skip_lines=skip_lines
            ):
                # A restarted pass reads the same rows in the same order: skip those already
                # handed out. (A threaded pass hands out only batches before the first ragged
                # row, so its rows are exactly the first ones of the single-threaded pass.)
                if skip >= batch.num_rows:
                    skip -= batch.num_rows
                    continue
                if skip:
                    first = batch.row_numbers[skip].as_py()
                    batch = CsvBatch(
                        columns=[c.slice(skip) for c in batch.columns],
                        row_numbers=batch.row_numbers.slice(skip),
                        ragged=[r for r in batch.ragged if r.number >= first],
                    )
                    skip = 0
                yielded += batch.num_rows
                yield batch
            return
        except _NeedNumbers:
            threaded = False
        except _BlockTooSmall:
            # One record (a long text cell, a quoted value over many lines) is larger than a
            # block: pyarrow cannot parse it. Read again with larger blocks.
            if block_size >= 1 << 30:
                raise InputError(
                    f"resource {resource.name!r}: a row of {resource.path} is over 1 GiB"
                ) from None
            block_size *= 8


class _BlockTooSmall(Exception):
    """pyarrow met a record larger than its block size."""


def _csv_pass(
    resource: ResourceSpec,
    dialect: CsvDialect,
    n_columns: int,
    block_size: int,
    *,
    threaded: bool,
    skip_lines: int,
) -> Iterator[CsvBatch]:
    import pyarrow.csv as pv

    assert resource.path is not None
    path = resource.path
    names = [f"c{i}" for i in range(max(n_columns, 1))]
    ragged_raw: list[tuple[int | None, str]] = []

    def on_invalid(row: Any) -> str:
        ragged_raw.append((row.number, row.text))
        return "skip"

    # pyarrow skips physical lines, not records (a quoted label may span lines), and numbers
    # a ragged row as skipped lines + its record index among the rest: shift it to
    # frictionless' row number.
    shift = (dialect.first_content_row - 1) - skip_lines
    read_options = pv.ReadOptions(
        column_names=names,
        skip_rows=skip_lines,
        block_size=block_size,
        use_threads=threaded,
        encoding=_arrow_encoding(resource.encoding),
    )
    parse_options = pv.ParseOptions(
        delimiter=dialect.delimiter,
        quote_char=dialect.quote_char or False,
        double_quote=dialect.double_quote if dialect.escape_char else True,
        escape_char=dialect.escape_char or False,
        newlines_in_values=True,
        ignore_empty_lines=False,
        invalid_row_handler=on_invalid,
    )
    convert_options = pv.ConvertOptions(
        column_types={name: pa.string() for name in names},
        strings_can_be_null=False,
        quoted_strings_can_be_null=False,
        null_values=[],
        true_values=[],
        false_values=[],
    )
    try:
        reader = pv.open_csv(
            str(path),
            read_options=read_options,
            parse_options=parse_options,
            convert_options=convert_options,
        )
    except pa.ArrowInvalid as exc:
        if "Empty CSV file" in str(exc):
            return
        raise _input_error(resource, exc) from None
    next_number = dialect.first_content_row
    parser = dialect.python()
    pending: list[RaggedRow] = []  # reported by pyarrow, not yet placed among good rows
    while True:
        try:
            batch = reader.read_next_batch()
        except StopIteration:
            break
        except pa.ArrowInvalid as exc:
            raise _input_error(resource, exc) from None
        except UnicodeDecodeError as exc:
            raise InputError(
                f"resource {resource.name!r}: file {path.name} is not valid "
                f"{resource.encoding} (byte {exc.start} of a block)"
            ) from None
        if ragged_raw:
            if threaded:
                raise _NeedNumbers
            pending.extend(_ragged_rows(ragged_raw, parser, shift))
            ragged_raw.clear()
            pending.sort(key=lambda r: r.number)
        out, next_number, pending = _place(batch, pending, next_number, n_columns)
        yield out
    if ragged_raw:
        if threaded:
            raise _NeedNumbers
        pending.extend(_ragged_rows(ragged_raw, parser, shift))
        pending.sort(key=lambda r: r.number)
    if pending:
        yield _ragged_batch(pending, n_columns)


_ARANGE: list[pa.Array] = [pa.array([], pa.int64())]


def arange(start: int, count: int) -> pa.Array:
    """int64 start, start+1, ... (count values), without a Python loop per value."""
    base = _ARANGE[0]
    if len(base) < count:
        size = max(count, 2 * len(base), 1 << 16)
        base = _ARANGE[0] = pa.array(range(size), pa.int64())
    out: pa.Array = pc.add(base.slice(0, count), pa.scalar(start, pa.int64()))
    return out


def _ragged_rows(
    raw: list[tuple[int | None, str]], parser: type[csv.Dialect], shift: int = 0
) -> list[RaggedRow]:
    rows = []
    for number, text in raw:
        if number is None:
            raise RuntimeError("pyarrow gave no row number for a ragged row")
        rows.append(RaggedRow(number=int(number) + shift, cells=_parse_record(text, parser)))
    return rows


def _ragged_batch(rows: list[RaggedRow], n_columns: int) -> CsvBatch:
    columns = [
        pa.array([r.cells[i] if i < len(r.cells) else None for r in rows], pa.string())
        for i in range(n_columns)
    ]
    numbers = pa.array([r.number for r in rows], pa.int64())
    return CsvBatch(columns=columns, row_numbers=numbers, ragged=list(rows))


def _place(
    batch: pa.RecordBatch, pending: list[RaggedRow], next_number: int, n_columns: int
) -> tuple[CsvBatch, int, list[RaggedRow]]:
    """Number a batch's good rows, skipping the numbers ragged rows hold, and merge in the
    ragged rows that fall among them.

    pyarrow reports ragged rows while parsing, which (read-ahead) can be a block before the
    batch they belong to is returned; so they wait in `pending` until numbering reaches them.
    Returns the merged batch, the next free number and the rows still pending.
    """
    m = batch.num_rows
    columns = list(batch.columns[:n_columns])
    if not pending or pending[0].number >= next_number + m:
        # The usual case: no ragged row among these rows.
        return (
            CsvBatch(columns=columns, row_numbers=arange(next_number, m)),
            next_number + m,
            pending,
        )
    # Walk the numbers: each ragged row takes its own, good rows take the rest in order.
    numbers_list: list[int] = []
    placed: list[RaggedRow] = []
    index = 0
    number = next_number
    while len(numbers_list) < m:
        if index < len(pending) and pending[index].number == number:
            placed.append(pending[index])
            index += 1
        else:
            numbers_list.append(number)
        number += 1
    rest = pending[index:]
    good = CsvBatch(columns=columns, row_numbers=pa.array(numbers_list, pa.int64()))
    if not placed:
        return good, number, rest
    extra = _ragged_batch(placed, n_columns)
    all_numbers = pa.concat_arrays([good.row_numbers, extra.row_numbers])
    order = pc.sort_indices(all_numbers)
    merged = CsvBatch(
        columns=[
            pa.concat_arrays([g, e]).take(order)
            for g, e in zip(good.columns, extra.columns, strict=True)
        ],
        row_numbers=all_numbers.take(order),
        ragged=placed,
    )
    return merged, number, rest


def _input_error(resource: ResourceSpec, exc: Exception) -> Exception:
    # pyarrow's messages quote the offending row: keep only the part before the quote.
    text = str(exc)
    if "straddl" in text:
        return _BlockTooSmall()
    where = text.split(":")[0] if ":" in text else text
    name = resource.path.name if resource.path else resource.name
    return InputError(
        f"resource {resource.name!r}: cannot parse file {name} as CSV ({where[:160]})"
    )


def _parse_record(text: str, parser: type[csv.Dialect]) -> list[str]:
    rows = list(csv.reader(io.StringIO(text, newline=""), dialect=parser))
    if not rows:
        return []
    if len(rows) == 1:
        return rows[0]
    # A record pyarrow split differently from Python (should not happen): join the parts.
    return [cell for row in rows for cell in row]


# --- native rows: XLSX and inline data ----------------------------------------------------------


@dataclass
class NativeRows:
    """Rows of native cells (as frictionless receives them from openpyxl or inline JSON)."""

    labels: list[str]
    rows: list[tuple[int, list[Any]]]  # (row number, cells)
    dialect: CsvDialect = field(default_factory=CsvDialect)  # header layout used


# frictionless' excel options that change the cells it reads; openpyxl's plain read here does
# not apply them, so such a resource is validated by frictionless and not published.
XLSX_UNSUPPORTED = (
    "fillMergedCells",
    "stringified",
    "preserveFormatting",
    "adjustFloatingPointError",
)


def xlsx_unsupported_option(resource: ResourceSpec) -> str | None:
    """The first excel dialect option set (truthy) that `xlsx_rows` does not apply, or None."""
    dialect = resource.dialect or {}
    nested = dialect.get("excel")
    for options in (dialect, nested if isinstance(nested, dict) else {}):
        for name in XLSX_UNSUPPORTED:
            if options.get(name):
                return name
    return None


def xlsx_rows(resource: ResourceSpec) -> NativeRows:
    """The sheet as frictionless' xlsx parser yields it (read-only openpyxl, data_only)."""
    import warnings

    import openpyxl

    assert resource.path is not None
    dialect = resource.dialect or {}
    nested = dialect.get("excel")
    excel: dict[str, Any] = nested if isinstance(nested, dict) else dialect
    sheet_ref = excel.get("sheet", 1)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            book = openpyxl.load_workbook(str(resource.path), read_only=True, data_only=True)
    except Exception:
        raise InputError(
            f"resource {resource.name!r}: file {resource.path.name} is not a readable xlsx"
        ) from None
    try:
        try:
            sheet = (
                book[sheet_ref] if isinstance(sheet_ref, str) else book.worksheets[sheet_ref - 1]
            )
        except (KeyError, IndexError):
            raise InputError(
                f"resource {resource.name!r}: {resource.path.name} has no sheet {sheet_ref!r}"
            ) from None
        raw = [
            (number, [cell.value for cell in cells])
            for number, cells in enumerate(sheet.iter_rows(), start=1)
        ]
    finally:
        book.close()
    return _native(raw, layout(resource, raw))


def inline_rows(resource: ResourceSpec) -> NativeRows:
    """Inline data as frictionless' inline parser yields it."""
    data = resource.data or []
    raw: list[tuple[int, list[Any]]] = []
    if data and isinstance(data[0], dict):
        keys = resource.field_names or list(data[0].keys())
        raw.append((1, list(keys)))
        for number, item in enumerate(data, start=2):
            if not isinstance(item, dict):
                raise InputError(f"resource {resource.name!r}: inline data mixes rows and objects")
            raw.append((number, [item.get(k) for k in keys]))
    else:
        for number, item in enumerate(data, start=1):
            if not isinstance(item, list | tuple):
                raise InputError(f"resource {resource.name!r}: inline data rows must be lists")
            raw.append((number, list(item)))
    return _native(raw, layout(resource, raw))


def layout(resource: ResourceSpec, raw: Sequence[tuple[int, Sequence[Any]]]) -> CsvDialect:
    """Header options for spreadsheets and inline data (declared, else guessed from `raw`)."""
    dialect = _declared_layout(resource)
    if _header_declared(resource.dialect or {}):
        return dialect
    return detect_header_rows(dialect, [cells for _, cells in raw[:100]])


def _declared_layout(resource: ResourceSpec) -> CsvDialect:
    d = resource.dialect or {}
    header_rows = d.get("headerRows") or ([d["headerRow"]] if "headerRow" in d else [1])
    return CsvDialect(
        header=bool(d.get("header", True)),
        header_rows=tuple(int(r) for r in header_rows),
        header_join=str(d.get("headerJoin", " ")),
        header_case=bool(d.get("headerCase", True)),
        comment_char=d.get("commentChar"),
        comment_rows=tuple(int(r) for r in d.get("commentRows", ())),
        skip_blank_rows=bool(d.get("skipBlankRows", False)),
    )


def _native(raw: list[tuple[int, list[Any]]], dialect: CsvDialect) -> NativeRows:
    labels = join_labels(raw, dialect)
    first = dialect.first_content_row
    rows: list[tuple[int, list[Any]]] = []
    for number, cells in raw:
        if number < first or not _comment_ok(dialect, number, cells):
            continue
        if dialect.skip_blank_rows and all(c in (None, "") for c in cells):
            continue
        rows.append((number, cells))
    return NativeRows(labels=labels, rows=rows, dialect=dialect)


# --- read_typed -------------------------------------------------------------------------------


def _check_labels(resource: ResourceSpec, labels: list[str], header: bool) -> None:
    if not header:
        return
    names = resource.field_names
    if labels == names:
        return
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
    raise InputError(
        f"resource {resource.name!r}: the header does not match the schema's fields",
        details=problems[:20],
    )


def schema_missing_values(resource: ResourceSpec) -> list[str]:
    raw = resource.schema.get("missingValues", [""])
    return [str(v["value"]) if isinstance(v, dict) else str(v) for v in raw]


def _table(
    resource: ResourceSpec,
    results: list[CastResult],
    row_numbers: pa.Array | pa.ChunkedArray | Sequence[int],
) -> pa.Table:
    fields = resource.schema.get("fields", [])
    for fdesc, result in zip(fields, results, strict=True):
        _check_kept(resource, fdesc, result, row_numbers)
    arrays = [r.array for r in results]
    schema = pa.schema(
        [pa.field(str(f["name"]), a.type) for f, a in zip(fields, arrays, strict=True)]
    )
    return pa.Table.from_arrays(arrays, schema=schema)


def _check_kept(
    resource: ResourceSpec,
    fdesc: dict[str, Any],
    result: CastResult,
    row_numbers: pa.Array | pa.ChunkedArray | Sequence[int],
) -> None:
    """Fail closed where a cell is valid (frictionless accepts it) but its value did not make it
    into the column: publishing must never turn a valid value into a null. The message names
    the field and row, never the value (it may be personal data)."""
    lost = pc.and_(pc.invert(pc.or_(result.invalid, result.missing)), pc.is_null(result.array))
    if not pc.any(lost).as_py():
        return
    index = pc.index(lost, True).as_py()
    number = row_numbers[index]
    row = number.as_py() if isinstance(number, pa.Scalar) else number
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
    """The whole resource as a typed table (see the module docstring).

    Columns are the schema's fields in schema order, named by field name. Cells that are
    missing or fail their type are null (the validator reports the failures). Rows that are
    blank stay in, as frictionless' row stream keeps them (unless `skipBlankRows`); cells a
    short row lacks are null; extra cells are dropped.
    """
    fields: list[dict[str, Any]] = list(resource.schema.get("fields", []))
    missing = schema_missing_values(resource)
    if resource.format in {"csv", "tsv"}:
        return _read_csv_typed(resource, fields, missing)
    if resource.format == "parquet":
        return _read_parquet_typed(resource, fields, missing)
    if resource.format == "xlsx":
        option = xlsx_unsupported_option(resource)
        if option:
            raise InputError(
                f"resource {resource.name!r}: XLSX option {option} is not supported for publishing"
            )
        native = xlsx_rows(resource)
    elif resource.format == "inline":
        native = inline_rows(resource)
    else:
        raise InputError(f"resource {resource.name!r}: unsupported format {resource.format!r}")
    _check_labels(resource, native.labels, native.dialect.header)
    results = []
    for index, fdesc in enumerate(fields):
        cells = [cells[index] if index < len(cells) else None for _, cells in native.rows]
        results.append(cast_python_cells(cells, fdesc, missing_values=missing))
    return _table(resource, results, [number for number, _ in native.rows])


def _read_csv_typed(
    resource: ResourceSpec, fields: list[dict[str, Any]], missing: list[str]
) -> pa.Table:
    dialect = csv_dialect(resource)
    _check_labels(resource, csv_labels(resource, dialect), dialect.header)
    if dialect.arrow_reason():
        native = python_csv_rows(resource, dialect)
        results = []
        for index, fdesc in enumerate(fields):
            column = pa.array(
                [cells[index] if index < len(cells) else None for _, cells in native.rows],
                pa.string(),
            )
            results.append(cast_field(column, fdesc, missing_values=missing))
        return _table(resource, results, [number for number, _ in native.rows])
    columns: list[list[pa.Array]] = [[] for _ in fields]
    numbers: list[pa.Array] = []
    for batch in iter_csv_batches(resource, dialect, len(fields)):
        keep = None
        if dialect.skip_blank_rows:
            keep = blank_row_filter(batch.columns, batch.ragged, batch.row_numbers)
        for index, column in enumerate(batch.columns):
            columns[index].append(column if keep is None else column.filter(keep))
        numbers.append(batch.row_numbers if keep is None else batch.row_numbers.filter(keep))
    results = []
    for fdesc, parts in zip(fields, columns, strict=True):
        whole = (
            pa.chunked_array(parts, pa.string()).combine_chunks()
            if parts
            else pa.array([], pa.string())
        )
        results.append(cast_field(whole, fdesc, missing_values=missing))
    if not fields:
        return pa.table({})
    return _table(resource, results, pa.chunked_array(numbers, pa.int64()))


def blank_row_filter(
    columns: Sequence[pa.Array], ragged: Sequence[RaggedRow], row_numbers: pa.Array
) -> pa.BooleanArray:
    """True for rows to keep under skipBlankRows: some cell is neither absent nor ''."""
    keep: pa.Array = pa.array([False] * len(row_numbers), pa.bool_())
    for column in columns:
        keep = pc.or_(keep, pc.fill_null(pc.not_equal(column, ""), False))
    if ragged:
        # A ragged row's extra cells count too.
        nonblank = {r.number for r in ragged if any(c != "" for c in r.cells)}
        keep = pc.or_(keep, pc.is_in(row_numbers, value_set=pa.array(sorted(nonblank), pa.int64())))
    result: pa.BooleanArray = keep
    return result


def python_csv_rows(resource: ResourceSpec, dialect: CsvDialect) -> NativeRows:
    """The whole CSV through Python's csv module: the slow, exact path for odd dialects."""
    assert resource.path is not None
    raw: list[tuple[int, list[Any]]] = []
    try:
        with resource.path.open(encoding=resource.encoding or "utf-8", newline="") as fh:
            for number, cells in enumerate(csv.reader(fh, dialect=dialect.python()), start=1):
                raw.append((number, list(cells)))
    except UnicodeDecodeError as exc:
        raise InputError(
            f"resource {resource.name!r}: file {resource.path.name} is not valid "
            f"{resource.encoding} (byte {exc.start} of a block)"
        ) from None
    except csv.Error as exc:
        raise InputError(
            f"resource {resource.name!r}: cannot parse file {resource.path.name} as CSV "
            f"(row {len(raw) + 1}: {str(exc).split(':')[0]})"
        ) from None
    return _native(raw, dialect)


def _read_parquet_typed(
    resource: ResourceSpec, fields: list[dict[str, Any]], missing: list[str]
) -> pa.Table:
    import pyarrow.parquet as pq

    assert resource.path is not None
    try:
        table = pq.read_table(str(resource.path))
    except (pa.ArrowInvalid, OSError):
        raise InputError(
            f"resource {resource.name!r}: file {resource.path.name} is not readable parquet"
        ) from None
    _check_labels(resource, [str(n) for n in table.column_names], True)
    results = []
    for index, fdesc in enumerate(fields):
        column = without_nanoseconds(table.column(index).combine_chunks())
        results.append(cast_arrow_column(column, fdesc, missing))
    return _table(resource, results, range(2, table.num_rows + 2))


def without_nanoseconds(column: Any) -> Any:
    """A parquet column with nanosecond timestamps, times or durations (pandas writes
    nanoseconds by default) in microseconds, which Python's datetime values (what
    frictionless receives) can hold; sub-microsecond digits are dropped. Other columns as
    they are."""
    kind = column.type
    if pa.types.is_timestamp(kind) and kind.unit == "ns":
        return column.cast(pa.timestamp("us", tz=kind.tz), safe=False)
    if pa.types.is_time64(kind) and kind.unit == "ns":
        return column.cast(pa.time64("us"), safe=False)
    if pa.types.is_duration(kind) and kind.unit == "ns":
        return column.cast(pa.duration("us"), safe=False)
    return column


def cast_arrow_column(
    column: pa.Array, fdesc: dict[str, Any], missing: Sequence[str]
) -> CastResult:
    """A typed column (parquet) to the field's type."""
    target = arrow_type(fdesc)
    if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
        return cast_field(column.cast(pa.string()), fdesc, missing_values=missing)
    if column.type == target:
        absent = pc.is_null(column)
        return CastResult(
            array=column,
            invalid=pa.array([False] * len(column), pa.bool_()),
            missing=pc.fill_null(absent, True),
        )
    return cast_python_cells(column.to_pylist(), fdesc, missing_values=missing)


__all__ = [
    "CsvBatch",
    "CsvDialect",
    "NativeRows",
    "RaggedRow",
    "cell_text",
    "csv_dialect",
    "csv_labels",
    "inline_rows",
    "iter_csv_batches",
    "python_csv_rows",
    "read_typed",
    "without_nanoseconds",
    "xlsx_rows",
    "xlsx_unsupported_option",
]
