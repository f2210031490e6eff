"""The DCAT-AP-SE catalogue parses as RDF and has what dataportal.se requires; links and markup
hold against hostile descriptors (issue 9 §6): only http, https and mailto become links, in
pages and in dcat.rdf; no title, keyword or URL makes dcat.rdf invalid XML or crashes the
catalogue; a catalogue that cannot be written stops a publish before anything is swapped in."""

from __future__ import annotations

import html.parser
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
import rdflib
from click.testing import CliRunner
from helpers import PackageFactory
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from opengov.cli import cli
from opengov.errors import ConfigError, PublishError
from opengov.release import portal as portal_settings
from opengov.release.catalogue import render_catalogue

BASE = "https://data.exempelby.se/"
ALLOWED = ("http://", "https://", "mailto:")


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


def renamed(make_package: PackageFactory, folder: Path, name: str) -> Path:
    """The staff package under another dataset name (its resource keeps its name)."""
    package = make_package(folder=folder)
    path = package / "datapackage.json"
    descriptor = json.loads(path.read_text(encoding="utf-8"))
    descriptor["name"] = name
    path.write_text(json.dumps(descriptor, ensure_ascii=False), encoding="utf-8")
    return package


def test_catalogue_is_rdf_with_required_dcat_ap_se_terms(portal: Path) -> None:
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
    assert {str(d).rsplit(".", 1)[1] for d in dists} == {"csv", "parquet", "xlsx"}
    for dist in dists:
        assert str(dist).startswith(BASE) and (portal / str(dist)[len(BASE) :]).exists()
        assert graph.value(dist, DCAT.accessURL) is not None
        assert graph.value(dist, DCAT.mediaType) is not None
        assert str(graph.value(dist, DCTERMS.license)).startswith("http://creativecommons.org")
    # No blank nodes for the things dataportal.se deduplicates on.
    for kind in (DCAT.Catalog, DCAT.Dataset, DCAT.Distribution):
        for subject in graph.subjects(RDF.type, kind):
            assert isinstance(subject, rdflib.URIRef)


def test_identifier_is_stable_across_releases(portal: Path) -> None:
    first = (portal / "dcat.rdf").read_text(encoding="utf-8")
    result = CliRunner().invoke(cli, ["catalog", str(portal), "--base-url", BASE])
    assert result.exit_code == 0, result.output
    ids = re.findall(r"<dcterms:identifier>(.*?)<", first)
    again = re.findall(r"<dcterms:identifier>(.*?)<", (portal / "dcat.rdf").read_text("utf-8"))
    assert ids == again and len(ids) == 1
    assert 'href="dcat.rdf"' in (portal / "index.html").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    "url", ["data.exempelby.se", "ftp://data.exempelby.se/", "javascript:alert(1)", "https://"]
)
def test_a_base_url_that_is_not_an_absolute_http_url_is_refused(portal: Path, url: str) -> None:
    from opengov.release import dcat

    with pytest.raises(ConfigError):
        dcat.write(portal, url)


def test_dcat_stays_current_when_a_publish_omits_the_base_url(
    portal: Path, make_package: PackageFactory, tmp_path: Path
) -> None:
    """The base URL given once is kept in portal.json; later publishes rewrite dcat.rdf."""
    assert portal_settings.load(portal).base_url == BASE
    other = renamed(make_package, tmp_path / "andra", "andra")
    result = CliRunner().invoke(cli, ["publish", str(other), "--to", str(portal)])
    assert result.exit_code == 0, result.output
    graph = rdflib.Graph().parse(portal / "dcat.rdf", format="xml")
    from rdflib.namespace import DCAT, RDF

    assert {str(d) for d in graph.subjects(RDF.type, DCAT.Dataset)} == {
        BASE + "andra/",
        BASE + "personal/",
    }


def test_a_different_base_url_is_refused_before_anything_is_written(
    portal: Path, make_package: PackageFactory, tmp_path: Path
) -> None:
    before = {p: p.read_bytes() for p in portal.rglob("*") if p.is_file()}
    other = renamed(make_package, tmp_path / "andra", "andra")
    result = CliRunner().invoke(
        cli, ["publish", str(other), "--to", str(portal), "--base-url", "https://annan.example/"]
    )
    assert result.exit_code == ConfigError.exit_code, result.output
    assert "portal init --base-url" in result.output
    assert {p: p.read_bytes() for p in portal.rglob("*") if p.is_file()} == before


# ------------------------------------------------------------------------------ hostile input

HOSTILE_URLS = [
    "javascript:alert(1)",
    "JaVaScRiPt:alert(document.cookie)",
    " javascript:alert(1)",
    "java\tscript:alert(1)",
    "java\nscript:alert(1)",
    "\x01javascript:alert(1)",
    "javascript://example.se/%0aalert(1)",
    "vbscript:msgbox(1)",
    "data:text/html,<script>alert(1)</script>",
    "file:///etc/passwd",
    "//evil.example/x",
    "/absolut/sokvag",
    "relativ/licens.txt",
    'https://ok.example/"onmouseover="alert(1)',
    "https://ok.example/<script>",
    "http://",
    "https:evil.example",
    "mailto:",
    "",
]
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=6,
)
urls = st.sampled_from(HOSTILE_URLS) | st.text(max_size=40) | json_values
names = st.sampled_from(["javascript:alert(1)", "a b", "ok-namn", "ÅÄÖ", "x" * 80]) | st.from_regex(
    r"[a-z0-9][a-z0-9._-]{0,15}", fullmatch=True
)


def _fake_dataset(portal: Path, name: str, descriptor: dict[str, Any]) -> None:
    folder = portal / name
    folder.mkdir(parents=True)
    (folder / "datapackage.json").write_text(json.dumps(descriptor), encoding="utf-8")
    provenance = {
        "dataset": name,
        "release": 1,
        "generated": [],
        "activity": {"endedAtTime": "2024-05-01T12:00:00Z"},
    }
    (folder / "provenance.json").write_text(json.dumps(provenance), encoding="utf-8")


class _Links(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []
        self.scripts = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "script":
            self.scripts += 1
        for key, value in attrs:
            if key in ("href", "src", "action", "formaction") and value is not None:
                self.hrefs.append(value)
            assert not key.startswith("on"), (tag, key)


def check_links(page: str) -> None:
    """Every link is http(s), mailto, or a relative path with no scheme and no host."""
    parser = _Links()
    parser.feed(page)
    assert parser.scripts <= 1  # the portal's own script, inlined from the package
    for href in parser.hrefs:
        if href.startswith(ALLOWED) or href == "data:,":  # data:, is the empty favicon
            continue
        assert not href.startswith("/"), href
        first = href.split("/")[0]
        assert ":" not in first, href


def check_rdf(data: bytes) -> rdflib.Graph:
    ET.fromstring(data)  # well-formed XML 1.0
    graph = rdflib.Graph().parse(data=data, format="xml")
    for triple in graph:
        for term in triple:
            if isinstance(term, rdflib.URIRef):
                assert str(term).startswith(ALLOWED), term
    return graph


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    name=names,
    title=json_values,
    description=json_values,
    keywords=json_values,
    publisher=json_values,
    theme=json_values,
    licence=urls,
    licence_title=json_values,
    contact=urls,
    publisher_uri=urls,
    conforms=urls,
    path=urls,
    resource_name=json_values,
)
def test_hostile_descriptors_render_safe_pages_and_valid_rdf(
    tmp_path_factory: pytest.TempPathFactory,
    name: str,
    title: Any,
    description: Any,
    keywords: Any,
    publisher: Any,
    theme: Any,
    licence: Any,
    licence_title: Any,
    contact: Any,
    publisher_uri: Any,
    conforms: Any,
    path: Any,
    resource_name: Any,
) -> None:
    portal = tmp_path_factory.mktemp("portal")
    descriptor = {
        "title": title,
        "description": description,
        "keywords": keywords,
        "licenses": [{"path": licence, "title": licence_title, "name": licence_title}],
        "opengov": {
            "publisher": publisher,
            "publisher_uri": publisher_uri,
            "contact_email": contact,
            "theme": theme,
            "conformsTo": conforms,
            "title_en": title,
        },
        "resources": [
            {"name": resource_name, "path": path, "format": "csv", "bytes": 12, "hash": path},
            {"name": "r-parquet", "path": path, "format": "parquet", "title": title},
        ],
    }
    _fake_dataset(portal, name, descriptor)
    settings_ = portal_settings.PortalSettings(title="Öppna data", base_url=BASE)
    files = render_catalogue(portal, settings_)
    check_links(files["index.html"].decode("utf-8"))
    catalog = json.loads(files["catalog.json"])
    assert [d["name"] for d in catalog["datasets"]] == [name]
    graph = check_rdf(files["dcat.rdf"])
    from rdflib.namespace import DCAT, RDF

    assert len(list(graph.subjects(RDF.type, DCAT.Dataset))) == 1


@pytest.mark.parametrize(
    "title",
    ["Kontroll\x01tecken", "Noll\x00byte", "Vertikal\x0btab", "\ufffe", "Ok <&> \"'", "a\u2028b"],
)
def test_control_characters_in_a_title_keep_dcat_valid_xml(tmp_path: Path, title: str) -> None:
    _fake_dataset(tmp_path, "ds", {"title": title, "resources": []})
    files = render_catalogue(tmp_path, portal_settings.PortalSettings(base_url=BASE))
    graph = check_rdf(files["dcat.rdf"])
    from rdflib.namespace import DCTERMS

    shown = {str(t) for t in graph.objects(rdflib.URIRef(BASE + "ds/"), DCTERMS.title)}
    assert shown and all("\x00" not in t and "\x01" not in t for t in shown)


HOSTILE_PACKAGES: list[dict[str, Any]] = [
    {"keywords": [2024, 3.5, True, None, {"a": 1}, ["x"], "ok"]},
    {"keywords": "inte en lista"},
    {"title": "Titel med \x01 styrtecken och \x1f"},
    {"licenses": [{"name": "x", "path": "javascript:alert(1)", "title": "Klicka"}]},
    {"homepage": "javascript:alert(1)", "opengov": {"contact_email": "javascript:alert(1)"}},
    {"opengov": {"publisher": ["lista"], "theme": "GOVE", "publisher_uri": "javascript:x"}},
]


@pytest.mark.parametrize("extra", HOSTILE_PACKAGES)
def test_hostile_packages_publish_with_safe_links(
    make_package: PackageFactory, tmp_path: Path, key: str, extra: dict[str, Any]
) -> None:
    portal = tmp_path / "portal"
    package = make_package(extra=extra)
    for round_ in range(2):  # and a later --base-url publish still works
        result = CliRunner().invoke(
            cli, ["publish", str(package), "--to", str(portal), "--base-url", BASE]
        )
        assert result.exit_code == 0, (round_, result.output)
        assert "Traceback" not in result.output
    for page in ("index.html", "personal/index.html", "personal/history.html"):
        text = (portal / page).read_text(encoding="utf-8")
        check_links(text)
    check_rdf((portal / "dcat.rdf").read_bytes())
    verify = CliRunner().invoke(cli, ["verify", str(portal / "personal"), "--allow-unsigned"])
    assert verify.exit_code == 0, verify.output


def test_a_catalogue_that_cannot_be_rendered_stops_the_publish_before_the_swap(
    make_package: PackageFactory, tmp_path: Path, key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    portal = tmp_path / "portal"
    package = make_package()
    assert CliRunner().invoke(cli, ["publish", str(package), "--to", str(portal)]).exit_code == 0
    before = {p: p.read_bytes() for p in portal.rglob("*") if p.is_file()}
    # A new release (changed data), and a catalogue renderer that fails on it.
    csv_path = package / "data" / "personal.csv"
    csv_path.write_bytes(csv_path.read_bytes().replace(b"Lena Berg", b"Lena Borg"))

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise TypeError("a value of a type the catalogue does not expect")

    monkeypatch.setattr("opengov.targets.static.render_catalogue", broken)
    result = CliRunner().invoke(cli, ["publish", str(package), "--to", str(portal)])
    assert result.exit_code == PublishError.exit_code, result.output
    assert "nothing was changed" in result.output
    after = {p: p.read_bytes() for p in portal.rglob("*") if p.is_file()}
    assert after == before  # the old release is still in place, no staging folder left
    assert not (portal / ".opengov-staging").exists()
