"""The report keeps frictionless' shape and never carries a non-public value."""

from __future__ import annotations

import copy
import datetime as dt
import json

import pytest
from helpers import PNR, STAFF_ROWS, STAFF_RULES, PackageFactory

from opengov.package import load_package
from opengov.rules import load_rules
from opengov.validate import ENGINES, validate, validate_package
from opengov.validate.report import MASK

SECRET_TYPO = "812228-9874x"  # looks like an id, fails the type: a naive report would echo it


def _bad_rows() -> list[list[str]]:
    rows = copy.deepcopy(STAFF_ROWS)
    rows[1][3] = "mycket"  # lon: number type error (confidential field)
    rows[2][0] = "1"  # id: unique error (public field)
    rows[3][5] = "Kultur"  # avdelning: enum (public)
    rows[4][4] = SECRET_TYPO  # anstalld: date type error (personal field)
    return rows


@pytest.mark.parametrize("engine", [e for e in ENGINES if e != "auto"])
def test_non_public_values_are_masked(make_package: PackageFactory, engine: str) -> None:
    root = make_package(rows=_bad_rows())
    report = validate(root, engine=engine)
    text = json.dumps(report.to_dict(), ensure_ascii=False)
    assert not report.passed
    assert SECRET_TYPO not in text and "mycket" not in text
    assert "cells" not in text
    for name in ("Håkan", "Åsa", PNR):
        assert name not in text
    errors = {(e.get("fieldName"), e["type"]): e for e in report.to_dict()["tasks"][0]["errors"]}
    assert errors[("lon", "type-error")]["cell"] == MASK
    assert MASK in errors[("anstalld", "type-error")]["message"]
    # Public fields show their values: an auditor can act on them.
    assert errors[("avdelning", "constraint-error")]["cell"] == "Kultur"


def test_without_rules_every_value_is_masked(make_package: PackageFactory) -> None:
    root = make_package(rows=_bad_rows(), rules=None)
    data = validate(root).to_dict()
    cells = [e.get("cell") for e in data["tasks"][0]["errors"] if "cell" in e]
    assert cells and set(cells) == {MASK}


def test_frictionless_shape_and_exact_summary(make_package: PackageFactory) -> None:
    rows = copy.deepcopy(STAFF_ROWS)
    for _ in range(60):
        rows.append(["9", "X", "", "fel", "2020-01-01", "Skola", "nej", ""])
    root = make_package(rows=rows)
    report = validate(root, samples=5)
    data = report.to_dict()
    assert set(data) >= {"valid", "stats", "tasks", "warnings", "errors", "summary", "opengov"}
    task = data["tasks"][0]
    assert set(task) >= {"name", "type", "valid", "place", "labels", "stats", "errors"}
    summary = {(s["fieldName"], s["type"]): s["count"] for s in data["summary"]}
    assert summary[("lon", "type-error")] == 60  # exact, beyond the 5 samples
    assert summary[("id", "unique-error")] == 59
    assert sum(1 for e in task["errors"] if e.get("fieldName") == "lon") == 5
    assert data["stats"]["errors"] == sum(summary.values())
    for err in task["errors"]:
        assert {"type", "title", "message", "note", "rowNumber"} <= set(err)


def test_waivers_pass_named_errors_and_expire(make_package: PackageFactory) -> None:
    rows = copy.deepcopy(STAFF_ROWS)
    rows[3][5] = "Kultur"
    rules = copy.deepcopy(STAFF_RULES)
    rules["resources"]["personal"]["waivers"] = [
        {
            "field": "avdelning",
            "type": "constraint-error",
            "reason": "Ny förvaltning",
            "expires": "2030-12-31",
        }
    ]
    root = make_package(rows=rows, rules=rules)
    package = load_package(root)
    loaded = load_rules(root / "rules.yaml")
    report = validate_package(package, loaded)
    assert report.passed and not report.valid
    waiver = report.to_dict()["opengov"]["waivers"][0]
    assert waiver["matched"] == 1 and waiver["active"]
    later = validate_package(package, loaded)
    later.waivers[0].active = False
    assert not later.passed


def test_expired_waiver_does_not_apply(make_package: PackageFactory) -> None:
    rows = copy.deepcopy(STAFF_ROWS)
    rows[3][5] = "Kultur"
    rules = copy.deepcopy(STAFF_RULES)
    rules["resources"]["personal"]["waivers"] = [
        {
            "field": "avdelning",
            "type": "constraint-error",
            "reason": "Gammalt",
            "expires": dt.date(2020, 1, 1).isoformat(),
        }
    ]
    report = validate(make_package(rows=rows, rules=rules))
    assert not report.passed
    assert report.to_dict()["opengov"]["waivers"][0]["active"] is False


def test_public_value_with_personal_data_is_masked(make_package: PackageFactory) -> None:
    rows = copy.deepcopy(STAFF_ROWS)
    rows[1][5] = f"Skola {PNR}"  # public enum field, but the value carries a personnummer
    report = validate(make_package(rows=rows))
    text = json.dumps(report.to_dict(), ensure_ascii=False)
    assert PNR not in text


def test_masked_values_carry_a_keyed_fingerprint(make_package: PackageFactory) -> None:
    from opengov.redact import PseudonymKey

    rows = copy.deepcopy(STAFF_ROWS)
    rows[1][3] = "mycket"
    rows[2][3] = "mycket"
    rows[4][3] = "lite"
    key = PseudonymKey(b"k" * 32)
    package = load_package(make_package(rows=rows))
    report = validate_package(package, load_rules(package.root / "rules.yaml"), key=key)
    cells = [
        e["cell"] for e in report.to_dict()["tasks"][0]["errors"] if e.get("fieldName") == "lon"
    ]
    assert len(cells) == 3 and all(c.startswith("[dold fp-") for c in cells)
    assert cells[0] == cells[1] != cells[2]
    assert key.pseudonym("mycket")[2:14] not in cells[0]  # not joinable to published pseudonyms
    assert "mycket" not in json.dumps(report.to_dict())


@pytest.mark.parametrize("engine", ["arrow", "frictionless"])
def test_first_data_row_taken_as_header_is_masked(
    make_package: PackageFactory, engine: str
) -> None:
    """A file exported without its header row: the first row becomes the labels. Those are
    data, and a personnummer or a name there must not reach the report."""
    rows = copy.deepcopy(STAFF_ROWS)[1:]  # no header row
    root = make_package(rows=rows)
    data = validate(root, engine=engine).to_dict()
    text = json.dumps(data, ensure_ascii=False)
    assert data["stats"]["errors"] > 0
    label_errors = [e for e in data["tasks"][0]["errors"] if "label" in e]
    assert label_errors, "the mismatching header is reported"
    for secret in (PNR, "Håkan", "Åström", "32500"):
        assert secret not in text, secret
    # Column names are not data: a label equal to a schema field name stays visible.
    assert "avdelning" in text
