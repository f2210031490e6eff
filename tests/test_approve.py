"""Four eyes: `opengov approve`, approvals required by rules.yaml, and verify checking them."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from helpers import STAFF_RULES, PackageFactory, write_csv
from signing_helpers import changed_rows, make_key, read_doc, write_doc
from test_verify_forgery import pinned, run_verify

from opengov import errors
from opengov.approvals import parse_policy
from opengov.cli import cli
from opengov.signing import load_signer
from opengov.verify import verify_folder


@pytest.fixture
def people(tmp_path: Path) -> dict[str, Path]:
    return {
        "kommun": make_key(tmp_path / "keys", "Exempelby kommun"),
        "anna": make_key(tmp_path / "anna", "Anna Andersson, kommunjurist"),
        "bo": make_key(tmp_path / "bo", "Bo Berg, registrator"),
        "eve": make_key(tmp_path / "eve", "Eve Utomstående"),
    }


def rules_requiring(n: int, *keys: Path) -> dict[str, Any]:
    rules = copy.deepcopy(STAFF_RULES)
    rules["approvals"] = {
        "required": n,
        "keys": [
            {"name": load_signer(k).info.name, "key": load_signer(k).info.key.text} for k in keys
        ],
    }
    return rules


def approve(package: Path, key: Path, portal: Path, *extra: str) -> Any:
    return CliRunner().invoke(
        cli, ["approve", str(package), "--key", str(key), "--to", str(portal), *extra]
    )


def publish(package: Path, portal: Path, key: Path) -> Any:
    return CliRunner().invoke(
        cli, ["publish", str(package), "--to", str(portal), "--signing-key", str(key)]
    )


def test_publish_without_required_approvals_writes_nothing(
    make_package: PackageFactory, tmp_path: Path, key: str, people: dict[str, Path]
) -> None:
    package = make_package(rules=rules_requiring(2, people["anna"], people["bo"]))
    portal = tmp_path / "portal"
    for approver in (None, "anna"):
        if approver:
            assert approve(package, people[approver], portal, "--yes").exit_code == 0
        result = publish(package, portal, people["kommun"])
        assert result.exit_code == errors.ApprovalsMissing.exit_code, result.output
        assert "requires 2 approval(s)" in result.output
        assert not portal.exists() or not any(p.is_file() for p in portal.rglob("*"))
    # An approval by a key rules.yaml does not list counts for nothing, even if planted.
    refused = approve(package, people["eve"], portal, "--yes")
    assert refused.exit_code == errors.SigningKeyError.exit_code, refused.output
    assert publish(package, portal, people["kommun"]).exit_code == 47


def test_approved_release_records_and_shows_the_approvals(
    make_package: PackageFactory, tmp_path: Path, key: str, people: dict[str, Path]
) -> None:
    package = make_package(rules=rules_requiring(2, people["anna"], people["bo"]))
    portal = tmp_path / "portal"
    for who in ("anna", "bo"):
        result = approve(package, people[who], portal, "--yes")
        assert result.exit_code == 0, result.output
    result = publish(package, portal, people["kommun"])
    assert result.exit_code == 0, result.output
    dataset = portal / "personal"
    doc = read_doc(dataset)
    recorded = doc["approvals"]["approvals"]
    assert {a["approver"] for a in recorded} == {
        "Anna Andersson, kommunjurist",
        "Bo Berg, registrator",
    }
    assert {a["key_id"] for a in recorded} == {
        load_signer(people["anna"]).key_id,
        load_signer(people["bo"]).key_id,
    }
    assert all(a["approved_at"] for a in recorded)
    page = (dataset / "index.html").read_text()
    assert 'id="approvals"' in page and "Anna Andersson, kommunjurist" in page
    verified = verify_folder(dataset, pinned(people["kommun"]))
    assert verified.ok, verified.mismatches
    assert len(verified.approvals) == 2
    code, output = run_verify(dataset, "--trust", f"{people['kommun']}.pub")
    assert code == 0 and "approved by Anna Andersson" in output


def test_a_removed_approval_fails_verify(
    make_package: PackageFactory, tmp_path: Path, key: str, people: dict[str, Path]
) -> None:
    package = make_package(rules=rules_requiring(2, people["anna"], people["bo"]))
    portal = tmp_path / "portal"
    for who in ("anna", "bo"):
        approve(package, people[who], portal, "--yes")
    assert publish(package, portal, people["kommun"]).exit_code == 0
    dataset = portal / "personal"
    doc = read_doc(dataset)
    doc["approvals"]["approvals"].pop()
    write_doc(dataset, doc)
    result = verify_folder(dataset, pinned(people["kommun"]))
    assert type(result.error()) is errors.ApprovalsMissing
    assert "2 approval(s) required, 1 valid recorded" in str(result.error())
    code, output = run_verify(dataset, "--trust", f"{people['kommun']}.pub")
    assert code == errors.ApprovalsMissing.exit_code and "1 valid recorded" in output
    # Lowering the recorded requirement instead only breaks the signature.
    doc["approvals"]["policy"]["required"] = 1
    write_doc(dataset, doc)
    assert type(verify_folder(dataset, pinned(people["kommun"])).error()) is (
        errors.SignatureInvalid
    )


def test_an_approval_of_other_inputs_does_not_count(
    make_package: PackageFactory, tmp_path: Path, key: str, people: dict[str, Path]
) -> None:
    package = make_package(rules=rules_requiring(1, people["anna"]))
    portal = tmp_path / "portal"
    assert approve(package, people["anna"], portal, "--yes").exit_code == 0
    write_csv(package / "data" / "personal.csv", changed_rows(1))
    result = publish(package, portal, people["kommun"])
    assert result.exit_code == errors.ApprovalsMissing.exit_code
    assert "approves other inputs" in result.output
    assert approve(package, people["anna"], portal, "--yes").exit_code == 0
    assert publish(package, portal, people["kommun"]).exit_code == 0


def test_approve_shows_what_will_be_published(
    make_package: PackageFactory, tmp_path: Path, key: str, people: dict[str, Path]
) -> None:
    package = make_package(rules=rules_requiring(1, people["anna"]))
    portal = tmp_path / "portal"
    # Declining writes nothing.
    declined = CliRunner().invoke(
        cli,
        ["approve", str(package), "--key", str(people["anna"]), "--to", str(portal)],
        input="n\n",
    )
    assert declined.exit_code == 1
    assert not (package / "approvals").exists()
    text = declined.output
    assert "fields published: id, namn, lon, anstalld, avdelning, kommentar" in text
    assert "3 of 4 rows published, 1 withheld" in text
    assert "personal.personnummer: drop 3 (21 kap. 7 § OSL)" in text
    assert "would publish release 1" in text and "added" in text
    assert "0 of 1 required so far" in text
    result = approve(package, people["anna"], portal, "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["resources"][0]["rows_withheld"] == 1
    assert {r["action"] for r in data["redactions"]} >= {"drop", "pseudonymize", "generalize"}
    assert data["plan"]["status"] == "planned"
    assert data["approval"]["approver"] == "Anna Andersson, kommunjurist"
    assert Path(data["approval"]["file"]).is_file()
    assert not portal.exists() or not (portal / "personal").exists()


def test_an_approval_nothing_requires_is_kept_and_said_not_to_be_recorded(
    make_package: PackageFactory, tmp_path: Path, key: str, people: dict[str, Path]
) -> None:
    package = make_package()
    portal = tmp_path / "portal"
    result = approve(package, people["anna"], portal, "--yes")
    assert result.exit_code == 0, result.output
    assert "requires no approvals" in result.output and "recorded all the same" not in result.output
    assert "releases record approvals once rules.yaml requires them" in result.output
    (approval,) = (package / "approvals").glob("*.json")
    assert publish(package, portal, people["kommun"]).exit_code == 0
    # What the message says: the release does not carry it.
    assert "approvals" not in read_doc(portal / "personal")
    assert approval.is_file()


@pytest.mark.parametrize(
    ("policy", "message"),
    [
        ({"required": 2, "keys": [{"name": "A", "key": "KEY_A"}]}, "only 1 key(s) listed"),
        ({"required": 0, "keys": [{"name": "A", "key": "KEY_A"}]}, "whole number from 1"),
        ({"required": 1, "keys": []}, "must list"),
        ({"required": 1, "keys": [{"name": "A", "key": "ssh-ed25519 AAAA"}]}, "ed25519:"),
        (
            {"required": 1, "keys": [{"name": "A", "key": "KEY_A"}, {"name": "B", "key": "KEY_A"}]},
            "listed twice",
        ),
        ({"required": 1, "keys": [{"name": "A", "key": "KEY_A", "role": "x"}]}, "expected"),
        ({"needed": 1}, "expected 'required'"),
        ("two", "expected 'required'"),
    ],
)
def test_a_bad_approval_policy_is_a_rules_error(
    make_package: PackageFactory,
    tmp_path: Path,
    people: dict[str, Path],
    policy: Any,
    message: str,
) -> None:
    text = load_signer(people["anna"]).info.key.text
    policy = json.loads(json.dumps(policy).replace("KEY_A", text))
    with pytest.raises(errors.RulesError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_policy(policy)
    rules = copy.deepcopy(STAFF_RULES)
    rules["approvals"] = policy
    result = CliRunner().invoke(
        cli, ["publish", str(make_package(rules=rules)), "--to", str(tmp_path / "p")]
    )
    assert result.exit_code == errors.RulesError.exit_code, result.output
