"""A command imports what it uses, nothing more: start-up is part of every command's time.

`opengov validate` of a 1M-row file spent ~0.4 s importing, part of it code it never ran
(every other command's module, publishing targets, YAML for a package without rules). Each case
runs the real entry point (`opengov.cli.main`) in a fresh interpreter and reads `sys.modules`
as the process ends.
"""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import STAFF_ROWS, STAFF_SCHEMA, PackageFactory, write_csv

# Runs `opengov ARGS...` and, as the process ends (atexit runs before opengov's fast exit),
# writes the names of the loaded modules to OUT.
_SCRIPT = """
import atexit, json, sys
out, args = sys.argv[1], sys.argv[2:]

def dump():
    with open(out, "w", encoding="utf-8") as fh:
        json.dump(sorted(sys.modules), fh)

atexit.register(dump)
sys.argv = ["opengov", *args]
from opengov.cli import main
main()
"""

# Never needed to validate: other commands, publishing, pages, importers, CKAN.
NOT_FOR_VALIDATE = (
    "opengov.cli.approve",
    "opengov.cli.importers",
    "opengov.cli.init",
    "opengov.cli.keys",
    "opengov.cli.portal",
    "opengov.cli.publish",
    "opengov.cli.social",
    "opengov.cli.verify",
    "opengov.targets",
    "opengov.release",
    "opengov.importers",
    "opengov.pipeline",
    "opengov.verify",
    "opengov.approvals",
    "opengov.review",
    "opengov.redact.apply",
    "jinja2",
    "requests",
    "urllib3",
)
NEEDED_TO_VALIDATE = ("opengov.cli.validate", "opengov.validate.arrow_engine", "pyarrow")


def _modules(tmp_path: Path, *args: str, expect: int = 0) -> set[str]:
    out = tmp_path / "modules.json"
    out.unlink(missing_ok=True)
    proc = subprocess.run(
        [sys.executable, "-c", _SCRIPT, str(out), *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == expect, (proc.stdout, proc.stderr)
    return set(json.loads(out.read_text(encoding="utf-8")))


def _under(modules: set[str], prefixes: tuple[str, ...]) -> list[str]:
    return sorted(m for m in modules if any(m == p or m.startswith(p + ".") for p in prefixes))


def _with_type_error() -> list[list[str]]:
    rows = copy.deepcopy(STAFF_ROWS)
    rows[2][3] = "fyrtio tusen"  # lon: not a number
    return rows


@pytest.mark.parametrize(
    ("rules", "rows", "extra_args", "expect"),
    [
        pytest.param(None, None, (), 0, id="valid-no-rules"),
        pytest.param(None, None, ("--json",), 0, id="json-no-rules"),
        pytest.param(None, _with_type_error(), (), 1, id="type-error-no-rules"),
        pytest.param("default", None, (), 0, id="valid-with-rules"),
        pytest.param("default", _with_type_error(), ("--json",), 1, id="type-error-with-rules"),
    ],
)
def test_validate_imports_only_what_validating_needs(
    make_package: PackageFactory,
    tmp_path: Path,
    rules: str | None,
    rows: list[list[str]] | None,
    extra_args: tuple[str, ...],
    expect: int,
) -> None:
    package = make_package(rows=rows) if rules else make_package(rows=rows, rules=None)
    report = tmp_path / "report.json"
    modules = _modules(
        tmp_path, "validate", str(package), "--report", str(report), *extra_args, expect=expect
    )
    assert report.is_file()
    assert _under(modules, NEEDED_TO_VALIDATE) != []  # the dump saw a real validation
    assert set(NEEDED_TO_VALIDATE) <= modules
    assert _under(modules, NOT_FOR_VALIDATE) == []
    # YAML only where there is YAML to read; the type hints only where a type error was found;
    # frictionless only to arbitrate cells the fast path did not accept (sources/cast.py).
    assert ("yaml" in modules) == (rules is not None)
    assert ("opengov.validate.hints" in modules) == (expect == 1)
    if expect == 0:
        assert _under(modules, ("frictionless",)) == []


def test_validate_one_file_with_a_schema_imports_no_publishing(tmp_path: Path) -> None:
    data = tmp_path / "personal.csv"
    write_csv(data, STAFF_ROWS)
    schema = tmp_path / "schema.json"
    schema.write_text(json.dumps(STAFF_SCHEMA), encoding="utf-8")
    modules = _modules(tmp_path, "validate", str(data), "--schema", str(schema))
    assert set(NEEDED_TO_VALIDATE) <= modules
    assert _under(modules, (*NOT_FOR_VALIDATE, "yaml", "frictionless")) == []


@pytest.mark.parametrize(
    "args",
    [("--help",), ("validate", "--help"), ("publish", "--help"), ("exit-codes",)],
    ids=["help", "validate-help", "publish-help", "exit-codes"],
)
def test_help_and_exit_codes_load_no_engine(tmp_path: Path, args: tuple[str, ...]) -> None:
    """Listing the commands reads each command's module, never the library behind it."""
    modules = _modules(tmp_path, *args)
    assert "opengov.cli" in modules
    heavy = ("pyarrow", "numpy", "yaml", "jinja2", "frictionless")
    library = ("opengov.validate", "opengov.targets", "opengov.release", "opengov.package")
    assert _under(modules, (*heavy, *library)) == []
