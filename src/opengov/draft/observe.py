"""What the detectors see in a sample of a column: counts only, never a value.

A draft's rules.yaml says, per field, how many of the sampled cells held each kind of
identifier, and what a steward might decide from that. The detectors are the ones the last
scan uses (`opengov.redact.detectors`), run over an Arrow sample (RE2 prefilter, exact checks on
candidates only), so a draft costs little even on a wide table.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.compute as pc

from opengov.redact.detectors import KINDS, find_cells

SAMPLE_ROWS = 5000


@dataclass(frozen=True)
class Observation:
    """Counts over one column's sample: how many cells were looked at, and what was found."""

    sampled: int  # non-null cells in the sample
    scanned: bool  # False when the column type is not text or integers (dates, numbers...)
    cells: dict[str, int] = field(default_factory=dict)  # kind -> cells with at least one hit

    def share(self, kind: str) -> float:
        return self.cells.get(kind, 0) / self.sampled if self.sampled else 0.0

    def to_dict(self) -> dict[str, object]:
        return {"sampled": self.sampled, "scanned": self.scanned, "cells": dict(self.cells)}


def _scannable(kind: pa.DataType) -> bool:
    if pa.types.is_dictionary(kind):
        kind = kind.value_type
    return bool(
        pa.types.is_string(kind)
        or pa.types.is_large_string(kind)
        or pa.types.is_string_view(kind)
        or pa.types.is_integer(kind)
        or pa.types.is_decimal(kind)
    )


def observe(column: pa.Array | pa.ChunkedArray) -> Observation:
    """Run every detector kind over `column` (already a bounded sample) and count cells."""
    sampled = len(column) - column.null_count
    if not _scannable(column.type) or sampled == 0:
        return Observation(sampled=sampled, scanned=_scannable(column.type))
    if pa.types.is_string_view(column.type):
        column = pc.cast(column, pa.large_string())
    found = find_cells(column, KINDS)
    cells = {kind: int(pc.sum(mask).as_py() or 0) for kind, mask in found.items()}
    return Observation(sampled=sampled, scanned=True, cells={k: n for k, n in cells.items() if n})
