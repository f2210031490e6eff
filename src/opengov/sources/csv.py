"""CSV and TSV: the content rows streamed through pyarrow as string columns, with frictionless'
row numbers.

The dialect and header layout come from `dialect` (frictionless' rules); pyarrow parses the
rows. Rows with the wrong number of cells are set aside by pyarrow, re-parsed with Python's csv
module (frictionless' parser) and put back at their row numbers. Dialects pyarrow cannot parse
as Python's csv does (`CsvDialect.arrow_reason`) are read by Python's csv module in batches
(`python_batches`): slower, the same cells.

Every byte pyarrow parses passes through a `HashingReader`, so the sha256 of a resource is of
the bytes that were read.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from opengov.errors import InputError
from opengov.package import ResourceSpec
from opengov.sources.dialect import (
    CsvDialect,
    bounded_lines,
    header_lines,
    reading_error,
    too_long,
)
from opengov.sources.encoding import HashingReader, arrow_encoding
from opengov.sources.limits import MAX_RECORD_BYTES

# pyarrow parses in blocks of BLOCK_SIZE bytes: its streaming reader holds a few dozen blocks'
# worth of buffers, so small blocks keep the peak memory small (1 MiB: ~45 MB of buffers;
# 4 MiB: ~125 MB). A record larger than a block is read again with larger blocks, up to the
# record limit.
BLOCK_SIZE = 1 << 20
# Rows per batch of the Python csv path.
PYTHON_BATCH_ROWS = 1 << 14


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


Opener = Callable[[], HashingReader]


class _NeedNumbers(Exception):
    """A ragged row turned up while parsing threaded, where pyarrow gives no row numbers."""


class _BlockTooSmall(Exception):
    """pyarrow met a record larger than its block size."""


def opener(resource: ResourceSpec) -> Opener:
    assert resource.path is not None
    path, what, encoding = resource.path, f"resource {resource.name!r}", resource.encoding
    return lambda: HashingReader(path, what, encoding)


def iter_csv_batches(
    resource: ResourceSpec,
    dialect: CsvDialect,
    n_columns: int,
    *,
    block_size: int = BLOCK_SIZE,
    use_threads: bool = True,
    open_file: Opener | None = None,
) -> Iterator[CsvBatch]:
    """Stream a CSV's content rows as string columns (`n_columns` of them) with row numbers.

    Rows with a different cell count are re-parsed by Python's csv (as frictionless would
    read them), padded with nulls or cut to `n_columns`, and kept in `ragged` with their full
    cell list so the validator can report missing and extra cells.

    pyarrow reports the row number of a ragged row only when parsing on one thread; so the
    threaded pass stops at the first ragged row and the file is read again on one thread.
    Clean files (the usual case) are read once, threaded. `open_file` gives the stream for
    each pass (a `HashingReader`); the last pass read the whole file.
    """
    reason = dialect.arrow_reason()
    if reason:
        raise InputError(f"resource {resource.name!r}: internal: pyarrow cannot read {reason}")
    open_file = open_file or opener(resource)
    skip_lines, more = header_lines(resource, dialect)
    if not more:
        # The file ends within the header (a header-only file, perhaps without a final
        # newline): no rows. pyarrow would fail to skip the header. Still read it, for its hash.
        with open_file() as stream:
            stream.drain()
        return
    yielded = 0  # rows handed out so far, in row order
    threaded = use_threads
    while True:
        skip = yielded
        try:
            for batch in _csv_pass(
                resource,
                dialect,
                n_columns,
                block_size,
                threaded=threaded,
                skip_lines=skip_lines,
                open_file=open_file,
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
            # block: pyarrow cannot parse it. Read again with larger blocks, up to the limit.
            if block_size >= MAX_RECORD_BYTES:
                assert resource.path is not None
                raise too_long(resource.path.name, f"resource {resource.name!r}") from None
            block_size = min(block_size * 8, MAX_RECORD_BYTES)
            # Large blocks on several threads would hold many of them at once.
            threaded = False


def _csv_pass(
    resource: ResourceSpec,
    dialect: CsvDialect,
    n_columns: int,
    block_size: int,
    *,
    threaded: bool,
    skip_lines: int,
    open_file: Opener,
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
        encoding=arrow_encoding(resource.encoding),
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
    with open_file() as stream:
        try:
            reader = pv.open_csv(
                stream,
                read_options=read_options,
                parse_options=parse_options,
                convert_options=convert_options,
            )
        except pa.ArrowInvalid as exc:
            if "Empty CSV file" in str(exc):
                stream.drain()
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
        stream.drain()
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
    name = resource.path.name if resource.path else resource.name
    if "invalid UTF8" in text:
        return InputError(
            f"resource {resource.name!r}: file {name} is not valid UTF-8 past its first "
            "part: it mixes encodings, or is not UTF-8; save it in one encoding (UTF-8) or "
            "declare the right 'encoding'"
        )
    where = text.split(":")[0] if ":" in text else text
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


def python_records(
    resource: ResourceSpec, dialect: CsvDialect, open_file: Opener | None = None
) -> Iterator[tuple[int, list[str]]]:
    """Every record through Python's csv module, numbered from 1: the exact path for dialects
    pyarrow cannot read. Lines are bounded by the record limit."""
    assert resource.path is not None
    open_file = open_file or opener(resource)
    number = 0
    with open_file() as stream:
        buffered = io.BufferedReader(stream)
        text = io.TextIOWrapper(buffered, encoding=resource.encoding or "utf-8", newline="")
        try:
            lines = bounded_lines(text, resource.path.name, f"resource {resource.name!r}")
            for number, cells in enumerate(csv.reader(lines, dialect=dialect.python()), start=1):
                yield number, list(cells)
        except (UnicodeDecodeError, csv.Error) as exc:
            raise reading_error(resource, exc, number + 1) from None
        finally:
            text.detach()
            buffered.detach()
        stream.drain()
