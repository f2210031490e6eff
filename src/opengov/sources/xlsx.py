"""XLSX: the sheet's cells as frictionless' xlsx parser yields them (read-only openpyxl,
data_only), after the ZIP has been checked against the limits.

An XLSX is a ZIP of XML; a small one can unpack to gigabytes. Before openpyxl sees the file,
its ZIP directory is read: the file, the total unpacked size, the expansion of any large entry
and the shared strings (which openpyxl holds in memory) must stay within `sources.limits`.
Python's zipfile stops every entry at the size its directory declares, so checking the
declared sizes bounds what is unpacked.

The file is read into memory once (it is at most MAX_XLSX_BYTES): its sha256 is of exactly the
bytes openpyxl parses.
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from opengov.errors import InputError, LimitExceeded, SheetChoiceNeeded
from opengov.package import ResourceSpec
from opengov.sources import limits
from opengov.sources.native import NativeRows, native_rows

# frictionless' excel options that change the cells it reads; openpyxl's plain read here does
# not apply them, so such a resource is validated by frictionless and not published.
XLSX_UNSUPPORTED = (
    "fillMergedCells",
    "stringified",
    "preserveFormatting",
    "adjustFloatingPointError",
)


@dataclass
class XlsxFile:
    """The bytes of one workbook, hashed."""

    data: bytes
    sha256: str


def xlsx_unsupported_option(resource: ResourceSpec) -> str | None:
    """The first excel dialect option set (truthy) that `xlsx_rows` does not apply, or None."""
    dialect = resource.dialect or {}
    nested = dialect.get("excel")
    for options in (dialect, nested if isinstance(nested, dict) else {}):
        for name in XLSX_UNSUPPORTED:
            if options.get(name):
                return name
    return None


def read_workbook(resource: ResourceSpec) -> XlsxFile:
    """The workbook's bytes, refused when the file or what it unpacks to is too large."""
    assert resource.path is not None
    data = _read_bounded(resource.path, f"resource {resource.name!r}: file {resource.path.name}")
    return XlsxFile(data, hashlib.sha256(data).hexdigest())


def _read_bounded(path: Path, what: str) -> bytes:
    """A workbook's bytes, refused when the file or what it unpacks to is too large."""
    with path.open("rb") as fh:
        data = fh.read(limits.MAX_XLSX_BYTES + 1)
    if len(data) > limits.MAX_XLSX_BYTES:
        raise LimitExceeded(
            f"{what} is larger than {limits.MAX_XLSX_BYTES >> 20} MiB, the limit for a "
            "spreadsheet; export it as CSV"
        )
    check_zip(data, what)
    return data


def check_zip(data: bytes, what: str) -> None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            entries = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        raise InputError(f"{what} is not a readable xlsx") from None
    total = 0
    for entry in entries:
        total += entry.file_size
        if total > limits.MAX_XLSX_UNPACKED:
            raise LimitExceeded(
                f"{what} unpacks to more than {limits.MAX_XLSX_UNPACKED >> 20} MiB, the limit "
                "for a spreadsheet (docs/limits.md)"
            )
        packed = max(entry.compress_size, 1)
        if (
            entry.file_size > limits.XLSX_RATIO_FLOOR
            and entry.file_size / packed > limits.MAX_XLSX_RATIO
        ):
            raise LimitExceeded(
                f"{what}: a part of the workbook expands {entry.file_size // packed}-fold when "
                f"unpacked, more than the limit of {limits.MAX_XLSX_RATIO} (a ZIP bomb?)"
            )
        if (
            entry.filename.lower().endswith("sharedstrings.xml")
            and entry.file_size > limits.MAX_XLSX_SHARED_STRINGS
        ):
            raise LimitExceeded(
                f"{what} holds more than {limits.MAX_XLSX_SHARED_STRINGS >> 20} MiB of shared "
                "strings, the limit for a spreadsheet; export it as CSV"
            )


def xlsx_rows(resource: ResourceSpec, workbook: XlsxFile | None = None) -> NativeRows:
    """The sheet as frictionless' xlsx parser yields it, streamed in batches of rows."""
    workbook = workbook or read_workbook(resource)
    return native_rows(resource, _sheet_rows(resource, workbook))


def _sheet_rows(resource: ResourceSpec, workbook: XlsxFile) -> Iterator[tuple[int, list[Any]]]:
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
            book = openpyxl.load_workbook(io.BytesIO(workbook.data), read_only=True, data_only=True)
    except Exception:
        raise InputError(
            f"resource {resource.name!r}: file {resource.path.name} is not a readable xlsx"
        ) from None
    try:
        try:
            sheet = (
                book[sheet_ref] if isinstance(sheet_ref, str) else book.worksheets[sheet_ref - 1]
            )
        except (KeyError, IndexError, TypeError):
            listing = ", ".join(repr(n) for n in book.sheetnames)
            raise SheetChoiceNeeded(
                f"resource {resource.name!r}: {resource.path.name} has no sheet {sheet_ref!r}; "
                f"its sheets: {listing}",
                details=[str(n) for n in book.sheetnames],
            ) from None
        try:
            for number, cells in enumerate(sheet.iter_rows(), start=1):
                yield number, [cell.value for cell in cells]
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as exc:
            raise InputError(
                f"resource {resource.name!r}: file {resource.path.name} is not a readable "
                f"xlsx ({type(exc).__name__})"
            ) from None
    finally:
        book.close()


# Rows of each sheet looked at to find the schema's column names (a header may follow a few
# title rows).
_HEADER_SEARCH_ROWS = 20


def choose_sheet(path: Path, sheet: str | None, schema: Any) -> str:
    """The sheet a single workbook is validated from: `sheet` if given (it must exist), else
    the first, as frictionless reads it, unless the first holds none of the schema's column
    names while another sheet does (a description or cover sheet first): then the steward is
    asked to choose, with the sheets named."""
    what = f"file {path.name}"
    data = _read_bounded(path, what)
    import warnings

    import openpyxl

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:
        raise InputError(f"{what} is not a readable xlsx") from None
    try:
        names = [str(n) for n in book.sheetnames]
        listing = ", ".join(repr(n) for n in names)
        if sheet is not None:
            if sheet not in names:
                raise SheetChoiceNeeded(
                    f"{what} has no sheet {sheet!r}; its sheets: {listing}", details=names
                )
            return sheet
        if len(names) < 2:
            return names[0]
        fields = schema.get("fields") if isinstance(schema, dict) else None
        wanted = {
            str(f.get("name")).strip().casefold() for f in (fields or []) if isinstance(f, dict)
        }
        hits = [_names_in(book[name], wanted) for name in names]
        if hits[0] or not any(hits):
            return names[0]
        better = [n for n, h in zip(names, hits, strict=True) if h]
        raise SheetChoiceNeeded(
            f"{what}: its first sheet {names[0]!r} has none of the schema's column names "
            f"(a description?), sheet {better[0]!r} has them; choose the sheet with --sheet "
            f"(sheets: {listing})",
            details=names,
        )
    finally:
        book.close()


def _names_in(sheet: Any, wanted: set[str]) -> bool:
    for row in sheet.iter_rows(max_row=_HEADER_SEARCH_ROWS, values_only=True):
        for cell in row:
            if isinstance(cell, str) and cell.strip().casefold() in wanted:
                return True
    return False
