"""docs/tutorial.md is a test: its shell commands run in order, each with the exit code the
tutorial states, against the fixture export and an XLSX built here, and against the real
PostgreSQL for the database part (the tutorial's URL is pointed at the test database)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from init_fixtures import write_xlsx
from markdown_commands import commands
from postgres_db import Database, postgres  # noqa: F401 - the session fixture
from sql_fixtures import PG_SETUP, pg_insert_grants

ROOT = Path(__file__).resolve().parents[1]
TUTORIAL = ROOT / "docs" / "tutorial.md"
FIXTURES = ROOT / "tests" / "fixtures" / "tutorial"
TUTORIAL_URL = "postgresql://registrator@localhost:5432/kommun"

pytestmark = pytest.mark.postgres


def test_the_tutorial_parses_into_commands() -> None:
    found = commands(TUTORIAL.read_text("utf-8"))
    assert len(found) >= 15
    assert [c.exit_code for c in found].count(5) == 2  # both drafts refuse to publish
    assert any(c.exit_code == 61 for c in found) and any(c.exit_code == 67 for c in found)
    assert all("PGPASSWORD=" not in c.text for c in found)


def test_the_tutorial_runs(postgres: Database, tmp_path: Path) -> None:  # noqa: F811
    if "bidrag" not in postgres.psql("SELECT tablename FROM pg_tables WHERE tablename='bidrag'"):
        postgres.psql(PG_SETUP + pg_insert_grants())
    shutil.copy(FIXTURES / "bidrag.csv", tmp_path / "bidrag.csv")
    write_xlsx(tmp_path / "bidrag.xlsx", extra_sheet=True)
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "HOME": str(tmp_path),
        "OPENGOV_TRUST_STORE": str(tmp_path / "trust.json"),
        "PGPASSWORD": postgres.password,
        "NO_COLOR": "1",
    }
    for name in ("PGUSER", "PGPASSFILE", "PGSERVICE", "OPENGOV_SIGNING_KEY_FILE"):
        env.pop(name, None)
    for command in commands(TUTORIAL.read_text("utf-8")):
        script = command.text.replace(TUTORIAL_URL, postgres.url)
        done = subprocess.run(
            ["bash", "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True,
            timeout=300, check=False,
        )  # fmt: skip
        assert done.returncode == command.exit_code, (
            f"docs/tutorial.md line {command.line}: {command.text!r} exited "
            f"{done.returncode}, the tutorial says {command.exit_code}\n{done.stdout}{done.stderr}"
        )
        assert postgres.password not in done.stdout + done.stderr
    published = (tmp_path / "portal" / "bidrag" / "data" / "bidrag.csv").read_text("utf-8")
    assert "personnummer" not in published.splitlines()[0] and "811228-9874" not in published
    from_db = (tmp_path / "portal" / "bidrag-db" / "data" / "bidrag-db.csv").read_text("utf-8")
    assert "070-123 45 67" not in from_db and "[telefonnummer borttaget]" in from_db
