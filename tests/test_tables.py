"""tables.read_typed and the CSV batch reader: dialects, encodings, ragged rows, formats."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from opengov.errors import InputError
from opengov.package import load_package
from opengov.sources.readers import csv_dialect, iter_csv_batches, read_typed

SWEDISH_FIELDS = [
    {"name": "id", "type": "integer"},
    {"name": "namn", "type": "string"},
    {"name": "belopp", "type": "number", "decimalChar": ",", "groupChar": " "},
    {"name": "aktiv", "type": "boolean", "trueValues": ["ja"], "falseValues": ["nej"]},
    {"name": "datum", "type": "date"},
]


def _package(
    tmp_path: Path,
    data: bytes | None,
    fields: list[dict[str, Any]],
    *,
    name: str = "d.csv",
    extra: dict[str, Any] | None = None,
) -> Path:
    if data is not None:
        (tmp_path / name).write_bytes(data)
    resource: dict[str, Any] = {"name": "d", "schema": {"fields": fields}}
    if data is not None:
        resource["path"] = name
    resource.update(extra or {})
    (tmp_path / "datapackage.json").write_text(
        json.dumps({"name": "p", "resources": [resource]}), encoding="utf-8"
    )
    return tmp_path


SWEDISH_TEXT = (
    "id;namn;belopp;aktiv;datum\n"
    "1;Åsa Öberg;1 000,50;ja;2024-01-05\n"
    "2;Märta;12,5;nej;2024-02-29\n"
    "3;Ölandsbro;fel;kanske;2024-02-30\n"
)


@pytest.mark.parametrize(
    ("encoding", "declared"),
    [("cp1252", "windows-1252"), ("utf-8-sig", None), ("utf-8", "utf-8"), ("cp1252", None)],
)
def test_swedish_csv(tmp_path: Path, encoding: str, declared: str | None) -> None:
    extra: dict[str, Any] = {"dialect": {"delimiter": ";"}}
    if declared:
        extra["encoding"] = declared
    root = _package(tmp_path, SWEDISH_TEXT.encode(encoding), SWEDISH_FIELDS, extra=extra)
    table = read_typed(load_package(root).resources[0])
    assert table.column_names == ["id", "namn", "belopp", "aktiv", "datum"]
    assert table.schema.field("belopp").type == pa.float64()
    assert table.to_pylist() == [
        {
            "id": 1,
            "namn": "Åsa Öberg",
            "belopp": 1000.5,
            "aktiv": True,
            "datum": dt.date(2024, 1, 5),
        },
        {"id": 2, "namn": "Märta", "belopp": 12.5, "aktiv": False, "datum": dt.date(2024, 2, 29)},
        {"id": 3, "namn": "Ölandsbro", "belopp": None, "aktiv": None, "datum": None},
    ]


def test_delimiter_is_sniffed_like_frictionless(tmp_path: Path) -> None:
    root = _package(tmp_path, SWEDISH_TEXT.encode("utf-8"), SWEDISH_FIELDS)
    res = load_package(root).resources[0]
    assert csv_dialect(res).delimiter == ";"
    assert read_typed(res).num_rows == 3


def test_quotes_and_embedded_newlines(tmp_path: Path) -> None:
    text = 'id,namn\n1,"Hej, du"\n2,"två\nrader"\n3,"citat ""här"""\n'
    fields = [{"name": "id", "type": "integer"}, {"name": "namn", "type": "string"}]
    root = _package(tmp_path, text.encode(), fields)
    table = read_typed(load_package(root).resources[0])
    assert table.column("namn").to_pylist() == ["Hej, du", "två\nrader", 'citat "här"']


def test_ragged_and_blank_rows_keep_their_place(tmp_path: Path) -> None:
    text = "a,b\n1,2\n\n3\n4,5,6\n7,8\n"
    fields = [{"name": "a", "type": "integer"}, {"name": "b", "type": "integer"}]
    root = _package(tmp_path, text.encode(), fields)
    table = read_typed(load_package(root).resources[0])
    assert table.to_pylist() == [
        {"a": 1, "b": 2},
        {"a": None, "b": None},
        {"a": 3, "b": None},
        {"a": 4, "b": 5},
        {"a": 7, "b": 8},
    ]


def test_ragged_rows_late_in_a_multi_batch_file(tmp_path: Path) -> None:
    rows = [f"{i},{i}" for i in range(5000)]
    rows[4321] = "x"  # a short row far into the file: the threaded pass must restart cleanly
    rows[10] = "1,2,3"
    text = "a,b\n" + "\n".join(rows) + "\n"
    fields = [{"name": "a", "type": "string"}, {"name": "b", "type": "string"}]
    root = _package(tmp_path, text.encode(), fields)
    res = load_package(root).resources[0]
    dialect = csv_dialect(res)
    numbers: list[int] = []
    firsts: list[str | None] = []
    ragged: dict[int, list[str]] = {}
    for batch in iter_csv_batches(res, dialect, 2, block_size=4096):
        numbers.extend(batch.row_numbers.to_pylist())
        firsts.extend(batch.columns[0].to_pylist())
        ragged.update({r.number: r.cells for r in batch.ragged})
    assert numbers == list(range(2, 5002))
    assert firsts[4321] == "x"
    assert ragged == {12: ["1", "2", "3"], 4323: ["x"]}


def test_header_mismatch_is_an_input_error(tmp_path: Path) -> None:
    root = _package(tmp_path, b"id,name\n1,x\n", [{"name": "id"}, {"name": "namn"}])
    with pytest.raises(InputError) as info:
        read_typed(load_package(root).resources[0])
    assert "namn" in str(info.value)


def test_no_header(tmp_path: Path) -> None:
    fields = [{"name": "a", "type": "integer"}, {"name": "b", "type": "string"}]
    root = _package(tmp_path, b"1,x\n2,y\n", fields, extra={"dialect": {"header": False}})
    assert read_typed(load_package(root).resources[0]).num_rows == 2


def test_wrong_encoding_is_an_input_error_without_content(tmp_path: Path) -> None:
    data = SWEDISH_TEXT.encode("cp1252")
    root = _package(tmp_path, data, SWEDISH_FIELDS, extra={"dialect": {"delimiter": ";"}})
    res = load_package(root).resources[0]
    res.encoding = "utf-8"  # as if declared wrongly and not caught earlier
    with pytest.raises(InputError) as info:
        read_typed(res)
    assert "Åsa" not in str(info.value) and "\xc5sa" not in str(info.value)


def test_unterminated_quote_is_an_input_error(tmp_path: Path) -> None:
    fields = [{"name": "a", "type": "string"}, {"name": "b", "type": "string"}]
    root = _package(tmp_path, b'a,b\n1,"secret\n', fields)
    try:
        table = read_typed(load_package(root).resources[0])
    except InputError as exc:
        assert "secret" not in str(exc)
    else:  # Python's csv (and so frictionless) accepts it at end of file
        assert table.num_rows == 1


def test_inline_lists_and_objects(tmp_path: Path) -> None:
    fields = [{"name": "id", "type": "integer"}, {"name": "namn", "type": "string"}]
    root = _package(tmp_path, None, fields, extra={"data": [["id", "namn"], [1, "a"], ["2", 3]]})
    table = read_typed(load_package(root).resources[0])
    assert table.to_pylist() == [{"id": 1, "namn": "a"}, {"id": 2, "namn": None}]
    data = [{"id": 1, "namn": "a"}, {"namn": "b"}]
    root = _package(tmp_path, None, fields, extra={"data": data})
    assert read_typed(load_package(root).resources[0]).to_pylist() == [
        {"id": 1, "namn": "a"},
        {"id": None, "namn": "b"},
    ]


def test_xlsx(tmp_path: Path) -> None:
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["id", "namn", "datum", "belopp"])
    sheet.append([1, "Åsa", dt.datetime(2024, 1, 5), 10.5])
    sheet.append(["2", "Per", "2024-02-01", "x"])
    book.save(tmp_path / "d.xlsx")
    fields = [
        {"name": "id", "type": "integer"},
        {"name": "namn", "type": "string"},
        {"name": "datum", "type": "date"},
        {"name": "belopp", "type": "number"},
    ]
    root = _package(tmp_path, None, fields, extra={"path": "d.xlsx"})
    table = read_typed(load_package(root).resources[0])
    assert table.to_pylist() == [
        {"id": 1, "namn": "Åsa", "datum": dt.date(2024, 1, 5), "belopp": 10.5},
        {"id": 2, "namn": "Per", "datum": dt.date(2024, 2, 1), "belopp": None},
    ]


def test_parquet(tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    source = pa.table({"id": [1, 2], "belopp": ["1,5", "x"], "namn": ["a", "b"]})
    pq.write_table(source, tmp_path / "d.parquet")
    fields = [
        {"name": "id", "type": "integer"},
        {"name": "belopp", "type": "number", "decimalChar": ","},
        {"name": "namn", "type": "string"},
    ]
    root = _package(tmp_path, None, fields, extra={"path": "d.parquet"})
    table = read_typed(load_package(root).resources[0])
    assert table.to_pylist() == [
        {"id": 1, "belopp": 1.5, "namn": "a"},
        {"id": 2, "belopp": None, "namn": "b"},
    ]


def test_skip_initial_space_uses_the_python_reader(tmp_path: Path) -> None:
    fields = [{"name": "a", "type": "string"}, {"name": "b", "type": "string"}]
    dialect = {"delimiter": ",", "skipInitialSpace": True}
    root = _package(tmp_path, b'a,b\n1, "x, y"\n', fields, extra={"dialect": dialect})
    table = read_typed(load_package(root).resources[0])
    assert table.to_pylist() == [{"a": "1", "b": "x, y"}]


def test_header_row_is_guessed_like_frictionless(tmp_path: Path) -> None:
    """A title line before the header: frictionless takes the first row of typical width."""
    text = "Leverantörsfakturor 2024\nid;namn;a;b\n1;a;x;y\n2;b;x;y\n"
    fields = [{"name": n, "type": "string"} for n in ["id", "namn", "a", "b"]]
    fields[0]["type"] = "integer"
    root = _package(tmp_path, text.encode(), fields, extra={"dialect": {"delimiter": ";"}})
    res = load_package(root).resources[0]
    assert csv_dialect(res).header_rows == (2,)
    assert read_typed(res).column("id").to_pylist() == [1, 2]
    declared = {"dialect": {"delimiter": ";", "header": True}}
    root = _package(tmp_path, text.encode(), fields, extra=declared)
    assert csv_dialect(load_package(root).resources[0]).header_rows == (1,)


def test_record_larger_than_a_block(tmp_path: Path) -> None:
    big = "å" * 200_000
    text = f'a,b\n1,x\n2,"{big}\nmore"\n3,y\n'
    fields = [{"name": "a", "type": "integer"}, {"name": "b", "type": "string"}]
    root = _package(tmp_path, text.encode(), fields)
    res = load_package(root).resources[0]
    rows: list[str | None] = []
    for batch in iter_csv_batches(res, csv_dialect(res), 2, block_size=1 << 12):
        rows.extend(batch.columns[1].to_pylist())
    assert rows == ["x", big + "\nmore", "y"]
