"""The files `opengov init` drafts from, read the way the package will be read afterwards.

A CSV goes through opengov's own readers (encoding, delimiter and header as frictionless reads
them) and streams as string batches. A workbook sheet is written out as a UTF-8 CSV first,
row by row from openpyxl's read-only stream, and then read like any CSV, so one inference path
serves both. The package keeps the steward's bytes for a CSV (only the header line is replaced
by the safe field names) and the converted CSV for a sheet.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa

from opengov.errors import InputError, SheetChoiceNeeded
from opengov.package import ResourceSpec, detect_encoding
from opengov.sources.readers import (
    CsvDialect,
    csv_dialect,
    csv_labels,
    header_lines,
    iter_csv_batches,
)

FORMATS = {".csv": "csv", ".txt": "csv", ".tsv": "csv", ".xlsx": "xlsx", ".parquet": "parquet"}


@dataclass(frozen=True)
class CsvSource:
    """A CSV as the readers see it: its encoding, dialect and header labels."""

    path: Path
    spec: ResourceSpec
    dialect: CsvDialect
    labels: list[str]
    # Lines above the header left out (a title, Excel's sep= line): not in the drafted data.
    lines_above: int = 0

    @property
    def encoding(self) -> str:
        return self.spec.encoding or "utf-8"

    def batches(self) -> Iterator[list[pa.Array]]:
        for batch in iter_csv_batches(self.spec, self.dialect, len(self.labels)):
            yield batch.columns

    def dialect_descriptor(self) -> dict[str, Any]:
        out: dict[str, Any] = {"delimiter": self.dialect.delimiter}
        if self.dialect.quote_char != '"':
            out["quoteChar"] = self.dialect.quote_char
        out["header"] = True
        out["skipInitialSpace"] = False
        return out

    def write_renamed(self, target: Path, names: list[str]) -> None:
        """The file with its header replaced by `names`; every other byte as it was."""
        skip_lines, _ = header_lines(self.spec, self.dialect)
        if codecs.lookup(self.encoding).name.startswith(("utf-16", "utf-32")):
            self._write_renamed_wide(target, names, skip_lines)
            return
        with self.path.open("rb") as src:
            raw = src.read(1 << 16)
            offset, ending = _after_lines(raw, skip_lines)
            while offset < 0 and len(raw) < (64 << 20):  # a header longer than 64 KiB
                more = src.read(1 << 20)
                if not more:
                    break
                raw += more
                offset, ending = _after_lines(raw, skip_lines)
            if offset < 0:
                offset, ending = len(raw), "\n"
            buffer = io.StringIO()
            csv.writer(buffer, delimiter=self.dialect.delimiter, lineterminator=ending).writerow(
                names
            )
            bom = b"\xef\xbb\xbf" if self.encoding == "utf-8-sig" else b""
            with target.open("wb") as out:
                out.write(bom + buffer.getvalue().encode("ascii"))
                out.write(raw[offset:])
                for block in iter(lambda: src.read(1 << 20), b""):
                    out.write(block)

    def _write_renamed_wide(self, target: Path, names: list[str], skip_lines: int) -> None:
        """UTF-16 and UTF-32 in characters, not bytes: a line end is two or four bytes there,
        so cutting at a byte 0x0A split a character and left the header in another encoding
        than the rows (every later read failed). The codec writes the byte order mark again."""
        with (
            self.path.open("r", encoding=self.encoding, newline="") as src,
            target.open("w", encoding=self.encoding, newline="") as out,
        ):
            text = src.read(1 << 16)
            offset, ending = _after_text_lines(text, skip_lines)
            while offset < 0 and len(text) < (64 << 20):
                more = src.read(1 << 20)
                if not more:
                    break
                text += more
                offset, ending = _after_text_lines(text, skip_lines)
            if offset < 0:
                offset, ending = len(text), "\n"
            csv.writer(out, delimiter=self.dialect.delimiter, lineterminator=ending).writerow(names)
            out.write(text[offset:])
            for block in iter(lambda: src.read(1 << 20), ""):
                out.write(block)


def _after_lines(raw: bytes, lines: int) -> tuple[int, str]:
    """Byte offset after `lines` physical lines (\\n, \\r\\n or \\r), and the last ending."""
    pos, ending = 0, "\n"
    for _ in range(lines):
        cut = min((i for i in (raw.find(b"\n", pos), raw.find(b"\r", pos)) if i >= 0), default=-1)
        if cut < 0:
            return -1, ending
        if raw[cut : cut + 2] == b"\r\n":
            pos, ending = cut + 2, "\r\n"
        elif raw[cut : cut + 1] == b"\r":
            if cut + 1 >= len(raw):
                return -1, ending  # a \r at the end of the block may be half of \r\n
            pos, ending = cut + 1, "\r"
        else:
            pos, ending = cut + 1, "\n"
    return pos, ending


def _after_text_lines(text: str, lines: int) -> tuple[int, str]:
    """`_after_lines` on decoded text: each character becomes one byte (line ends stay
    themselves), so the byte offset is the character offset."""
    return _after_lines(text.encode("ascii", "replace"), lines)


_DELIMITERS = (",", ";", "\t", "|")
# Excel writes (and reads) a first line `sep=;` naming the delimiter of the lines below it.
_SEP_HINT = re.compile(r"sep=([,;\t|])")
# Title lines above a header (SCB and Kolada exports, a `# comment`): at most this many.
MAX_LINES_ABOVE_HEADER = 10


@dataclass(frozen=True)
class HeaderLayout:
    """Where the header is: its delimiter, and the lines above it that are not the table."""

    delimiter: str
    lines_above: int  # physical lines before the header line (a title, Excel's sep= line)


def header_delimiter(path: Path, encoding: str) -> str:
    return header_layout(path, encoding).delimiter


def header_layout(path: Path, encoding: str) -> HeaderLayout:
    """The header line and the delimiter it holds most of (`;` `,` tab `|`; ties go to `,`).

    Labels rarely hold a delimiter, while data cells (free text) often hold commas and
    semicolons, which can mislead a sniffer reading the rows. A header with none of them is a
    one-column file: its delimiter is one that no line of the head holds, so that no cell is
    split (the descriptor declares it, so every reader follows).

    Lines above the header are left out when they cannot be a one-column table's header and
    rows: Excel's `sep=;` line (it names the delimiter), lines that all start with `#`, or
    lines without a delimiter that end in a blank line (SCB's and Kolada's title: "Folkmängd
    efter region och år", then a blank line) above a header and a row of three or more
    columns each. Read as the header, such a line made the whole table one column, or the real
    header a data row.
    """
    with path.open("rb") as fh:
        head = fh.read(1 << 16).decode(encoding, "replace")
    # A bare carriage return ends a line too (classic Mac Excel, some ledgers): splitting on
    # "\n" alone took the whole file as the header and counted the data's decimal commas.
    lines = re.split(r"\r\n|\r|\n", head.lstrip("\ufeff"), maxsplit=MAX_LINES_ABOVE_HEADER + 2)
    hint = _SEP_HINT.fullmatch(lines[0])
    if hint is not None and len(lines) > 2:
        return HeaderLayout(hint.group(1), 1)
    for above, line in enumerate(lines[: MAX_LINES_ABOVE_HEADER + 1]):
        best = None if _comment(line) else _most_held(line)
        if best is None:
            continue
        if above == 0:
            return HeaderLayout(best, 0)
        following = lines[above + 1] if above + 1 < len(lines) else ""
        if _title_block(lines[:above], line.count(best), following.count(best)):
            return HeaderLayout(best, above)
        break
    return HeaderLayout(_most_held(lines[0]) or _absent(head), 0)


def _most_held(line: str) -> str | None:
    counts = {d: line.count(d) for d in _DELIMITERS}
    best = max(counts, key=lambda d: (counts[d], d == ","))
    return best if counts[best] else None


def _absent(head: str) -> str:
    return next((d for d in _DELIMITERS if d not in head), ",")


# `#` as a line's whole first cell is a row-number column's label (`#;namn;antal`), not the
# start of a comment: read as one, the header was left out and the first row became it.
_HASH_CELL = re.compile(r"\s*#\s*[,;\t|]")


def _comment(line: str) -> bool:
    return line.lstrip().startswith("#") and _HASH_CELL.match(line) is None


def _title_block(lines: list[str], in_header: int, in_next: int) -> bool:
    """Whether `lines`, above a line holding `in_header` delimiters and a next line holding
    `in_next`, are a title or comments rather than a one-column table's header and rows."""
    if any(line.count('"') % 2 for line in lines):
        return False  # a quoted cell continues on the next line
    filled = [line for line in lines if line.strip()]
    if not filled or not in_next:
        return False  # blank lines only are blank rows of the table (reported as such)
    if all(_comment(line) for line in filled):
        return True
    # A title, a blank line, then a table of three or more columns: one column of free text
    # ("Ja, det stämmer") holds commas too, but rarely the same two or more on every line.
    return lines[-1].strip() == "" and in_header == in_next >= 2


def open_csv(
    path: Path, name: str, *, encoding: str | None = None, shown: str | None = None
) -> CsvSource:
    """`shown` names the source in messages (a sheet is read from a CSV written in staging,
    whose name means nothing to the steward)."""
    shown = shown or path.name
    encoding = encoding or detect_encoding(path)
    layout = header_layout(path, encoding)
    spec = ResourceSpec(
        name=name,
        format="csv",
        schema={"fields": []},
        descriptor={},
        path=path,
        relpath=path.name,
        encoding=encoding,
        # Declared, not sniffed: spaces after a delimiter are part of the cell, as written.
        dialect={
            "delimiter": layout.delimiter,
            "skipInitialSpace": False,
            **({"headerRows": [layout.lines_above + 1]} if layout.lines_above else {}),
        },
    )
    if path.stat().st_size == 0:
        raise InputError(f"{shown} is empty")
    dialect = csv_dialect(spec)
    labels = csv_labels(spec, dialect)
    if not labels or all(label == "" for label in labels):
        raise InputError(
            f"{shown} has no header row to name the fields (its first row is empty); the "
            "header must be the first row: delete the rows above it"
        )
    return CsvSource(
        path=path, spec=spec, dialect=dialect, labels=labels, lines_above=layout.lines_above
    )


def sheet_to_csv(path: Path, sheet: str | None, target: Path) -> str:
    """Write one sheet as a UTF-8 CSV (cells as frictionless would read them); its name."""
    import openpyxl

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            book = openpyxl.load_workbook(str(path), read_only=True, data_only=True)
    except Exception:
        raise InputError(f"{path.name} is not a readable xlsx workbook") from None
    try:
        names = list(book.sheetnames)
        if sheet is None and len(names) > 1:
            raise SheetChoiceNeeded(
                f"{path.name} has {len(names)} sheets; choose one with --sheet",
                details=names,
            )
        chosen = sheet if sheet is not None else names[0]
        if chosen not in names:
            raise SheetChoiceNeeded(f"{path.name} has no sheet {chosen!r}", details=names)
        with target.open("w", encoding="utf-8", newline="") as out:
            writer = csv.writer(out, lineterminator="\n")
            for row in book[chosen].iter_rows(values_only=True):
                writer.writerow([_cell_text(value) for value in row])
    finally:
        book.close()
    return chosen


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        # Excel keeps dates as date-times at midnight: a date is written as one.
        if value.time() == dt.time(0) and value.tzinfo is None:
            return value.date().isoformat()
        return value.replace(microsecond=0).isoformat()
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return str(int(value))
    return str(value)
