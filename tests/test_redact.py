"""Redaction by rule: each action, row filters, the last scan, k-anonymity, CSV safety."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from helpers import PNR, STAFF_ROWS, STAFF_RULES, PackageFactory
from hypothesis import given, settings
from hypothesis import strategies as st

from opengov.errors import DisclosureBlocked, KeyMissing, ReidentificationRisk
from opengov.package import load_package
from opengov.redact import PseudonymKey, load_key, redact
from opengov.redact.gates import neutralise_formulas
from opengov.rules import load_rules
from opengov.sources.readers import read_typed


def _run(root: Path, key: PseudonymKey | None = None) -> Any:
    package = load_package(root)
    rules = load_rules(root / "rules.yaml")
    return redact(package, rules, read_typed, key=key or PseudonymKey(b"k" * 32))


def test_actions_and_manifest(make_package: PackageFactory) -> None:
    red = _run(make_package())
    res = red.resources[0]
    table = res.table.to_pydict()
    assert res.table.column_names == ["id", "namn", "lon", "anstalld", "avdelning", "kommentar"]
    assert table["id"] == [1, 2, 4]  # row 3 has skyddad identitet
    assert all(n.startswith("p-") for n in table["namn"])
    assert table["lon"] == ["30000–39999", "40000–49999", "30000–39999"]
    assert table["anstalld"] == [2019, 2020, 2018]
    assert table["kommentar"][0] == "Ring [telefonnummer borttaget]"
    manifest = red.manifest()
    by_rule = {e["rule"]: e for e in manifest["rules"]}
    assert by_rule["personal.personnummer"]["values_affected"] == 3
    assert by_rule["personal.personnummer"]["lagrum"]["chapter"] == 21
    assert by_rule["personal.rows[0]"]["rows_affected"] == 1
    assert by_rule["personal.kommentar"]["detectors"] == {"phone": 1}
    assert manifest["resources"][0]["csv_formulas_neutralised"] == {"kommentar": 1}
    text = str(manifest)
    for secret in ("Håkan", "Åsa", PNR, "070-123"):
        assert secret not in text


def test_pseudonyms_are_keyed_and_stable(make_package: PackageFactory) -> None:
    root = make_package()
    a = _run(root, PseudonymKey(b"a" * 32)).resources[0].table["namn"].to_pylist()
    b = _run(root, PseudonymKey(b"a" * 32)).resources[0].table["namn"].to_pylist()
    c = _run(root, PseudonymKey(b"c" * 32)).resources[0].table["namn"].to_pylist()
    assert a == b and a != c
    assert len(set(a)) == 3


def test_key_is_required_and_never_shown(
    make_package: PackageFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OPENGOV_PSEUDONYM_KEY", raising=False)
    root = make_package()
    with pytest.raises(KeyMissing):
        redact(load_package(root), load_rules(root / "rules.yaml"), read_typed, key=None)
    monkeypatch.setenv("OPENGOV_PSEUDONYM_KEY", "RTbJeASpUQoYfSS_oZ_JIRpXRM8K1Hg6eSIX0TUjLzA")
    key = load_key()
    assert key is not None and "RTbJeASpUQoYfSS_oZ_JIRpXRM8K1Hg6eSIX0TUjLzA"[:8] not in repr(key)


def test_last_scan_blocks_personal_data_in_public_field(make_package: PackageFactory) -> None:
    rules = copy.deepcopy(STAFF_RULES)
    rules["resources"]["personal"]["fields"]["kommentar"] = {"class": "public"}  # no scan
    with pytest.raises(DisclosureBlocked) as info:
        _run(make_package(rules=rules))
    assert "personal.kommentar: phone" in str(info.value)
    assert "070" not in str(info.value)


def test_last_scan_quarantines_rows_when_asked(make_package: PackageFactory) -> None:
    rules = copy.deepcopy(STAFF_RULES)
    rules["resources"]["personal"]["fields"]["kommentar"] = {"class": "public"}
    rules["resources"]["personal"]["on_detect"] = "quarantine"
    red = _run(make_package(rules=rules))
    assert red.resources[0].table["id"].to_pylist() == [2, 4]
    assert red.resources[0].quarantined_rows == 1
    assert red.last_scan[0]["outcome"] == "quarantined"


def test_k_anonymity_gate(make_package: PackageFactory) -> None:
    rules = copy.deepcopy(STAFF_RULES)
    rules["resources"]["personal"]["quasi_identifiers"] = {"fields": ["avdelning"], "k": 2}
    with pytest.raises(ReidentificationRisk) as info:
        _run(make_package(rules=rules))
    assert "avdelning" in str(info.value) and "Ekonomi" not in str(info.value)


@pytest.mark.parametrize(
    ("condition", "expected_ids"),
    [
        ({"in": ["Skola"]}, [1]),
        ({"not_in": ["Skola"]}, [2, 4]),
        ({"equals": "Ekonomi"}, [2, 4]),
        ({"is_null": True}, [1, 2, 4]),
    ],
)
def test_row_filters(
    make_package: PackageFactory, condition: dict[str, Any], expected_ids: list[int]
) -> None:
    rules = copy.deepcopy(STAFF_RULES)
    rules["resources"]["personal"]["rows"].append(
        {"drop_when": {"field": "avdelning", **condition}, "basis": "test"}
    )
    assert _run(make_package(rules=rules)).resources[0].table["id"].to_pylist() == expected_ids


def test_mask_keep_last(make_package: PackageFactory) -> None:
    rules = copy.deepcopy(STAFF_RULES)
    rules["resources"]["personal"]["fields"]["namn"] = {
        "class": "personal",
        "action": "mask",
        "with": "***",
        "keep_last": 3,
        "basis": "b",
    }
    names = _run(make_package(rules=rules)).resources[0].table["namn"].to_pylist()
    assert names == ["***röm", "***erg", "***erg"]


def test_formula_neutralisation() -> None:
    table = pa.table({"t": ["=1+1", "+46", "-x", "@a", "\tb", "ok", None], "n": [1] * 7})
    out, counts = neutralise_formulas(table)
    assert out["t"].to_pylist()[:6] == ["'=1+1", "'+46", "'-x", "'@a", "'\tb", "ok"]
    assert counts == {"t": 5}


def test_rows_unchanged_order(make_package: PackageFactory) -> None:
    rows = copy.deepcopy(STAFF_ROWS)
    assert _run(make_package(rows=rows)).resources[0].source_rows == len(rows) - 1


def test_last_scan_covers_integer_columns(make_package: PackageFactory) -> None:
    import copy as _copy

    from helpers import STAFF_SCHEMA

    schema = _copy.deepcopy(STAFF_SCHEMA)
    schema["fields"].append({"name": "lopnr", "type": "integer"})
    rows = [
        [*row, value]
        for row, value in zip(STAFF_ROWS, ["lopnr", "198112289874", "2", "3", "4"], strict=True)
    ]
    rules = _copy.deepcopy(STAFF_RULES)
    rules["resources"]["personal"]["fields"]["lopnr"] = {"class": "public"}
    with pytest.raises(DisclosureBlocked) as info:
        _run(make_package(rows=rows, schema=schema, rules=rules))
    assert "personal.lopnr: personnummer" in str(info.value)


@pytest.mark.parametrize(
    ("field", "condition", "expected_ids"),
    [
        ("skyddad", {"equals": "nej"}, [3]),  # ja/nej boolean: the rule says it as the file does
        ("anstalld", {"in": ["2019-03-01", "2018-11-30"]}, [2, 3]),
        ("lon", {"in": [32500.5]}, [2, 3, 4]),
        ("id", {"not_in": [1, 2]}, [1, 2]),
    ],
)
def test_row_rules_compare_as_the_field_reads(
    make_package: PackageFactory, field: str, condition: dict[str, Any], expected_ids: list[int]
) -> None:
    rules = copy.deepcopy(STAFF_RULES)
    rules["resources"]["personal"]["rows"] = [
        {"drop_when": {"field": field, **condition}, "basis": "test"}
    ]
    rules["resources"]["personal"]["fields"]["skyddad"] = {"class": "public"}
    assert _run(make_package(rules=rules)).resources[0].table["id"].to_pylist() == expected_ids


def test_published_schema_drops_source_date_formats(make_package: PackageFactory) -> None:
    from helpers import STAFF_SCHEMA

    schema = copy.deepcopy(STAFF_SCHEMA)
    rows = copy.deepcopy(STAFF_ROWS)
    for row in rows[1:]:
        y, m, d = row[4].split("-")
        row[4] = f"{d}/{m}/{y}"
    next(f for f in schema["fields"] if f["name"] == "anstalld")["format"] = "%d/%m/%Y"
    rules = copy.deepcopy(STAFF_RULES)
    rules["resources"]["personal"]["fields"]["anstalld"] = {"class": "public"}
    res = _run(make_package(rows=rows, schema=schema, rules=rules)).resources[0]
    field = next(f for f in res.schema["fields"] if f["name"] == "anstalld")
    assert "format" not in field
    assert str(res.table["anstalld"][0].as_py()) == "2019-03-01"


def test_row_rules_on_datetimes_compare_moments(make_package: PackageFactory) -> None:
    schema = {"fields": [{"name": "id", "type": "integer"}, {"name": "tid", "type": "datetime"}]}
    rows = [["id", "tid"], ["1", "2024-01-05T10:00:00"], ["2", "2024-01-05T10:00:00.5"]]
    rules = {
        "version": 1,
        "resources": {
            "t": {
                "fields": {"id": {"class": "public"}, "tid": {"class": "public"}},
                "rows": [
                    {"drop_when": {"field": "tid", "in": ["2024-01-05T10:00:00"]}, "basis": "test"}
                ],
            }
        },
    }
    assert _run(make_package("t", rows=rows, schema=schema, rules=rules)).resources[0].table[
        "id"
    ].to_pylist() == [2]


# --------------------------------------------------------------- declared identifier columns

# A 10-digit platform id that passes the personnummer checks (Luhn and calendar): the shape of
# an X status id from 2010, which blocked real archives before columns could be declared.
_ID_LIKE_PNR = "8112289874"
_ID_ROWS = [["id", "ref"], ["1", _ID_LIKE_PNR], ["2", "2510048719"]]
_ID_SCHEMA: dict[str, Any] = {
    "fields": [{"name": "id", "type": "integer"}, {"name": "ref", "type": "string"}]
}


def _id_rules(ref: dict[str, Any]) -> dict[str, Any]:
    return {"version": 1, "resources": {"ids": {"fields": {"id": "public", "ref": ref}}}}


def test_an_undeclared_id_column_that_reads_as_personnummer_blocks(
    make_package: PackageFactory,
) -> None:
    root = make_package(
        "ids", rows=_ID_ROWS, schema=_ID_SCHEMA, rules=_id_rules({"class": "public"})
    )
    with pytest.raises(DisclosureBlocked) as info:
        _run(root)
    assert "ids.ref: personnummer" in str(info.value)
    assert _ID_LIKE_PNR not in str(info.value)


def test_a_declared_identifier_column_publishes_and_says_why_in_the_manifest(
    make_package: PackageFactory,
) -> None:
    declared = {
        "class": "public",
        "identifier_column": {"reason": "Plattformens id-nummer för inlägg, inte personuppgifter"},
    }
    root = make_package("ids", rows=_ID_ROWS, schema=_ID_SCHEMA, rules=_id_rules(declared))
    red = _run(root)
    assert red.resources[0].table["ref"].to_pylist() == [_ID_LIKE_PNR, "2510048719"]
    listed = red.manifest()["identifier_columns"]
    assert listed == [
        {
            "resource": "ids",
            "field": "ref",
            "skip": [
                "personnummer",
                "samordningsnummer",
                "organisationsnummer",
                "phone",
                "postcode",
            ],
            "reason": "Plattformens id-nummer för inlägg, inte personuppgifter",
        }
    ]


def test_a_declared_identifier_column_is_still_scanned_for_what_it_does_not_skip(
    make_package: PackageFactory,
) -> None:
    declared = {"class": "public", "identifier_column": {"reason": "id", "skip": ["personnummer"]}}
    rows = [["id", "ref"], ["1", _ID_LIKE_PNR], ["2", "ring 070-123 45 67"]]
    root = make_package("ids", rows=rows, schema=_ID_SCHEMA, rules=_id_rules(declared))
    with pytest.raises(DisclosureBlocked) as info:
        _run(root)
    assert "ids.ref: phone" in str(info.value)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"skip": ["phone"]}, "say why"),
        ({"reason": "  "}, "say why"),
        ({"reason": "x", "skip": []}, "non-empty list"),
        ({"reason": "x", "skip": ["telefon"]}, "unknown detector"),
        ({"reason": "x", "extra": 1}, "unknown key"),
        ("yes", "expected a mapping"),
    ],
)
def test_identifier_column_declarations_are_checked(
    spec: Any, message: str, make_package: PackageFactory
) -> None:
    from opengov.errors import RulesError

    ref = {"class": "public", "identifier_column": spec}
    root = make_package("ids", rows=_ID_ROWS, schema=_ID_SCHEMA, rules=_id_rules(ref))
    with pytest.raises(RulesError, match=message):
        load_rules(root / "rules.yaml")


def test_only_a_kept_public_field_can_be_an_identifier_column(make_package: PackageFactory) -> None:
    from opengov.errors import RulesError

    ref = {
        "class": "personal",
        "action": "mask",
        "basis": "21 kap. 7 § OSL",
        "identifier_column": {"reason": "x"},
    }
    root = make_package("ids", rows=_ID_ROWS, schema=_ID_SCHEMA, rules=_id_rules(ref))
    with pytest.raises(RulesError, match="only a public field"):
        load_rules(root / "rules.yaml")


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.one_of(st.none(), st.text(alphabet="=+-@\t\r'aö€ 1\x00\n", max_size=6))),
    st.integers(0, 3),
    st.booleans(),
)
def test_formula_cells_match_startswith(values: list[str | None], cut: int, large: bool) -> None:
    """The first-byte check agrees with str.startswith on every cell, for sliced, chunked,
    large and null-holding columns alike."""
    from opengov.redact.gates import FORMULA_PREFIXES, formula_cells

    kind = pa.large_string() if large else pa.string()
    whole = pa.array(["=pad", *values], kind).slice(1)  # a non-zero offset, as slices have
    parts = [whole.slice(0, cut), whole.slice(cut)] if cut <= len(values) else [whole]
    column = pa.chunked_array(parts, kind)
    expected = [v is not None and v.startswith(FORMULA_PREFIXES) for v in values]
    assert formula_cells(column).tolist() == expected
    out, counts = neutralise_formulas(pa.table({"t": column}))
    assert out["t"].to_pylist() == [
        "'" + v if e else v for v, e in zip(values, expected, strict=True)
    ]
    assert counts == ({"t": sum(expected)} if any(expected) else {})


@pytest.mark.parametrize(
    "column",
    [
        pa.array(([8112289874] * 3 + list(range(1000, 1097))) * 10, pa.int64()),
        pa.array(([8112289874.0] * 3 + [float(i) for i in range(1000, 1097)]) * 10),
        pa.chunked_array([pa.array(([8112289874] * 3 + list(range(97))) * 5, pa.int64())] * 2),
    ],
)
def test_last_scan_finds_identifiers_in_repeating_numbers(column: Any) -> None:
    """Numbers and dates are scanned value by value once (repeats found on the typed values):
    every cell holding a personnummer written as a number is still counted."""
    from opengov.redact.gates import LastScan
    from opengov.rules import parse_rules

    rules = parse_rules({"version": 1, "resources": {"r": {"fields": {"n": "public"}}}})
    scan = LastScan("r", rules.resources["r"])
    found = scan.scan_column("n", column, ())
    assert int(pa.compute.sum(found["personnummer"]).as_py()) == 30
    assert sum(int(pa.compute.sum(v).as_py()) for k, v in found.items() if k != "personnummer") == 0
