from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import STAFF_ROWS, STAFF_SCHEMA, PackageFactory, write_csv

from opengov.errors import InputError, SchemaError
from opengov.package import load_package, load_single_file
from opengov.sources.encoding import detect_encoding


def _set_resource(root: Path, **changes: object) -> None:
    desc = json.loads((root / "datapackage.json").read_text(encoding="utf-8"))
    desc["resources"][0].update(changes)
    (root / "datapackage.json").write_text(json.dumps(desc), encoding="utf-8")


def test_loads_and_hashes_inputs(make_package: PackageFactory) -> None:
    package = load_package(make_package())
    roles = sorted(i.role for i in package.inputs)
    assert roles == ["data", "descriptor", "rules"]
    assert all(len(i.sha256) == 64 and i.bytes > 0 for i in package.inputs)
    res = package.resources[0]
    assert res.field_names[0] == "id"
    assert res.delimiter == ";"


@pytest.mark.parametrize("path", ["../../etc/passwd", "/etc/passwd", "data/../../x.csv"])
def test_paths_outside_the_package_are_refused(make_package: PackageFactory, path: str) -> None:
    root = make_package()
    _set_resource(root, path=path)
    with pytest.raises(InputError, match=r"outside the package|absolute"):
        load_package(root)


def test_missing_and_empty_files(make_package: PackageFactory) -> None:
    root = make_package()
    _set_resource(root, path="data/none.csv")
    with pytest.raises(InputError, match="does not exist"):
        load_package(root)
    (root / "data" / "empty.csv").write_bytes(b"")
    _set_resource(root, path="data/empty.csv")
    with pytest.raises(InputError, match="is empty"):
        load_package(root)


def test_schema_file_that_is_not_json(make_package: PackageFactory) -> None:
    root = make_package()
    (root / "schema.json").write_text("{ not json", encoding="utf-8")
    _set_resource(root, schema="schema.json")
    with pytest.raises(SchemaError, match="not valid JSON"):
        load_package(root)


def test_invalid_table_schema(make_package: PackageFactory) -> None:
    root = make_package(schema={"fields": [{"name": "id", "type": "integr"}]})
    with pytest.raises(SchemaError, match="invalid Table Schema"):
        load_package(root)


def test_schema_reference_resolves_in_shared_schemas_folder(
    tmp_path: Path, make_package: PackageFactory
) -> None:
    (tmp_path / "schemas").mkdir()
    (tmp_path / "schemas" / "staff.json").write_text(json.dumps(STAFF_SCHEMA), encoding="utf-8")
    root = make_package(folder=tmp_path / "datapackages" / "personal")
    _set_resource(root, schema="schemas/staff.json")
    package = load_package(root)
    assert package.resources[0].schema == STAFF_SCHEMA
    assert any(i.role == "schema" and i.path == "schemas/staff.json" for i in package.inputs)


def test_declared_encoding_that_does_not_match(make_package: PackageFactory) -> None:
    root = make_package(encoding="cp1252")
    _set_resource(root, encoding="utf-8")
    with pytest.raises(InputError, match="not valid utf-8") as info:
        load_package(root)
    assert "Håkan" not in str(info.value)


@pytest.mark.parametrize(
    ("encoding", "expected"), [("utf-8", "utf-8"), ("cp1252", "cp1252"), ("utf-8-sig", "utf-8-sig")]
)
def test_encoding_detection(tmp_path: Path, encoding: str, expected: str) -> None:
    path = tmp_path / "a.csv"
    write_csv(path, STAFF_ROWS, encoding=encoding)
    assert detect_encoding(path, "resource 'a'") == expected


def test_single_file_with_schema_sniffs_semicolon(tmp_path: Path) -> None:
    data = tmp_path / "personal.csv"
    write_csv(data, STAFF_ROWS, encoding="cp1252")
    schema = tmp_path / "schema.json"
    schema.write_text(json.dumps(STAFF_SCHEMA), encoding="utf-8")
    package = load_single_file(data, schema)
    assert package.single_file and package.rules_path is None
    res = package.resources[0]
    from opengov.sources.dialect import csv_dialect

    # Sniffed from the first lines as frictionless does (not declared in the descriptor).
    assert csv_dialect(res).delimiter == ";" and res.encoding == "cp1252"


@pytest.mark.parametrize(
    "extra",
    [
        {"title": "Leverantörsreskontra", "description": "En rad per kontering"},
        {"fieldsMatch": "superset"},
        {"fieldsMatch": "partial", "title": "x"},
        {"fieldsMatch": "sometimes"},
        {"title": 5},
        {"description": ["a"]},
        {"fieldsMatch": 1},
    ],
)
def test_schemas_passed_without_frictionless_are_ones_it_accepts(extra: dict[str, object]) -> None:
    """The shortcut that spares loading frictionless says yes only where frictionless' own
    profile does (and so never lets a wrong schema through unchecked)."""
    from frictionless import Schema

    from opengov.package import _plainly_valid

    schema = {"fields": [{"name": "id", "type": "integer"}], **extra}
    if _plainly_valid(schema):
        assert Schema.validate_descriptor(schema).valid, extra
    bad = isinstance(extra.get("title", ""), str) and isinstance(extra.get("description", ""), str)
    bad = not bad or extra.get("fieldsMatch", "exact") not in ("exact", "equal", "subset",
                                                                "superset", "partial")  # fmt: skip
    assert _plainly_valid(schema) is not bad
