"""Signed releases on the real CKAN: they verify with the publisher's key pinned, and a
forgery on the portal or another key does not."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import ckanapi
from click.testing import CliRunner

from opengov import errors
from opengov.cli import cli
from opengov.pipeline import publish
from opengov.signing import SIGNATURE, KeyInfo, new_signing_key, read_public_key
from opengov.targets.ckan.publish import CkanTarget, verify_ckan
from opengov.trust import Trust

from .conftest import CkanPortal
from .test_ckan_publish import ENGINE, invoices_csv, make_package, managed, settings_for, unique


def _key(folder: Path, name: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "signing.key"
    new_signing_key(path, name=name)
    return path


def _trust(key: Path) -> Trust:
    info = read_public_key(f"{key}.pub")
    assert isinstance(info, KeyInfo)
    return Trust(keys=(info.key,))


def test_a_signed_ckan_dataset_verifies_and_a_forgery_does_not(
    ckan: CkanPortal,
    ckan_admin: ckanapi.RemoteCKAN,
    dataset_purge: Callable[[str], str],
    tmp_path: Path,
) -> None:
    kommun = _key(tmp_path / "kommun", "Testkommun")
    attacker = _key(tmp_path / "attacker", "Angripare AB")
    name = dataset_purge(unique("og-signed"))
    pkg = make_package(tmp_path / "pkg", name)
    target = CkanTarget(settings_for(ckan))
    first = publish(pkg, target, agent="ci:tests", engine=ENGINE, signing_key=kommun)
    assert first.status == "published"
    make_package(pkg, name, invoices=invoices_csv(bump=7))
    second = publish(pkg, target, agent="ci:tests", engine=ENGINE, signing_key=kommun)
    assert second.release == 2
    assert SIGNATURE in managed(ckan_admin.action.package_show(id=name))

    result = verify_ckan(ckan.url, name, trust=_trust(kommun))
    assert result.ok, result.mismatches
    assert result.signatures_checked and [s["release"] for s in result.signers] == [1, 2]
    cli_ok = CliRunner().invoke(
        cli, ["verify", name, "--ckan-url", ckan.url, "--trust", f"{kommun}.pub"]
    )
    assert cli_ok.exit_code == 0, cli_ok.output
    assert "every release signed" in cli_ok.output

    wrong = verify_ckan(ckan.url, name, trust=_trust(attacker))
    assert type(wrong.error()) is errors.UntrustedKey

    # Someone with the portal's admin rights rewrites provenance.json consistently.
    res = managed(ckan_admin.action.package_show(id=name))["provenance.json"]
    doc = json.loads(ckan_admin.session.get(res["url"]).content)
    doc["generated"][0]["og:bytes"] += 1
    forged = tmp_path / "provenance.json"
    forged.write_bytes(json.dumps(doc, ensure_ascii=False, indent=2, sort_keys=True).encode())
    with forged.open("rb") as fh:
        ckan_admin.action.resource_patch(id=res["id"], upload=fh)
    cli_bad = CliRunner().invoke(
        cli, ["verify", name, "--ckan-url", ckan.url, "--trust", f"{kommun}.pub"]
    )
    assert cli_bad.exit_code != 0, cli_bad.output
    assert "Traceback" not in cli_bad.output
    forged_result = verify_ckan(ckan.url, name, trust=_trust(kommun))
    assert "signature" in {m.problem for m in forged_result.mismatches}


def test_an_unsigned_ckan_dataset_fails_closed(
    ckan: CkanPortal,
    dataset_purge: Callable[[str], str],
    tmp_path: Path,
) -> None:
    kommun = _key(tmp_path / "kommun", "Testkommun")
    name = dataset_purge(unique("og-unsigned"))
    pkg = make_package(tmp_path / "pkg", name)
    publish(pkg, CkanTarget(settings_for(ckan)), agent="ci:tests", engine=ENGINE)
    result = CliRunner().invoke(
        cli, ["verify", name, "--ckan-url", ckan.url, "--trust", f"{kommun}.pub"]
    )
    assert result.exit_code == errors.Unsigned.exit_code, result.output
    assert "release 1 is not signed" in result.output
    allowed = CliRunner().invoke(cli, ["verify", name, "--ckan-url", ckan.url, "--allow-unsigned"])
    assert allowed.exit_code == 0 and "CONSISTENCY ONLY" in allowed.output
