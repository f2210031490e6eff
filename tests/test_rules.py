from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from helpers import STAFF_RULES, PackageFactory

from opengov.errors import RulesError, UnclassifiedFields
from opengov.package import load_package
from opengov.rules import check_against_package, load_rules, parse_basis, parse_rules


def _rules(**field_overrides: Any) -> dict[str, Any]:
    rules = copy.deepcopy(STAFF_RULES)
    rules["resources"]["personal"]["fields"].update(field_overrides)
    return rules


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("21 kap. 7 § OSL", {"chapter": 21, "section": "7", "law": "OSL"}),
        (
            "19 kap. 3 § andra stycket OSL",
            {"chapter": 19, "section": "3", "stycke": 2, "law": "OSL"},
        ),
        ("39 kap. 3 § första stycket", {"chapter": 39, "section": "3", "stycke": 1}),
        ("26 kap. 1 § OSL", {"chapter": 26, "section": "1", "law": "OSL"}),
    ],
)
def test_parse_basis(text: str, expected: dict[str, Any]) -> None:
    parsed = parse_basis(text)
    assert parsed["text"] == text
    for key, value in expected.items():
        assert parsed[key] == value


def test_free_text_basis_is_kept_without_parts() -> None:
    assert parse_basis("Privat inlägg, inte allmän handling") == {
        "text": "Privat inlägg, inte allmän handling"
    }


def test_valid_rules_parse_with_defaults() -> None:
    rules = parse_rules(STAFF_RULES)
    res = rules.resources["personal"]
    assert res.fields["id"].action == "keep"
    assert res.fields["namn"].decision.decided_by == "Personalavdelningen"
    assert res.public_fields == {"id", "avdelning", "kommentar"}
    assert rules.needs_key()


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"namn": {"class": "personal", "action": "shred", "basis": "x"}}, "unknown action"),
        ({"namn": {"class": "personal", "action": "drop"}}, "needs a legal basis"),
        ({"namn": {"class": "personal"}}, "needs an action"),
        ({"namn": {"class": "personal", "action": "keep"}}, "only public fields may be kept"),
        ({"namn": {"class": "topsecret"}}, "class must be one of"),
        ({"namn": {"class": "public", "scan": ["dna"]}}, "unknown detector"),
        ({"namn": {"class": "public", "colour": "red"}}, "unknown key"),
        ({"lon": {"class": "personal", "action": "generalize", "basis": "x"}}, "needs 'to'"),
    ],
)
def test_bad_field_rules(override: dict[str, Any], message: str) -> None:
    with pytest.raises(RulesError, match=message):
        parse_rules(_rules(**override))


def test_row_rule_needs_basis_and_one_condition() -> None:
    rules = copy.deepcopy(STAFF_RULES)
    rules["resources"]["personal"]["rows"] = [{"drop_when": {"field": "skyddad", "equals": True}}]
    with pytest.raises(RulesError, match="needs a legal basis"):
        parse_rules(rules)
    rules["resources"]["personal"]["rows"] = [
        {"drop_when": {"field": "x", "equals": 1, "in": [1]}, "basis": "b"}
    ]
    with pytest.raises(RulesError, match="exactly one"):
        parse_rules(rules)


@pytest.mark.parametrize("word", ["true", "True", "false", "yes", "No", "on", "OFF", "null", "~"])
def test_a_field_key_yaml_reads_as_no_text_is_refused_with_advice(
    tmp_path: Path, word: str
) -> None:
    """An unquoted `on:` is the boolean True to YAML: the word is lost, so no field matched and
    the message said `True`, which the steward never wrote."""
    path = tmp_path / "rules.yaml"
    path.write_text(
        f"version: 1\nresources:\n  t:\n    fields:\n      {word}: {{class: public}}\n",
        encoding="utf-8",
    )
    with pytest.raises(RulesError, match="quote the field name"):
        load_rules(path)
    quoted = path.read_text("utf-8").replace(f"      {word}:", f'      "{word}":')
    path.write_text(quoted, encoding="utf-8")
    assert list(load_rules(path).resources["t"].fields) == [word]


def test_version_is_required() -> None:
    rules = copy.deepcopy(STAFF_RULES)
    rules["version"] = 2
    with pytest.raises(RulesError, match="version: 1"):
        parse_rules(rules)


def test_unclassified_field_is_listed(make_package: PackageFactory) -> None:
    rules = copy.deepcopy(STAFF_RULES)
    del rules["resources"]["personal"]["fields"]["lon"]
    root = make_package(rules=rules)
    package = load_package(root)
    with pytest.raises(UnclassifiedFields) as info:
        check_against_package(load_rules(root / "rules.yaml"), package)
    assert info.value.details == ["personal.lon"]
    assert info.value.exit_code == 5


def test_rule_for_unknown_field_is_an_error(make_package: PackageFactory) -> None:
    root = make_package(rules=_rules(lönegrad={"class": "public"}))
    with pytest.raises(RulesError) as info:
        check_against_package(load_rules(root / "rules.yaml"), load_package(root))
    assert "personal.lönegrad" in str(info.value)


def test_yaml_syntax_error_names_position_not_content(tmp_path: Path) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text("version: 1\nresources: {personal: [811228-9874\n", encoding="utf-8")
    with pytest.raises(RulesError) as info:
        load_rules(path)
    assert "line" in str(info.value)
    assert "811228" not in str(info.value)
