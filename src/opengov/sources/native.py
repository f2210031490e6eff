"""Rows of native cells: spreadsheets and inline data hand frictionless typed cells (an integer
cell is not a valid string), so they are read as Python values, row by row, in batches."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from typing import Any

from opengov.package import ResourceSpec
from opengov.sources.dialect import CsvDialect, _comment_ok, join_labels, layout

# Rows per batch of native cells.
NATIVE_BATCH_ROWS = 1 << 13
# frictionless guesses the header row from the first 100 rows.
_LAYOUT_ROWS = 100


@dataclass
class NativeRows:
    """Native cells (as frictionless receives them from openpyxl or inline JSON), streamed."""

    labels: list[str]
    batches: Iterator[list[tuple[int, list[Any]]]]  # (row number, cells)
    dialect: CsvDialect = field(default_factory=CsvDialect)  # header layout used
    empty: bool = False  # no row at all


def native_rows(resource: ResourceSpec, raw: Iterable[tuple[int, list[Any]]]) -> NativeRows:
    """Labels and content rows of `raw` (numbered rows), by the resource's header layout."""
    stream = iter(raw)
    head = list(islice(stream, _LAYOUT_ROWS))
    dialect = layout(resource, head)
    first = dialect.first_content_row
    # The header rows are among the first ones; their labels come from those.
    labels = join_labels([(n, c) for n, c in head if n <= first], dialect)

    def content() -> Iterator[tuple[int, list[Any]]]:
        for number, cells in _chain(head, stream):
            if number < first or not _comment_ok(dialect, number, cells):
                continue
            if dialect.skip_blank_rows and all(c in (None, "") for c in cells):
                continue
            yield number, cells

    def batches() -> Iterator[list[tuple[int, list[Any]]]]:
        rows = content()
        while chunk := list(islice(rows, NATIVE_BATCH_ROWS)):
            yield chunk

    return NativeRows(labels=labels, batches=batches(), dialect=dialect, empty=not head)


def _chain(
    head: list[tuple[int, list[Any]]], rest: Iterator[tuple[int, list[Any]]]
) -> Iterator[tuple[int, list[Any]]]:
    yield from head
    yield from rest
