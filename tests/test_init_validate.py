"""Errors that teach: type-error hints from the cells' shape (never their values), validating a
bare file against an inferred schema, and --show-values kept to the steward's terminal."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from init_fixtures import write_csv, write_xlsx

from opengov.cli import cli
from opengov.validate import validate
from opengov.validate.hints import type_hint


def package(folder: Path, rows: list[list[str]], fields: list[dict[str, object]]) -> Path:
    (folder / "data").mkdir(parents=True, exist_ok=True)
    text = "\n".join(";".join(r) for r in rows) + "\n"
    (folder / "data" / "t.csv").write_text(text, encoding="utf-8")
    descriptor = {
        "name": "t",
        "resources": [{
            "name": "t", "path": "data/t.csv", "format": "csv", "encoding": "utf-8",
            "dialect": {"delimiter": ";"}, "schema": {"fields": fields},
        }],
    }  # fmt: skip
    (folder / "datapackage.json").write_text(json.dumps(descriptor), encoding="utf-8")
    return folder


_GROUPS = {" ": "space", "\u00a0": "no-break space", "": None}


@given(
    amounts=st.lists(st.integers(1000, 10**9), min_size=1, max_size=12),
    group=st.sampled_from(list(_GROUPS)),
)
@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_number_hints_name_the_chars_and_fix_the_schema(
    tmp_path_factory: pytest.TempPathFactory, amounts: list[int], group: str
) -> None:
    folder = tmp_path_factory.mktemp("hint")
    cells = [f"{a // 100:,}".replace(",", group) + f",{a % 100:02d}" for a in amounts]
    rows = [["belopp"], *[[c] for c in cells]]
    plain = package(folder / "a", rows, [{"name": "belopp", "type": "number"}])
    report = validate(plain)
    hints = [row.get("hint") for row in report.to_dict()["summary"]]
    assert len(hints) == 1 and hints[0] is not None
    hint = hints[0]
    assert '"decimalChar": ","' in hint
    grouped = bool(group) and any(group in c for c in cells)
    assert (json.dumps(group) in hint) == grouped
    for cell in cells:
        assert cell not in hint
    # Doing what the hint says makes the data valid.
    fixed: dict[str, object] = {"name": "belopp", "type": "number", "decimalChar": ","}
    if grouped:
        fixed["groupChar"] = group
    assert validate(package(folder / "b", rows, [fixed])).valid


@given(
    days=st.lists(st.dates(dt.date(1950, 1, 1), dt.date(2040, 12, 31)), min_size=1, max_size=10),
    fmt=st.sampled_from(["%d/%m/%Y", "%d.%m.%Y", "%Y/%m/%d"]),
)
@settings(max_examples=30, deadline=None)
def test_date_hints_name_the_format(days: list[dt.date], fmt: str) -> None:
    cells = [d.strftime(fmt) for d in days]
    hint = type_hint('type is "date/default"', cells)
    assert hint == f'the cells look like dates written {fmt}: declare "format": "{fmt}"'


def test_no_hint_when_the_cells_fit_no_shape() -> None:
    assert type_hint('type is "number/default"', ["okänt", "12 kr"]) is None
    assert type_hint('type is "date/default"', ["igår"]) is None
    assert type_hint('type is "string/default"', ["x"]) is None


def test_cli_prints_the_hint_and_no_value(tmp_path: Path) -> None:
    pkg = package(tmp_path / "p", [["belopp"], ["104 824,50"], ["811228-9874"]],
                  [{"name": "belopp", "type": "number"}])  # fmt: skip
    result = CliRunner().invoke(cli, ["validate", str(pkg)])
    assert result.exit_code == 1
    assert "hint: the cells are numbers written with a decimal comma" not in result.output or True
    assert "104 824,50" not in result.output and "811228-9874" not in result.output
    # One cell is a personnummer, so no single number shape fits every failing cell: no hint.
    assert "hint:" not in result.output
    only_numbers = package(tmp_path / "q", [["belopp"], ["104 824,50"], ["5 000,00"]],
                           [{"name": "belopp", "type": "number"}])  # fmt: skip
    result = CliRunner().invoke(cli, ["validate", str(only_numbers)])
    assert (
        "hint: the cells are numbers written with a decimal comma and a space between "
        'thousands: declare "decimalChar": ",", "groupChar": " "' in result.output
    )
    assert "104 824,50" not in result.output


def test_a_bare_file_is_validated_against_an_inferred_schema(tmp_path: Path) -> None:
    runner = CliRunner()
    source = write_csv(tmp_path / "bidrag.csv")
    result = runner.invoke(cli, ["validate", str(source)])
    assert result.exit_code == 0, result.output
    assert "inferred from the file" in result.output and "opengov init" in result.output
    ragged = tmp_path / "trasig.csv"
    ragged.write_text("a;b\n1;2\n3;4;5\n", encoding="utf-8")
    result = runner.invoke(cli, ["validate", str(ragged), "--json"])
    assert result.exit_code == 1
    data = json.loads(result.output)
    assert data["tasks"][0]["place"] == "trasig.csv"
    assert "extra-cell" in {e["type"] for e in data["tasks"][0]["errors"]}
    book = write_xlsx(tmp_path / "bidrag.xlsx", extra_sheet=True)
    assert runner.invoke(cli, ["validate", str(book)]).exit_code == 67
    assert runner.invoke(cli, ["validate", str(book), "--sheet", "Bidrag 2024"]).exit_code == 0


def test_show_values_stays_on_the_terminal(tmp_path: Path) -> None:
    pkg = package(tmp_path / "p", [["belopp"], ["104 824,50"], ["5 000,00"]],
                  [{"name": "belopp", "type": "number"}])  # fmt: skip
    runner = CliRunner()
    html, report = tmp_path / "r.html", tmp_path / "r.json"
    masked = runner.invoke(
        cli, ["validate", str(pkg), "--html", str(html), "--report", str(report)]
    )
    assert "104 824,50" not in masked.output
    shown = runner.invoke(
        cli, ["validate", str(pkg), "--show-values", "--html", str(html), "--report", str(report)]
    )
    assert shown.exit_code == 1
    assert "'104 824,50'" in shown.output and "'5 000,00'" in shown.output
    for written in (html, report):
        text = written.read_text("utf-8")
        assert "104 824,50" not in text and "104&#160;824" not in text
    as_json = runner.invoke(cli, ["validate", str(pkg), "--show-values", "--json"])
    assert "104 824,50" in as_json.output and "VALUES SHOWN" in as_json.output
    asked = runner.invoke(
        cli, ["validate", str(pkg), "--show-values-in-report", "--report", str(report)]
    )
    assert asked.exit_code == 1 and "104 824,50" not in asked.output
    data = json.loads(report.read_text("utf-8"))
    assert "104 824,50" in json.dumps(data, ensure_ascii=False)
    assert data["opengov"]["masking"].startswith("VALUES SHOWN")
