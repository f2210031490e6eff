"""Fail-closed for free text: names and addresses in a published free-text field block the
publish unless the field's rule decides (scan them, or declare them public with a reason)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from click.testing import CliRunner
from helpers import PackageFactory, free_text_by_counting
from hypothesis import given, settings
from hypothesis import strategies as st

from opengov.cli import cli
from opengov.errors import DisclosureBlocked, RulesError
from opengov.package import load_package
from opengov.redact import PseudonymKey, redact
from opengov.redact.free_text import is_free_text, last_scan_kinds
from opengov.rules import load_rules
from opengov.sources.readers import read_typed

SCHEMA: dict[str, Any] = {
    "fields": [
        {"name": "dnr", "type": "string"},
        {"name": "riktning", "type": "string"},
        {"name": "mening", "type": "string"},
        {"name": "handlaggare", "type": "string"},
    ]
}
ROWS = [
    ["dnr", "riktning", "mening", "handlaggare"],
    ["KS 2024/1", "inkommande", "Klagomål från Karin Svensson, Storgatan 5, om grannen",
     "Helena Brandt"],
    ["KS 2024/2", "utgående", "Svar om snöröjning på Kvarnvägen", "Magnus Öberg"],
    ["KS 2024/3", "inkommande", "Orosanmälan gällande barnet Lisa Nyberg (6 år)", "Helena Brandt"],
    ["KS 2024/4", "upprättad", "Tjänsteskrivelse om budget", "Lena Qvist"],
]  # fmt: skip
PRIVATE = ("Karin Svensson", "Storgatan 5", "Lisa Nyberg")
OFFICIALS_PUBLIC = {
    "class": "public",
    "names": "public",
    "basis": "2 kap. 1 § TF",
    "reason": "Tjänstepersoner som agerar i tjänsten",
}


def _rules(mening: dict[str, Any], handlaggare: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "version": 1,
        "decided_by": "Registrator",
        "resources": {
            "diarium": {
                "fields": {
                    "dnr": "public",
                    "riktning": "public",
                    "mening": mening,
                    "handlaggare": handlaggare or OFFICIALS_PUBLIC,
                }
            }
        },
    }


def _package(make_package: PackageFactory, rules: dict[str, Any]) -> Path:
    return make_package("diarium", rows=ROWS, schema=SCHEMA, rules=rules)


def _redact(root: Path) -> Any:
    package = load_package(root)
    return redact(package, load_rules(root / "rules.yaml"), read_typed, key=PseudonymKey(b"k" * 32))


def test_names_and_addresses_in_undecided_free_text_block(make_package: PackageFactory) -> None:
    root = _package(make_package, _rules({"class": "public", "scan": ["personnummer"]}))
    with pytest.raises(DisclosureBlocked) as info:
        _redact(root)
    message = str(info.value) + " ".join(info.value.details)
    assert "diarium.mening: name in 2 cell(s)" in message
    assert "diarium.mening: address in 1 cell(s)" in message
    assert "names: public" in message
    for value in PRIVATE:
        assert value not in message
    # Short code columns (dnr, riktning) and declared officials never block.
    assert "dnr" not in message and "riktning" not in message and "handlaggare" not in message


def test_the_cli_exits_9_naming_field_and_kind_never_the_value(
    make_package: PackageFactory, tmp_path: Path
) -> None:
    root = _package(make_package, _rules({"class": "public"}))
    result = CliRunner().invoke(cli, ["publish", str(root), "--to", str(tmp_path / "portal")])
    assert result.exit_code == DisclosureBlocked.exit_code == 9
    assert "diarium.mening: name" in result.output and "diarium.mening: address" in result.output
    assert not any(value in result.output for value in PRIVATE)
    assert not (tmp_path / "portal").exists() or not list((tmp_path / "portal").rglob("*.csv"))


def test_scan_replaces_them_and_counts_them(make_package: PackageFactory) -> None:
    root = _package(make_package, _rules({"class": "public", "scan": ["name", "address"]}))
    red = _redact(root)
    published = red.resources[0].table["mening"].to_pylist()
    assert published[0] == "Klagomål från [namn borttaget], [adress borttagen], om grannen"
    assert published[2] == "Orosanmälan gällande barnet [namn borttaget] (6 år)"
    assert published[1] == "Svar om snöröjning på Kvarnvägen"  # a street without a number
    entry = next(e for e in red.manifest()["rules"] if e["field"] == "mening")
    assert entry["action"] == "scan" and entry["detectors"] == {"name": 2, "address": 1}
    assert entry["values_affected"] == 3 and entry["rows_affected"] == 3
    assert red.manifest()["last_scan"] == []
    assert not any(v in json.dumps(red.manifest(), ensure_ascii=False) for v in PRIVATE)


def test_an_official_names_column_blocks_until_declared(make_package: PackageFactory) -> None:
    rules = _rules({"class": "public", "scan": ["name", "address"]}, {"class": "public"})
    with pytest.raises(DisclosureBlocked) as info:
        _redact(_package(make_package, rules))
    assert info.value.details == ["diarium.handlaggare: name in 4 cell(s)"]


def test_names_public_publishes_and_is_recorded_with_basis_and_reason(
    make_package: PackageFactory,
) -> None:
    red = _redact(_package(make_package, _rules({"class": "public", "scan": ["name", "address"]})))
    assert red.resources[0].table["handlaggare"].to_pylist()[0] == "Helena Brandt"
    declared = red.manifest()["public_text"]
    assert declared == [
        {
            "resource": "diarium",
            "field": "handlaggare",
            "kinds": ["name"],
            "basis": "2 kap. 1 § TF",
            "lagrum": {"text": "2 kap. 1 § TF", "chapter": 2, "section": "1", "law": "TF"},
            "harm_test": None,
            "reason": "Tjänstepersoner som agerar i tjänsten",
            "decided_by": "Registrator",
            "decided_at": None,
        }
    ]


def test_names_public_still_scans_addresses(make_package: PackageFactory) -> None:
    mening = {**OFFICIALS_PUBLIC, "reason": "Ärendemeningar granskade av registrator"}
    with pytest.raises(DisclosureBlocked) as info:
        _redact(_package(make_package, _rules(mening)))
    assert info.value.details == ["diarium.mening: address in 1 cell(s)"]
    both = {**mening, "addresses": "public"}
    red = _redact(_package(make_package, _rules(both)))
    assert red.resources[0].table["mening"].to_pylist()[0] == ROWS[1][2]
    assert red.manifest()["public_text"][0]["kinds"] == ["name", "address"]


def test_quarantine_withholds_the_rows(make_package: PackageFactory) -> None:
    rules = _rules({"class": "public"})
    rules["resources"]["diarium"]["on_detect"] = "quarantine"
    red = _redact(_package(make_package, rules))
    assert red.resources[0].table["dnr"].to_pylist() == ["KS 2024/2", "KS 2024/4"]
    assert red.resources[0].quarantined_rows == 2
    assert {(e["field"], e["detector"]) for e in red.last_scan} == {
        ("mening", "name"),
        ("mening", "address"),
    }


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"class": "public", "names": "public", "reason": "x"}, "legal basis"),
        ({"class": "public", "names": "public", "basis": "2 kap. 1 § TF"}, "reason"),
        ({"class": "public", "names": "yes", "basis": "b", "reason": "r"}, "only 'public'"),
        ({"class": "public", "names": True, "basis": "b", "reason": "r"}, "only 'public'"),
        ({"class": "public", "addresses": "private", "basis": "b", "reason": "r"}, "only"),
        (
            {"class": "public", "names": "public", "scan": ["name"], "basis": "b", "reason": "r"},
            "contradict",
        ),
        (
            {"class": "personal", "action": "drop", "names": "public", "basis": "b",
             "reason": "r"},
            "public field that is kept",
        ),
        (
            {"class": "public", "identifier_column": {"reason": "ids", "skip": ["name"]}},
            "cannot be skipped",
        ),
    ],
)  # fmt: skip
def test_declarations_are_checked(
    spec: dict[str, Any], message: str, make_package: PackageFactory
) -> None:
    root = _package(make_package, _rules(spec))
    with pytest.raises(RulesError, match=message):
        load_rules(root / "rules.yaml")


@pytest.mark.parametrize(
    ("values", "free"),
    [
        (["KS 2024/1", "KS 2024/2", None], False),  # case numbers: one word each
        (["inkommande", "utgående", "upprättad"], False),  # enum values
        (["F10023", "INV000231", "2024F0012"], False),  # invoice numbers
        (["Helena Brandt", "Magnus Öberg"], True),  # names: two words
        (["Exempelby Energi AB", "Region Exempel", "Trafikverket"], True),
        (["ja", "nej", "ja", "Kunden ringde om sin ansökan och ville ha svar"], True),
        ([None, None], False),
        ([], False),
    ],
)
def test_free_text_is_mostly_multi_word(values: list[str | None], free: bool) -> None:
    assert is_free_text(pa.array(values, pa.string())) is free
    assert is_free_text(pa.array(values, pa.string()).dictionary_encode()) is free


def test_numbers_and_non_text_columns_are_not_free_text() -> None:
    assert not is_free_text(pa.array([1, 2, 3]))
    assert "name" not in last_scan_kinds(pa.array([8112289874]), None)
    kinds = last_scan_kinds(pa.array(["Karin Svensson ringde"] * 3), None)
    assert kinds == ["personnummer", "samordningsnummer", "email", "phone", "name", "address"]


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.one_of(st.none(), st.text(alphabet="aZ1 -/ÅéΩ\u00aa\u02b0x", max_size=12)),
        min_size=1,
        max_size=40,
    )
)
def test_free_text_shortcut_agrees_with_counting(values: list[str | None]) -> None:
    """The byte-level shortcut (no two letters side by side: no word) never changes the
    decision the word count makes."""
    from opengov.redact.free_text import is_free_text

    column = pa.array(["pad", *values], pa.string()).slice(1)
    assert is_free_text(column) == free_text_by_counting(values)
    assert is_free_text(pa.chunked_array([column, column])) == free_text_by_counting(values * 2)
