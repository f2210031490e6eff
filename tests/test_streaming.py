"""The one-pass publish: batches validated, redacted and written as they are read.

Each test plants something and checks the published bytes, the reports and the exit codes.
"""

from __future__ import annotations

import copy
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from helpers import PNR, STAFF_ROWS, STAFF_RULES, PackageFactory, logged
from hypothesis import given, settings
from hypothesis import strategies as st

from opengov import errors
from opengov.cli import cli
from opengov.package import load_package
from opengov.sources import csv as csv_source
from opengov.sources import typed
from opengov.targets.static import publish_static


def _many_rows(n: int) -> list[list[str]]:
    rows = [STAFF_ROWS[0]]
    for i in range(1, n + 1):
        base = list(STAFF_ROWS[1 + (i % 4)])
        base[0] = str(i)
        rows.append(base)
    return rows


def _published(portal: Path, name: str = "personal") -> dict[str, bytes]:
    folder = portal / name
    return {
        rel: (folder / rel).read_bytes()
        for rel in (
            "data/personal.csv",
            "data/personal.parquet",
            "redactions.json",
            "validation.json",
            "datapackage.json",
        )
    }


def test_batches_do_not_change_what_is_published(
    make_package: PackageFactory, tmp_path: Path, key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Many tiny batches and one big batch publish the same bytes."""
    root = make_package(rows=_many_rows(300))
    publish_static(root, tmp_path / "one")
    monkeypatch.setattr(typed, "BATCH_ROWS", 7)
    monkeypatch.setattr(csv_source, "BLOCK_SIZE", 512)
    publish_static(root, tmp_path / "many")
    one, many = _published(tmp_path / "one"), _published(tmp_path / "many")
    assert one["data/personal.csv"] == many["data/personal.csv"]
    assert one["redactions.json"] == many["redactions.json"]
    csv_text = one["data/personal.csv"].decode()
    assert PNR not in csv_text and "070-123 45 67" not in csv_text
    manifest = json.loads(one["redactions.json"])
    assert manifest["resources"][0]["rows_in_source"] == 300
    assert manifest["resources"][0]["rows_published"] == 225  # every fourth row is skyddad


def test_publish_imports_no_frictionless(make_package: PackageFactory, tmp_path: Path) -> None:
    """A plain package is loaded, validated, redacted and written without frictionless."""
    rules = copy.deepcopy(STAFF_RULES)
    rules["resources"]["personal"]["fields"]["namn"] = {
        "class": "personal",
        "action": "drop",
        "basis": "39 kap. 3 § OSL",
    }
    root = make_package(rules=rules)
    code = (
        "import sys\n"
        "from opengov.targets.static import publish_static\n"
        f"publish_static({str(root)!r}, {str(tmp_path / 'portal')!r})\n"
        "print('frictionless' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
    assert (tmp_path / "portal" / "personal" / "data" / "personal.csv").is_file()


def _protected_with_error(make_package: PackageFactory) -> Path:
    rows = copy.deepcopy(STAFF_ROWS)
    rows[3][4] = "inte-ett-datum"  # the protected person's row (skyddad: ja) carries an error
    rules = copy.deepcopy(STAFF_RULES)
    rules["resources"]["personal"]["waivers"] = [
        {"type": "type-error", "field": "anstalld", "reason": "Känt fel i källsystemet"}
    ]
    return make_package(rows=rows, rules=rules)


def test_published_report_leaves_out_withheld_rows(
    make_package: PackageFactory, tmp_path: Path, key: str, runner: CliRunner
) -> None:
    root = _protected_with_error(make_package)
    publish_static(root, tmp_path / "portal")
    report = json.loads((tmp_path / "portal" / "personal" / "validation.json").read_bytes())
    page = (tmp_path / "portal" / "personal" / "validation.html").read_text(encoding="utf-8")
    errors_ = [e for t in report["tasks"] for e in t["errors"]]
    assert not [e for e in errors_ if e.get("rowNumber") == 4]
    assert report["stats"]["errors"] == 0 and "Örjan" not in page
    # The steward's own report still shows it.
    local = runner.invoke(cli, ["validate", str(root), "--json"])
    steward = json.loads(local.output)
    assert any(e.get("rowNumber") == 4 for t in steward["tasks"] for e in t["errors"])


def test_notes_of_non_public_fields_are_masked(
    make_package: PackageFactory, runner: CliRunner
) -> None:
    rows = copy.deepcopy(STAFF_ROWS)
    rows[1][5] = "Hemlig klient"
    schema = copy.deepcopy(json.loads(json.dumps(__import__("helpers").STAFF_SCHEMA)))
    schema["fields"][5]["constraints"]["enum"] = ["Klient Andersson", "Klient Berg", "Ekonomi"]
    rules = copy.deepcopy(STAFF_RULES)
    rules["resources"]["personal"]["fields"]["avdelning"] = {
        "class": "confidential",
        "action": "drop",
        "basis": "21 kap. 1 § OSL",
    }
    root = make_package(rows=rows, schema=schema, rules=rules)
    result = runner.invoke(cli, ["validate", str(root), "--json"])
    assert result.exit_code == 1
    assert "Andersson" not in result.output and "Hemlig" not in result.output
    assert 'constraint \\"enum\\" is [dold]' in result.output


# --- k-anonymity ------------------------------------------------------------------------------

_QI_SCHEMA: dict[str, Any] = {
    "fields": [
        {"name": "elev", "type": "string"},
        {"name": "kon", "type": "string"},
        {"name": "ar", "type": "integer"},
        {"name": "skola", "type": "string"},
    ]
}


def _qi_package(
    tmp_path: Path, resources: dict[str, list[list[str]]], qi: dict[str, dict[str, Any]]
) -> Path:
    import yaml
    from helpers import write_csv

    root = tmp_path / "elever"
    descriptor: dict[str, Any] = {"name": "elever", "resources": []}
    rules: dict[str, Any] = {"version": 1, "resources": {}}
    for name, rows in resources.items():
        write_csv(root / f"{name}.csv", rows)
        descriptor["resources"].append(
            {"name": name, "path": f"{name}.csv", "dialect": {"delimiter": ";"},
             "schema": {"fields": [f for f in _QI_SCHEMA["fields"] if f["name"] in rows[0]]}}
        )  # fmt: skip
        fields: dict[str, Any] = {c: {"class": "public"} for c in rows[0]}
        fields["elev"] = {"class": "personal", "action": "drop", "basis": "23 kap. 1 § OSL"}
        rules["resources"][name] = {"fields": fields, "quasi_identifiers": qi[name]}
    (root / "datapackage.json").write_text(json.dumps(descriptor), encoding="utf-8")
    (root / "rules.yaml").write_text(yaml.safe_dump(rules), encoding="utf-8")
    return root


@pytest.mark.parametrize("rows_per_person", [2, 3, 5])
def test_k_anonymity_counts_people_not_rows(
    tmp_path: Path, runner: CliRunner, rows_per_person: int
) -> None:
    rows = [["elev", "kon", "ar"]]
    rows += [["e1", "F", "2010"]] * rows_per_person  # one girl born 2010, many rows
    rows += [[f"e{i}", "P", "2011"] for i in range(2, 6)]
    qi = {"elever": {"fields": ["kon", "ar"], "k": 2, "person": "elev"}}
    root = _qi_package(tmp_path, {"elever": rows}, qi)
    result = runner.invoke(cli, ["publish", str(root), "--to", str(tmp_path / "portal")])
    assert result.exit_code == errors.ReidentificationRisk.exit_code, result.output
    assert "people" in result.output and not (tmp_path / "portal" / "elever").exists()
    qi_rows = {"elever": {"fields": ["kon", "ar"], "k": 2}}  # without a person: rows pass
    root2 = _qi_package(tmp_path / "b", {"elever": rows}, qi_rows)
    ok = runner.invoke(cli, ["publish", str(root2), "--to", str(tmp_path / "portal2")])
    assert ok.exit_code == 0, ok.output


def test_k_anonymity_across_resources_joined_on_the_person(
    tmp_path: Path, runner: CliRunner
) -> None:
    """Each resource alone passes k=2; joined on the pupil, every combination is unique."""
    people = [["elev", "kon", "ar"], ["a", "F", "2010"], ["b", "F", "2010"],
              ["c", "P", "2011"], ["d", "P", "2011"]]  # fmt: skip
    schools = [["elev", "skola"], ["a", "Norr"], ["c", "Norr"], ["b", "Syd"], ["d", "Syd"]]
    qi = {
        "elever": {"fields": ["kon", "ar"], "k": 2, "person": "elev"},
        "skolor": {"fields": ["skola"], "k": 2, "person": "elev"},
    }
    root = _qi_package(tmp_path, {"elever": people, "skolor": schools}, qi)
    result = runner.invoke(cli, ["publish", str(root), "--to", str(tmp_path / "portal")])
    assert result.exit_code == errors.ReidentificationRisk.exit_code, result.output
    assert "joined on 'elev'" in result.output
    # Grouped so that each combination covers two pupils, the same resources pass.
    schools_ok = [["elev", "skola"], ["a", "Norr"], ["b", "Norr"], ["c", "Syd"], ["d", "Syd"]]
    root2 = _qi_package(tmp_path / "b", {"elever": people, "skolor": schools_ok}, qi)
    ok = runner.invoke(cli, ["publish", str(root2), "--to", str(tmp_path / "portal2")])
    assert ok.exit_code == 0, ok.output


# --- the last scan sees every type ------------------------------------------------------------


@pytest.mark.parametrize("ftype", ["number", "integer", "string"])
def test_last_scan_blocks_a_personnummer_in_any_column_type(
    tmp_path: Path, runner: CliRunner, ftype: str
) -> None:
    import yaml
    from helpers import write_csv

    root = tmp_path / "p"
    write_csv(root / "d.csv", [["id", "nr"], ["1", "8112289874"], ["2", "5"]])
    schema = {"fields": [{"name": "id", "type": "integer"}, {"name": "nr", "type": ftype}]}
    descriptor = {"name": "p", "resources": [{"name": "d", "path": "d.csv", "schema": schema,
                                               "dialect": {"delimiter": ";"}}]}  # fmt: skip
    (root / "datapackage.json").write_text(json.dumps(descriptor), encoding="utf-8")
    rules = {"version": 1, "resources": {"d": {"fields": {"id": "public", "nr": "public"}}}}
    (root / "rules.yaml").write_text(yaml.safe_dump(rules), encoding="utf-8")
    result = runner.invoke(cli, ["publish", str(root), "--to", str(tmp_path / "portal")])
    assert result.exit_code == errors.DisclosureBlocked.exit_code, result.output
    assert "8112289874" not in result.output
    assert not (tmp_path / "portal" / "p").exists()


def test_a_data_file_that_changes_during_the_run_stops_it(make_package: PackageFactory) -> None:
    package = load_package(make_package())
    rel = package.resources[0].relpath
    assert rel is not None
    before = {i.path: i.sha256 for i in package.inputs}[rel]  # hashed to compare with a target
    with pytest.raises(errors.InputError, match="changed while"):
        package.record_data_hash(rel, "0" * 64, 10)
    package.record_data_hash(rel, before, (package.root / rel).stat().st_size)


def test_verbose_publish_logs_each_stage_and_the_progress_line_covers_it(
    make_package: PackageFactory,
    tmp_path: Path,
    key: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:

    from opengov import progress as progress_module

    monkeypatch.setattr(progress_module, "_AFTER", 0.0)
    monkeypatch.setattr(typed, "BATCH_ROWS", 50)
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    root = make_package(rows=_many_rows(400))
    messages = logged(lambda: publish_static(root, tmp_path / "portal", progress=True))
    text = "\n".join(messages)
    for stage in ("loaded in", "compared with the target in", "read, validated, redacted and "
                  "written in", "handed to the target in"):  # fmt: skip
        assert stage in text
    err = capsys.readouterr().err
    assert "400 rows" in err and "validating, redacting, writing" in err


def test_a_resource_frictionless_validates_is_published_by_the_same_readers(
    make_package: PackageFactory, tmp_path: Path, key: str
) -> None:
    """commentChar: only frictionless validates it; Python's csv reads it for publishing, and
    the published report still leaves out the withheld row."""
    rows = copy.deepcopy(STAFF_ROWS)
    rows[3][4] = "inte-ett-datum"  # the protected person's row carries a waived error
    rows.insert(2, ["# en kommentar"])
    rules = copy.deepcopy(STAFF_RULES)
    rules["resources"]["personal"]["waivers"] = [
        {"type": "type-error", "field": "anstalld", "reason": "Känt fel i källsystemet"}
    ]
    root = make_package(rows=rows, rules=rules)
    descriptor = json.loads((root / "datapackage.json").read_text(encoding="utf-8"))
    descriptor["resources"][0]["dialect"]["commentChar"] = "#"
    (root / "datapackage.json").write_text(json.dumps(descriptor), encoding="utf-8")
    publish_static(root, tmp_path / "portal")
    folder = tmp_path / "portal" / "personal"
    report = json.loads((folder / "validation.json").read_bytes())
    task = report["tasks"][0]
    assert task["engine"] == "frictionless" and "commentChar" in task["fallbackReason"]
    assert not task["errors"] and report["stats"]["errors"] == 0
    text = (folder / "data" / "personal.csv").read_text(encoding="utf-8")
    assert "# en kommentar" not in text
    assert len(text.strip().splitlines()) == 1 + 3  # header and the three unprotected rows


def test_detectors_run_once_per_distinct_value_where_values_repeat() -> None:
    import pyarrow as pa

    from opengov.redact import gates

    orgnr = pa.array([f"55{i % 5000:04d}-1234" for i in range(32768)])  # 5,000 distinct
    distinct = gates.repeats(orgnr)
    assert distinct is not None and len(distinct[0]) == 5000
    ids = pa.array([f"F{i:010d}" for i in range(32768)])
    assert gates.repeats(ids) is None
    # Same verdicts either way, the personnummer included.
    cells = pa.array([PNR, "x", PNR, "y"] * 100)
    found = gates.find_cells(cells, ["personnummer"])["personnummer"].to_pylist()
    assert found == [True, False, True, False] * 100


@settings(max_examples=40, deadline=None)
@given(
    batches=st.lists(
        st.lists(
            st.sampled_from(
                [PNR, f"tel {PNR}", "Åkerblom Bygg AB", "Anna Svensson", "x", "", None, "19-12"]
            ),
            min_size=0,
            max_size=150,
        ),
        min_size=1,
        max_size=5,
    )
)
def test_the_last_scan_remembering_clean_values_finds_what_a_fresh_scan_finds(
    batches: list[list[str | None]],
) -> None:
    import pyarrow as pa
    import pyarrow.compute as pc

    from opengov.redact import gates

    known = gates.KnownClean()
    kinds = ["personnummer", "samordningsnummer", "email", "phone", "name"]
    for cells in batches:
        column = pa.array(cells, pa.string())
        fresh = gates.find_cells(column, kinds)
        distinct = gates.repeats(column)
        if distinct is None:
            # Too few repeats for a dictionary: build it anyway, the memo must agree.
            encoded = pc.dictionary_encode(column)
            distinct = (encoded.dictionary, encoded.indices)
        remembered = known.find_cells(("c", tuple(kinds)), distinct, kinds)
        for kind in kinds:
            want = fresh[kind].to_pylist() if kind in fresh else [False] * len(cells)
            got = remembered[kind].to_pylist() if kind in remembered else [False] * len(cells)
            assert got == want, kind
    # Only values without a hit are remembered: a personnummer is scanned every time.
    for values in known.values.values():
        assert PNR not in values.to_pylist() and f"tel {PNR}" not in values.to_pylist()


@settings(max_examples=40, deadline=None)
@given(
    batches=st.lists(
        st.lists(
            st.sampled_from(
                ["Anna Svensson", "KS 2024/15", "x", "", "Åsa", "Ett två tre fyra fem"]
            ),
            min_size=1,
            max_size=20,
        ),
        min_size=1,
        max_size=5,
    )
)
def test_word_counts_remembered_across_batches_equal_fresh_counts(
    batches: list[list[str]],
) -> None:
    import pyarrow as pa
    import pyarrow.compute as pc

    from opengov.redact import free_text

    known = free_text.KnownWords()
    for cells in batches:
        values = pc.unique(pa.array(cells, pa.string()))
        fresh = pc.count_substring_regex(values, pattern=free_text._WORD).to_pylist()
        assert known.count(values).to_pylist() == fresh


@settings(max_examples=40, deadline=None)
@given(
    batches=st.lists(
        st.lists(
            st.sampled_from([PNR, f"orgnr {PNR}", "556677-8899", "x", None, "Anna Svensson"]),
            min_size=64,
            max_size=200,
        ),
        min_size=1,
        max_size=4,
    )
)
def test_the_rule_scan_remembering_clean_values_replaces_what_a_fresh_scan_replaces(
    batches: list[list[str | None]],
) -> None:
    import pyarrow as pa

    from opengov.redact import gates

    known = gates.KnownClean()
    kinds = ("personnummer", "samordningsnummer", "phone")
    for cells in batches:
        column = pa.chunked_array([pa.array(cells, pa.string())])
        fresh = gates.scan_replace(column, kinds)
        memo = gates.scan_replace(column, kinds, None, (known, ("scan:c", kinds)))
        assert memo.array.to_pylist() == fresh.array.to_pylist()
        assert (memo.matches, memo.cells, memo.clean) == (fresh.matches, fresh.cells, fresh.clean)


def test_validate_logs_each_resource_with_its_engine_rows_and_time(
    make_package: PackageFactory,
) -> None:
    """`opengov -v validate`: one line per resource (its rows, the engine, the time), names and
    counts only, as `-v publish` logs its stages."""
    from opengov.validate import validate

    root = make_package(rows=_many_rows(120))
    messages = logged(lambda: validate(root))
    lines = [m for m in messages if "read and validated" in m]
    assert len(lines) == 1, messages
    assert re.fullmatch(r"personal: 120 rows read and validated by arrow in \d+\.\d\d s", lines[0])
