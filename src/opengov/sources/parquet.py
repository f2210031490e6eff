"""Parquet: record batches straight from pyarrow.parquet, nanosecond times in microseconds."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pyarrow as pa

from opengov.errors import InputError
from opengov.package import ResourceSpec


def open_parquet(resource: ResourceSpec) -> Any:
    import pyarrow.parquet as pq

    assert resource.path is not None
    try:
        return pq.ParquetFile(str(resource.path))
    except (pa.ArrowInvalid, OSError):
        raise InputError(
            f"resource {resource.name!r}: file {resource.path.name} is not readable parquet"
        ) from None


def parquet_batches(resource: ResourceSpec, source: Any, rows: int) -> Iterator[pa.RecordBatch]:
    assert resource.path is not None
    try:
        yield from source.iter_batches(batch_size=rows)
    except (pa.ArrowInvalid, OSError):
        raise InputError(
            f"resource {resource.name!r}: file {resource.path.name} is not readable parquet"
        ) from None


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
