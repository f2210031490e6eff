"""The CLI through click's CliRunner: exit codes, --json equal to the API, no tracebacks."""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner
from helpers import PNR, STAFF_ROWS, PackageFactory

from opengov import errors
from opengov.cli import cli
from opengov.targets.static import publish_static
from opengov.validate import validate

FIXTURES = Path(__file__).parent / "fixtures" / "bad"
DATAPACKAGES = Path(__file__).parent.parent / "datapackages"


def _strip_seconds(data: Any) -> Any:
    if isinstance(data, dict):
        return {k: _strip_seconds(v) for k, v in data.items() if k != "seconds"}
    if isinstance(data, list):
        return [_strip_seconds(v) for v in data]
    return data


def test_every_command_has_help(runner: CliRunner) -> None:
    ctx = click.Context(cli)
    names = cli.list_commands(ctx)
    assert {"validate", "publish", "import", "key", "portal", "exit-codes"} <= set(names)
    for name in names:
        command = cli.get_command(ctx, name)
        assert command is not None and command.name == name, name
        result = runner.invoke(cli, [name, "--help"])
        assert result.exit_code == 0, (name, result.output)
        assert command.help, name


@pytest.mark.parametrize(
    ("args", "incomplete", "expected"),
    [
        ([], "", None),
        ([], "v", ["validate", "verify"]),
        (["import"], "", ["facebook", "sql", "twitter"]),
        (["key"], "", ["new", "show"]),
        (["portal"], "", ["init", "show"]),
        (["validate"], "--show-v", ["--show-values", "--show-values-in-report"]),
    ],
)
def test_shell_completion_reaches_every_command(
    args: list[str], incomplete: str, expected: list[str] | None
) -> None:
    """Completion walks the lazily loaded commands as --help does (cli/app.py LazyGroup)."""
    from click.shell_completion import BashComplete

    complete = BashComplete(cli, {}, "opengov", "_OPENGOV_COMPLETE")
    got = [item.value for item in complete.get_completions(args, incomplete)]
    assert got == (expected or cli.list_commands(click.Context(cli)))
    assert len(got) >= 2


def test_exit_codes_command_lists_every_code(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["exit-codes"])
    assert result.exit_code == 0
    for code in errors.EXIT_CODES:
        assert f"{code:>3}  " in result.output


def test_validate_json_equals_the_api(make_package: PackageFactory, runner: CliRunner) -> None:
    rows = copy.deepcopy(STAFF_ROWS)
    rows[1][3] = "mycket"
    root = make_package(rows=rows)
    result = runner.invoke(cli, ["validate", str(root), "--json"])
    assert result.exit_code == 1, result.output
    assert _strip_seconds(json.loads(result.output)) == _strip_seconds(validate(root).to_dict())


def test_validate_writes_html_and_json(
    make_package: PackageFactory, runner: CliRunner, tmp_path: Path
) -> None:
    rows = copy.deepcopy(STAFF_ROWS)
    rows[1][2] = PNR + "x"
    rows[1][3] = "mycket"
    html, report = tmp_path / "r.html", tmp_path / "r.json"
    result = runner.invoke(
        cli,
        ["validate", str(make_package(rows=rows)), "--html", str(html), "--report", str(report)],
    )
    assert result.exit_code == 1
    page = html.read_text(encoding="utf-8")
    assert "type-error" in page and "mycket" not in page and PNR not in page
    assert json.loads(report.read_text(encoding="utf-8"))["valid"] is False
    assert "mycket" not in result.output


def test_validate_single_file_with_schema(runner: CliRunner, tmp_path: Path) -> None:
    from helpers import STAFF_SCHEMA, write_csv

    write_csv(tmp_path / "p.csv", STAFF_ROWS, encoding="cp1252")
    (tmp_path / "s.json").write_text(json.dumps(STAFF_SCHEMA), encoding="utf-8")
    result = runner.invoke(
        cli, ["validate", str(tmp_path / "p.csv"), "--schema", str(tmp_path / "s.json")]
    )
    assert result.exit_code == 0, result.output
    assert result.output.startswith("passed: 0 error(s)")


def test_publish_verify_roundtrip(
    make_package: PackageFactory, runner: CliRunner, tmp_path: Path, key: str
) -> None:
    portal = tmp_path / "portal"
    root = make_package()
    first = runner.invoke(cli, ["publish", str(root), "--to", str(portal), "--json"])
    assert first.exit_code == 0, first.output
    data = json.loads(first.output)
    assert data["status"] == "published"
    assert {c["path"] for c in data["changes"]} >= {"data/personal.csv", "provenance.json"}
    again = runner.invoke(cli, ["publish", str(root), "--to", str(portal)])
    assert "unchanged" in again.output
    ok = runner.invoke(cli, ["verify", str(portal / "personal"), "--json", "--allow-unsigned"])
    assert ok.exit_code == 0 and json.loads(ok.output)["ok"] is True
    (portal / "personal" / "validation.html").write_text("<p>forged</p>", encoding="utf-8")
    bad = runner.invoke(cli, ["verify", str(portal / "personal"), "--allow-unsigned"])
    assert bad.exit_code == errors.VerifyFailed.exit_code
    assert "validation.html" in bad.output


def test_publish_json_equals_the_api(
    make_package: PackageFactory, runner: CliRunner, tmp_path: Path, key: str
) -> None:
    root = make_package()
    result = runner.invoke(
        cli, ["publish", str(root), "--to", str(tmp_path / "portal"), "--plan", "--json"]
    )
    api = publish_static(root, tmp_path / "portal", plan_only=True)
    assert json.loads(result.output) == api.to_dict()


def test_redact_writes_a_review_package(
    make_package: PackageFactory, runner: CliRunner, tmp_path: Path, key: str
) -> None:
    out = tmp_path / "review"
    result = runner.invoke(cli, ["redact", str(make_package()), "--out", str(out), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["resources"][0]["rows_published"] == 3
    assert (out / "data" / "personal.csv").is_file() and (out / "redactions.json").is_file()
    assert not (out / "provenance.json").exists()
    # Its own earlier output is replaced (tests/test_redact_out.py); another folder is not.
    again = runner.invoke(cli, ["redact", str(make_package()), "--out", str(out)])
    assert again.exit_code == 0, again.output
    (out / "notes.txt").write_text("x", encoding="utf-8")
    refused = runner.invoke(cli, ["redact", str(make_package()), "--out", str(out)])
    assert refused.exit_code == errors.InputError.exit_code


def test_missing_key_has_its_own_exit_code(
    make_package: PackageFactory,
    runner: CliRunner,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("OPENGOV_PSEUDONYM_KEY", raising=False)
    portal = tmp_path / "portal"
    result = runner.invoke(cli, ["publish", str(make_package()), "--to", str(portal)])
    assert result.exit_code == errors.KeyMissing.exit_code
    assert "Traceback" not in result.output
    assert not portal.exists()


def test_internal_errors_do_not_echo_their_text(
    make_package: PackageFactory, runner: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    import opengov.validate as validate_module

    def boom(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError(f"cell value {PNR}")

    monkeypatch.setattr(validate_module, "validate", boom)
    result = runner.invoke(cli, ["validate", str(make_package())])
    assert result.exit_code == 70
    assert PNR not in result.output and "RuntimeError" in result.output
    debug = runner.invoke(cli, ["--debug", "validate", str(make_package())])
    assert isinstance(debug.exception, RuntimeError)


# Each bad input: its exit code, a message, no traceback, nothing written to the portal.
BAD_INPUTS = [
    ("malformed-csv", errors.ValidationFailed.exit_code),
    ("wrong-encoding", errors.InputError.exit_code),
    ("schema-not-json", errors.SchemaError.exit_code),
    ("path-outside", errors.InputError.exit_code),
    ("path-absolute", errors.InputError.exit_code),
    ("missing-file", errors.InputError.exit_code),
    ("empty-file", errors.InputError.exit_code),
    ("rules-unknown-action", errors.RulesError.exit_code),
    ("rules-missing-basis", errors.RulesError.exit_code),
    ("rules-unknown-field", errors.RulesError.exit_code),
    ("unclassified-field", errors.UnclassifiedFields.exit_code),
    ("invalid-data", errors.ValidationFailed.exit_code),
]


@pytest.mark.parametrize(("case", "code"), BAD_INPUTS)
def test_bad_input_publish(
    case: str, code: int, runner: CliRunner, tmp_path: Path, key: str
) -> None:
    portal = tmp_path / "portal"
    result = runner.invoke(cli, ["publish", str(FIXTURES / case), "--to", str(portal)])
    assert result.exit_code == code, result.output
    assert result.output.strip(), "a message is expected"
    assert "Traceback" not in result.output
    assert not portal.exists() or not [p for p in portal.rglob("*") if p.is_file()]


def test_invalid_data_report_does_not_echo_the_planted_personnummer(
    runner: CliRunner, tmp_path: Path
) -> None:
    result = runner.invoke(cli, ["validate", str(FIXTURES / "invalid-data"), "--json"])
    assert result.exit_code == errors.ValidationFailed.exit_code
    from opengov.redact.detectors import contains_personal_data

    assert not contains_personal_data(result.output)


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["--help"], 0),
        (["no-such-command"], 2),
        (["exit-codes"], errors.SystemRefused.exit_code),
        (["validate", str(DATAPACKAGES / "leverantorsreskontra-2024"), "--json"], 20),
        (["publish", str(DATAPACKAGES / "leverantorsreskontra-2024"), "--plan", "--json"], 20),
    ],
)
def test_a_closed_stdout_keeps_the_exit_code(args: list[str], code: int) -> None:
    """Started with standard output closed (`>&-`), a command still ends with its own exit
    code and no traceback."""
    import subprocess
    import sys

    run = subprocess.run(
        [sys.executable, "-c", "from opengov.cli import main; main()", *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        check=False,
        pass_fds=(),
        preexec_fn=lambda: os.close(1),
    )
    assert run.returncode == code, run.stderr
    assert "Traceback" not in run.stderr
    if code == errors.SystemRefused.exit_code:
        # A result nobody can read is not a success: the command says why and does nothing.
        assert "standard output is closed" in run.stderr


def test_every_command_defined_in_the_cli_package_is_reachable() -> None:
    """The group loads commands from `COMMANDS` (cli/app.py): a command written in a module of
    opengov.cli but missing there would vanish from the CLI without an error. Every top-level
    command object in those modules must be what the group returns under its name."""
    import importlib
    import pkgutil

    import opengov.cli as package

    ctx = click.Context(cli)
    found: dict[str, click.Command] = {}
    nested: set[int] = set()
    for info in pkgutil.iter_modules(package.__path__):
        module = importlib.import_module(f"opengov.cli.{info.name}")
        for value in vars(module).values():
            if isinstance(value, click.Command) and value is not cli:
                assert value.name is not None
                found[value.name] = value
                if isinstance(value, click.Group):
                    nested.update(id(sub) for sub in value.commands.values())
    top = {name: command for name, command in found.items() if id(command) not in nested}
    assert {"validate", "publish", "verify", "import", "exit-codes"} <= set(top)
    for name, command in top.items():
        assert cli.get_command(ctx, name) is command, name
