"""Red team 4: a careless user's paths. A `--out` (or portal) that passes through a file, a
name longer than the file system takes, a link loop: each is the user's mistake, exit 6 with a
message naming what could not be made, never an internal error (exit 70), never a traceback,
nothing written."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner
from helpers import PackageFactory
from social_support import X_2024

from opengov.cli import cli
from opengov.errors import InputError

# Each mistake turns a base folder into a path that cannot be a folder to write into.
MISTAKES: dict[str, Callable[[Path], Path]] = {
    "under a file": lambda base: _file(base) / "out",
    "deeper under a file": lambda base: _file(base) / "a" / "b",
    "a name too long": lambda base: base / ("å" * 200),
    "under a link loop": lambda base: _loop(base) / "out",
}


def _file(base: Path) -> Path:
    path = base / "notes.txt"
    path.write_text("a steward's notes\n", encoding="utf-8")
    return path


def _loop(base: Path) -> Path:
    path = base / "loop"
    path.symlink_to("loop")
    return path


def _csv(base: Path) -> list[str]:
    source = base / "bidrag.csv"
    source.write_text("id,belopp\n1,100\n2,200\n", encoding="utf-8")
    return ["init", str(source), "--out"]


def _sqlite(base: Path) -> list[str]:
    db = base / "kommun.db"
    with sqlite3.connect(db) as connection:
        connection.execute("CREATE TABLE bidrag (id INTEGER PRIMARY KEY, belopp INTEGER)")
        connection.execute("INSERT INTO bidrag VALUES (1, 100)")
    connection.close()
    return ["import", "sql", f"sqlite:///{db}", "--table", "bidrag", "--out"]


def _twitter(base: Path) -> list[str]:
    return ["import", "twitter", str(X_2024), "--account", "Kommunen (X)",
            "--account-type", "official", "--out"]  # fmt: skip


COMMANDS: dict[str, Callable[[Path], list[str]]] = {
    "init": _csv,
    "import sql": _sqlite,
    "import twitter": _twitter,
    "portal init": lambda base: ["portal", "init"],
    "key new": lambda base: ["key", "new", "--out"],
}


def _snapshot(base: Path) -> set[Path]:
    return {p for p in base.rglob("*") if not p.is_symlink() or p.name != "loop"}


@pytest.mark.parametrize("mistake", sorted(MISTAKES))
@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_an_out_path_that_cannot_be_a_folder_is_the_users_mistake(
    tmp_path: Path, command: str, mistake: str
) -> None:
    args = COMMANDS[command](tmp_path)
    out = MISTAKES[mistake](tmp_path)
    before = _snapshot(tmp_path)
    result = CliRunner().invoke(cli, [*args, str(out)])
    assert result.exit_code == InputError.exit_code, (result.output, result.exception)
    assert "internal error" not in result.output
    assert "Traceback" not in result.output
    assert result.output.startswith("error: ")
    assert _snapshot(tmp_path) == before


@pytest.mark.parametrize("mistake", sorted(MISTAKES))
def test_redact_out_that_cannot_be_a_folder(
    tmp_path: Path, make_package: PackageFactory, key: str, mistake: str
) -> None:
    package = make_package()
    base = tmp_path / "work"
    base.mkdir()
    out = MISTAKES[mistake](base)
    before = _snapshot(base)
    result = CliRunner().invoke(cli, ["redact", str(package), "--out", str(out)])
    assert result.exit_code == InputError.exit_code, (result.output, result.exception)
    assert "internal error" not in result.output
    assert _snapshot(base) == before


@pytest.mark.parametrize("command", ["init", "import twitter"])
def test_out_given_as_dot_is_named_in_the_refusal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: str
) -> None:
    """`--out .` in a folder holding other files: the message named "output folder " (the name
    of `.` is empty), leaving the user to guess which folder was meant."""
    args = COMMANDS[command](tmp_path)
    work = tmp_path / "work"
    work.mkdir()
    (work / "notes.txt").write_text("a steward's notes\n", encoding="utf-8")
    monkeypatch.chdir(work)
    result = CliRunner().invoke(cli, [*args, "."])
    assert result.exit_code == InputError.exit_code, result.output
    assert "output folder . is not empty" in result.output
    assert sorted(p.name for p in work.iterdir()) == ["notes.txt"]
