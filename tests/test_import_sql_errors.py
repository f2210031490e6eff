"""Bad input to `opengov import sql`: each failure its own exit code and a message that names
the database, never a credential; nothing written. Every byte the CLI prints is checked for
the password and the user."""

from __future__ import annotations

import socket
import string
import urllib.parse
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st
from postgres_db import Database, postgres  # noqa: F401 - the session fixture
from sql_fixtures import PG_SETUP, make_sqlite, pg_insert_grants

from opengov.cli import cli
from opengov.errors import DatabaseUrlError, PasswordInUrl
from opengov.importers.sql import parse_url
from opengov.importers.sql.url import CREDENTIALS_HELP as HELP

WRONG = "fel-lösenord-Q7v9"  # a wrong password that must never be printed


@pytest.fixture(scope="module")
def pg(postgres: Database) -> Database:  # noqa: F811
    if "bidrag" not in postgres.psql("SELECT tablename FROM pg_tables WHERE tablename='bidrag'"):
        postgres.psql(PG_SETUP + pg_insert_grants())
    return postgres


def run(args: list[str], env: dict[str, str]) -> tuple[int, str]:
    base = {"PGPASSWORD": None, "PGUSER": None, "PGPASSFILE": None, "PGSERVICE": None}
    result = CliRunner().invoke(cli, args, env={**base, **env})
    return result.exit_code, result.output


def assert_nothing_written(out: Path) -> None:
    assert not out.exists()
    assert [p.name for p in out.parent.iterdir() if p.name.startswith(f".{out.name}.")] == []


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# --- PostgreSQL failures -----------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.parametrize(
    ("case", "code"),
    [
        ("wrong password", 63),
        ("no password", 63),
        ("unknown role", 63),
        ("nothing listening", 62),
        ("no such database", 62),
        ("unknown host", 62),
        ("no such table", 64),
        ("syntax error", 65),
        ("no such column", 65),
        ("division by zero", 65),
        ("a query that writes", 65),
        ("interval column", 66),
        ("bytea column", 66),
        ("money column", 66),
        ("array column", 66),
    ],
)
def test_postgresql_failures(pg: Database, tmp_path: Path, case: str, code: int) -> None:
    url, env = pg.url, {"PGPASSWORD": pg.password}
    what = ["--table", "bidrag"]
    if case == "wrong password":
        env = {"PGPASSWORD": WRONG}
    elif case == "no password":
        env = {"PGPASSFILE": str(tmp_path / "none")}
    elif case == "unknown role":
        url = url.replace(f"{pg.role}@", "ingen_sadan_roll@")
    elif case == "nothing listening":
        url = url.replace(f":{pg.port}/", f":{free_port()}/")
    elif case == "no such database":
        url = url.rsplit("/", 1)[0] + "/finns_inte"
    elif case == "unknown host":
        url = url.replace("127.0.0.1", "ingen-vard.invalid")
    elif case == "no such table":
        what = ["--table", "finns_inte"]
    elif case == "syntax error":
        what = ["--query", "SELEKT * FROM bidrag"]
    elif case == "no such column":
        what = ["--query", "SELECT saknas FROM bidrag"]
    elif case == "division by zero":
        what = ["--query", "SELECT id, 1 / (id - 3) AS x FROM bidrag ORDER BY id"]
    elif case == "a query that writes":
        what = ["--query", "DELETE FROM bidrag RETURNING id"]
    else:
        what = ["--table", {"interval column": "intervall", "bytea column": "binar",
                            "money column": "pengar", "array column": "listor"}[case]]  # fmt: skip
    out = tmp_path / "out"
    exit_code, output = run(["import", "sql", url, *what, "--out", str(out)], env)
    assert exit_code == code, output
    assert output.startswith("error: ") and "Traceback" not in output
    for secret in (pg.password, WRONG):
        assert secret not in output
    assert f"{pg.role}" not in output.replace(f"database {pg.name!r}", "")
    assert_nothing_written(out)
    if case == "a query that writes":
        assert pg.psql("SELECT count(*) FROM bidrag").strip() == "4"
    if code == 66:
        column = output.split("column ")[1].split(" ")[0]
        assert column in ("'varaktighet'", "'innehall'", "'summa'", "'taggar'")


@pytest.mark.postgres
def test_a_failed_query_names_the_problem_not_the_data(pg: Database, tmp_path: Path) -> None:
    exit_code, output = run(
        ["import", "sql", pg.url, "--query", "SELECT personnummer::int FROM bidrag",
         "--out", str(tmp_path / "o")],
        {"PGPASSWORD": pg.password},
    )  # fmt: skip
    assert exit_code == 65
    assert "while its rows were read" in output and "psql" in output
    for value in ("811228", "19640823", "701063", "640823"):
        assert value not in output
    exit_code, output = run(
        ["import", "sql", pg.url, "--query", "SELECT saknas FROM bidrag",
         "--out", str(tmp_path / "o")],
        {"PGPASSWORD": pg.password},
    )  # fmt: skip
    assert 'column "saknas" does not exist' in output and "SQLSTATE 42703" in output


@pytest.mark.postgres
def test_an_existing_folder_that_is_not_an_import_is_refused(pg: Database, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "egen.txt").write_text("min fil")
    exit_code, output = run(
        ["import", "sql", pg.url, "--table", "bidrag", "--out", str(out)],
        {"PGPASSWORD": pg.password},
    )
    assert exit_code == 6 and "not empty" in output
    assert sorted(p.name for p in out.iterdir()) == ["egen.txt"]


# --- SQLite failures ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("case", "code"),
    [
        ("missing file", 62),
        ("not a database", 62),
        ("no such table", 64),
        ("syntax error", 65),
        ("blob column", 66),
    ],
)
def test_sqlite_failures(tmp_path: Path, case: str, code: int) -> None:
    db = make_sqlite(tmp_path / "kommun.db")
    what = ["--table", "bidrag"]
    if case == "missing file":
        db = tmp_path / "saknas.db"
    elif case == "not a database":
        db = tmp_path / "text.db"
        db.write_text("id;namn\n1;Åsa\n")
    elif case == "no such table":
        what = ["--table", "finns_inte"]
    elif case == "syntax error":
        what = ["--query", "SELEKT 1"]
    else:
        what = ["--table", "bilagor"]
    out = tmp_path / "out"
    exit_code, output = run(["import", "sql", f"sqlite:///{db}", *what, "--out", str(out)], {})
    assert exit_code == code, output
    assert "Traceback" not in output
    assert_nothing_written(out)
    if case == "missing file":
        assert not db.exists()  # never created by the import


# --- URLs --------------------------------------------------------------------------------

_PASSWORD_CHARS = string.ascii_letters + string.digits + "!#$%&'()*+,-.;=?[]^_`{|}~åäöÅÄÖ "


@given(password=st.text(alphabet=_PASSWORD_CHARS, min_size=1, max_size=40))
@settings(max_examples=200, deadline=None)
def test_a_password_in_the_url_is_refused_and_never_echoed(password: str) -> None:
    quoted = urllib.parse.quote(password, safe="")
    for url in (
        f"postgresql://kalle:{quoted}@db.kommun.se:5432/ekonomi",
        f"postgres://kalle:{quoted}@db.kommun.se/ekonomi",
        f"postgresql://db.kommun.se/ekonomi?password={quoted}",
    ):
        with pytest.raises(PasswordInUrl) as caught:
            parse_url(url)
        message = str(caught.value)
        assert "PGPASSWORD" in message and ".pgpass" in message
        # The same fixed text whatever the URL: nothing of the password can be in it.
        assert message == str(PasswordInUrl("the database URL holds a password. " + HELP))


def test_the_cli_refuses_a_password_without_connecting(tmp_path: Path) -> None:
    out = tmp_path / "out"
    exit_code, output = run(
        ["import", "sql", "postgresql://kalle:hemligt-Z9@127.0.0.1:1/x", "--table", "t",
         "--out", str(out)],
        {},
    )  # fmt: skip
    assert exit_code == 61
    assert "hemligt-Z9" not in output and "kalle" not in output
    assert_nothing_written(out)


@pytest.mark.parametrize(
    "url",
    [
        "mysql://kalle@host/db",
        "postgresql://kalle@host:99999/db",
        "postgresql://kalle@host:5432/",
        "postgresql://kalle@host/db?sslmode=require&hemlighet=x",
        "sqlite://host/file.db",
        "sqlite:///",
        "",
    ],
)
def test_bad_urls(url: str) -> None:
    with pytest.raises(DatabaseUrlError):
        parse_url(url)


def test_url_parts() -> None:
    url = parse_url("postgresql://kalle@db.kommun.se:6543/ekonomi?sslmode=require")
    assert (url.host, url.port, url.database) == ("db.kommun.se", 6543, "ekonomi")
    assert url.user == "kalle"
    assert "kalle" not in url.describe() and "kalle" not in str(url.provenance())
    assert url.connect_uri() == (
        "postgresql://kalle@db.kommun.se:6543/ekonomi?connect_timeout=10&sslmode=require"
    )
    assert parse_url("sqlite:///data/k.db").path == Path("data/k.db")
    assert parse_url("sqlite:////var/lib/k.db").path == Path("/var/lib/k.db")
    spaced = parse_url("sqlite:///mapp%20med%20mellanslag/k.db")
    assert spaced.path == Path("mapp med mellanslag/k.db")
