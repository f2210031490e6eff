"""A DCAT-AP-SE catalogue (RDF/XML) of a static portal, for dataportal.se to harvest.

dataportal.se harvests one RDF/XML URL a day and wants absolute IRIs (no blank nodes for
catalogue, dataset, distribution, publisher or contact), a stable `dcterms:identifier` per
dataset, exactly one publisher, a media type per distribution and a licence per distribution
(../shared/reference/municipal-specs.md). The portal folder does not know its own URL, so the
base URL is given when the catalogue is written.
"""

from __future__ import annotations

import uuid
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from opengov.errors import ConfigError
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
FORMATS = {"csv": ("text/csv", "CSV"), "parquet": ("application/vnd.apache.parquet", "PARQUET")}
DCAT_FILE = "dcat.rdf"

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
        node.text = text
    return node


def _literal(parent: ET.Element, name: str, text: str, lang: str = "sv") -> None:
    node = _el(parent, name, text)
    node.set("{http://www.w3.org/XML/1998/namespace}lang", lang)


def _ref(parent: ET.Element, name: str, iri: str) -> None:
    _el(parent, name, rdf_resource=iri)


def _typed(parent: ET.Element, name: str, text: str, datatype: str) -> None:
    _el(parent, name, text, rdf_datatype=NS["xsd"] + datatype)


def dataset_identifier(base_url: str, name: str) -> str:
    """Stable across releases and re-harvests: derived from the portal URL and dataset name."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, base_url.rstrip("/") + "/" + name))


def render(
    catalog: dict[str, Any],
    descriptors: dict[str, dict[str, Any]],
    base_url: str,
    *,
    keys: bool = False,
) -> bytes:
    if not base_url.startswith(("http://", "https://")):
        raise ConfigError(
            "--base-url must be an absolute http(s) URL, as citizens reach the portal"
        )
    base = base_url.rstrip("/") + "/"
    root = ET.Element(_q("rdf:RDF"))
    cat = _el(root, "dcat:Catalog", rdf_about=base + DCAT_FILE)
    _literal(cat, "dcterms:title", catalog.get("title") or "Öppna data")
    _literal(cat, "dcterms:description", "Öppna data publicerade med opengov.")
    _ref(cat, "foaf:homepage", base + "index.html")
    publishers: dict[str, dict[str, Any]] = {}
    for entry in catalog["datasets"]:
        descriptor = descriptors[entry["name"]]
        og = descriptor.get("opengov") or {}
        ds_iri = base + entry["page"].removesuffix("index.html")
        _ref(cat, "dcat:dataset", ds_iri)
        publisher_iri = og.get("publisher_uri") or base + "#publisher"
        publishers.setdefault(publisher_iri, og)
        _dataset(root, entry, descriptor, og, base, ds_iri, publisher_iri)
    if publishers:
        _ref(cat, "dcterms:publisher", next(iter(publishers)))
    if keys:
        _signing_keys(cat, base)
    for iri, og in publishers.items():
        agent = _el(root, "foaf:Agent", rdf_about=iri)
        _literal(agent, "foaf:name", og.get("publisher") or "Okänd utgivare")
    ET.indent(root)
    body: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=False)
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + body + b"\n"


def _signing_keys(cat: ET.Element, base: str) -> None:
    """The public keys that sign the portal's releases (keys.json), for auditors to find."""
    _ref(cat, "rdfs:seeAlso", base + KEYS_FILE)


def _dataset(
    root: ET.Element,
    entry: dict[str, Any],
    descriptor: dict[str, Any],
    og: dict[str, Any],
    base: str,
    ds_iri: str,
    publisher_iri: str,
) -> None:
    ds = _el(root, "dcat:Dataset", rdf_about=ds_iri)
    _el(ds, "dcterms:identifier", dataset_identifier(base, entry["name"]))
    _literal(ds, "dcterms:title", entry["title"])
    _literal(ds, "dcterms:description", entry.get("description") or entry["title"])
    if og.get("title_en"):
        _literal(ds, "dcterms:title", og["title_en"], "en")
    if og.get("description_en"):
        _literal(ds, "dcterms:description", og["description_en"], "en")
    _ref(ds, "dcterms:publisher", publisher_iri)
    for keyword in entry.get("keywords", []):
        _literal(ds, "dcat:keyword", keyword)
    for theme in entry.get("theme", []):
        _ref(ds, "dcat:theme", EU_THEME + theme)
    _typed(ds, "dcterms:modified", entry["published"], "dateTime")
    _ref(ds, "dcat:landingPage", base + entry["page"])
    _ref(
        ds,
        "dcterms:accessRights",
        "http://publications.europa.eu/resource/authority/access-right/PUBLIC",
    )
    # Where the data came from and what was withheld: the release's provenance.
    _ref(ds, "dcterms:provenance", base + entry["provenance"])
    if og.get("conformsTo"):
        _ref(ds, "dcterms:conformsTo", og["conformsTo"])
    if entry.get("contact_email"):
        contact_iri = ds_iri + "#contact"
        _ref(ds, "dcat:contactPoint", contact_iri)
        org = _el(root, "vcard:Organization", rdf_about=contact_iri)
        _literal(org, "vcard:fn", og.get("publisher") or entry["title"])
        _ref(org, "vcard:hasEmail", "mailto:" + entry["contact_email"])
    license_iri = entry.get("license")
    dataset_dir = base + entry["name"] + "/"
    for res in descriptor.get("resources", []):
        fmt = res.get("format")
        if fmt not in FORMATS:
            continue
        media, file_type = FORMATS[fmt]
        dist_iri = dataset_dir + res["path"]
        _ref(ds, "dcat:distribution", dist_iri)
        dist = _el(root, "dcat:Distribution", rdf_about=dist_iri)
        _literal(dist, "dcterms:title", f"{res.get('title') or res['name']} ({file_type})")
        _ref(dist, "dcat:accessURL", dist_iri)
        _ref(dist, "dcat:downloadURL", dist_iri)
        _ref(dist, "dcat:mediaType", MEDIA_TYPE + media)
        _ref(dist, "dcterms:format", FILE_TYPE + file_type)
        if license_iri and license_iri.startswith("http"):
            _ref(dist, "dcterms:license", license_iri)
        if res.get("bytes") is not None:
            _typed(dist, "dcat:byteSize", str(res["bytes"]), "nonNegativeInteger")
        if str(res.get("hash", "")).startswith("sha256:"):
            checksum = _el(dist, "spdx:checksum")
            node = _el(checksum, "spdx:Checksum")
            _ref(node, "spdx:algorithm", NS["spdx"] + "checksumAlgorithm_sha256")
            _typed(node, "spdx:checksumValue", res["hash"].split(":", 1)[1], "hexBinary")
        if fmt == "csv":
            _ref(dist, "dcterms:conformsTo", dataset_dir + "datapackage.json")


def write(portal: Path, base_url: str) -> Path:
    """Write dcat.rdf into the portal folder from its catalogue and published descriptors."""
    import json

    from opengov.release.catalogue import catalogue_entries

    entries = catalogue_entries(portal)
    descriptors = {
        e["name"]: json.loads((portal / e["name"] / "datapackage.json").read_text("utf-8"))
        for e in entries
    }
    data = render(
        {"title": "Öppna data", "datasets": entries},
        descriptors,
        base_url,
        keys=(portal / KEYS_FILE).is_file(),
    )
    target = portal / DCAT_FILE
    tmp = portal / f".{DCAT_FILE}.tmp"
    tmp.write_bytes(data)
    tmp.replace(target)
    return target
