"""A real PostgreSQL database for the import tests: the machine's cluster, a role and a
database of this checkout's own, created through the `postgres` superuser and dropped after.

scripts/test.sh installs PostgreSQL and starts the cluster (for CKAN); run alone, these
fixtures start a cluster that is down and stop it again afterwards. The role's password is new
for every session and reaches libpq only through PGPASSWORD, as a steward's would.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHECKOUT = hashlib.sha1(str(ROOT).encode()).hexdigest()[:8]
NAME = os.environ.get("OPENGOV_SQL_TEST_DB", f"opengov_sqltest_{CHECKOUT}")


@dataclass(frozen=True)
class Database:
    host: str
    port: int
    name: str
    role: str
    password: str

    @property
    def url(self) -> str:
        """The URL a steward types: no password."""
        return f"postgresql://{self.role}@{self.host}:{self.port}/{self.name}"

    def env(self) -> dict[str, str]:
        return {"PGPASSWORD": self.password}

    def psql(self, sql: str) -> str:
        """Run SQL as the test role (over TCP, with the password from the environment)."""
        result = subprocess.run(
            ["psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-h", self.host,
             "-p", str(self.port), "-U", self.role, "-d", self.name],
            input=sql, capture_output=True, text=True, check=False,
            env={**os.environ, "PGPASSWORD": self.password},
        )  # fmt: skip
        if result.returncode:
            raise RuntimeError(f"psql failed: {result.stderr}")
        return result.stdout


def _as_postgres(*args: str, sql: str | None = None) -> subprocess.CompletedProcess[str]:
    if os.geteuid() == 0:
        command = ["runuser", "-u", "postgres", "--", *args]
    else:
        command = ["sudo", "-n", "-u", "postgres", *args]
    return subprocess.run(command, input=sql, capture_output=True, text=True, check=False)


def _cluster() -> tuple[str, str, int, bool]:
    if shutil.which("pg_lsclusters") is None:
        pytest.fail(
            "PostgreSQL is not installed: run ./scripts/test.sh, which installs it, or "
            "apt-get install postgresql (deselect with -m 'not postgres')"
        )
    lines = subprocess.run(
        ["pg_lsclusters", "--no-header"], capture_output=True, text=True, check=True
    ).stdout.split("\n")
    fields = next((line.split() for line in lines if line.strip()), None)
    if not fields:
        pytest.fail("no PostgreSQL cluster: run ./scripts/test.sh (it creates and starts one)")
    version, cluster, port, status = fields[0], fields[1], int(fields[2]), fields[3]
    return version, cluster, port, status == "online"


@pytest.fixture(scope="session")
def postgres() -> Iterator[Database]:
    version, cluster, port, online = _cluster()
    started = False
    if not online:
        start = ["pg_ctlcluster", version, cluster, "start"]
        if os.geteuid() != 0:
            start = ["sudo", "-n", *start]
        subprocess.run(start, check=True)
        started = True
    password = secrets.token_hex(16)
    setup = f"""
DO $$BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{NAME}') THEN
    CREATE ROLE {NAME} LOGIN;
  END IF;
END$$;
ALTER ROLE {NAME} LOGIN PASSWORD '{password}';
DROP DATABASE IF EXISTS {NAME} WITH (FORCE);
CREATE DATABASE {NAME} OWNER {NAME} TEMPLATE template0 ENCODING 'UTF8'
  LC_COLLATE 'C.UTF-8' LC_CTYPE 'C.UTF-8';
"""
    result = _as_postgres("psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-p", str(port), sql=setup)
    if result.returncode:
        pytest.fail(f"cannot create the test database as the postgres superuser: {result.stderr}")
    try:
        yield Database("127.0.0.1", port, NAME, NAME, password)
    finally:
        _as_postgres(
            "psql", "-X", "-q", "-p", str(port),
            sql=f"DROP DATABASE IF EXISTS {NAME} WITH (FORCE); DROP ROLE IF EXISTS {NAME};",
        )  # fmt: skip
        if started:
            stop = ["pg_ctlcluster", version, cluster, "stop"]
            subprocess.run(stop if os.geteuid() == 0 else ["sudo", "-n", *stop], check=False)
