"""A DCAT-AP-SE catalogue (RDF/XML) of a static portal, for dataportal.se to harvest.

dataportal.se harvests one RDF/XML URL a day and wants absolute IRIs (no blank nodes for
catalogue, dataset, distribution, publisher or contact), a stable `dcterms:identifier` per
dataset, exactly one publisher, a media type per distribution and a licence per distribution
(../shared/reference/municipal-specs.md). The portal's URL, title and publisher come from its
settings (portal.json, `opengov.release.portal`).

Everything taken from a descriptor is untrusted: literals lose the characters XML 1.0 cannot
hold, an IRI is written only when it is an absolute http(s) URL (mailto for e-mail), path
segments are percent-encoded, and a theme must be one of the EU data themes.
"""

from __future__ import annotations

import re
import uuid
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from opengov.errors import ConfigError
from opengov.release import pages
from opengov.release.portal import PortalSettings, check
from opengov.signing import KEYS_FILE

NS = {
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "dcat": "http://www.w3.org/ns/dcat#",
    "dcterms": "http://purl.org/dc/terms/",
    "foaf": "http://xmlns.com/foaf/0.1/",
    "vcard": "http://www.w3.org/2006/vcard/ns#",
    "spdx": "http://spdx.org/rdf/terms#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
}
EU_THEME = "http://publications.europa.eu/resource/authority/data-theme/"
MEDIA_TYPE = "http://www.iana.org/assignments/media-types/"
FILE_TYPE = "http://publications.europa.eu/resource/authority/file-type/"
FORMATS = {
    "csv": ("text/csv", "CSV"),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "XLSX"),
    "parquet": ("application/vnd.apache.parquet", "PARQUET"),
}
DCAT_FILE = "dcat.rdf"
_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})?$")

for _prefix, _uri in NS.items():
    ET.register_namespace(_prefix, _uri)


def _q(name: str) -> str:
    prefix, local = name.split(":")
    return f"{{{NS[prefix]}}}{local}"


def _el(parent: ET.Element, name: str, text: str | None = None, **attrs: str) -> ET.Element:
    node = ET.SubElement(
        parent, _q(name), {_q(k.replace("_", ":", 1)): v for k, v in attrs.items()}
    )
    if text is not None:
        node.text = pages.text(text)
    return node


def _literal(parent: ET.Element, name: str, text: Any, lang: str = "sv") -> None:
    shown = pages.text(text).strip()
    if not shown:
        return
    node = _el(parent, name, shown)
    node.set("{http://www.w3.org/XML/1998/namespace}lang", lang)


def _ref(parent: ET.Element, name: str, iri: str) -> None:
    _el(parent, name, rdf_resource=iri)


def _web_iri(value: Any) -> str | None:
    """An absolute http(s) IRI from a descriptor, or None."""
    url = pages.safe_url(value)
    return url if url and not url.lower().startswith("mailto:") else None


def _typed(parent: ET.Element, name: str, text: str, datatype: str) -> None:
    _el(parent, name, text, rdf_datatype=NS["xsd"] + datatype)


def dataset_identifier(base_url: str, name: str) -> str:
    """Stable across releases and re-harvests: derived from the portal URL and dataset name."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, base_url.rstrip("/") + "/" + name))


def render(catalog: dict[str, Any], settings: PortalSettings, *, keys: bool = False) -> bytes:
    """dcat.rdf for a catalogue (`catalogue.render_catalogue`'s dict) of a portal at a URL;
    `keys`: the portal publishes the keys that sign its releases (keys.json)."""
    if not settings.base_url:
        raise ConfigError("dcat.rdf needs the portal's base URL (--base-url or portal.json)")
    check(settings)
    base = settings.base_url.rstrip("/") + "/"
    root = ET.Element(_q("rdf:RDF"))
    cat = _el(root, "dcat:Catalog", rdf_about=base + DCAT_FILE)
    _literal(cat, "dcterms:title", settings.title)
    _literal(cat, "dcterms:description", settings.description)
    _ref(cat, "foaf:homepage", base + "index.html")
    publishers: dict[str, str] = {}
    if settings.publisher:
        publishers[_web_iri(settings.publisher_uri) or base + "#publisher"] = settings.publisher
    for entry in catalog["datasets"]:
        ds_iri = base + pages.rel_url(entry["name"]) + "/"
        _ref(cat, "dcat:dataset", ds_iri)
        publisher_iri = _web_iri(entry.get("publisher_uri")) or base + "#publisher"
        publishers.setdefault(publisher_iri, entry.get("publisher") or "")
        _dataset(root, entry, base, ds_iri, publisher_iri)
    if publishers:
        _ref(cat, "dcterms:publisher", next(iter(publishers)))
    if keys:
        _signing_keys(cat, base)
    for iri, name in publishers.items():
        agent = _el(root, "foaf:Agent", rdf_about=iri)
        _literal(agent, "foaf:name", name or "Okänd utgivare")
    ET.indent(root)
    body: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=False)
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + body + b"\n"


def _signing_keys(cat: ET.Element, base: str) -> None:
    """The public keys that sign the portal's releases (keys.json), for auditors to find."""
    _ref(cat, "rdfs:seeAlso", base + KEYS_FILE)


def _dataset(
    root: ET.Element, entry: dict[str, Any], base: str, ds_iri: str, publisher_iri: str
) -> None:
    ds = _el(root, "dcat:Dataset", rdf_about=ds_iri)
    _el(ds, "dcterms:identifier", dataset_identifier(base, entry["name"]))
    _literal(ds, "dcterms:title", entry["title"])
    _literal(ds, "dcterms:description", entry.get("description") or entry["title"])
    _literal(ds, "dcterms:title", entry.get("title_en"), "en")
    _literal(ds, "dcterms:description", entry.get("description_en"), "en")
    _ref(ds, "dcterms:publisher", publisher_iri)
    for keyword in pages.texts(entry.get("keywords")):
        _literal(ds, "dcat:keyword", keyword)
    for theme in pages.texts(entry.get("theme")):
        if theme.upper() in pages.THEMES_SV:
            _ref(ds, "dcat:theme", EU_THEME + theme.upper())
    if _DATETIME.match(entry.get("published") or ""):
        _typed(ds, "dcterms:modified", entry["published"], "dateTime")
    _ref(ds, "dcat:landingPage", base + pages.rel_url(entry["page"]))
    _ref(
        ds,
        "dcterms:accessRights",
        "http://publications.europa.eu/resource/authority/access-right/PUBLIC",
    )
    # Where the data came from and what was withheld: the release's provenance.
    _ref(ds, "dcterms:provenance", base + pages.rel_url(entry["provenance"]))
    conforms = _web_iri(entry.get("conforms_to"))
    if conforms:
        _ref(ds, "dcterms:conformsTo", conforms)
    email = pages.mailto(entry.get("contact_email"))
    if email:
        contact_iri = ds_iri + "#contact"
        _ref(ds, "dcat:contactPoint", contact_iri)
        org = _el(root, "vcard:Organization", rdf_about=contact_iri)
        _literal(org, "vcard:fn", entry.get("publisher") or entry["title"])
        _ref(org, "vcard:hasEmail", email)
    license_iri = _web_iri(entry.get("license"))
    dataset_dir = base + pages.rel_url(entry["name"]) + "/"
    for dist_info in entry.get("distributions", []):
        fmt = dist_info["format"]
        if fmt not in FORMATS:
            continue
        media, file_type = FORMATS[fmt]
        dist_iri = dataset_dir + pages.rel_url(dist_info["path"])
        _ref(ds, "dcat:distribution", dist_iri)
        dist = _el(root, "dcat:Distribution", rdf_about=dist_iri)
        _literal(dist, "dcterms:title", f"{dist_info['title']} ({file_type})")
        _ref(dist, "dcat:accessURL", dist_iri)
        _ref(dist, "dcat:downloadURL", dist_iri)
        _ref(dist, "dcat:mediaType", MEDIA_TYPE + media)
        _ref(dist, "dcterms:format", FILE_TYPE + file_type)
        if license_iri:
            _ref(dist, "dcterms:license", license_iri)
        if dist_info.get("bytes") is not None and dist_info["bytes"] >= 0:
            _typed(dist, "dcat:byteSize", str(dist_info["bytes"]), "nonNegativeInteger")
        if dist_info.get("sha256"):
            checksum = _el(dist, "spdx:checksum")
            node = _el(checksum, "spdx:Checksum")
            _ref(node, "spdx:algorithm", NS["spdx"] + "checksumAlgorithm_sha256")
            _typed(node, "spdx:checksumValue", dist_info["sha256"], "hexBinary")
        if fmt == "csv":
            _ref(dist, "dcterms:conformsTo", dataset_dir + "datapackage.json")


def write(portal: Path, base_url: str) -> Path:
    """Write dcat.rdf into the portal folder from its catalogue, for a portal at `base_url`."""
    from opengov.release.catalogue import catalogue_entries
    from opengov.release.portal import load

    settings = load(portal).with_changes(base_url=base_url)
    data = render(
        {"datasets": catalogue_entries(portal)}, settings, keys=(portal / KEYS_FILE).is_file()
    )
    from opengov.errors import PublishError
    from opengov.paths import replace_file

    return replace_file(portal, DCAT_FILE, data, what="dcat.rdf", error=PublishError)
