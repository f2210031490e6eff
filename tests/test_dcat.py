"""The DCAT-AP-SE catalogue parses as RDF and has what dataportal.se requires."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from helpers import PackageFactory

from opengov.cli import cli
from opengov.errors import ConfigError

BASE = "https://data.exempelby.se/"


@pytest.fixture
def portal(make_package: PackageFactory, tmp_path: Path, key: str) -> Path:
    portal = tmp_path / "portal"
    extra = {
        "opengov": {
            "publisher": "Exempelby kommun",
            "contact_email": "reg@exempelby.se",
            "theme": ["GOVE"],
            "title_en": "Staff (test)",
        },
        "keywords": ["personal"],
    }
    result = CliRunner().invoke(
        cli, ["publish", str(make_package(extra=extra)), "--to", str(portal), "--base-url", BASE]
    )
    assert result.exit_code == 0, result.output
    return portal


def test_catalogue_is_rdf_with_required_dcat_ap_se_terms(portal: Path) -> None:
    import rdflib
    from rdflib.namespace import DCAT, DCTERMS, RDF

    graph = rdflib.Graph().parse(portal / "dcat.rdf", format="xml")
    catalogs = list(graph.subjects(RDF.type, DCAT.Catalog))
    datasets = list(graph.subjects(RDF.type, DCAT.Dataset))
    assert len(catalogs) == 1 and len(datasets) == 1
    ds = datasets[0]
    assert str(ds) == BASE + "personal/"
    assert len(list(graph.objects(ds, DCTERMS.publisher))) == 1
    titles = {(str(t), t.language) for t in graph.objects(ds, DCTERMS.title)}
    assert ("Personal (test)", "sv") in titles and ("Staff (test)", "en") in titles
    assert graph.value(ds, DCTERMS.identifier) is not None
    assert str(graph.value(ds, DCAT.theme)).endswith("/data-theme/GOVE")
    dists = list(graph.objects(ds, DCAT.distribution))
    assert len(dists) == 2
    for dist in dists:
        assert str(dist).startswith(BASE) and (portal / str(dist)[len(BASE) :]).exists()
        assert graph.value(dist, DCAT.accessURL) is not None
        assert graph.value(dist, DCAT.mediaType) is not None
        assert str(graph.value(dist, DCTERMS.license)).startswith("http://creativecommons.org")
    # No blank nodes for the things dataportal.se deduplicates on.
    for kind in (DCAT.Catalog, DCAT.Dataset, DCAT.Distribution):
        for subject in graph.subjects(RDF.type, kind):
            assert isinstance(subject, rdflib.URIRef)


def test_identifier_is_stable_across_releases(portal: Path, make_package: PackageFactory) -> None:
    first = (portal / "dcat.rdf").read_text(encoding="utf-8")
    result = CliRunner().invoke(cli, ["catalog", str(portal), "--base-url", BASE])
    assert result.exit_code == 0, result.output
    import re

    ids = re.findall(r"<dcterms:identifier>(.*?)<", first)
    again = re.findall(r"<dcterms:identifier>(.*?)<", (portal / "dcat.rdf").read_text("utf-8"))
    assert ids == again and len(ids) == 1
    assert 'href="dcat.rdf"' in (portal / "index.html").read_text(encoding="utf-8")


def test_relative_base_url_is_refused(portal: Path) -> None:
    from opengov.release import dcat

    with pytest.raises(ConfigError):
        dcat.write(portal, "data.exempelby.se")
