"""The published files' writers: what Parquet dictionary-encodes, and that the data reads back."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

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
