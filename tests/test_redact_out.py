"""`opengov redact --out DIR` run again: it replaces its own earlier output, nothing else.

Found by a README walkthrough: a second identical run was refused ("exists and is not empty"),
so the tour needed `rm -rf` before it. Now a run leaves `.opengov-redact.json` (every file it
wrote, with its sha256), and a later run replaces the folder only while it holds exactly those
files with those bytes; a folder of the steward's own, or a review copy edited since, is
refused with nothing written.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from helpers import STAFF_ROWS, PackageFactory, write_csv

from opengov import errors, redacted_folder
from opengov.cli import cli


def _redact(package: Path, out: Path) -> Result:
    return CliRunner().invoke(cli, ["redact", str(package), "--out", str(out)])


def _tree(folder: Path) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for p in sorted(folder.rglob("*")):
        rel = str(p.relative_to(folder))
        if p.is_symlink():
            out[rel] = ("link", os.readlink(p))
        elif p.is_file():
            out[rel] = p.read_bytes()
        else:
            out[rel] = "folder"
    return out


def _siblings(out: Path) -> list[str]:
    return sorted(p.name for p in out.parent.iterdir())


def test_a_second_identical_run_replaces_its_own_output(
    make_package: PackageFactory, tmp_path: Path, key: str
) -> None:
    package, out = make_package(), tmp_path / "review" / "granskning"
    first = _redact(package, out)
    assert first.exit_code == 0, first.output
    written = _tree(out)
    marker = json.loads((out / redacted_folder.MARKER).read_bytes())
    assert set(marker["files"]) == {k for k, v in written.items() if isinstance(v, bytes)} - {
        redacted_folder.MARKER
    }
    for _ in range(2):
        inode = out.stat().st_ino
        again = _redact(package, out)
        assert again.exit_code == 0, again.output
        assert _tree(out) == written
        assert out.stat().st_ino != inode  # replaced by the folder built beside it
    assert _siblings(out) == ["granskning"]  # no staging or old folder left beside it


def test_a_changed_package_replaces_the_earlier_output(
    make_package: PackageFactory, tmp_path: Path, key: str
) -> None:
    package, out = make_package(), tmp_path / "review" / "granskning"
    assert _redact(package, out).exit_code == 0
    rows = [list(r) for r in STAFF_ROWS]
    rows[1][5] = "Ekonomi"
    write_csv(package / "data" / "personal.csv", rows)
    assert _redact(package, out).exit_code == 0
    assert b"Ekonomi" in (out / "data" / "personal.csv").read_bytes()


def _edit(out: Path) -> None:
    csv = out / "data" / "personal.csv"
    csv.write_bytes(csv.read_bytes() + b"\n")


def _add_notes(out: Path) -> None:
    (out / "anteckningar.txt").write_text("Fråga juristen om rad 3.", encoding="utf-8")


def _remove(out: Path) -> None:
    (out / "validation.html").unlink()


def _link(out: Path) -> None:
    (out / "data" / "extra.csv").symlink_to(out / "data" / "personal.csv")


def _forged_marker(out: Path) -> None:
    (out / redacted_folder.MARKER).write_text('{"format": 1, "files": {}}', encoding="utf-8")


def _damaged_marker(out: Path) -> None:
    (out / redacted_folder.MARKER).write_text("{", encoding="utf-8")


def _marker_removed(out: Path) -> None:
    (out / redacted_folder.MARKER).unlink()


TOUCHED: dict[str, Callable[[Path], None]] = {
    "a file edited": _edit,
    "notes added": _add_notes,
    "a file removed": _remove,
    "a link added": _link,
    "marker not opengov's": _forged_marker,
    "marker damaged": _damaged_marker,
    "marker removed": _marker_removed,
}


@pytest.mark.parametrize("how", sorted(TOUCHED))
def test_an_earlier_output_touched_since_is_refused_and_kept(
    make_package: PackageFactory, tmp_path: Path, key: str, how: str
) -> None:
    package, out = make_package(), tmp_path / "review" / "granskning"
    assert _redact(package, out).exit_code == 0
    TOUCHED[how](out)
    before = _tree(out)
    result = _redact(package, out)
    assert result.exit_code == errors.InputError.exit_code, result.output
    assert "not the untouched output of an earlier `opengov redact`" in result.output
    assert "choose a new folder" in result.output and "Traceback" not in result.output
    assert _tree(out) == before
    assert _siblings(out) == ["granskning"]


@pytest.mark.parametrize("what", ["own files", "a file", "a link to a folder"])
def test_a_folder_that_is_not_its_output_is_refused(
    make_package: PackageFactory, tmp_path: Path, key: str, what: str
) -> None:
    package, out = make_package(), tmp_path / "review" / "mina-filer"
    out.parent.mkdir()
    if what == "own files":
        out.mkdir()
        (out / "budget.xlsx").write_bytes(b"PK\x03\x04 kommunens egen fil")
        (out / "datapackage.json").write_text("{}", encoding="utf-8")
    elif what == "a file":
        out.write_text("kvitto", encoding="utf-8")
    else:
        (out.parent / "elsewhere").mkdir()
        out.symlink_to(out.parent / "elsewhere")
    before = _tree(out.parent)
    result = _redact(package, out)
    assert result.exit_code == errors.InputError.exit_code, result.output
    assert "Traceback" not in result.output
    assert _tree(out.parent) == before


def test_an_empty_folder_is_written_into(
    make_package: PackageFactory, tmp_path: Path, key: str
) -> None:
    out = tmp_path / "tom"
    out.mkdir()  # as `mkdir` before a first run leaves it
    assert _redact(make_package(), out).exit_code == 0
    assert (out / redacted_folder.MARKER).is_file()


def test_a_change_to_the_earlier_output_while_redacting_is_not_overwritten(
    make_package: PackageFactory, tmp_path: Path, key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    package, out = make_package(), tmp_path / "review" / "granskning"
    assert _redact(package, out).exit_code == 0
    from opengov.release import build as build_module

    real = build_module.build

    def meanwhile(*args: Any, **kw: Any) -> Any:
        release = real(*args, **kw)
        _add_notes(out)
        return release

    monkeypatch.setattr(build_module, "build", meanwhile)
    before_notes = _tree(out)
    result = _redact(package, out)
    assert result.exit_code == errors.InputError.exit_code, result.output
    assert "changed while" in result.output
    after = _tree(out)
    assert after["anteckningar.txt"] == "Fråga juristen om rad 3.".encode()
    assert {k: v for k, v in after.items() if k != "anteckningar.txt"} == before_notes
    assert _siblings(out) == ["granskning"]
