"""The published files' writers: what Parquet dictionary-encodes, and that the data reads back."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from opengov.release.writers import dictionary_columns


def _table(rows: int) -> pa.Table:
    return pa.table(
        {
            "id": [f"F{i:010d}" for i in range(rows)],
            "belopp": [i * 1.25 for i in range(rows)],
            "kategori": [("Bygg", "IT", "Städ")[i % 3] for i in range(rows)],
            "datum": pa.array([i % 365 for i in range(rows)], pa.int32()).cast(pa.date32()),
        }
    )


def test_dictionary_only_for_columns_that_repeat(tmp_path: Path) -> None:
    table = _table(5000)
    chosen = dictionary_columns(table)
    assert chosen == ["kategori", "datum"]
    path = tmp_path / "t.parquet"
    pq.write_table(table, path, compression="zstd", use_dictionary=chosen)
    meta = pq.ParquetFile(path).metadata.row_group(0)
    encodings = {meta.column(i).path_in_schema: meta.column(i).encodings for i in range(4)}
    assert not any("DICTIONARY" in e for e in encodings["id"] + encodings["belopp"])
    assert any("DICTIONARY" in e for e in encodings["kategori"])
    assert pq.read_table(path).equals(table)


def test_small_first_batch_keeps_every_dictionary() -> None:
    assert dictionary_columns(_table(100)) is True


def _sheet(path: Path) -> bytes:
    import re
    import zipfile

    with zipfile.ZipFile(path) as book:
        sheet = book.read("xl/worksheets/sheet1.xml")
    return re.sub(rb'<dimension ref="[^"]*"/>', b"", sheet)


def test_streamed_xlsx_is_the_read_back_one(tmp_path: Path) -> None:
    """The XLSX written from the batches as they come holds the sheet the one written from
    the Parquet file afterwards holds (less the optional extent, unknown while streaming)."""
    from opengov.release import xlsx
    from opengov.release.writers import _XlsxSink

    table = _table(3000)
    fields = [{"name": n, "type": "string"} for n in table.column_names]
    pq.write_table(table, tmp_path / "t.parquet")
    read_back = xlsx.write_parquet(tmp_path / "t.parquet", tmp_path / "a.xlsx", fields, "T")
    sink = _XlsxSink(tmp_path / "b.xlsx", fields, "T")
    for batch in table.to_batches(max_chunksize=700):
        sink.put(pa.Table.from_batches([batch]))
    streamed = sink.result()
    assert streamed == read_back and streamed is not None and streamed.written
    assert _sheet(tmp_path / "b.xlsx") == _sheet(tmp_path / "a.xlsx")


def test_streamed_xlsx_over_the_download_limit_leaves_no_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from opengov.release import xlsx
    from opengov.release.writers import _XlsxSink

    monkeypatch.setattr(xlsx, "DOWNLOAD_MAX_ROWS", 1000)
    table = _table(3000)
    sink = _XlsxSink(tmp_path / "b.xlsx", [], "T")
    for batch in table.to_batches(max_chunksize=700):
        sink.put(pa.Table.from_batches([batch]))
    result = sink.result()
    assert result == xlsx.XlsxResult(False, 3000, reason="over-download-limit", limit=1000)
    assert not (tmp_path / "b.xlsx").exists()
