"""Smoke tests proving that the portal started by scripts/ckan-portal.sh is a real CKAN.

They check what the project's publishing relies on: the version, the organisation,
private datasets with file uploads that anonymous users cannot see, exact bytes once
public, and refusal of a wrong token.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path

import ckanapi
import pytest
import requests

from .conftest import CkanPortal

# Bytes that a text-mode round trip or a re-encoding would change.
PAYLOAD = "kommun;antal\nÅre;1\r\nörebro;2\n".encode() + bytes(range(256))


def test_status_show_reports_the_expected_version(ckan: CkanPortal) -> None:
    status = ckanapi.RemoteCKAN(ckan.url).action.status_show()
    assert status["ckan_version"] == ckan.version
    assert status["site_url"] == ckan.url


def test_organisation_exists(ckan: CkanPortal, ckan_admin: ckanapi.RemoteCKAN) -> None:
    org = ckan_admin.action.organization_show(id=ckan.org)
    assert org["name"] == ckan.org
    assert org["is_organization"] is True


def test_private_upload_is_hidden_until_public(
    ckan: CkanPortal,
    ckan_admin: ckanapi.RemoteCKAN,
    dataset_purge: Callable[[str], str],
    tmp_path: Path,
) -> None:
    name = dataset_purge(f"opengov-smoke-{uuid.uuid4().hex[:12]}")
    dataset = ckan_admin.action.package_create(
        name=name, title="Smoke test", owner_org=ckan.org, private=True
    )
    assert dataset["private"] is True

    upload = tmp_path / "data.csv"
    upload.write_bytes(PAYLOAD)
    with upload.open("rb") as f:
        resource = ckan_admin.action.resource_create(
            package_id=dataset["id"], name="data.csv", format="CSV", upload=f
        )
    assert resource["url_type"] == "upload"
    download_url = resource["url"]
    assert download_url.startswith(f"{ckan.url}/dataset/")
    assert download_url.endswith("/data.csv")
    # The file really is in the portal's storage.
    stored = list((ckan.storage_path / "resources").rglob("*"))
    assert any(p.is_file() and p.read_bytes() == PAYLOAD for p in stored)

    anonymous = ckanapi.RemoteCKAN(ckan.url)
    with pytest.raises(ckanapi.NotAuthorized):
        anonymous.action.package_show(id=name)
    with pytest.raises(ckanapi.NotAuthorized):
        anonymous.action.resource_show(id=resource["id"])
    denied = requests.get(download_url, timeout=30)
    assert denied.status_code == 403
    assert PAYLOAD not in denied.content

    # The sysadmin can download it while private.
    own = requests.get(download_url, headers={"Authorization": ckan.token}, timeout=30)
    assert own.status_code == 200
    assert own.content == PAYLOAD

    ckan_admin.action.package_patch(id=name, private=False)
    assert anonymous.action.package_show(id=name)["private"] is False
    public = requests.get(download_url, timeout=30)
    assert public.status_code == 200
    assert public.content == PAYLOAD

    purge_dataset_and_check(ckan_admin, anonymous, name)


def purge_dataset_and_check(
    admin: ckanapi.RemoteCKAN, anonymous: ckanapi.RemoteCKAN, name: str
) -> None:
    admin.action.dataset_purge(id=name)
    with pytest.raises(ckanapi.NotFound):
        admin.action.package_show(id=name)
    assert name not in anonymous.action.package_list()


def test_wrong_token_is_refused_on_write(
    ckan: CkanPortal, dataset_purge: Callable[[str], str]
) -> None:
    name = dataset_purge(f"opengov-smoke-{uuid.uuid4().hex[:12]}")
    wrong_token = "opengov-wrong-" + uuid.uuid4().hex
    intruder = ckanapi.RemoteCKAN(ckan.url, apikey=wrong_token)
    with pytest.raises(ckanapi.NotAuthorized) as excinfo:
        intruder.action.package_create(name=name, owner_org=ckan.org)
    assert wrong_token not in str(excinfo.value)
    # Refused over plain HTTP too, with 403 (a bad token counts as anonymous).
    response = requests.post(
        f"{ckan.url}/api/3/action/package_create",
        json={"name": name, "owner_org": ckan.org},
        headers={"Authorization": wrong_token},
        timeout=30,
    )
    assert response.status_code == 403


def test_search_is_empty_but_nothing_else_breaks(
    ckan: CkanPortal, ckan_admin: ckanapi.RemoteCKAN, dataset_purge: Callable[[str], str]
) -> None:
    """The portal has no Solr (tests/ckan_nosolr): package_search finds nothing, by design.

    Code under test must find datasets with package_show / package_list, never with
    package_search. Pages and organisation listings, which query the index, still work.
    """
    name = dataset_purge(f"opengov-smoke-{uuid.uuid4().hex[:12]}")
    ckan_admin.action.package_create(name=name, owner_org=ckan.org, tags=[{"name": "smoke"}])
    assert ckan_admin.action.package_search(q=name)["count"] == 0
    assert name in ckan_admin.action.package_list()
    orgs = ckan_admin.action.organization_list(all_fields=True)
    assert ckan.org in [org["name"] for org in orgs]
    for path in (f"/dataset/{name}", "/dataset/", f"/organization/{ckan.org}", "/"):
        assert requests.get(f"{ckan.url}{path}", timeout=30).status_code == 200, path
