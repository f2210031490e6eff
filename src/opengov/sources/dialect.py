"""CSV dialects and header layouts, worked out the way frictionless does.

frictionless sniffs what a package leaves out (the delimiter, spaces after delimiters, which
row is the header) from the first lines; the readers here do the same, or the two engines would
read different cells. Spreadsheets and inline data use the header options only (`layout`).

The first lines are read through `bounded_lines`: a line longer than the record limit ends the
read with `LimitExceeded` instead of being held whole in memory.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any

from opengov.errors import InputError, LimitExceeded
from opengov.package import ResourceSpec
from opengov.sources.limits import HEAD_BYTES, MAX_RECORD_BYTES

# frictionless reads this many text lines to sniff a CSV dialect.
_SNIFF_LINES = 100
_SNIFF_DELIMITERS = ",\t;|"
# frictionless lifts Python's field limit to the maximum; here it is the record limit, so the
# csv module refuses a huge field instead of building it.
csv.field_size_limit(MAX_RECORD_BYTES)


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


def too_long(name: str, what: str) -> LimitExceeded:
    return LimitExceeded(
        f"{what}: file {name} has a record longer than {MAX_RECORD_BYTES >> 20} MiB, the limit "
        "for one CSV row (docs/limits.md)"
    )


def bounded_lines(text: io.TextIOBase, name: str, what: str) -> Iterator[str]:
    """The lines of `text`, refusing one longer than the record limit before it is built."""
    while True:
        line = text.readline(MAX_RECORD_BYTES + 1)
        if not line:
            return
        if len(line) > MAX_RECORD_BYTES:
            raise too_long(name, what)
        yield line


def _open_text(resource: ResourceSpec) -> tuple[io.BufferedReader, io.TextIOWrapper]:
    assert resource.path is not None
    raw = resource.path.open("rb")
    return raw, io.TextIOWrapper(raw, encoding=resource.encoding or "utf-8", newline="")


def _what(resource: ResourceSpec) -> str:
    return f"resource {resource.name!r}"


def _decode_head(resource: ResourceSpec, limit_lines: int) -> list[str]:
    """The first lines of text (at most about a megabyte), as frictionless' text stream splits
    them."""
    assert resource.path is not None
    lines: list[str] = []
    size = 0
    raw, text = _open_text(resource)
    with raw:
        try:
            for line in bounded_lines(text, resource.path.name, _what(resource)):
                lines.append(line)
                size += len(line)
                if len(lines) >= limit_lines or size >= HEAD_BYTES:
                    break
        except UnicodeDecodeError as exc:
            raise reading_error(resource, exc, len(lines) + 1) from None
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
        sample = _decode_head(resource, _SNIFF_LINES)
        text = "".join(sample)
        if "\n" not in text and "\r" in text:
            # Lines ended by a bare carriage return (a region's ledger export): Python's
            # Sniffer splits lines at "\n" only and would see one line (frictionless then
            # falls back to a comma and reads one column). Show it the lines.
            text = "".join(line.rstrip("\r") + "\n" for line in sample)
        try:
            sniffed = csv.Sniffer().sniff(text, delimiter or _SNIFF_DELIMITERS)
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
    raw, text = _open_text(resource)
    with raw:
        try:
            lines = bounded_lines(text, resource.path.name, _what(resource))
            for cells in csv.reader(lines, dialect=dialect.python()):
                records.append(cells)
                if len(records) >= limit:
                    break
        except (UnicodeDecodeError, csv.Error) as exc:
            raise reading_error(resource, exc, len(records) + 1) from None
        finally:
            text.detach()
    return records


def reading_error(resource: ResourceSpec, exc: Exception, row: int) -> InputError | LimitExceeded:
    """Decoding and parsing failures as a message naming file and position, never content."""
    name = resource.path.name if resource.path else resource.name
    if isinstance(exc, UnicodeDecodeError):
        return InputError(
            f"resource {resource.name!r}: file {name} is not valid {resource.encoding} "
            f"(near byte {exc.start} of a block)"
        )
    if "field larger than field limit" in str(exc):
        return too_long(name, _what(resource))
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
    raw, text = _open_text(resource)
    with raw:
        lines = bounded_lines(text, resource.path.name, _what(resource))
        reader = csv.reader(lines, dialect=dialect.python())
        try:
            for _ in range(records):
                if next(reader, None) is None:
                    return reader.line_num, False
            return reader.line_num, next(lines, "") != ""
        except (UnicodeDecodeError, csv.Error) as exc:
            raise reading_error(resource, exc, reader.line_num) from None
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


# --- spreadsheets and inline data ------------------------------------------------------------


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
