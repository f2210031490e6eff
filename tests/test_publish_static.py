"""Publishing to the static portal folder: complete, idempotent, incremental, verifiable."""

from __future__ import annotations

import copy
import hashlib
import json
from pathlib import Path

import pytest
from helpers import STAFF_ROWS, STAFF_RULES, PackageFactory, write_csv

from opengov.errors import UnclassifiedFields, ValidationFailed
from opengov.targets.static import publish_static
from opengov.trust import Trust
from opengov.verify import verify_folder

# These releases are unsigned: verify checks their consistency only (signatures:
# tests/test_verify_*.py).
CONSISTENCY = Trust(allow_unsigned=True)

EXPECTED_FILES = {
    "datapackage.json",
    "data/personal.csv",
    "data/personal.parquet",
    "data/personal.xlsx",
    "validation.json",
    "validation.html",
    "redactions.json",
    "provenance.json",
    "index.html",
    "history.json",
    "history.html",
}


def _tree(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


@pytest.fixture
def published(make_package: PackageFactory, tmp_path: Path, key: str) -> tuple[Path, Path]:
    package = make_package()
    portal = tmp_path / "portal"
    result = publish_static(package, portal)
    assert result.status == "published" and result.release == 1
    return package, portal


def test_first_publish_writes_a_complete_dataset(published: tuple[Path, Path]) -> None:
    _, portal = published
    dataset = portal / "personal"
    assert set(_tree(dataset)) == EXPECTED_FILES
    assert (portal / "index.html").is_file() and (portal / "catalog.json").is_file()
    catalog = json.loads((portal / "catalog.json").read_text(encoding="utf-8"))
    assert [d["name"] for d in catalog["datasets"]] == ["personal"]
    descriptor = json.loads((dataset / "datapackage.json").read_text(encoding="utf-8"))
    names = [f["name"] for f in descriptor["resources"][0]["schema"]["fields"]]
    assert "personnummer" not in names and "skyddad" not in names
    assert descriptor["resources"][0]["hash"].startswith("sha256:")
    assert not list(portal.glob(".opengov-staging*"))


def test_published_csv_is_canonical_utf8(published: tuple[Path, Path]) -> None:
    _, portal = published
    text = (portal / "personal" / "data" / "personal.csv").read_text(encoding="utf-8")
    assert text.splitlines()[0] == '"id","namn","lon","anstalld","avdelning","kommentar"'
    import frictionless

    descriptor = json.loads((portal / "personal" / "datapackage.json").read_text(encoding="utf-8"))
    csv_resource = next(r for r in descriptor["resources"] if r["format"] == "csv")
    resource = frictionless.Resource.from_descriptor(
        csv_resource, basepath=str(portal / "personal")
    )
    report = resource.validate()
    assert report.valid, report.flatten(["type", "note"])


def test_republish_unchanged_writes_nothing(published: tuple[Path, Path]) -> None:
    package, portal = published
    before = _tree(portal)
    result = publish_static(package, portal)
    assert result.status == "unchanged" and result.release == 1
    assert _tree(portal) == before


def test_one_change_makes_a_new_release_with_a_chain(published: tuple[Path, Path]) -> None:
    package, portal = published
    old = _tree(portal / "personal")
    rows = copy.deepcopy(STAFF_ROWS)
    rows[4][5] = "Vård"
    write_csv(package / "data" / "personal.csv", rows)
    result = publish_static(package, portal)
    assert result.status == "published" and result.release == 2
    changed = {i.path for i in result.plan if i.change == "changed"}
    assert {"data/personal.csv", "data/personal.parquet", "provenance.json"} <= changed
    assert "redactions.json" not in changed  # same counts, same bytes
    new = _tree(portal / "personal")
    prov = json.loads((portal / "personal" / "provenance.json").read_text(encoding="utf-8"))
    assert prov["previous"]["sha256"] == old["provenance.json"]
    assert verify_folder(portal / "personal", CONSISTENCY).chain_length == 2
    assert new["datapackage.json"] != old["datapackage.json"]  # it carries the CSV's hash


def test_plan_writes_nothing(make_package: PackageFactory, tmp_path: Path, key: str) -> None:
    portal = tmp_path / "portal"
    result = publish_static(make_package(), portal, plan_only=True)
    assert result.status == "planned"
    assert {i.change for i in result.plan} == {"added"}
    assert not portal.exists()


def test_verify_names_every_changed_file(published: tuple[Path, Path]) -> None:
    _, portal = published
    dataset = portal / "personal"
    assert verify_folder(dataset, CONSISTENCY).ok
    for rel in sorted(EXPECTED_FILES - {"provenance.json"}):
        path = dataset / rel
        original = path.read_bytes()
        path.write_bytes(original[:-1] + bytes([original[-1] ^ 1]))
        result = verify_folder(dataset, CONSISTENCY)
        assert [m.path for m in result.mismatches] == [rel], rel
        path.write_bytes(original)
    (dataset / "extra.csv").write_text("x", encoding="utf-8")
    assert [m.problem for m in verify_folder(dataset, CONSISTENCY).mismatches] == ["unexpected"]


def test_tampered_folder_is_republished(published: tuple[Path, Path]) -> None:
    package, portal = published
    (portal / "personal" / "data" / "personal.csv").write_text("x", encoding="utf-8")
    result = publish_static(package, portal)
    assert result.status == "published"
    assert verify_folder(portal / "personal", CONSISTENCY).ok


def test_invalid_data_is_not_published(
    make_package: PackageFactory, tmp_path: Path, key: str
) -> None:
    rows = copy.deepcopy(STAFF_ROWS)
    rows[1][3] = "mycket"
    portal = tmp_path / "portal"
    with pytest.raises(ValidationFailed) as info:
        publish_static(make_package(rows=rows), portal)
    assert "mycket" not in str(info.value)
    assert not portal.exists() or not any(portal.rglob("*.csv"))


def test_unclassified_field_blocks_publish(
    make_package: PackageFactory, tmp_path: Path, key: str
) -> None:
    rules = copy.deepcopy(STAFF_RULES)
    del rules["resources"]["personal"]["fields"]["kommentar"]
    portal = tmp_path / "portal"
    with pytest.raises(UnclassifiedFields):
        publish_static(make_package(rules=rules), portal)
    assert not portal.exists()


def test_failed_republish_keeps_previous_release(published: tuple[Path, Path]) -> None:
    package, portal = published
    before = _tree(portal)
    rows = copy.deepcopy(STAFF_ROWS)
    rows[2][3] = "fel"
    write_csv(package / "data" / "personal.csv", rows)
    with pytest.raises(ValidationFailed):
        publish_static(package, portal)
    assert _tree(portal) == before


def test_plan_of_a_change_lists_each_file_once(published: tuple[Path, Path]) -> None:
    package, portal = published
    before = _tree(portal)
    rows = copy.deepcopy(STAFF_ROWS)
    rows[4][5] = "Vård"
    write_csv(package / "data" / "personal.csv", rows)
    result = publish_static(package, portal, plan_only=True)
    paths = [i.path for i in result.plan]
    assert len(paths) == len(set(paths)), paths
    changes = {i.path: i.change for i in result.plan}
    assert changes["data/personal.csv"] == "changed"
    assert changes["index.html"] == "changed" and changes["provenance.json"] == "changed"
    assert _tree(portal) == before


def test_a_folder_opengov_did_not_publish_is_not_replaced(
    make_package: PackageFactory, tmp_path: Path, key: str
) -> None:
    from opengov.errors import PublishError

    portal = tmp_path / "portal"
    (portal / "personal").mkdir(parents=True)
    (portal / "personal" / "notes.txt").write_text("someone's files", encoding="utf-8")
    with pytest.raises(PublishError, match="holds no opengov release"):
        publish_static(make_package(), portal)
    assert (portal / "personal" / "notes.txt").read_text(encoding="utf-8") == "someone's files"


def test_damaged_provenance_stops_the_publish(published: tuple[Path, Path]) -> None:
    from opengov.errors import PublishError

    package, portal = published
    prov = portal / "personal" / "provenance.json"
    prov.write_text('{"generated": [], "release": "2024-01"}', encoding="utf-8")
    rows = copy.deepcopy(STAFF_ROWS)
    rows[4][5] = "Vård"
    write_csv(package / "data" / "personal.csv", rows)
    with pytest.raises(PublishError, match="is damaged"):
        publish_static(package, portal)
    assert json.loads(prov.read_text(encoding="utf-8"))["release"] == "2024-01"


def test_a_damaged_dataset_is_left_out_of_the_catalogue(published: tuple[Path, Path]) -> None:
    from opengov.targets.static import write_catalogue

    _, portal = published
    (portal / "personal" / "provenance.json").write_text("{}", encoding="utf-8")
    write_catalogue(portal)
    catalog = json.loads((portal / "catalog.json").read_text(encoding="utf-8"))
    assert catalog["datasets"] == []


def test_fractional_seconds_survive_publication(
    make_package: PackageFactory, tmp_path: Path
) -> None:
    """A timestamp's fraction is data: it reaches the CSV and Parquet; whole seconds stay short."""
    import pyarrow.parquet as pq

    schema = {
        "fields": [
            {"name": "id", "type": "integer"},
            {"name": "exakt", "type": "datetime"},
            {"name": "hel", "type": "datetime"},
        ]
    }
    rows = [
        ["id", "exakt", "hel"],
        ["1", "2024-01-05T10:00:00.750", "2024-01-05T10:00:00Z"],
        ["2", "2024-01-05T10:00:01", "2024-01-05T11:00:00Z"],
    ]
    rules = {
        "version": 1,
        "resources": {
            "tider": {"fields": {n: {"class": "public"} for n in ("id", "exakt", "hel")}}
        },
    }
    portal = tmp_path / "portal"
    publish_static(make_package("tider", rows=rows, schema=schema, rules=rules), portal)
    text = (portal / "tider" / "data" / "tider.csv").read_text(encoding="utf-8").splitlines()
    assert text[1] == '1,"2024-01-05T10:00:00.750000","2024-01-05T10:00:00Z"'
    # Each value as it is: a whole second stays short even beside values with fractions (the
    # CSV is written batch by batch, so no column-wide decision is possible).
    assert text[2] == '2,"2024-01-05T10:00:01","2024-01-05T11:00:00Z"'
    table = pq.read_table(portal / "tider" / "data" / "tider.parquet")
    assert table["exakt"][0].as_py().microsecond == 750000
