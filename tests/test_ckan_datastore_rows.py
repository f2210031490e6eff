"""The DataStore's row forms without a portal: types and data dictionary from the Table Schema,
the canonical form from Parquet and from datastore_search answers, content hashes, diffs and
key filters. The real portal's answers are checked in tests/integration/test_ckan_datastore.py;
here `as_datastore_returns` imitates them (the shapes seen from CKAN 2.11's datastore_search
with records_format=lists: timestamps to the second with a T, numerics as JSON numbers, NaN and
infinities as strings, json columns as the text stored)."""

from __future__ import annotations

import datetime as dt
import json
import math
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from opengov.targets.ckan import rows
from opengov.targets.ckan.datastore import key_filters
from opengov.targets.ckan.datastore_state import (
    TableRecord,
    dump_records,
    listed_tables,
    parse_records,
)
from opengov.targets.ckan.dictionary import definition, unusable_names

SCHEMA: dict[str, Any] = {
    "fields": [
        {"name": "id", "type": "integer", "title": "Löpnummer"},
        {
            "name": "leverantor",
            "type": "string",
            "title": "Leverantör",
            "description": "Leverantörens namn",
        },
        {"name": "belopp", "type": "number", "description": "Belopp i kronor"},
        {"name": "dag", "type": "date"},
        {"name": "tid", "type": "datetime", "title": "Registrerad"},
        {"name": "betald", "type": "boolean"},
        {"name": "extra", "type": "object"},
        {"name": "ar", "type": "year"},
        {"name": "klockslag", "type": "time"},
    ],
    "primaryKey": ["id"],
}
ARROW = pa.schema(
    [
        ("id", pa.int64()),
        ("leverantor", pa.string()),
        ("belopp", pa.float64()),
        ("dag", pa.date32()),
        ("tid", pa.timestamp("us")),
        ("betald", pa.bool_()),
        ("extra", pa.string()),
        ("ar", pa.int32()),
        ("klockslag", pa.time64("us")),
    ]
)


def test_types_labels_notes_and_key_come_from_the_schema() -> None:
    table = definition(SCHEMA)
    assert [(c.name, c.type) for c in table.columns] == [
        ("id", "int8"), ("leverantor", "text"), ("belopp", "numeric"), ("dag", "date"),
        ("tid", "timestamp"), ("betald", "bool"), ("extra", "json"), ("ar", "int8"),
        ("klockslag", "text"),
    ]  # fmt: skip
    by = {c.name: c for c in table.columns}
    assert by["leverantor"].label == "Leverantör"
    assert by["leverantor"].notes == "Leverantörens namn"
    assert by["belopp"].label == "belopp"  # no title: the name
    assert "UTC" in by["tid"].notes and "sekunder" in by["tid"].notes
    assert "primärnyckel" in by["id"].notes
    assert table.key == ("id",)
    assert table.fields()[1] == {
        "id": "leverantor",
        "type": "text",
        "info": {"label": "Leverantör", "notes": "Leverantörens namn"},
    }


def test_shape_and_dictionary_hashes_change_with_what_they_cover() -> None:
    base = definition(SCHEMA)
    retitled = json.loads(json.dumps(SCHEMA))
    retitled["fields"][1]["title"] = "Leverantörens namn"
    other = definition(retitled)
    assert other.shape_hash == base.shape_hash
    assert other.dictionary_hash != base.dictionary_hash
    retyped = json.loads(json.dumps(SCHEMA))
    retyped["fields"][2]["type"] = "integer"
    assert definition(retyped).shape_hash != base.shape_hash
    assert base.without_key().shape_hash != base.shape_hash
    assert base.shape_hash.startswith("v1:")


def test_a_key_naming_a_field_that_is_not_published_is_no_key() -> None:
    schema = {"fields": [{"name": "a", "type": "integer"}], "primaryKey": ["a", "dropped"]}
    assert definition(schema).key == ()
    assert definition({"fields": [{"name": "a"}], "primaryKey": "a"}).key == ("a",)


@pytest.mark.parametrize(
    "name", ["_id", "_full_text", " leading", "trailing ", 'a"b', "", "x" * 64, "å" * 32]
)
def test_names_the_datastore_refuses(name: str) -> None:
    assert unusable_names([name, "fine"]) == [name]


@pytest.mark.parametrize(
    "fields,fits",
    [
        (
            [{"name": f"f{i}", "type": "integer"} for i in range(1000)],
            False,
        ),  # 8,000 bytes + header
        ([{"name": f"f{i}", "type": "integer"} for i in range(900)], True),
        ([{"name": f"f{i}", "type": "string"} for i in range(1598)], True),  # text moves out
        ([{"name": f"f{i}", "type": "string"} for i in range(1599)], False),  # too many columns
        ([{"name": f"f{i}", "type": "boolean"} for i in range(1500)], True),
    ],
)
def test_tables_postgresql_cannot_hold_are_found_before_sending(
    fields: list[dict[str, str]], fits: bool
) -> None:
    from opengov.targets.ckan.dictionary import too_wide

    assert (too_wide(definition({"fields": fields})) is None) == fits


def test_names_the_datastore_takes() -> None:
    assert unusable_names(["belopp", "Belopp (kr)", "x" * 63, "å" * 31, "a_b", "a:b"]) == []


# ----------------------------------------------------------------------------- the forms


def sample() -> pa.Table:
    return pa.table(
        {
            "id": [1, 2, 3, 4],
            "leverantor": ["Åkeri AB", None, "", 'a"b\\c\nd:e'],
            "belopp": [100.5, -0.0, math.nan, 1e20],
            "dag": [dt.date(2024, 2, 29), None, dt.date(1, 1, 1), dt.date(9999, 12, 31)],
            "tid": [
                dt.datetime(2024, 1, 2, 3, 4, 5, 999_999),
                dt.datetime(1969, 12, 31, 23, 59, 59, 500_000),
                None,
                dt.datetime(2000, 1, 1),
            ],
            "betald": [True, False, None, True],
            "extra": ['{"b": 1, "a": [1, 2]}', None, "[1, 2]", "not json"],
            "ar": [2024, 2023, None, 1],
            "klockslag": [dt.time(12, 0), None, dt.time(0, 0, 0, 1), dt.time(23, 59, 59)],
        },
        schema=ARROW,
    )


def as_datastore_returns(records: list[dict[str, Any]], names: list[str]) -> list[list[Any]]:
    """What datastore_search (records_format=lists) gives back for rows sent as `records`."""
    kinds = {c.name: c.type for c in definition(SCHEMA).columns}
    out = []
    for record in json.loads(json.dumps(records)):
        row = []
        for name in names:
            value = record[name]
            if value is not None and kinds[name] == "timestamp":
                value = value.replace(" ", "T")
            elif value is not None and kinds[name] == "numeric" and isinstance(value, float):
                value = float(repr(value))  # numeric keeps the text; JSON gives it back
            row.append(value)
        out.append(row)
    return out


def test_the_canonical_form() -> None:
    table = definition(SCHEMA)
    got = rows.canonical(sample(), table).to_pylist()
    assert got[0]["tid"] == dt.datetime(2024, 1, 2, 3, 4, 5)  # to the second
    assert got[1]["tid"] == dt.datetime(1969, 12, 31, 23, 59, 59)  # floored, not truncated
    assert math.copysign(1.0, got[1]["belopp"]) == 1.0  # no negative zero
    assert got[0]["extra"] == '{"a":[1,2],"b":1}'
    assert got[3]["extra"] == '"not json"'
    assert got[0]["klockslag"] == "12:00:00.000000"
    sent = rows.records(rows.canonical(sample(), table), table)
    assert sent[2]["belopp"] == "NaN"
    assert sent[3]["belopp"] == 1e20
    assert sent[0]["tid"] == "2024-01-02 03:04:05.000000"
    assert sent[0]["dag"] == "2024-02-29"
    json.dumps(sent, allow_nan=False)  # every value is valid JSON


def test_timestamps_as_either_ckan_shows_them_read_the_same() -> None:
    table = definition({"fields": [{"name": "t", "type": "datetime"}]})
    seconds = rows.from_records([["2024-01-02T03:04:05"], [None]], table)  # CKAN 2.11
    millis = rows.from_records([["2024-01-02T03:04:05.000"], [None]], table)  # CKAN 2.12
    assert rows.summary(seconds, table) == rows.summary(millis, table)
    tampered = rows.from_records([["2024-01-02T03:04:05.250"], [None]], table)
    assert rows.summary(tampered, table) != rows.summary(millis, table)


def test_what_is_sent_comes_back_with_the_same_content_hash() -> None:
    table = definition(SCHEMA)
    local = rows.canonical(sample(), table)
    back = rows.from_records(as_datastore_returns(rows.records(local, table), table.names), table)
    # Row by row (NaN is not equal to itself, so compare encodings), and as a whole.
    assert rows.encodings(back, table).to_pylist() == rows.encodings(local, table).to_pylist()
    assert rows.summary(back, table) == rows.summary(local, table)


def test_a_tz_aware_timestamp_is_its_utc_second() -> None:
    table = definition({"fields": [{"name": "t", "type": "datetime"}]})
    aware = pa.table(
        {"t": pa.array([dt.datetime(2024, 6, 1, 10, 0, 0, 1)], pa.timestamp("us", tz="UTC"))}
    )
    assert rows.canonical(aware, table).column("t").to_pylist() == [dt.datetime(2024, 6, 1, 10)]


def test_rows_from_a_table_with_another_width_are_refused() -> None:
    table = definition(SCHEMA)
    with pytest.raises(rows.RowsError):
        rows.from_records([[1, 2]], table)
    with pytest.raises(rows.RowsError):
        rows.from_records([[1, "a", "not a number", None, None, None, None, None, None]], table)


# ----------------------------------------------------------------------------- content hashes

values = st.one_of(st.none(), st.text(max_size=6))
tables = st.lists(st.tuples(values, values), max_size=12)
TEXT2 = definition({"fields": [{"name": "a"}, {"name": "b"}]})


def two_columns(data: list[tuple[str | None, str | None]]) -> pa.Table:
    return pa.table(
        {"a": pa.array([r[0] for r in data], pa.string()),
         "b": pa.array([r[1] for r in data], pa.string())}
    )  # fmt: skip


@settings(deadline=None)
@given(tables, st.randoms())
def test_the_content_hash_ignores_row_order(data: list[Any], rng: Any) -> None:
    shuffled = list(data)
    rng.shuffle(shuffled)
    assert rows.content_hash(two_columns(data), TEXT2) == rows.content_hash(
        two_columns(shuffled), TEXT2
    )


@settings(deadline=None)
@given(tables, tables)
def test_the_content_hash_is_equal_only_for_equal_multisets(a: list[Any], b: list[Any]) -> None:
    same = sorted(map(repr, a)) == sorted(map(repr, b))
    assert (
        rows.content_hash(two_columns(a), TEXT2) == rows.content_hash(two_columns(b), TEXT2)
    ) == same


@pytest.mark.parametrize(
    "a,b",
    [
        ([("x:", "y")], [("x", ":y")]),  # a separator inside a value
        ([("1:a", None)], [(None, "1:a")]),
        ([("", None)], [(None, "")]),  # empty is not null
        ([("ab", "")], [("a", "b")]),
        ([("x", "y"), ("x", "y")], [("x", "y")]),  # duplicates count
        ([("-", None)], [(None, "-")]),  # the null marker as a value
    ],
)
def test_encodings_never_collide(a: list[Any], b: list[Any]) -> None:
    assert rows.content_hash(two_columns(a), TEXT2) != rows.content_hash(two_columns(b), TEXT2)


# ----------------------------------------------------------------------------- diffs

KEYED = definition(
    {"fields": [{"name": "k", "type": "integer"}, {"name": "v", "type": "number"}],
     "primaryKey": "k"}
)  # fmt: skip
keyed_rows = st.dictionaries(
    st.integers(-50, 50),
    st.one_of(st.none(), st.floats(allow_infinity=True), st.just(math.nan)),
    max_size=30,
)


def keyed(data: dict[int, float | None]) -> pa.Table:
    return rows.canonical(
        pa.table({"k": pa.array(list(data), pa.int64()),
                  "v": pa.array(list(data.values()), pa.float64())}),
        KEYED,
    )  # fmt: skip


def same_value(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is b
    return (math.isnan(a) and math.isnan(b)) or a == b


@settings(suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(keyed_rows, keyed_rows)
def test_the_diff_sends_exactly_the_added_changed_and_removed_rows(
    old: dict[int, float | None], new: dict[int, float | None]
) -> None:
    change = rows.diff(keyed(old), keyed(new), KEYED)
    new_keys = list(new)
    old_keys = list(old)
    upserted = {new_keys[i] for i in change.upsert.to_pylist()}
    deleted = {old_keys[i] for i in change.delete.to_pylist()}
    assert upserted == {k for k in new if k not in old or not same_value(old[k], new[k])}
    assert deleted == {k for k in old if k not in new}
    assert change.empty == (not upserted and not deleted)


def test_one_changed_row_of_many_is_one_row() -> None:
    old = {i: float(i) for i in range(10_000)}
    new = dict(old)
    new[4711] = 0.5
    change = rows.diff(keyed(old), keyed(new), KEYED)
    assert change.upsert.to_pylist() == [4711] and change.delete.to_pylist() == []


def test_a_key_with_nulls_or_duplicates_is_not_usable() -> None:
    unique = keyed({1: 1.0, 2: 2.0})
    assert rows.usable_key(unique, KEYED)
    dup = pa.concat_tables([unique, unique])
    assert not rows.usable_key(dup, KEYED)
    nulls = rows.canonical(pa.table({"k": pa.array([1, None], pa.int64()), "v": [1.0, 2.0]}), KEYED)
    assert not rows.usable_key(nulls, KEYED)
    assert not rows.usable_key(unique, KEYED.without_key())


# ----------------------------------------------------------------------------- key filters

COMPOSITE = definition(
    {
        "fields": [{"name": "ar", "type": "integer"}, {"name": "dag", "type": "date"},
                   {"name": "id", "type": "string"}, {"name": "v", "type": "number"}],
        "primaryKey": ["ar", "dag", "id"],
    }
)  # fmt: skip


def selects(filters: dict[str, Any], row: dict[str, Any]) -> bool:
    """CKAN's filter: every column equal to the value, or in the list."""
    for name, wanted in filters.items():
        value = row[name]
        value = str(value) if isinstance(value, dt.date) else value
        if isinstance(wanted, list):
            if value not in wanted:
                return False
        elif value != wanted:
            return False
    return True


@settings(deadline=None)
@given(
    st.sets(
        st.tuples(st.integers(2020, 2022), st.dates(dt.date(2024, 1, 1), dt.date(2024, 1, 3)),
                  st.text(min_size=1, max_size=3)),
        max_size=40,
    ),
    st.data(),
)  # fmt: skip
def test_key_filters_select_exactly_the_rows(keys: set[Any], data: Any) -> None:
    everything = [{"ar": a, "dag": d, "id": i, "v": 1.0} for a, d, i in sorted(keys)]
    chosen = data.draw(st.lists(st.sampled_from(everything), unique_by=repr) if everything
                       else st.just([]))  # fmt: skip
    table = rows.canonical(
        pa.table(
            {"ar": pa.array([r["ar"] for r in chosen], pa.int64()),
             "dag": pa.array([r["dag"] for r in chosen], pa.date32()),
             "id": pa.array([r["id"] for r in chosen], pa.string()),
             "v": pa.array([r["v"] for r in chosen], pa.float64())}
        ),
        COMPOSITE,
    )  # fmt: skip
    filters = list(key_filters(table, COMPOSITE))
    hit = [r for r in everything if any(selects(f, r) for f in filters)]
    assert sorted(map(repr, hit)) == sorted(map(repr, chosen))
    for f in filters:
        json.dumps(f)  # every filter travels as JSON


def test_key_filters_are_batched() -> None:
    table = keyed({i: 1.0 for i in range(2_500)})
    filters = list(key_filters(table, KEYED))
    assert [len(f["k"]) for f in filters] == [1_000, 1_000, 500]


# ----------------------------------------------------------------------------- records


def test_records_survive_the_extra_and_bad_entries_are_dropped() -> None:
    record = TableRecord("a" * 64, 3, "b" * 64, "v1:" + "c" * 64, "d" * 64)
    text = dump_records({"data/x.csv": record})
    assert parse_records(text) == {"data/x.csv": record}
    assert parse_records("{not json") == {}
    assert parse_records('["a"]') == {}
    assert parse_records('{"x": {"parquet": "a"}, "y": {"parquet": "a", "rows": -1, '
                         '"content": "c", "shape": "s", "dictionary": "d"}}') == {}  # fmt: skip
    assert parse_records(None) == {}


def test_a_table_being_written_is_listed_but_not_trusted() -> None:
    record = TableRecord("a" * 64, 3, "b" * 64, "v1:" + "c" * 64, "d" * 64)
    text = dump_records({"data/x.csv": record}, writing={"data/y.csv"})
    assert parse_records(text) == {"data/x.csv": record}
    assert listed_tables(text) == {"data/x.csv", "data/y.csv"}
    # A complete entry written over a writing one wins; an entry without a state is neither.
    assert parse_records(dump_records({"data/y.csv": record}, writing={"data/y.csv"}))
    assert parse_records(json.dumps({"data/x.csv": record.to_dict()})) == {}


# ----------------------------------------------------------------------------- decisions


def _remote(
    records: dict[str, TableRecord] | None,
    *,
    active: bool,
    parquet_hash: str = "p1",
    writing: set[str] | None = None,
    complete: bool = True,
) -> Any:
    from opengov.targets.ckan.remote import Remote

    files = {"data/t.csv": "c1", "data/t.parquet": parquet_hash}
    extras = [
        {"key": "opengov_state", "value": "complete" if complete else "uploading"},
        {"key": "opengov_inputs_fingerprint", "value": "f"},
        {"key": "opengov_files", "value": json.dumps(files)},
    ]
    if records is not None or writing:
        extras.append({"key": "opengov_datastore", "value": dump_records(records or {}, writing)})
    resources = [
        {"id": "r1", "opengov_path": "data/t.csv", "opengov_role": "data", "hash": "c1",
         "datastore_active": active},
        {"id": "r2", "opengov_path": "data/t.parquet", "opengov_role": "data",
         "hash": parquet_hash, "datastore_active": False},
    ]  # fmt: skip
    return Remote({"id": "d", "private": False, "extras": extras, "resources": resources})


def _table(tmp_path: Path, schema: dict[str, Any], data: pa.Table, sha: str = "p2") -> Any:
    import pyarrow.parquet as pq

    from opengov.targets.ckan.datastore import Table

    local = tmp_path / "t.parquet"
    pq.write_table(data, local)
    return Table("t", "data/t.csv", "data/t.parquet", sha, local, definition(schema))


KEY_SCHEMA = {"fields": [{"name": "k", "type": "integer"}, {"name": "v"}], "primaryKey": "k"}
KEY_DATA = pa.table({"k": [1, 2], "v": ["a", "b"]})


def _record(table: Any, **change: Any) -> TableRecord:
    from dataclasses import replace

    return replace(table.record(), **change)


@pytest.mark.parametrize(
    "case,expected",
    [
        ("same", "keep"),
        ("new title", "dictionary"),
        ("new rows", "update"),
        ("not recorded", "sync"),
        ("no table", "load"),
        ("other columns", "reload"),
        ("no key", "reload"),
        ("bad name", "skip"),
        ("nul", "skip"),
    ],
)
def test_what_each_table_needs(tmp_path: Path, case: str, expected: str) -> None:
    from opengov.targets.ckan.datastore import DatastoreLoad, Mode

    schema = json.loads(json.dumps(KEY_SCHEMA))
    data = KEY_DATA
    if case == "no key":
        del schema["primaryKey"]
    if case == "bad name":
        schema["fields"][1]["name"] = "_v"
        data = pa.table({"k": [1, 2], "_v": ["a", "b"]})
    if case == "nul":
        data = pa.table({"k": [1, 2], "v": ["a", "b\x00c"]})
    table = _table(tmp_path, schema, data)
    record: TableRecord | None = _record(table)
    if case == "new title":
        record = _record(table, dictionary="old")
    elif case in ("new rows", "no key"):
        record = _record(table, parquet="p1")
    elif case == "other columns":
        record = _record(table, parquet="p1", shape="v1:old")
    elif case == "not recorded":
        record = None
    remote = _remote({"data/t.csv": record} if record else None, active=case != "no table")
    load = DatastoreLoad.__new__(DatastoreLoad)
    load.mode = Mode(True, views=True)
    action, _reason = load._decide(table, record, remote.datastore_active("data/t.csv"), remote)
    assert action == expected


@pytest.mark.parametrize("holds_it,expected", [(True, "skip"), (False, "drop")])
def test_a_loaded_table_that_can_no_longer_be_loaded_is_dropped_when_stale(
    tmp_path: Path, holds_it: bool, expected: str
) -> None:
    from opengov.targets.ckan.datastore import DatastoreLoad, Mode

    table = _table(tmp_path, KEY_SCHEMA, pa.table({"k": [1, 2], "v": ["a", "b\x00"]}))
    record = _record(table) if holds_it else _record(table, parquet="p1")
    remote = _remote({"data/t.csv": record}, active=True)
    load = DatastoreLoad.__new__(DatastoreLoad)
    load.mode = Mode(True)
    action, reason = load._decide(table, record, True, remote)
    assert (action, "NUL" in reason) == (expected, True)


@pytest.mark.parametrize(
    "active,recorded,expected",
    [(True, False, "drop"), (True, True, "keep"), (False, False, "keep")],
)
def test_with_the_datastore_off_only_a_stale_table_is_dropped(
    tmp_path: Path, active: bool, recorded: bool, expected: str
) -> None:
    from opengov.targets.ckan.datastore import DatastoreLoad, Mode

    table = _table(tmp_path, KEY_SCHEMA, KEY_DATA)
    record = _record(table) if recorded else _record(table, parquet="p1")
    remote = _remote({"data/t.csv": record}, active=active)
    load = DatastoreLoad.__new__(DatastoreLoad)
    load.mode = Mode(False, reason="--no-datastore")
    assert load._decide(table, record, active, remote)[0] == expected


def test_unchanged_needs_every_table_recorded_for_the_published_parquet(tmp_path: Path) -> None:
    from opengov.targets.ckan.remote import is_unchanged

    table = _table(tmp_path, KEY_SCHEMA, KEY_DATA, sha="p1")
    good = {"data/t.csv": _record(table)}

    def unchanged(remote: Any, datastore: bool = True) -> bool:
        return is_unchanged(remote, "f", False, datastore=datastore)

    assert unchanged(_remote(good, active=True))
    assert not unchanged(_remote(good, active=False))  # dropped by hand
    assert unchanged(_remote(good, active=False), datastore=False)
    assert not unchanged(_remote(None, active=True))  # never recorded
    assert not unchanged(_remote({}, active=True, writing={"data/t.csv"}))  # interrupted
    assert not unchanged(_remote({"data/t.csv": _record(table, parquet="p0")}, active=True))
    assert not unchanged(_remote({"data/t.csv": _record(table, shape="v0:x")}, active=True))
    assert not unchanged(_remote(good, active=True, complete=False))
