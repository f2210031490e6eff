"""Issue 9 §5 (row rules mean what a steward means) and issue 12 §3 (rules errors that teach:
every problem at once, "did you mean", never a data value)."""

from __future__ import annotations

import copy
import csv
import io
import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
import yaml
from hostile import PLANTED, assert_clean_failure, every_byte, invoke, rules_for, write_package
from hypothesis import given, settings
from hypothesis import strategies as st

from opengov.errors import RulesError
from opengov.package import load_package
from opengov.redact.rows import normalise_text, row_mask
from opengov.rules import RowRule, load_for_package, parse_rules, suggest

# --- §5: text comparisons in row rules are normalised ---------------------------------------

LETTERS = "abcdefghijklmnopqrstuvwxyzåäöéü0123456789"
SPACES = [" ", "\t", "\u00a0", "\u202f", "\u2007", "\u3000", "\n", "\r\n", "\u2028"]
INVISIBLE = ["\u00ad", "\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u200e", "\u202a"]

words = st.lists(st.text(alphabet=LETTERS, min_size=1, max_size=10), min_size=1, max_size=3).map(
    " ".join
)


@st.composite
def written_forms(draw: st.DrawFn, word: str) -> str:
    """`word` as a person might type it: case, spacing, invisible and fullwidth characters."""
    out = []
    for char in word:
        if char == " ":
            out.append("".join(draw(st.lists(st.sampled_from(SPACES), min_size=1, max_size=3))))
            continue
        if draw(st.booleans()):
            char = char.upper()
        if char.isascii() and char.isalnum() and draw(st.integers(0, 4)) == 0:
            char = chr(ord(char) + 0xFEE0)  # fullwidth form, folded back by NFKC
        out.append(char)
        if draw(st.integers(0, 5)) == 0:
            out.append(draw(st.sampled_from(INVISIBLE)))
    lead = "".join(draw(st.lists(st.sampled_from(SPACES), max_size=2)))
    tail = "".join(draw(st.lists(st.sampled_from(SPACES), max_size=2)))
    return lead + "".join(out) + tail


def _rule(op: str, value: Any, *, exact: bool = False) -> RowRule:
    return RowRule("r.rows[0]", "r", "f", op, value, None, exact=exact)  # type: ignore[arg-type]


def _mask(cells: list[str | None], rule: RowRule) -> list[bool]:
    table = pa.table({"f": pa.array(cells, pa.string())})
    return row_mask(table, rule, {}, {"name": "f", "type": "string"}).to_pylist()  # type: ignore[no-any-return]


@given(st.data(), words)
@settings(max_examples=300)
def test_equals_matches_every_written_form(data: st.DataObject, word: str) -> None:
    form = data.draw(written_forms(word))
    other = word + "x"
    assert _mask([form, other, None], _rule("equals", word)) == [True, False, False]
    assert _mask([form, other], _rule("in", [word, "annat"])) == [True, False]
    # not_in withholds what is not listed: the listed word in any form stays.
    assert _mask([form, other, None], _rule("not_in", [word])) == [False, True, True]


@given(st.data(), words)
@settings(max_examples=200)
def test_exact_compares_as_written(data: st.DataObject, word: str) -> None:
    form = data.draw(written_forms(word))
    assert _mask([form, word], _rule("equals", word, exact=True)) == [form == word, True]


@given(st.data(), words)
@settings(max_examples=200)
def test_the_rule_value_is_normalised_too(data: st.DataObject, word: str) -> None:
    written = data.draw(written_forms(word))
    assert _mask([word, word + "x"], _rule("equals", written)) == [True, False]


@given(st.text(max_size=30))
def test_normalising_twice_changes_nothing(text: str) -> None:
    once = normalise_text(pa.array([text], pa.string()))
    assert normalise_text(once).to_pylist() == once.to_pylist()


@pytest.mark.parametrize(
    ("value", "cells", "dropped"),
    [
        ("ja", ["ja", "nej"], [True, False]),
        ("Ja", ["ja", "nej"], [True, False]),
        (" JA ", ["ja", "nej"], [True, False]),
        ("true", ["ja", "nej"], [True, False]),
        (True, ["ja", "nej"], [True, False]),
        ("NEJ", ["ja", "nej"], [False, True]),
    ],
)
def test_boolean_fields_read_rule_values_as_the_field_does(
    value: Any, cells: list[str], dropped: list[bool]
) -> None:
    field = {"name": "f", "type": "boolean", "trueValues": ["ja"], "falseValues": ["nej"]}
    table = pa.table({"f": pa.array([c == "ja" for c in cells])})
    assert row_mask(table, _rule("equals", value), {}, field).to_pylist() == dropped


def test_a_boolean_rule_value_that_can_never_match_is_an_error() -> None:
    field = {"name": "f", "type": "boolean", "trueValues": ["ja"], "falseValues": ["nej"]}
    table = pa.table({"f": pa.array([True, False])})
    with pytest.raises(RulesError, match="neither true nor false"):
        row_mask(table, _rule("equals", "kanske"), {}, field)


SPELLINGS = ["Skyddad", "SKYDDAD", " skyddad ", "skyddad\u00a0", "skyd\u00addad", "ＳＫＹＤＤＡＤ"]


@pytest.mark.parametrize("exact", [False, True])
def test_publish_withholds_every_spelling_of_the_protected_marker(
    tmp_path: Path, exact: bool
) -> None:
    schema_fields = [{"name": "id", "type": "integer"}, {"name": "namn", "type": "string"},
                     {"name": "status", "type": "string"}]  # fmt: skip
    rows = [[str(i), f"Hemlig {i} {PLANTED}", s] for i, s in enumerate(SPELLINGS, 1)]
    rows.append(["99", "Öppen Person", "vanlig"])
    pkg = tmp_path / "pkg"
    (pkg / "data").mkdir(parents=True)
    (pkg / "data" / "r.csv").write_text(
        "id;namn;status\n" + "".join(";".join(r) + "\n" for r in rows), encoding="utf-8"
    )
    desc = {"name": "ds", "resources": [{"name": "r", "path": "data/r.csv",
            "dialect": {"delimiter": ";"}, "schema": {"fields": schema_fields}}]}  # fmt: skip
    (pkg / "datapackage.json").write_text(json.dumps(desc))
    cond: dict[str, Any] = {"field": "status", "equals": "skyddad"}
    if exact:
        cond["exact"] = True
    rules = {"version": 1, "resources": {"r": {
        "fields": {"id": "public", "status": "public",
                   "namn": {"class": "public", "scan": ["personnummer"]}},
        "rows": [{"drop_when": cond, "basis": "22 kap. 1 § OSL"}]}}}  # fmt: skip
    (pkg / "rules.yaml").write_text(yaml.safe_dump(rules, allow_unicode=True))
    portal = tmp_path / "portal"
    run = invoke(["publish", str(pkg), "--to", str(portal)])
    assert run.exit_code == 0, run.output
    published = (portal / "ds" / "data" / "r.csv").read_text(encoding="utf-8")
    names = [row[1] for row in list(csv.reader(io.StringIO(published)))[1:]]
    if exact:
        assert len(names) == len(SPELLINGS) + 1  # none is written exactly "skyddad"
    else:
        assert names == ["Öppen Person"]
        assert b"Hemlig" not in every_byte(portal)
    assert PLANTED.encode() not in every_byte(portal)


# --- issue 12 §3: every problem at once, with suggestions, never a value --------------------


def test_suggestions_find_what_a_steward_meant() -> None:
    assert (
        suggest("Belopp", ["Belopp (kr)", "Datum", "Leverantör"])
        == " (did you mean 'Belopp (kr)'?)"
    )
    assert "pseudonymize" in suggest("pseudonymise", ["keep", "drop", "pseudonymize"])
    assert "personnummer" in suggest("personummer", ["personnummer", "email"])
    assert "public" in suggest("publik", ["public", "personal"])
    assert "class" in suggest("clas", ["class", "action"])
    assert suggest("zzzzqqq", ["public", "personal"]) == ""


def _grants_package(tmp_path: Path, rules: dict[str, Any]) -> Path:
    pkg = tmp_path / "bidrag"
    (pkg / "data").mkdir(parents=True)
    (pkg / "data" / "bidrag.csv").write_text(
        f"Mottagare;Belopp (kr);Personnummer\nFöreningen Ek;104 824,50;{PLANTED}\n",
        encoding="utf-8",
    )
    fields = [{"name": "Mottagare", "type": "string"}, {"name": "Belopp (kr)", "type": "string"},
              {"name": "Personnummer", "type": "string"}]  # fmt: skip
    desc = {"name": "bidrag", "resources": [{"name": "bidrag", "path": "data/bidrag.csv",
            "dialect": {"delimiter": ";"}, "schema": {"fields": fields}}]}  # fmt: skip
    (pkg / "datapackage.json").write_text(json.dumps(desc, ensure_ascii=False))
    (pkg / "rules.yaml").write_text(yaml.safe_dump(rules, allow_unicode=True, sort_keys=False))
    return pkg


BROKEN = {
    "version": 1,
    "resources": {
        "bidrag": {
            "fields": {
                "Mottagare": {"clas": "public"},
                "Belopp": "public",
                "Personnummer": {"class": "personal", "action": "pseudonymise"},
                PLANTED: "public",
            },
            "rows": [
                {"drop_when": {"field": "Mottagare", "equal": PLANTED}, "basis": "x"},
                {"drop_when": {"field": "Personnumer", "in": [PLANTED]}},
            ],
            "quasi_identifiers": {"fields": ["Mottagare"], "k": 1},
        },
        "bidrg": {"fields": {"x": "public"}},
    },
}


def test_every_rules_problem_is_reported_at_once(tmp_path: Path) -> None:
    pkg = _grants_package(tmp_path, BROKEN)
    with pytest.raises(RulesError) as info:
        load_for_package(load_package(pkg), required=True)
    details = "\n".join(info.value.details)
    expected = [
        "unknown key 'clas' (did you mean 'class'?)",
        "field bidrag.Belopp, which does not exist (did you mean 'Belopp (kr)'?)",
        "unknown action 'pseudonymise'",
        "(did you mean 'pseudonymize'?)",
        "needs a legal basis",
        "unknown condition 'equal' (did you mean 'equals'?)",
        "rows[1]: a row rule needs a legal basis",
        "quasi_identifiers needs",
        "resource 'bidrg', which the package does not have (did you mean 'bidrag'?)",
        "looks like a value, not shown",
    ]
    for text in expected:
        assert text in details, text
    assert len(info.value.details) >= 9


def test_the_cli_reports_all_problems_and_no_value(tmp_path: Path) -> None:
    pkg = _grants_package(tmp_path, BROKEN)
    commands = [
        ["publish", str(pkg), "--to", str(tmp_path / "portal")],
        ["validate", str(pkg)],
        ["redact", str(pkg), "--out", str(tmp_path / "o")],
    ]
    for args in commands:
        run = invoke(args)
        assert_clean_failure(run, RulesError.exit_code)
        assert "did you mean 'Belopp (kr)'" in run.stderr
        assert run.stderr.count("\n  - ") >= 9
        assert "104 824" not in run.output and "Föreningen Ek" not in run.output
    assert not (tmp_path / "portal").exists() and not (tmp_path / "o").exists()


def test_a_key_given_twice_is_reported_not_silently_dropped(tmp_path: Path) -> None:
    pkg = write_package(tmp_path / "pkg")
    text = (pkg / "rules.yaml").read_text()
    # The steward classified personnummer, then (further down) again as public by mistake.
    assert "      id: public\n" in text
    text = text.replace("      id: public\n", "      id: public\n      personnummer: public\n")
    (pkg / "rules.yaml").write_text(text)
    run = invoke(["publish", str(pkg), "--to", str(tmp_path / "portal")])
    assert_clean_failure(run, RulesError.exit_code)
    assert "'personnummer' is given twice" in run.stderr
    assert not (tmp_path / "portal").exists()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"class": "personal", "action": "drop", "basis": "x", "canonical": "personnummer"},
         "only go with action pseudonymize"),
        ({"class": "personal", "action": "pseudonymize", "basis": "x", "scope": "municipality"},
         "say why"),
        ({"class": "personal", "action": "pseudonymize", "basis": "x", "scope": "world"},
         "scope must be one of"),
        ({"class": "personal", "action": "pseudonymize", "basis": "x", "canonical": "pnr"},
         "canonical must be one of"),
    ],
)  # fmt: skip
def test_pseudonym_options_are_checked(change: dict[str, Any], message: str) -> None:
    rules = copy.deepcopy(rules_for("r"))
    rules["resources"]["r"]["fields"]["personnummer"] = change
    with pytest.raises(RulesError, match=message):
        parse_rules(rules)
