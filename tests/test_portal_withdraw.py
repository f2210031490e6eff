"""`opengov withdraw`: the dataset leaves the catalogue and dcat.rdf, its files give way to a
notice, the withdrawal is a release in its provenance chain, and publishing again continues."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import rdflib
from click.testing import CliRunner
from helpers import PNR, PackageFactory

from opengov.cli import cli
from opengov.errors import DisclosureBlocked, InputError
from opengov.trust import Trust
from opengov.verify import verify_folder

BASE = "https://data.exempelby.se/"
CONSISTENCY = Trust(allow_unsigned=True)


@pytest.fixture
def published(make_package: PackageFactory, tmp_path: Path, key: str) -> tuple[Path, Path]:
    portal = tmp_path / "portal"
    package = make_package()
    result = CliRunner().invoke(
        cli, ["publish", str(package), "--to", str(portal), "--base-url", BASE]
    )
    assert result.exit_code == 0, result.output
    return package, portal


def _withdraw(portal: Path, *args: str) -> object:
    return CliRunner().invoke(cli, ["withdraw", *args, "--to", str(portal)])


def test_withdraw_takes_the_dataset_out_and_records_why(published: tuple[Path, Path]) -> None:
    _, portal = published
    result = CliRunner().invoke(
        cli,
        ["withdraw", "personal", "--to", str(portal), "--reason", "Fel urval.", "--json"],
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data == {
        "dataset": "personal",
        "target": str(portal / "personal"),
        "status": "withdrawn",
        "release": 2,
        "reason": "Fel urval.",
    }
    dataset = portal / "personal"
    files = sorted(p.relative_to(dataset).as_posix() for p in dataset.rglob("*") if p.is_file())
    assert [f for f in files if not f.startswith("history/")] == [
        "datapackage.json",
        "history.html",
        "history.json",
        "index.html",
        "provenance.json",
    ]
    descriptor = json.loads((dataset / "datapackage.json").read_text(encoding="utf-8"))
    assert descriptor["resources"] == [] and descriptor["title"] == "Personal (test)"
    provenance = json.loads((dataset / "provenance.json").read_text(encoding="utf-8"))
    assert provenance["release"] == 2
    assert provenance["og:withdrawal"]["reason"] == "Fel urval."
    assert provenance["activity"]["og:command"] == "opengov withdraw"
    result = verify_folder(dataset, CONSISTENCY)
    assert result.ok and result.chain_length == 2
    catalog = json.loads((portal / "catalog.json").read_text(encoding="utf-8"))
    assert catalog["datasets"] == []
    graph = rdflib.Graph().parse(portal / "dcat.rdf", format="xml")
    from rdflib.namespace import DCAT, RDF

    assert list(graph.subjects(RDF.type, DCAT.Dataset)) == []
    assert "personal/index.html" not in (portal / "index.html").read_text(encoding="utf-8")
    page = (dataset / "index.html").read_text(encoding="utf-8")
    assert "har dragits tillbaka" in page and "Fel urval." in page
    history = json.loads((dataset / "history.json").read_text(encoding="utf-8"))
    assert [(r["release"], r["kind"]) for r in history["releases"]] == [
        (2, "withdrawal"),
        (1, "publish"),
    ]


def test_withdrawing_twice_changes_nothing(published: tuple[Path, Path]) -> None:
    _, portal = published
    assert _withdraw(portal, "personal", "--reason", "Fel urval.").exit_code == 0  # type: ignore[attr-defined]
    before = {p: p.read_bytes() for p in portal.rglob("*") if p.is_file()}
    again = _withdraw(portal, "personal", "--reason", "Igen.")
    assert again.exit_code == 0, again.output  # type: ignore[attr-defined]
    assert "already withdrawn" in again.output  # type: ignore[attr-defined]
    assert {p: p.read_bytes() for p in portal.rglob("*") if p.is_file()} == before


def test_publishing_again_continues_the_chain(published: tuple[Path, Path]) -> None:
    package, portal = published
    assert _withdraw(portal, "personal", "--reason", "Tillfälligt.").exit_code == 0  # type: ignore[attr-defined]
    result = CliRunner().invoke(cli, ["publish", str(package), "--to", str(portal)])
    assert result.exit_code == 0, result.output
    assert "release 3" in result.output
    dataset = portal / "personal"
    assert verify_folder(dataset, CONSISTENCY).chain_length == 3
    history = json.loads((dataset / "history.json").read_text(encoding="utf-8"))
    assert history["releases"][0]["changes"][0]["note"] == "after-withdrawal"
    catalog = json.loads((portal / "catalog.json").read_text(encoding="utf-8"))
    assert [d["name"] for d in catalog["datasets"]] == ["personal"]


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["okand", "--reason", "x"], InputError.exit_code),
        (["../personal", "--reason", "x"], InputError.exit_code),
        (["personal/..", "--reason", "x"], InputError.exit_code),
        (["personal", "--reason", "   "], InputError.exit_code),
        (["personal", "--reason", "x" * 1001], InputError.exit_code),
        (["personal", "--reason", "rad\x01tecken"], InputError.exit_code),
        (["personal", "--reason", f"Gällde {PNR}"], DisclosureBlocked.exit_code),
        (["personal", "--reason", "Ring 070-123 45 67"], DisclosureBlocked.exit_code),
        (["personal", "--reason", "skriv till anna@exempel.se"], DisclosureBlocked.exit_code),
        (["personal"], 2),  # --reason is required
    ],
)
def test_bad_withdrawals_change_nothing(
    published: tuple[Path, Path], args: list[str], code: int
) -> None:
    _, portal = published
    before = {p: p.read_bytes() for p in portal.rglob("*") if p.is_file()}
    result = _withdraw(portal, *args)
    assert result.exit_code == code, result.output  # type: ignore[attr-defined]
    assert "Traceback" not in result.output  # type: ignore[attr-defined]
    assert PNR not in result.output  # type: ignore[attr-defined]
    assert {p: p.read_bytes() for p in portal.rglob("*") if p.is_file()} == before


def test_a_signed_chain_needs_a_signed_withdrawal(
    make_package: PackageFactory, tmp_path: Path, key: str
) -> None:
    from signing_helpers import make_key
    from test_verify_forgery import pinned

    from opengov.errors import PublishError

    signing = make_key(tmp_path / "keys")
    portal = tmp_path / "portal"
    args = ["publish", str(make_package()), "--to", str(portal), "--signing-key", str(signing)]
    assert CliRunner().invoke(cli, args).exit_code == 0
    before = {p: p.read_bytes() for p in portal.rglob("*") if p.is_file()}
    unsigned = _withdraw(portal, "personal", "--reason", "Fel urval.")
    assert unsigned.exit_code == PublishError.exit_code, unsigned.output  # type: ignore[attr-defined]
    assert "sign this one too" in unsigned.output  # type: ignore[attr-defined]
    assert {p: p.read_bytes() for p in portal.rglob("*") if p.is_file()} == before
    signed = _withdraw(portal, "personal", "--reason", "Fel urval.", "--signing-key", str(signing))
    assert signed.exit_code == 0, signed.output  # type: ignore[attr-defined]
    result = verify_folder(portal / "personal", pinned(signing))
    assert result.ok, result.to_dict()
    assert result.release == 2 and result.chain_length == 2
