"""Database URLs: what the steward types, checked, with no place for a password.

`postgresql://user@host:port/database` (also `postgres://`) and `sqlite:///path/to/file.db`
(SQLAlchemy's form: three slashes and a relative path, four for an absolute one). A password
on the command line stays in the shell's history and in the process list for anyone on the
machine to read, so a URL with one is refused: libpq reads it from PGPASSWORD or ~/.pgpass
(PGPASSFILE), which is where it belongs. Messages never quote the URL itself, only the parts
checked here (driver, host, port, database), since a malformed URL could hide a password.
"""

from __future__ import annotations

import re
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from opengov.errors import DatabaseUrlError, PasswordInUrl

Driver = Literal["postgresql", "sqlite"]

_SCHEMES: dict[str, Driver] = {
    "postgresql": "postgresql",
    "postgres": "postgresql",
    "sqlite": "sqlite",
}
# libpq parameters a URL may carry: connection and TLS settings, and where libpq finds the
# credentials (a service file or a password file). Anything else is refused by name.
PG_OPTIONS = frozenset(
    {
        "sslmode", "sslrootcert", "sslcert", "sslkey", "sslcrl", "sslcompression",
        "connect_timeout", "application_name", "target_session_attrs", "gssencmode",
        "krbsrvname", "service", "passfile", "keepalives", "keepalives_idle",
    }
)  # fmt: skip
# Credentials themselves never ride in a URL.
_SECRET_OPTIONS = frozenset({"password", "sslpassword"})
DEFAULT_CONNECT_TIMEOUT = 10  # seconds: an unreachable host must not hang the import

CREDENTIALS_HELP = (
    "opengov takes no password on the command line (it would stay in the shell's history and "
    "the process list). Give the URL without it (postgresql://user@host:port/database) and put "
    "the password in the environment variable PGPASSWORD, or in ~/.pgpass as "
    "host:port:database:user:password (chmod 600; PGPASSFILE names another file)"
)


@dataclass(frozen=True)
class DatabaseUrl:
    """A parsed URL. `user` is only passed to the driver; it is not printed or recorded."""

    driver: Driver
    host: str | None = None
    port: int | None = None
    database: str | None = None
    user: str | None = None
    path: Path | None = None  # sqlite
    options: tuple[tuple[str, str], ...] = ()

    def describe(self) -> str:
        """Where the data comes from, for messages: never the user or any credential."""
        if self.driver == "sqlite":
            return f"SQLite file {self.path}"
        host = self.host or "the local socket"
        port = f":{self.port}" if self.port else ""
        return f"PostgreSQL database {self.database!r} on {host}{port}"

    def connect_uri(self) -> str:
        """The URI the driver gets: no password (libpq finds it itself)."""
        if self.driver == "sqlite":
            assert self.path is not None
            # Read-only: an import never writes, and never creates a missing file.
            return self.path.resolve().as_uri() + "?mode=ro"
        user = urllib.parse.quote(self.user, safe="") + "@" if self.user else ""
        host = self.host or ""
        if ":" in host:
            host = f"[{host}]"
        port = f":{self.port}" if self.port else ""
        options = dict(self.options)
        options.setdefault("connect_timeout", str(DEFAULT_CONNECT_TIMEOUT))
        query = urllib.parse.urlencode(sorted(options.items()))
        database = urllib.parse.quote(self.database or "", safe="")
        return f"postgresql://{user}{host}{port}/{database}?{query}"

    def provenance(self) -> dict[str, object]:
        """What import.json records about the source: no user, no credential."""
        if self.driver == "sqlite":
            return {"driver": "sqlite", "path": str(self.path)}
        return {
            "driver": "postgresql",
            "host": self.host or "local socket",
            "port": self.port or 5432,
            "database": self.database,
        }


def parse_url(text: str) -> DatabaseUrl:
    """Check a URL and split it; refuse a password in it before anything else."""
    try:
        parts = urllib.parse.urlsplit(text.strip())
    except ValueError:
        raise DatabaseUrlError(
            "the database URL cannot be read; use postgresql://user@host:port/database "
            "or sqlite:///path/to/file.db"
        ) from None
    scheme = parts.scheme.lower()
    driver = _SCHEMES.get(scheme.split("+")[0])
    userinfo = parts.netloc.rpartition("@")[0] if "@" in parts.netloc else ""
    query = urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
    if ":" in userinfo or any(key in _SECRET_OPTIONS for key, _ in query):
        raise PasswordInUrl("the database URL holds a password. " + CREDENTIALS_HELP)
    if driver is None:
        raise DatabaseUrlError(
            f"unsupported database URL scheme {scheme or '(none)'!r}; use "
            "postgresql://user@host:port/database or sqlite:///path/to/file.db"
        )
    if driver == "sqlite":
        return _sqlite(parts)
    return _postgresql(parts, query)


def _sqlite(parts: urllib.parse.SplitResult) -> DatabaseUrl:
    if parts.netloc or parts.query or parts.fragment:
        raise DatabaseUrlError(
            "a SQLite URL is sqlite:///relative/path.db or sqlite:////absolute/path.db "
            "(no host, no options)"
        )
    # urlsplit keeps the slash before the path: sqlite:///a.db -> "/a.db" (relative "a.db"),
    # sqlite:////abs.db -> "//abs.db" (absolute "/abs.db").
    raw = urllib.parse.unquote(parts.path[1:] if parts.path.startswith("/") else parts.path)
    if not raw or raw == ":memory:":
        raise DatabaseUrlError("name the SQLite file: sqlite:///path/to/file.db")
    return DatabaseUrl(driver="sqlite", path=Path(raw))


def _postgresql(parts: urllib.parse.SplitResult, query: list[tuple[str, str]]) -> DatabaseUrl:
    try:
        port = parts.port
    except ValueError:
        raise DatabaseUrlError(
            "the port in the database URL is not a number from 1 to 65535"
        ) from None
    database = urllib.parse.unquote(parts.path.lstrip("/"))
    if not database or "/" in database:
        raise DatabaseUrlError("name the database in the URL: postgresql://user@host:port/DATABASE")
    unknown = sorted({key for key, _ in query} - PG_OPTIONS)
    if unknown:
        # Only names that look like parameter names are repeated: a stray value is not shown.
        named = [key if re.fullmatch(r"[a-z_]{1,40}", key) else "(not shown)" for key in unknown]
        raise DatabaseUrlError(
            f"unknown option(s) in the database URL: {', '.join(named)} "
            f"(known: {', '.join(sorted(PG_OPTIONS))})"
        )
    user = urllib.parse.unquote(parts.username) if parts.username else None
    return DatabaseUrl(
        driver="postgresql",
        host=parts.hostname,
        port=port,
        database=database,
        user=user,
        options=tuple(sorted(query)),
    )
