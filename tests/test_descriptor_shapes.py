"""Descriptor shapes frictionless reads that opengov lost records on or misread (found by
tests/test_frictionless_parity.py): each is read with the same rows, or refused with a message,
on both engines. Fictitious Swedish content."""

from __future__ import annotations

import bz2
import gzip
import json
import lzma
import zipfile
from pathlib import Path
from typing import Any

import pytest

from opengov.errors import InputError, SchemaError
from opengov.validate import validate

ENGINES = ("auto", "frictionless")
ROWS = [["id", "namn"], [1, "Åsa"], [2, "Örjan"], [3, "Märta"]]
SCHEMA = {"fields": [{"name": "id", "type": "integer"}, {"name": "namn", "type": "string"}]}


def _package(root: Path, resource: dict[str, Any], files: dict[str, bytes] | None = None) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for name, data in (files or {}).items():
        (root / name).write_bytes(data)
    descriptor = {"name": "paket", "resources": [{"name": "tabell", **resource}]}
    (root / "datapackage.json").write_text(json.dumps(descriptor), encoding="utf-8")
    return root


def _rows(root: Path, engine: str) -> tuple[int, int]:
    result = validate(root, engine=engine).results[0]
    return result.rows, result.error_count


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(
    ("dialect", "data", "rows"),
    [
        ({"header": False}, ROWS[1:], 3),
        ({"header": False}, ROWS[1:2], 1),
        ({"headerRows": [2]}, [["Rapport 2024"], *ROWS], 3),
        ({"commentChar": "#"}, [ROWS[0], ["# kommentar"], *ROWS[1:]], 3),
        ({}, ROWS, 3),
    ],
)
def test_inline_data_applies_its_dialect(
    tmp_path: Path, engine: str, dialect: dict[str, Any], data: list[Any], rows: int
) -> None:
    schema = SCHEMA
    if dialect.get("header") is False:
        schema = {"fields": [{"name": "field1", "type": "integer"}, {"name": "field2"}]}
    root = _package(tmp_path / "p", {"data": data, "dialect": dialect, "schema": schema})
    assert _rows(root, engine) == (rows, 0)


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(
    "resource",
    [
        {"path": "del1.csv", "extrapaths": ["del2.csv"]},
        {"path": "del1.csv", "scheme": "multipart", "extrapaths": ["del2.csv"]},
        {"path": ["del1.csv", "del2.csv"]},
    ],
)
def test_multipart_is_refused_not_cut_to_its_first_part(
    tmp_path: Path, engine: str, resource: dict[str, Any]
) -> None:
    files = {"del1.csv": b"id,namn\n1,\xc3\x85sa\n", "del2.csv": b"2,\xc3\x96rjan\n"}
    root = _package(tmp_path / "p", {**resource, "schema": SCHEMA}, files)
    with pytest.raises(SchemaError, match="multipart"):
        validate(root, engine=engine)


_CSV = "id,namn\n1,Åsa\n2,Örjan\n".encode()


def _zip(data: bytes) -> bytes:
    import io

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("tabell.csv", data)
    return buffer.getvalue()


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(
    ("name", "packed", "declared"),
    [
        ("tabell.csv.gz", gzip.compress(_CSV), None),
        ("tabell.csv.bz2", bz2.compress(_CSV), None),
        ("tabell.csv.xz", lzma.compress(_CSV), None),
        ("tabell.csv.zip", _zip(_CSV), None),
        ("tabell.csv.zip", _zip(_CSV), "zip"),
        ("tabell.bin", gzip.compress(_CSV), "gz"),
    ],
)
def test_compressed_tables_are_refused_by_name(
    tmp_path: Path, engine: str, name: str, packed: bytes, declared: str | None
) -> None:
    resource: dict[str, Any] = {"path": name, "format": "csv", "schema": SCHEMA}
    if declared:
        resource["compression"] = declared
    root = _package(tmp_path / "p", resource, {name: packed})
    with pytest.raises(InputError, match="compressed") as caught:
        validate(root, engine=engine)
    assert "utf-8" not in str(caught.value)


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(
    ("key", "value", "accepted"),
    [
        ("profile", "tabular-data-resource", True),
        ("profile", "data-resource", True),
        ("$schema", "https://datapackage.org/profiles/2.0/dataresource.json", True),
        ("profile", "https://specs.frictionlessdata.io/schemas/tabular-data-resource.json", True),
        ("profile", "profiles/egen.json", False),
        ("profile", "https://example.org/egen-profil.json", False),
        ("$schema", "egen.json", False),
    ],
)
def test_custom_profiles_are_refused_standard_ones_read(
    tmp_path: Path, engine: str, key: str, value: str, accepted: bool
) -> None:
    root = _package(tmp_path / "p", {"data": ROWS, "schema": SCHEMA, key: value})
    if accepted:
        assert _rows(root, engine) == (3, 0)
    else:
        with pytest.raises(SchemaError, match="not checked by opengov"):
            validate(root, engine=engine)


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(
    ("constraints", "errors"),
    [
        ({"exclusiveMinimum": 1}, 1),
        ({"exclusiveMaximum": 3}, 1),
        ({"exclusiveMinimum": 0, "exclusiveMaximum": 4}, 0),
        ({"exclusiveMinimum": 1, "exclusiveMaximum": 3}, 2),
    ],
)
def test_v2_constraints_under_a_v2_schema(
    tmp_path: Path, engine: str, constraints: dict[str, int], errors: int
) -> None:
    schema = {
        "$schema": "https://datapackage.org/profiles/2.0/tableschema.json",
        "fields": [{"name": "id", "type": "integer", "constraints": constraints}],
    }
    resource = {
        "$schema": "https://datapackage.org/profiles/2.0/dataresource.json",
        "data": [["id"], [1], [2], [3]],
        "schema": schema,
    }
    root = _package(tmp_path / "p", resource)
    assert _rows(root, engine) == (3, errors)
