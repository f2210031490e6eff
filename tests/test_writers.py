"""The published files' writers: what Parquet dictionary-encodes, and that the data reads back."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from helpers import PackageFactory

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
    # The same bytes, whichever way (and in whatever batches) it was written.
    assert (tmp_path / "b.xlsx").read_bytes() == (tmp_path / "a.xlsx").read_bytes()
    assert b"<dimension" not in _sheet(tmp_path / "b.xlsx")


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


def test_a_release_has_the_same_xlsx_streamed_or_not(
    make_package: PackageFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, key: str
) -> None:
    """Whether the XLSX is written on the way (the first batch's estimate) or from the
    Parquet file afterwards only changes when it is written, not its bytes."""
    from click.testing import CliRunner

    from opengov import pipeline
    from opengov.cli import cli

    package = make_package()
    portals = []
    for margin in (pipeline._XLSX_ESTIMATE_MARGIN, 0.0):
        monkeypatch.setattr(pipeline, "_XLSX_ESTIMATE_MARGIN", margin)
        portal = tmp_path / f"portal-{margin}"
        result = CliRunner().invoke(cli, ["publish", str(package), "--to", str(portal)])
        assert result.exit_code == 0, result.output
        portals.append(portal / "personal" / "data" / "personal.xlsx")
    assert portals[0].read_bytes() == portals[1].read_bytes()


@pytest.mark.parametrize(("limit", "streamed"), [(100, True), (2, False)])
def test_the_xlsx_is_streamed_only_when_the_first_batch_estimates_it_within_the_limit(
    make_package: PackageFactory,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    key: str,
    limit: int,
    streamed: bool,
) -> None:
    """The staff table has 3 rows: within a limit of 100 the XLSX is written on the way; over
    a limit of 2 it is not started (no part of a sheet is built to be thrown away)."""
    from click.testing import CliRunner

    from opengov.cli import cli
    from opengov.release import writers, xlsx

    monkeypatch.setattr(xlsx, "DOWNLOAD_MAX_ROWS", limit)
    started: list[Path] = []
    original = writers._XlsxSink.__init__

    def counting(self: writers._XlsxSink, path: Path, *args: object) -> None:
        started.append(path)
        original(self, path, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(writers._XlsxSink, "__init__", counting)
    portal = tmp_path / "portal"
    result = CliRunner().invoke(cli, ["publish", str(make_package()), "--to", str(portal)])
    assert result.exit_code == 0, result.output
    assert bool(started) is streamed
    assert (portal / "personal" / "data" / "personal.xlsx").exists() is streamed
