"""Peer contract: the Python examples of the docs, copied as they stand and run, each in a
folder holding the files it names (built here); only a database server's URL is pointed at a
SQLite file. A steward pasting an example gets what the page says, not a NameError."""

from __future__ import annotations

import contextlib
import csv
import io
import re
import shutil
import sqlite3
import zipfile
from pathlib import Path
from typing import Any

import pytest
from peer_support import ROOT, environment, grants_package, library_publish

SOCIAL = ROOT / "tests" / "fixtures" / "social"


def examples(page: str) -> list[str]:
    text = (ROOT / "docs" / page).read_text("utf-8")
    return re.findall(r"^```python\n(.*?)^```", text, re.M | re.S)


def run(code: str, cwd: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    for name, value in environment(cwd).items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(cwd)
    scope: dict[str, Any] = {"__name__": "__doc_example__"}
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, "<docs example>", "exec"), scope)  # the docs' own code
    scope["printed"] = out.getvalue()
    return scope


def test_the_provenance_example_checks_a_release(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (code,) = examples("provenance.md")
    shutil.copy(SOCIAL / "example-pseudonym-key.txt", tmp_path / "nyckel.txt")
    package = grants_package(tmp_path / "datapackages" / "diarium-2024", name="diarium-2024")
    library_publish(package, tmp_path / "portal", tmp_path, key_file=tmp_path / "nyckel.txt")
    printed = run(code, tmp_path, monkeypatch)["printed"].splitlines()
    assert printed and all(line.endswith(" ok") for line in printed), printed
    assert {line.split()[0] for line in printed} >= {"descriptor", "rules", "data"}


def test_the_importers_example_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (code,) = examples("importers.md")
    (tmp_path / "bidrag.csv").write_text("id;namn\n1;Exempelby IF\n2;Västra Schack\n", "utf-8")
    with sqlite3.connect(tmp_path / "ekonomi.db") as db:
        db.execute("CREATE TABLE bidrag (id INTEGER PRIMARY KEY, namn TEXT)")
        db.execute("INSERT INTO bidrag VALUES (1, 'Exempelby IF')")
    code = code.replace('"postgresql://registrator@db/ekonomi"', '"sqlite:///ekonomi.db"')
    scope = run(code, tmp_path, monkeypatch)
    assert scope["result"].to_dict()["rows"] == 1
    assert (tmp_path / "bidrag" / "datapackage.json").is_file()


def test_the_social_media_example_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (code,) = examples("social-media.md")
    shutil.copy(SOCIAL / "example-pseudonym-key.txt", tmp_path / "nyckel.txt")
    export = SOCIAL / "facebook-page-2025"
    with zipfile.ZipFile(tmp_path / "fb.zip", "w") as archive:
        for path in sorted(export.rglob("*")):
            if path.is_file():
                archive.write(path, path.relative_to(export).as_posix())
    # beslut.csv can only name records once they exist: run the import, then write it.
    first, _, last = code.rpartition("classify(")
    scope = run(first, tmp_path, monkeypatch)
    assert scope["result"].to_dict()["posts"]["total"] > 0
    rows = list(csv.DictReader(io.StringIO((tmp_path / "pkg" / "posts.csv").read_text("utf-8"))))
    (tmp_path / "beslut.csv").write_text(
        "record_id,classification,classified_by,reason\n"
        f"{rows[0]['record_id']},private,Registrator,Privat hälsning\n",
        "utf-8",
    )
    run(first + "classify(" + last, tmp_path, monkeypatch)
    rows = list(csv.DictReader(io.StringIO((tmp_path / "pkg" / "posts.csv").read_text("utf-8"))))
    assert rows[0]["classification"] == "private"
