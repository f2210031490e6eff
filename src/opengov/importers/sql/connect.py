"""Connections through ADBC, and the driver's failures as messages that quote nothing secret.

ADBC (Arrow Database Connectivity) drivers hand rows over as Arrow record batches: the
PostgreSQL driver reads with `COPY ... TO STDOUT (FORMAT binary)` and decodes into Arrow in
C++, the SQLite driver steps the statement in C; neither builds a Python object per cell, and
both stream, so a million-row table never has to fit in memory.

A driver's own message is never printed as it is: libpq's names the user, a server's error
for a bad cell quotes the cell. The failure is classified (by SQLSTATE where the driver gives
one, else by libpq's fixed English phrases) into an error class with its own exit code and a
message built here from what the steward typed. A query that the database refused before
reading any row (a syntax error, an unknown table or column, a missing privilege) gets the
database's one-line reason, which quotes the query, not the data.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from opengov.errors import (
    DatabaseAuthFailed,
    DatabaseUnreachable,
    OpengovError,
    QueryFailed,
)
from opengov.importers.sql.url import CREDENTIALS_HELP, DatabaseUrl

_AUTH_PHRASES = (
    "password authentication failed",
    "no password supplied",
    "authentication failed",
    'role "',  # role "x" does not exist
    "pg_hba.conf",
    "permission denied for database",
)
_SQLITE_HEADER = b"SQLite format 3\x00"


@contextmanager
def connect(url: DatabaseUrl) -> Iterator[Any]:
    """An open ADBC DB-API connection (autocommit off), closed on the way out."""
    conn = _open(url)
    try:
        yield conn
    finally:
        try:
            conn.close()
        except Exception:  # noqa: S110 - closing a broken connection must not hide the error
            pass


def _open(url: DatabaseUrl) -> Any:
    if url.driver == "sqlite":
        return _open_sqlite(url)
    import adbc_driver_postgresql.dbapi as pg

    try:
        return pg.connect(url.connect_uri())
    except Exception as exc:
        raise connect_error(url, _message(exc)) from None


def _open_sqlite(url: DatabaseUrl) -> Any:
    import adbc_driver_sqlite.dbapi as sqlite

    assert url.path is not None
    path = url.path
    hint = "" if path.is_absolute() else " (a relative path; sqlite:////abs/path.db for absolute)"
    if not path.is_file():
        raise DatabaseUnreachable(f"{url.describe()} does not exist{hint}")
    try:
        with path.open("rb") as fh:
            header = fh.read(len(_SQLITE_HEADER))
    except OSError as exc:
        raise DatabaseUnreachable(f"cannot read {url.describe()}: {exc.strerror}") from None
    if header != _SQLITE_HEADER:
        raise DatabaseUnreachable(f"{url.describe()} is not a SQLite database")
    try:
        return sqlite.connect(url.connect_uri())
    except Exception:
        raise DatabaseUnreachable(f"cannot open {url.describe()}") from None


def _message(exc: BaseException) -> str:
    return str(getattr(exc, "args", [""])[0] if getattr(exc, "args", None) else exc)


def connect_error(url: DatabaseUrl, message: str) -> OpengovError:
    """A libpq connection failure as an error naming host, port and database, nothing else."""
    where = url.describe()
    text = message.lower()
    if any(phrase in text for phrase in _AUTH_PHRASES):
        return DatabaseAuthFailed(
            f"{where} refused the credentials (a wrong or missing password, or a role it does "
            f"not know). {CREDENTIALS_HELP}"
        )
    if "database" in text and "does not exist" in text:
        return DatabaseUnreachable(f"{where} does not exist on that server")
    if "connection refused" in text:
        return DatabaseUnreachable(
            f"cannot reach {where}: the connection was refused (is PostgreSQL running there, "
            "on that port, and listening on TCP?)"
        )
    if "could not translate host name" in text or "name or service not known" in text:
        return DatabaseUnreachable(f"cannot reach {where}: the host name is unknown")
    if "timeout" in text or "timed out" in text:
        return DatabaseUnreachable(
            f"cannot reach {where}: no answer within the connect timeout "
            "(connect_timeout in the URL, default 10 seconds)"
        )
    if "ssl" in text:
        return DatabaseUnreachable(f"cannot reach {where}: the TLS (sslmode) handshake failed")
    return DatabaseUnreachable(f"cannot connect to {where}")


# SQLSTATE classes whose messages come from parsing and analysing the query text, before any
# row is read: they quote the query (the steward's own text), never a stored value.
_QUERY_TEXT_CLASSES = ("42",)
_SQLITE_PREPARE = re.compile(
    r"^(no such (?:table|column|function): [^\n]{1,200}|near \"[^\n]{1,80}\": syntax error|"
    r"ambiguous column name: [^\n]{1,200}|incomplete input)$"
)
_SQLSTATE_CLASSES = {
    "08": "the connection was lost",
    "22": "a value could not be converted or is out of range",
    "23": "a constraint was violated",
    "25": "not allowed in a read-only transaction (an import only reads)",
    "40": "the transaction was rolled back by the server",
    "53": "the server ran out of a resource",
    "54": "a program limit of the server was exceeded",
    "57": "the server cancelled the query (a timeout, or the server shutting down)",
    "XX": "the server reported an internal error",
}


def query_error(url: DatabaseUrl, exc: BaseException, *, what: str) -> OpengovError:
    """A failed statement as QueryFailed (or a lost connection), quoting no stored value."""
    sqlstate = getattr(exc, "sqlstate", None)
    message = _message(exc)
    if url.driver == "sqlite":
        reason = _sqlite_reason(message)
        return QueryFailed(f"{what} failed on {url.describe()}: {reason}")
    if sqlstate and sqlstate.startswith("28"):
        return DatabaseAuthFailed(f"{url.describe()} refused the credentials. {CREDENTIALS_HELP}")
    if sqlstate and sqlstate[:2] in _QUERY_TEXT_CLASSES:
        primary = _detail(exc, b"PG_DIAG_MESSAGE_PRIMARY")
        position = _detail(exc, b"PG_DIAG_STATEMENT_POSITION")
        reason = primary.splitlines()[0][:300] if primary else "refused"
        at = f" at character {position}" if position and what == "the query" else ""
        return QueryFailed(f"{what} failed on {url.describe()}: {reason}{at} (SQLSTATE {sqlstate})")
    if sqlstate:
        reason = _SQLSTATE_CLASSES.get(sqlstate[:2], "the server refused it")
        return QueryFailed(f"{what} failed on {url.describe()}: {reason} (SQLSTATE {sqlstate})")
    if "Execution error" in message or "ERROR:" in message:
        # Failed while the rows streamed (the driver gives no SQLSTATE there): the server's
        # text often quotes the offending value, so it stays unprinted.
        return QueryFailed(
            f"{what} failed on {url.describe()} while its rows were read (a value that could "
            "not be converted, a division by zero, ...); the server's message is not shown "
            "since it can quote a stored value: run the query in psql to see it"
        )
    if "connection" in message.lower() or "server closed" in message.lower():
        return DatabaseUnreachable(f"the connection to {url.describe()} was lost during {what}")
    return QueryFailed(f"{what} failed on {url.describe()} (the driver gave no SQLSTATE)")


def _detail(exc: BaseException, key: bytes) -> str | None:
    for name, value in getattr(exc, "details", None) or []:
        if name == key:
            return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
    return None


def _sqlite_reason(message: str) -> str:
    # "INVALID_ARGUMENT: [SQLite] Failed to prepare query: no such table: x\nquery: ..."
    if "Failed to prepare query: " in message:
        reason = message.split("Failed to prepare query: ", 1)[1].split("\n", 1)[0].strip()
        if _SQLITE_PREPARE.match(reason):
            return reason
        return "the query could not be prepared"
    if "readonly database" in message:
        return "not allowed: the file is opened read-only (an import only reads)"
    if "type" in message.lower():
        return (
            "a column holds values of several types (SQLite is dynamically typed); "
            "CAST it to one type in a --query"
        )
    return "the database could not run it"
