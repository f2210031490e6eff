"""Publishing to and verifying against the real CKAN portal (scripts/ckan-portal.sh).

Each test builds its own small package in tmp_path (a datapackage.json, two CSV files and a
rules.yaml that drops a personal field) under a unique dataset name, and purges what it created.
"""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import ckanapi
import pytest
import requests
from click.testing import CliRunner

from opengov.cli import cli
from opengov.errors import (
    CkanAuthError,
    CkanNameConflict,
    CkanOrgMissing,
    CkanUploadTooLarge,
)
from opengov.load import load
from opengov.release.build import build
from opengov.targets.ckan.client import CkanSession
from opengov.targets.ckan.mapping import E_FINGERPRINT, E_RELEASE, E_STATE
from opengov.targets.ckan.publish import publish_ckan
from opengov.targets.ckan.settings import CkanSettings
from opengov.targets.ckan.verify import verify_ckan
from opengov.targets.plan import PublishResult
from opengov.trust import Trust

from .conftest import CkanPortal

# These releases are unsigned: verify checks their consistency only (signatures:
# tests/test_verify_*.py).
CONSISTENCY = Trust(allow_unsigned=True)

# The validation engine; "auto" is the default the CLI uses.
ENGINE = os.environ.get("OPENGOV_TEST_ENGINE", "auto")

SCHEMA_INVOICES: dict[str, Any] = {
    "fields": [
        {"name": "id", "type": "integer", "constraints": {"required": True, "unique": True}},
        {"name": "leverantor", "type": "string", "title": "Leverantör"},
        {"name": "pnr", "type": "string"},
        {"name": "belopp", "type": "number", "description": "Belopp i kronor exkl. moms"},
    ],
    "primaryKey": ["id"],
}
SCHEMA_UNITS: dict[str, Any] = {
    "fields": [{"name": "code", "type": "string"}, {"name": "name", "type": "string"}]
}
RULES = """\
version: 1
decided_by: "Testkommun, registrator"
resources:
  invoices:
    fields:
      id: {class: public}
      leverantor: {class: public}
      pnr: {class: personal, action: drop, basis: "21 kap. 7 § OSL"}
      belopp: {class: public}
  units:
    fields:
      code: {class: public}
      name: {class: public}
"""


def invoices_csv(n: int = 3, bump: int = 0) -> str:
    lines = ["id,leverantor,pnr,belopp"]
    for i in range(1, n + 1):
        lines.append(f"{i},Leverantör {i} AB,19121212-1212,{100 * i + bump}.5")
    return "\n".join(lines) + "\n"


def units_csv(extra: str = "") -> str:
    return "code,name\nA,Ekonomi\nB,Skola och förskola\n" + extra


def make_package(
    root: Path,
    name: str,
    *,
    invoices: str | None = None,
    units: str | None = None,
    private: bool = False,
    with_units: bool = True,
    licence: dict[str, str] | None = None,
    title: str = "Testpaket",
) -> Path:
    """A small package: two tables, one field dropped by rule."""
    (root / "data").mkdir(parents=True, exist_ok=True)
    resources: list[dict[str, Any]] = [
        {
            "name": "invoices",
            "title": "Fakturor",
            "description": "En rad per faktura",
            "path": "data/invoices.csv",
            "format": "csv",
            "encoding": "utf-8",
            "schema": SCHEMA_INVOICES,
        }
    ]
    (root / "data" / "invoices.csv").write_text(invoices or invoices_csv(), encoding="utf-8")
    rules = RULES
    if with_units:
        resources.append(
            {"name": "units", "path": "data/units.csv", "format": "csv", "schema": SCHEMA_UNITS}
        )
        (root / "data" / "units.csv").write_text(units or units_csv(), encoding="utf-8")
    else:
        rules = RULES.split("  units:")[0]
        (root / "data" / "units.csv").unlink(missing_ok=True)
    descriptor: dict[str, Any] = {
        "name": name,
        "title": title,
        "description": "Ett litet paket för tester av CKAN-publicering.",
        "keywords": ["ekonomi", "test", "öppna data", "a"],
        "licenses": [
            licence
            or {
                "name": "CC0-1.0",
                "path": "http://creativecommons.org/publicdomain/zero/1.0/",
                "title": "CC0 1.0 Universal",
            }
        ],
        "opengov": {
            "publisher": "Testkommun",
            "contact_email": "registrator@testkommun.example",
            "theme": ["ECON"],
        },
        "resources": resources,
    }
    if private:
        descriptor["opengov"]["private"] = True
    (root / "datapackage.json").write_text(
        json.dumps(descriptor, ensure_ascii=False, indent=2), encoding="utf-8"
    )
    (root / "rules.yaml").write_text(rules, encoding="utf-8")
    return root


def unique(prefix: str = "og-test") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def settings_for(ckan: CkanPortal, **kw: Any) -> CkanSettings:
    return CkanSettings(
        **{
            "url": ckan.url,
            "org": ckan.org,
            "token": ckan.token,
            "token_source": "test",
            "backoff": 0.01,
            **kw,
        }
    )


def publish(
    path: Path, ckan: CkanPortal, session: CkanSession | None = None, **kw: Any
) -> PublishResult:
    settings = kw.pop("settings", None) or settings_for(ckan)
    return publish_ckan(path, settings, agent="ci:tests", engine=ENGINE, session=session, **kw)


def anonymous(ckan: CkanPortal) -> ckanapi.RemoteCKAN:
    return ckanapi.RemoteCKAN(ckan.url)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def managed(dataset: dict[str, Any]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for res in dataset["resources"]:
        path = res.get("opengov_path")
        assert path, f"resource {res['name']} has no opengov_path"
        assert path not in out, f"duplicate resource for {path}"
        out[path] = res
    return out


def extras(dataset: dict[str, Any]) -> dict[str, str]:
    return {e["key"]: e["value"] for e in dataset.get("extras", [])}


EXPECTED_PATHS = {
    "data/invoices.csv",
    "data/invoices.parquet",
    "data/invoices.xlsx",
    "data/units.csv",
    "data/units.parquet",
    "data/units.xlsx",
    "datapackage.json",
    "validation.json",
    "validation.html",
    "redactions.json",
    "index.html",
    "provenance-history.json",
    "provenance.json",
}


def datastore_snapshot(ckan: CkanPortal, name: str) -> dict[str, list[str]]:
    """Every DataStore table of a public dataset as an anonymous citizen reads it:
    {opengov_path: sorted rows as JSON}."""
    ds = anonymous(ckan).action.package_show(id=name)
    out = {}
    for res in ds["resources"]:
        if not res.get("datastore_active"):
            continue
        found: list[dict[str, Any]] = []
        while True:
            page = anonymous(ckan).action.datastore_search(
                resource_id=res["id"], limit=1000, offset=len(found), sort="_id"
            )
            found += page["records"]
            if len(page["records"]) < 1000:
                break
        out[res["opengov_path"]] = sorted(
            json.dumps({k: v for k, v in r.items() if k != "_id"}, sort_keys=True) for r in found
        )
    return out


def assert_never_public_partial(
    ckan: CkanPortal, name: str, before: dict[str, list[str]] | None = None
) -> None:
    """What an anonymous reader sees: nothing, or a dataset whose files verify completely and
    whose DataStore tables each hold a state an update passes through: the previous rows
    (`before`), the previous rows less removed ones (the delete request of an update is done,
    its upsert not yet), no table (a table without a key being reloaded), or exactly the
    published rows."""
    try:
        anonymous(ckan).action.package_show(id=name)
    except (ckanapi.NotFound, ckanapi.NotAuthorized):
        return
    result = verify_ckan(ckan.url, name, trust=CONSISTENCY)
    lagging = {m.path.removesuffix(" (DataStore)") for m in result.mismatches
               if m.path.endswith(" (DataStore)")}  # fmt: skip
    files = [str(m) for m in result.mismatches if not m.path.endswith(" (DataStore)")]
    assert not files, files
    if not lagging:
        return
    assert before is not None, [str(m) for m in result.mismatches]
    now = datastore_snapshot(ckan, name)
    for path in lagging:
        if path not in now:
            continue  # no table: dropped for a reload
        old = before.get(path, [])
        assert now[path] == old or set(now[path]) < set(old), (path, now[path], old)


# --------------------------------------------------------------------------------- tests


def test_first_publish_maps_the_package(
    ckan: CkanPortal,
    ckan_admin: ckanapi.RemoteCKAN,
    dataset_purge: Callable[[str], str],
    tmp_path: Path,
) -> None:
    name = dataset_purge(unique())
    pkg = make_package(tmp_path / "pkg", name)
    session = CkanSession()
    result = publish(pkg, ckan, session=session)
    assert result.status == "published"
    assert result.release == 1
    assert {i.path for i in result.plan} == EXPECTED_PATHS
    assert all(i.change == "added" for i in result.plan)
    # Token check, DataStore check, show, create, one upload request, show again (creating
    # a DataStore table changes metadata_modified on CKAN 2.12), completion; plus the
    # read-back downloads. Each of the two tables: datastore_create with its rows, its count
    # and rows read back, and a preview view (listed, then created).
    files = [a for a in session.stats.actions if not a.startswith(("datastore_", "resource_view"))]
    assert files == ["user_show", "status_show", "package_show", "package_create",
                     "package_revise", "package_show", "package_revise"]  # fmt: skip
    tables = [a for a in session.stats.actions if a not in files]
    assert sorted(tables) == sorted(
        ["datastore_create", "datastore_search", "datastore_search", "resource_view_list",
         "resource_view_create"] * 2
    )  # fmt: skip
    assert result.stats["uploads"] == len(EXPECTED_PATHS)
    assert result.stats["read_back"] == len(EXPECTED_PATHS)

    ds = anonymous(ckan).action.package_show(id=name)
    assert ds["private"] is False
    assert ds["title"] == "Testpaket"
    assert ds["notes"].startswith("Ett litet paket")
    assert ds["license_id"] == "cc-zero"
    assert ds["isopen"] is True
    assert ds["organization"]["name"] == ckan.org
    assert sorted(t["name"] for t in ds["tags"]) == ["ekonomi", "test", "öppna data"]
    ex = extras(ds)
    assert ex["opengov_publisher"] == "Testkommun"
    assert ex[E_RELEASE] == "1"
    assert ex[E_STATE] == "complete"
    assert len(ex[E_FINGERPRINT]) == 64
    assert ds["maintainer_email"] == "registrator@testkommun.example"

    res = managed(ds)
    assert set(res) == EXPECTED_PATHS
    # The Table Schema is stored intact, as the JSON string ckanext-validation reads.
    published = json.loads(
        requests.get(res["datapackage.json"]["url"], timeout=30).content.decode()
    )
    schema = next(r["schema"] for r in published["resources"] if r["name"] == "invoices")
    assert json.loads(res["data/invoices.csv"]["schema"]) == schema
    assert [f["name"] for f in schema["fields"]] == ["id", "leverantor", "belopp"]
    assert json.loads(res["data/invoices.parquet"]["schema"]) == schema
    assert res["data/invoices.csv"]["format"].lower() == "csv"
    for path, r in res.items():
        body = requests.get(r["url"], timeout=30)
        assert body.status_code == 200, path
        assert r["hash"] == sha256(body.content), path
        assert int(r["size"]) == len(body.content), path
        assert r["url_type"] == "upload"
    verified = verify_ckan(ckan.url, name, trust=CONSISTENCY)
    assert verified.ok, [str(m) for m in verified.mismatches]
    assert verified.chain_length == 1


def test_anonymous_download_equals_published_bytes(
    ckan: CkanPortal, dataset_purge: Callable[[str], str], tmp_path: Path
) -> None:
    name = dataset_purge(unique())
    pkg = make_package(tmp_path / "pkg", name)
    publish(pkg, ckan)
    release = build(load(pkg), engine=ENGINE)
    try:
        ds = anonymous(ckan).action.package_show(id=name)
        res = managed(ds)
        for rel in ("data/invoices.csv", "data/invoices.parquet", "data/units.csv",
                    "datapackage.json", "redactions.json"):  # fmt: skip
            local = (release.staging / rel).read_bytes()
            remote = requests.get(res[rel]["url"], timeout=30)
            assert remote.status_code == 200
            assert remote.content == local, rel
        assert b"19121212" not in requests.get(res["data/invoices.csv"]["url"], timeout=30).content
    finally:
        release.cleanup()


def test_unchanged_republish_sends_nothing(
    ckan: CkanPortal,
    ckan_admin: ckanapi.RemoteCKAN,
    dataset_purge: Callable[[str], str],
    tmp_path: Path,
) -> None:
    name = dataset_purge(unique())
    pkg = make_package(tmp_path / "pkg", name)
    publish(pkg, ckan)
    before = ckan_admin.action.package_show(id=name)
    session = CkanSession()
    again = publish(pkg, ckan, session=session)
    assert again.status == "unchanged"
    assert again.release == 1
    assert session.stats.requests <= 3
    assert session.stats.api_calls <= 3
    assert session.stats.uploads == 0
    assert session.stats.bytes_sent < 200, session.stats
    after = ckan_admin.action.package_show(id=name)
    assert after["metadata_modified"] == before["metadata_modified"]


def test_one_changed_resource_uploads_only_its_files(
    ckan: CkanPortal,
    ckan_admin: ckanapi.RemoteCKAN,
    dataset_purge: Callable[[str], str],
    tmp_path: Path,
) -> None:
    name = dataset_purge(unique())
    pkg = make_package(tmp_path / "pkg", name, invoices=invoices_csv(2000))
    first = publish(pkg, ckan)
    ids_before = {p: r["id"] for p, r in managed(ckan_admin.action.package_show(id=name)).items()}

    (pkg / "data" / "units.csv").write_text(units_csv("C,Kultur\n"), encoding="utf-8")
    result = publish(pkg, ckan)
    assert result.status == "published"
    assert result.release == 2
    uploaded = set(result.stats["uploaded"])
    assert {"data/units.csv", "data/units.parquet", "data/units.xlsx", "provenance.json",
            "index.html"} <= uploaded  # fmt: skip
    assert not {"data/invoices.csv", "data/invoices.parquet", "data/invoices.xlsx"} & uploaded
    changes = {i.path: i.change for i in result.plan}
    assert changes["data/units.csv"] == "changed"
    assert changes["data/invoices.csv"] == "unchanged"

    ds = ckan_admin.action.package_show(id=name)
    sizes = {p: int(r["size"]) for p, r in managed(ds).items()}
    assert result.stats["upload_bytes"] == sum(sizes[p] for p in uploaded)
    # Everything but the unchanged table was sent again; the history grew by one document.
    assert result.stats["upload_bytes"] <= (
        first.stats["upload_bytes"]
        - sizes["data/invoices.csv"]
        - sizes["data/invoices.parquet"]
        - sizes["data/invoices.xlsx"]
        + sizes["provenance-history.json"]
        + 2_000  # provenance.json and the page grow a little (the previous link)
    )
    # Resource ids, and so download URLs, stay the same across releases.
    assert {p: r["id"] for p, r in managed(ds).items()} == ids_before
    verified = verify_ckan(ckan.url, name, trust=CONSISTENCY)
    assert verified.ok, [str(m) for m in verified.mismatches]
    assert verified.release == 2
    assert verified.chain_length == 2


def test_three_releases_chain_and_removed_table(
    ckan: CkanPortal,
    ckan_admin: ckanapi.RemoteCKAN,
    dataset_purge: Callable[[str], str],
    tmp_path: Path,
) -> None:
    name = dataset_purge(unique())
    pkg = make_package(tmp_path / "pkg", name)
    publish(pkg, ckan)
    make_package(pkg, name, invoices=invoices_csv(4))
    publish(pkg, ckan)
    make_package(pkg, name, invoices=invoices_csv(4), with_units=False)
    result = publish(pkg, ckan)
    assert result.release == 3
    removed = {i.path for i in result.plan if i.change == "removed"}
    assert removed == {"data/units.csv", "data/units.parquet", "data/units.xlsx"}
    ds = ckan_admin.action.package_show(id=name)
    assert set(managed(ds)) == EXPECTED_PATHS - removed
    verified = verify_ckan(ckan.url, name, trust=CONSISTENCY)
    assert verified.ok, [str(m) for m in verified.mismatches]
    assert verified.chain_length == 3


def test_plan_writes_nothing(
    ckan: CkanPortal,
    ckan_admin: ckanapi.RemoteCKAN,
    dataset_purge: Callable[[str], str],
    tmp_path: Path,
) -> None:
    name = dataset_purge(unique())
    pkg = make_package(tmp_path / "pkg", name)
    session = CkanSession()
    planned = publish(pkg, ckan, session=session, plan_only=True)
    assert planned.status == "planned"
    assert {i.path for i in planned.plan} == EXPECTED_PATHS
    assert session.stats.actions == ["user_show", "status_show", "package_show"]
    with pytest.raises(ckanapi.NotFound):
        ckan_admin.action.package_show(id=name)

    publish(pkg, ckan)
    before = ckan_admin.action.package_show(id=name)
    (pkg / "data" / "units.csv").write_text(units_csv("C,Kultur\n"), encoding="utf-8")
    session = CkanSession()
    planned = publish(pkg, ckan, session=session, plan_only=True)
    changes = {i.path: i.change for i in planned.plan}
    assert changes["data/units.csv"] == "changed"
    assert changes["data/invoices.csv"] == "unchanged"
    assert planned.release == 2
    assert session.stats.uploads == 0
    assert set(session.stats.actions) == {"user_show", "status_show", "package_show"}
    assert (
        ckan_admin.action.package_show(id=name)["metadata_modified"] == before["metadata_modified"]
    )


def test_private_package_is_invisible_to_anonymous(
    ckan: CkanPortal,
    ckan_admin: ckanapi.RemoteCKAN,
    dataset_purge: Callable[[str], str],
    tmp_path: Path,
) -> None:
    name = dataset_purge(unique())
    pkg = make_package(tmp_path / "pkg", name, private=True)
    result = publish(pkg, ckan)
    assert result.status == "published"
    with pytest.raises(ckanapi.NotAuthorized):
        anonymous(ckan).action.package_show(id=name)
    ds = ckan_admin.action.package_show(id=name)
    assert ds["private"] is True
    assert extras(ds)[E_STATE] == "complete"
    for res in ds["resources"]:
        assert requests.get(res["url"], timeout=30).status_code in (403, 404)
    # Unchanged: nothing to do, and it stays private.
    assert publish(pkg, ckan).status == "unchanged"
    # Making it public is a change of the package, published as a new release.
    make_package(pkg, name, private=False)
    public = publish(pkg, ckan)
    assert public.status == "published"
    assert anonymous(ckan).action.package_show(id=name)["private"] is False
    assert verify_ckan(ckan.url, name, trust=CONSISTENCY).ok


def test_wrong_token_exits_11_without_showing_it(
    ckan: CkanPortal, dataset_purge: Callable[[str], str], tmp_path: Path
) -> None:
    name = dataset_purge(unique())
    pkg = make_package(tmp_path / "pkg", name)
    wrong = "wrongtoken-" + uuid.uuid4().hex
    runner = CliRunner()
    result = runner.invoke(
        cli,
        ["publish", str(pkg), "--to", "ckan", "--ckan-url", ckan.url, "--org", ckan.org],
        env={"CKAN_API_TOKEN": wrong, "OPENGOV_CKAN_URL": None, "OPENGOV_CONFIG": None},
        catch_exceptions=False,
    )
    assert result.exit_code == 11, result.output
    assert "wrong, expired or revoked" in result.output
    assert wrong not in result.output
    assert ckan.token not in result.output


@pytest.mark.parametrize("kind", ["garbage", "jwt-shaped", "revoked"])
def test_unchanged_republish_with_a_bad_token_exits_11(
    kind: str,
    ckan: CkanPortal,
    ckan_admin: ckanapi.RemoteCKAN,
    dataset_purge: Callable[[str], str],
    tmp_path: Path,
) -> None:
    """Nothing changed, so the run only reads, and CKAN answers public reads to any token as
    to an anonymous visitor: the token must still be found out, within 3 calls."""
    name = dataset_purge(unique())
    pkg = make_package(tmp_path / "pkg", name)
    publish(pkg, ckan)
    before = ckan_admin.action.package_show(id=name)
    if kind == "garbage":
        bad = "wrongtoken-" + uuid.uuid4().hex
    elif kind == "jwt-shaped":
        bad = "eyJhbGciOiJIUzI1NiJ9.d3JvbmctdG9rZW4tdmFsdWU.c2lnbmF0dXJlLXZhbHVl"
    else:
        made = ckan_admin.action.api_token_create(user="opengov-admin", name="og-revoked")
        bad = made["token"]
        assert publish(pkg, ckan, settings=settings_for(ckan, token=bad)).status == "unchanged"
        ckan_admin.action.api_token_revoke(token=bad)
    session = CkanSession()
    with pytest.raises(CkanAuthError) as info:
        publish(pkg, ckan, session=session, settings=settings_for(ckan, token=bad))
    assert info.value.exit_code == 11
    assert bad not in str(info.value)
    assert session.stats.api_calls <= 3, session.stats.actions
    result = CliRunner().invoke(
        cli,
        ["publish", str(pkg), "--to", "ckan", "--ckan-url", ckan.url, "--org", ckan.org],
        env={"CKAN_API_TOKEN": bad, "OPENGOV_CKAN_URL": None, "OPENGOV_CONFIG": None},
    )
    assert result.exit_code == 11, result.output
    assert "Traceback" not in result.output
    assert bad not in result.output and ckan.token not in result.output
    after = ckan_admin.action.package_show(id=name)
    assert after["metadata_modified"] == before["metadata_modified"]


def test_wrong_token_on_private_dataset_exits_11(
    ckan: CkanPortal, dataset_purge: Callable[[str], str], tmp_path: Path
) -> None:
    name = dataset_purge(unique())
    pkg = make_package(tmp_path / "pkg", name, private=True)
    publish(pkg, ckan)
    wrong = "eyJhbGciOiJIUzI1NiJ9.d3JvbmctdG9rZW4tdmFsdWU.c2lnbmF0dXJlLXZhbHVl"
    result = CliRunner().invoke(
        cli,
        ["publish", str(pkg), "--to", "ckan", "--ckan-url", ckan.url, "--org", ckan.org],
        env={"CKAN_API_TOKEN": wrong},
    )
    assert result.exit_code == 11, result.output
    assert wrong not in result.output


def test_verify_detects_a_file_replaced_behind_our_back(
    ckan: CkanPortal,
    ckan_admin: ckanapi.RemoteCKAN,
    dataset_purge: Callable[[str], str],
    tmp_path: Path,
) -> None:
    name = dataset_purge(unique())
    pkg = make_package(tmp_path / "pkg", name)
    publish(pkg, ckan)
    ok = CliRunner().invoke(cli, ["verify", name, "--ckan-url", ckan.url, "--allow-unsigned"])
    assert ok.exit_code == 0, ok.output
    assert "ok:" in ok.output

    res = managed(ckan_admin.action.package_show(id=name))["data/units.csv"]
    forged = tmp_path / "units.csv"
    forged.write_text("code,name\nA,Ekonomi\nB,Hemlig enhet\n", encoding="utf-8")
    with forged.open("rb") as fh:
        ckan_admin.action.resource_patch(id=res["id"], upload=fh)

    result = verify_ckan(ckan.url, name, trust=CONSISTENCY)
    assert not result.ok
    problems = {m.path: m.problem for m in result.mismatches}
    assert problems == {"data/units.csv": "changed"}
    cli_result = CliRunner().invoke(
        cli, ["verify", name, "--ckan-url", ckan.url, "--allow-unsigned"]
    )
    assert cli_result.exit_code == 8
    assert "data/units.csv" in cli_result.output

    # A re-publish does not trust the metadata for verification, but a changed input does
    # re-upload: here the inputs are unchanged, so publish says unchanged and verify still
    # fails until the file is put back by a publish of a changed package.
    make_package(pkg, name, units=units_csv("C,Kultur\n"))
    publish(pkg, ckan)
    assert verify_ckan(ckan.url, name, trust=CONSISTENCY).ok


def test_verify_detects_a_file_overwritten_in_storage(
    ckan: CkanPortal,
    ckan_admin: ckanapi.RemoteCKAN,
    dataset_purge: Callable[[str], str],
    tmp_path: Path,
) -> None:
    name = dataset_purge(unique())
    publish(make_package(tmp_path / "pkg", name), ckan)
    res = managed(ckan_admin.action.package_show(id=name))["data/invoices.parquet"]
    rid = res["id"]
    stored = ckan.storage_path / "resources" / rid[:3] / rid[3:6] / rid[6:]
    assert stored.is_file()
    stored.write_bytes(stored.read_bytes() + b"\0")
    result = verify_ckan(ckan.url, name, trust=CONSISTENCY)
    assert [(m.path, m.problem) for m in result.mismatches] == [
        ("data/invoices.parquet", "changed")
    ]
    with pytest.raises(Exception) as info:
        result.raise_for_mismatch()
    assert getattr(info.value, "exit_code", None) == 8


def test_name_conflict_with_a_dataset_not_made_by_opengov(
    ckan: CkanPortal,
    ckan_admin: ckanapi.RemoteCKAN,
    dataset_purge: Callable[[str], str],
    tmp_path: Path,
) -> None:
    name = dataset_purge(unique())
    ckan_admin.action.package_create(name=name, owner_org=ckan.org, title="Someone else's")
    with pytest.raises(CkanNameConflict) as info:
        publish(make_package(tmp_path / "pkg", name), ckan)
    assert info.value.exit_code == 13
    assert "not published by opengov" in str(info.value)
    assert ckan_admin.action.package_show(id=name)["resources"] == []


def test_missing_organisation(
    ckan: CkanPortal, dataset_purge: Callable[[str], str], tmp_path: Path
) -> None:
    name = dataset_purge(unique())
    settings = CkanSettings(url=ckan.url, org="no-such-org", token=ckan.token, backoff=0.01)
    with pytest.raises(CkanOrgMissing) as info:
        publish(make_package(tmp_path / "pkg", name), ckan, settings=settings)
    assert info.value.exit_code == 12
    assert "no-such-org" in str(info.value)


def test_too_large_upload_is_refused_clearly(
    ckan: CkanPortal,
    ckan_admin: ckanapi.RemoteCKAN,
    dataset_purge: Callable[[str], str],
    tmp_path: Path,
) -> None:
    name = dataset_purge(unique())
    pkg = make_package(tmp_path / "pkg", name)
    # Client side, before anything is sent: the configured limit.
    settings = settings_for(ckan, max_upload_mb=0.001)
    with pytest.raises(CkanUploadTooLarge) as info:
        publish(pkg, ckan, settings=settings)
    assert info.value.exit_code == 14
    ds = ckan_admin.action.package_show(id=name)
    assert ds["private"] is True and ds["resources"] == []

    # Server side: CKAN's own ckan.max_resource_size (50 MB on the test portal).
    from opengov.targets.ckan.client import CkanClient, Upload

    big = tmp_path / "big.csv"
    with big.open("wb") as fh:
        fh.truncate(51 * 1024 * 1024)
    client = CkanClient(ckan.url, ckan.token, org=ckan.org)
    with pytest.raises(CkanUploadTooLarge) as info:
        client.call(
            "package_revise",
            {
                "match": json.dumps({"id": ds["id"]}),
                "update": json.dumps({"resources": [{"name": "big", "url": ""}]}),
            },
            files={"update__resources__0__upload": Upload(big, "big.csv", "text/csv")},
        )
    assert "big.csv" in str(info.value)
    assert ckan.token not in str(info.value)
    assert ckan_admin.action.package_show(id=name)["resources"] == []


def test_unmanaged_resources_are_kept_and_flagged(
    ckan: CkanPortal,
    ckan_admin: ckanapi.RemoteCKAN,
    dataset_purge: Callable[[str], str],
    tmp_path: Path,
) -> None:
    name = dataset_purge(unique())
    pkg = make_package(tmp_path / "pkg", name)
    publish(pkg, ckan)
    ckan_admin.action.resource_create(
        package_id=name, name="Kommunens webbplats", url="https://example.invalid/"
    )
    result = verify_ckan(ckan.url, name, trust=CONSISTENCY)
    assert [m.problem for m in result.mismatches] == ["unexpected"]
    make_package(pkg, name, units=units_csv("C,Kultur\n"))
    publish(pkg, ckan)
    names = [r["name"] for r in ckan_admin.action.package_show(id=name)["resources"]]
    assert "Kommunens webbplats" in names
    assert names[-1] == "Kommunens webbplats"


def test_wide_schemas_fit_in_the_upload_request(
    ckan: CkanPortal,
    ckan_admin: ckanapi.RemoteCKAN,
    dataset_purge: Callable[[str], str],
    tmp_path: Path,
) -> None:
    """Schemas adding up to more than Flask's 500 KB limit for one form field."""
    name = dataset_purge(unique("og-wide"))
    root = tmp_path / "wide"
    (root / "data").mkdir(parents=True)
    n = 1500
    note = "Beskrivning av fältet enligt kommunens informationsmodell. " * 3
    fields = [{"name": f"f{i:04d}", "type": "integer", "description": note} for i in range(n)]
    header = ",".join(f["name"] for f in fields)
    rows = [",".join(str(r * i) for i in range(n)) for r in range(3)]
    (root / "data" / "wide.csv").write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    descriptor = {
        "name": name,
        "title": "Bred tabell",
        "licenses": [{"name": "CC0-1.0"}],
        "resources": [
            {"name": "wide", "path": "data/wide.csv", "format": "csv", "schema": {"fields": fields}}
        ],
    }
    (root / "datapackage.json").write_text(json.dumps(descriptor), encoding="utf-8")
    rules = "version: 1\nresources:\n  wide:\n    fields:\n" + "".join(
        f"      {f['name']}: {{class: public}}\n" for f in fields
    )
    (root / "rules.yaml").write_text(rules, encoding="utf-8")
    assert len(json.dumps(fields)) * 2 > 500_000

    result = publish(root, ckan)
    assert result.status == "published"
    # 1,500 integers are 12 KB a row: more than a PostgreSQL page; the DataStore is left out.
    assert "more than a page" in result.stats["datastore"]["skipped"]["data/wide.csv"]
    res = managed(ckan_admin.action.package_show(id=name))
    assert json.loads(res["data/wide.csv"]["schema"])["fields"] == fields
    assert res["data/wide.csv"]["datastore_active"] is False
    assert verify_ckan(ckan.url, name, trust=CONSISTENCY).ok


def test_verify_reports_a_hash_field_edited_by_hand(
    ckan: CkanPortal,
    ckan_admin: ckanapi.RemoteCKAN,
    dataset_purge: Callable[[str], str],
    tmp_path: Path,
) -> None:
    name = dataset_purge(unique())
    publish(make_package(tmp_path / "pkg", name), ckan)
    res = managed(ckan_admin.action.package_show(id=name))["validation.json"]
    ckan_admin.action.resource_patch(id=res["id"], hash="0" * 64)
    result = verify_ckan(ckan.url, name, trust=CONSISTENCY)
    assert [(m.path, m.problem) for m in result.mismatches] == [("validation.json", "metadata")]
    # The next publish notices (the recorded files no longer match) and repairs it.
    assert publish(make_package(tmp_path / "pkg", name), ckan).status == "published"
    assert verify_ckan(ckan.url, name, trust=CONSISTENCY).ok


def test_licence_found_in_the_portal_list_or_refused(
    ckan: CkanPortal,
    ckan_admin: ckanapi.RemoteCKAN,
    dataset_purge: Callable[[str], str],
    tmp_path: Path,
) -> None:
    from opengov.errors import PublishError

    name = dataset_purge(unique())
    by_url = {"name": "odbl", "path": "http://www.opendefinition.org/licenses/odc-odbl"}
    publish(make_package(tmp_path / "a", name, licence=by_url), ckan)
    assert anonymous(ckan).action.package_show(id=name)["license_id"] == "odc-odbl"

    other = dataset_purge(unique())
    unknown = {"name": "Kommunens-egen-licens-1.0", "path": "https://exempelby.se/licens"}
    with pytest.raises(PublishError) as info:
        publish(make_package(tmp_path / "b", other, licence=unknown), ckan)
    assert "cc-zero" in str(info.value)  # it lists what the portal knows
    ds = ckan_admin.action.package_show(id=other)
    assert ds["private"] is True and ds["resources"] == []


def test_dataset_hidden_by_hand_stays_hidden(
    ckan: CkanPortal,
    ckan_admin: ckanapi.RemoteCKAN,
    dataset_purge: Callable[[str], str],
    tmp_path: Path,
) -> None:
    """An admin who hides a published dataset (say, after spotting a leak) is not overruled
    by the next scheduled publish, whether or not the package changed."""
    name = dataset_purge(unique())
    pkg = make_package(tmp_path / "pkg", name)
    publish(pkg, ckan)
    ckan_admin.action.package_patch(id=name, private=True)
    again = publish(pkg, ckan)
    assert again.status == "unchanged"
    assert again.stats["kept_private"]
    with pytest.raises(ckanapi.NotAuthorized):
        anonymous(ckan).action.package_show(id=name)
    # A changed package is published as a new release, still private.
    (pkg / "data" / "units.csv").write_text("code,name\nK1,Kultur\n", encoding="utf-8")
    changed = publish(pkg, ckan)
    assert changed.status == "published" and changed.release == 2
    assert ckan_admin.action.package_show(id=name)["private"] is True
    with pytest.raises(ckanapi.NotAuthorized):
        anonymous(ckan).action.package_show(id=name)
    # Made public again by hand: publishing keeps it public.
    ckan_admin.action.package_patch(id=name, private=False)
    assert publish(pkg, ckan).status == "unchanged"
    assert anonymous(ckan).action.package_show(id=name)["private"] is False


def test_an_update_that_fails_mid_upload_is_never_taken_for_complete(
    ckan: CkanPortal,
    ckan_admin: ckanapi.RemoteCKAN,
    dataset_purge: Callable[[str], str],
    tmp_path: Path,
) -> None:
    """CKAN writes a request's files before it commits and rolls back only the metadata. An
    update that fails part-way (here a new table over ckan.max_resource_size) must leave the
    dataset marked incomplete, and a later run must repair what it finds, not trust it."""
    name = dataset_purge(unique())
    pkg = make_package(tmp_path / "pkg", name, with_units=False)
    v1_invoices = (pkg / "data" / "invoices.csv").read_text(encoding="utf-8")
    publish(pkg, ckan)
    big_units = "code,name\n" + "".join(f"C{i},{'x' * 60}\n" for i in range(850_000))  # ~55 MB
    make_package(pkg, name, invoices=invoices_csv(bump=7), units=big_units)
    with pytest.raises(CkanUploadTooLarge):
        publish(pkg, ckan)
    ds = ckan_admin.action.package_show(id=name)
    assert extras(ds)[E_STATE] == "uploading"
    assert not verify_ckan(
        ckan.url, name, trust=CONSISTENCY
    ).ok  # what CKAN wrote before failing is reported
    # The steward goes back to release 1's inputs: the portal is repaired, not trusted.
    make_package(pkg, name, invoices=v1_invoices, with_units=False)
    again = publish(pkg, ckan)
    assert again.status == "published"
    assert verify_ckan(ckan.url, name, trust=CONSISTENCY).ok
    assert extras(ckan_admin.action.package_show(id=name))[E_STATE] == "complete"
