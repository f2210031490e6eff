"""The published files of one resource, written batch by batch and hashed as they are written:
CSV (pyarrow's CSVWriter) and Parquet (ParquetWriter, zstd)."""

from __future__ import annotations

import abc
import contextlib
import hashlib
import queue
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, Generic, TypeVar

import pyarrow as pa
import pyarrow.compute as pc

from opengov.release import provenance
from opengov.release.build import MEDIA_TYPES, Release

if TYPE_CHECKING:
    from opengov.release.profile import ResourceProfile
    from opengov.release.xlsx import XlsxResult


class HashingFile:
    """A file being written whose sha256 and size are known when it is closed."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fh: BinaryIO = path.open("wb")
        self.digest = hashlib.sha256()
        self.size = 0
        self.closed = False

    def write(self, data: Any) -> int:
        view = memoryview(data)
        self.digest.update(view)
        self.size += view.nbytes
        return self._fh.write(view)

    def flush(self) -> None:
        self._fh.flush()

    def tell(self) -> int:
        return self.size

    def writable(self) -> bool:
        return True

    def close(self) -> None:
        if not self.closed:
            self._fh.close()
            self.closed = True

    def output(self, rel: str) -> provenance.OutputFile:
        return provenance.OutputFile(
            rel, self.digest.hexdigest(), self.size, MEDIA_TYPES.get(self.path.suffix, "")
        )


def csv_ready(table: pa.Table) -> pa.Table:
    """Timestamps as ISO 8601 with T (and Z when the column is UTC), which frictionless reads as
    datetime: a whole second as such, a value with a fraction with its microseconds."""
    columns = []
    for column in table.columns:
        if pa.types.is_timestamp(column.type):
            fmt = "%Y-%m-%dT%H:%M:%SZ" if column.type.tz else "%Y-%m-%dT%H:%M:%S"
            if column.type.unit == "s":
                column = pc.strftime(column, format=fmt)
            else:
                whole = column.cast(pa.timestamp("s", tz=column.type.tz), safe=False)
                exact = pc.fill_null(pc.equal(whole.cast(column.type), column), True)
                column = pc.if_else(
                    exact, pc.strftime(whole, format=fmt), pc.strftime(column, format=fmt)
                )
        columns.append(column)
    return pa.table(columns, names=table.column_names)


_DICTIONARY_PROBE_ROWS = 1024
_DICTIONARY_SHARE = 0.5


def dictionary_columns(first: pa.Table) -> bool | list[str]:
    """The columns Parquet dictionary-encodes, judged on the first batch: those whose values
    repeat (suppliers, categories, dates). Parquet's writer otherwise builds a dictionary for
    every column and drops it a megabyte later for the ones that don't (ids, amounts): a
    third of its time, and a larger file. Too small a batch to judge: every column."""
    if first.num_rows < _DICTIONARY_PROBE_ROWS:
        return True
    return [
        name
        for name, column in zip(first.column_names, first.columns, strict=True)
        if pc.count_distinct(column, mode="all").as_py() <= _DICTIONARY_SHARE * len(column)
    ]


_T = TypeVar("_T")


class _Worker(abc.ABC, Generic[_T]):
    """A thread of its own that hands each item put to it, in order, to `handle`. The first
    error is kept for the owner to raise (later items are skipped); `stop` waits until every
    item put is handled. Subclasses set their state before calling `__init__`, which starts
    the thread."""

    def __init__(self, name: str) -> None:
        self.error: BaseException | None = None
        self._queue: queue.Queue[_T | None] = queue.Queue(maxsize=2)
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    @abc.abstractmethod
    def handle(self, item: _T) -> None: ...

    def put(self, item: _T) -> None:
        self._queue.put(item)

    def _run(self) -> None:
        while (item := self._queue.get()) is not None:
            if self.error is None:
                try:
                    self.handle(item)
                except BaseException as exc:  # handed over by the owner
                    self.error = exc

    def stop(self) -> None:
        if self._thread.is_alive():
            self._queue.put(None)
            self._thread.join()


class _Profiler(_Worker[pa.Table]):
    """The dataset page's column profiles of the published table, accumulated from the batches
    the Parquet writer writes, on a thread of its own (instead of reading the Parquet file
    back once it is written)."""

    def __init__(self, fields: list[dict[str, Any]], unique: frozenset[str]) -> None:
        self.fields = fields
        self.unique = unique
        self.profile: Any = None
        super().__init__("opengov-profile")

    def handle(self, item: pa.Table) -> None:
        from opengov.release.profile import Profile

        if self.profile is None:
            self.profile = Profile(item.schema, self.fields, self.unique)
        self.profile.update(item)


class _XlsxSink(_Worker[pa.Table]):
    """The XLSX download written from the batches as they are published, on a thread of its
    own (building a sheet's XML and deflating it take longer than the CSV and Parquet of the
    same rows), instead of from the Parquet file read back after the pass. A table that
    passes the download limit on the way is dropped, its file deleted."""

    def __init__(self, path: Path, fields: list[dict[str, Any]], title: str) -> None:
        from opengov.release.xlsx import DOWNLOAD_MAX_ROWS, MAX_DATA_ROWS

        self.path, self.fields, self.title = path, fields, title
        self.limit = min(DOWNLOAD_MAX_ROWS, MAX_DATA_ROWS)
        self.rows = 0
        self.over = False
        self.writer: Any = None
        super().__init__("opengov-xlsx")

    def handle(self, item: pa.Table) -> None:
        from opengov.release.xlsx import XlsxWriter

        if self.rows + item.num_rows > self.limit and not self.over:
            self.over = True
            self._discard()
        if not self.over:
            if self.writer is None:
                self.writer = XlsxWriter(self.path, item.schema, self.fields, self.title)
            self.writer.write(item)
        self.rows += item.num_rows

    def _discard(self) -> None:
        if self.writer is not None:
            self.writer.__exit__(RuntimeError, None, None)  # drains, closes, deletes the file
            self.writer = None

    def result(self) -> XlsxResult | None:
        """What was written; None when no row came (the read-back path writes an empty
        workbook); an error met on the way is raised."""
        from opengov.release.xlsx import DOWNLOAD_MAX_ROWS, MAX_DATA_ROWS, XlsxResult

        self.stop()
        if self.error is not None:
            self._discard()
            raise self.error
        if self.over:
            if self.rows > MAX_DATA_ROWS:
                return XlsxResult(False, self.rows, reason="too-many-rows", limit=MAX_DATA_ROWS)
            return XlsxResult(
                False, self.rows, reason="over-download-limit", limit=DOWNLOAD_MAX_ROWS
            )
        if self.writer is None:
            return None
        made: XlsxResult = self.writer.close()
        return made

    def abort(self) -> None:
        self.error = self.error or RuntimeError("aborted")
        self.stop()
        self._discard()


class ResourceWriter(_Worker[tuple[pa.Table, pa.Table]]):
    """CSV and Parquet of one published resource, written on a thread of their own so that
    compressing and writing batch k overlaps redacting batch k+1. The first batch fixes the
    columns' types; later batches are cast to them (a datetime column that turns out to carry
    offsets after naive values keeps the first batch's type, its values in UTC).

    With `fields` (the published schema's), the column profiles of what is written are
    accumulated on the way (`profile()` after `close()`)."""

    def __init__(
        self,
        release: Release,
        name: str,
        fields: list[dict[str, Any]] | None = None,
        unique: frozenset[str] = frozenset(),
    ) -> None:
        self._profiler = _Profiler(fields, unique) if fields is not None else None
        self._xlsx: _XlsxSink | None = None
        self._release = release
        self.xlsx_rel = f"data/{name}.xlsx"
        self._rows_handed = 0
        self.csv_rel, self.parquet_rel = f"data/{name}.csv", f"data/{name}.parquet"
        csv_path, parquet_path = release.path(self.csv_rel), release.path(self.parquet_rel)
        csv_path.parent.mkdir(parents=True, exist_ok=True)
        self.csv_file = HashingFile(csv_path)
        self.parquet_file = HashingFile(parquet_path)
        self._csv: Any = None
        self._parquet: Any = None
        super().__init__("opengov-writer")

    def stream_xlsx(self, fields: list[dict[str, Any]], title: str) -> None:
        """Write the XLSX download from the batches as they come (call before the first)."""
        if self._xlsx is not None or self._rows_handed:
            return  # asked already, or rows have gone by without it
        self._xlsx = _XlsxSink(self._release.path(self.xlsx_rel), fields, title)

    def xlsx(self) -> XlsxResult | None:
        """The streamed XLSX download's result (after `close()`); None: not streamed, or no
        row came."""
        return self._xlsx.result() if self._xlsx is not None else None

    def write(self, table: pa.Table, csv_table: pa.Table) -> None:
        if self.error is not None:
            raise self.error
        self._rows_handed += table.num_rows
        self.put((table, csv_table))

    def handle(self, item: tuple[pa.Table, pa.Table]) -> None:
        # An error is handed to the caller at the next write or at close.
        self._write(*item)

    def _write(self, table: pa.Table, csv_table: pa.Table) -> None:
        import pyarrow.csv as pacsv
        import pyarrow.parquet as pq

        text = csv_ready(csv_table)
        if self._parquet is None:
            self._schemas = (table.schema, text.schema)
            self._parquet = pq.ParquetWriter(
                self.parquet_file,
                table.schema,
                compression="zstd",
                use_dictionary=dictionary_columns(table),
            )
            self._csv = pacsv.CSVWriter(
                self.csv_file,
                text.schema,
                write_options=pacsv.WriteOptions(include_header=True, quoting_style="needed"),
            )
        else:
            if table.schema != self._schemas[0]:
                table = table.cast(self._schemas[0])
            if text.schema != self._schemas[1]:
                text = text.cast(self._schemas[1])
        if self._profiler is not None:
            self._profiler.put(table)  # an empty first batch still fixes the profile's columns
        if self._xlsx is not None and table.num_rows:
            self._xlsx.put(table)
        if table.num_rows:
            self._parquet.write_table(table)
            self._csv.write_table(text)

    def _stop(self) -> None:
        self.stop()
        if self._profiler is not None:
            self._profiler.stop()
            self.error = self.error or self._profiler.error
        if self._xlsx is not None:
            self._xlsx.stop()

    def profile(self) -> ResourceProfile | None:
        """The published table's column profiles (None: not asked for, or nothing written)."""
        if self._profiler is None or self._profiler.profile is None:
            return None
        result: ResourceProfile = self._profiler.profile.finish()
        return result

    def close(self) -> tuple[provenance.OutputFile, provenance.OutputFile]:
        self._stop()
        if self.error is not None:
            self.abort()
            raise self.error
        if self._parquet is not None:
            self._parquet.close()
            self._csv.close()
        self.csv_file.close()
        self.parquet_file.close()
        return self.csv_file.output(self.csv_rel), self.parquet_file.output(self.parquet_rel)

    def abort(self) -> None:
        self.error = self.error or RuntimeError("aborted")
        self._stop()
        if self._xlsx is not None:
            self._xlsx.abort()
        # The half-written files go with the staging folder; only the handles are closed here.
        with contextlib.suppress(Exception):
            if self._parquet is not None:
                self._parquet.close()
                self._csv.close()
        self.csv_file.close()
        self.parquet_file.close()
