"""Red team 4: `opengov import sql` on a table whose column names are values.

A pivoted view or a spreadsheet loaded with its first data row as the header has columns named
`19640823-3234` or `anna@exempel.se`. `init` leaves such a heading out of the title and names
the field `field_N`; `import sql` kept it as the title and folded it into the name
(`f_19640823_3234`), and a publish put the personnummer in datapackage.json and on the page.
Other hostile names (quotes, empty, 5,000 characters, repeats after folding) must still give
distinct, valid field names.
"""

from __future__ import annotations

import json
import random
import re
import sqlite3
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from identifier_corpus import FORMS, render, valid_identifier

from opengov.importers.sql import import_sql
from opengov.paths import NAME_PATTERN


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _table(db: Path, table: str, columns: list[str]) -> None:
    with sqlite3.connect(db) as connection:
        cols = ", ".join(f"{_quote(c)} TEXT" for c in columns)
        connection.execute(f"CREATE TABLE {_quote(table)} ({cols})")
        connection.execute(
            f"INSERT INTO {_quote(table)} VALUES ({', '.join('?' for _ in columns)})",
            [f"v{i}" for i in range(len(columns))],
        )
    connection.close()


@st.composite
def value_names(draw: st.DrawFn) -> str:
    """A column name that is a value: a personnummer in any of its forms, an e-mail address, a
    phone number."""
    kind = draw(st.sampled_from(["personnummer", "samordningsnummer", "email", "phone"]))
    rng = random.Random(draw(st.integers(0, 2**32)))
    if kind == "email":
        user = draw(st.sampled_from(["anna.andersson", "bertil", "c.ost"]))
        return f"{user}@{draw(st.sampled_from(['exempel.se', 'kommun.example.org']))}"
    if kind == "phone":
        return draw(st.sampled_from(["070-123 45 67", "+46 70 123 45 67", "08-123 456 78"]))
    form = draw(st.sampled_from([f for f in FORMS if "\u00a0" not in f]))
    year, ten = valid_identifier(rng, kind, form)
    return render(year, ten, form)


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(values=st.lists(value_names(), min_size=1, max_size=3, unique=True))
def test_a_column_named_like_a_value_is_not_published_as_its_title(
    tmp_path_factory: pytest.TempPathFactory, values: list[str]
) -> None:
    tmp = tmp_path_factory.mktemp("sql")
    db = tmp / "kommun.db"
    _table(db, "bidrag", ["Diarienummer", *values])
    import_sql(f"sqlite:///{db}", table="bidrag", out=tmp / "out")
    descriptor = (tmp / "out" / "datapackage.json").read_text(encoding="utf-8")
    fields = json.loads(descriptor)["resources"][0]["schema"]["fields"]
    assert fields[0] == {"name": "diarienummer", "title": "Diarienummer", "type": "string"}
    for value in values:
        assert value not in descriptor
        assert json.dumps(value)[1:-1] not in descriptor
    digits = ["".join(c for c in v if c.isdigit()) for v in values]
    for field in fields[1:]:
        assert "title" not in field
        assert not any(d and d[:6] in field["name"] for d in digits), field["name"]
    drafted = (tmp / "out" / "rules.yaml").read_text(encoding="utf-8")
    for value in values:
        assert value not in drafted.split("\n", 1)[1]  # the first line names the command


def test_a_table_named_like_a_value_names_no_resource_or_file(tmp_path: Path) -> None:
    db = tmp_path / "kommun.db"
    _table(db, "19640823-3234", ["Belopp"])
    result = import_sql(f"sqlite:///{db}", table="19640823-3234", out=tmp_path / "bidrag")
    assert result.resource == "bidrag"
    descriptor = (tmp_path / "bidrag" / "datapackage.json").read_text(encoding="utf-8")
    assert "19640823" not in descriptor and "640823" not in descriptor
    assert [p.name for p in (tmp_path / "bidrag" / "data").iterdir()] == ["bidrag.parquet"]


HOSTILE_NAMES = ["", " ", "!!!", '"', "a\"b'c", "Belopp (kr)", "belopp_kr", "BELOPP KR",
                 "L" * 5000, "id", "ID ", "Å", "å", "\u212b", "x\u200by", "../../etc",
                 "<script>", "1", "0"]  # fmt: skip
hostile = st.one_of(
    st.sampled_from(HOSTILE_NAMES),
    st.text(st.characters(exclude_categories=("Cs", "Cc")), min_size=1, max_size=12),
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(columns=st.lists(hostile, min_size=1, max_size=6, unique_by=lambda c: c.casefold()))
def test_hostile_column_names_give_distinct_valid_field_names(
    tmp_path_factory: pytest.TempPathFactory, columns: list[str]
) -> None:
    tmp = tmp_path_factory.mktemp("sql")
    db = tmp / "kommun.db"
    try:
        _table(db, "t", columns)
    except sqlite3.OperationalError:
        return  # SQLite itself refuses the name (it folds case: "Å" and "å" are distinct)
    result = import_sql(f"sqlite:///{db}", table="t", out=tmp / "out")
    assert len(result.fields) == len(columns)
    assert len(set(result.fields)) == len(columns)
    for name in result.fields:
        assert re.fullmatch(NAME_PATTERN, name) or re.fullmatch(r"[a-z_][a-z0-9_]*", name), name
        assert len(name) <= 63
