"""How a package maps onto CKAN: dataset fields, licences, tags, extras and resource metadata.

Nothing here talks to the portal. The names of opengov's own extras and resource fields live
here too, since every other module of the target reads or writes them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from opengov.package import Package
from opengov.release.build import MEDIA_TYPES, Release
from opengov.verify import PROVENANCE

FORMAT_VERSION = "1"
HISTORY_PATH = "provenance-history.json"
HISTORY_FORMAT = "opengov-provenance-history"
SPDX_SHA256 = "http://spdx.org/rdf/terms#checksumAlgorithm_sha256"

# Dataset extras opengov owns (every key starts with "opengov_"; other extras are left alone).
E_FORMAT = "opengov_format"
E_FINGERPRINT = "opengov_inputs_fingerprint"
E_RELEASE = "opengov_release"
E_PROVENANCE = "opengov_provenance_sha256"
E_STATE = "opengov_state"  # "uploading" until read back, then "complete"
E_FILES = "opengov_files"  # {opengov_path: sha256} of the complete release
# The visibility the package asked for ("public"/"private"). A complete dataset that is private
# although opengov made it public was hidden by a person: that decision wins over re-publishing.
E_VISIBILITY = "opengov_visibility"
E_WITHDRAWN = "opengov_withdrawn"  # {"reason", "at", "agent"} of `opengov withdraw`
# {csv path: what its DataStore table holds} (datastore_state.py); complete releases only.
E_DATASTORE = "opengov_datastore"
PREFIX = "opengov_"

# Resource fields opengov sets and compares (CKAN adds its own: id, url, size, created...).
R_PATH = "opengov_path"
R_ROLE = "opengov_role"
COMPARED = (
    "name",
    "description",
    "format",
    "mimetype",
    "hash",
    "hash_algorithm",
    "schema",
    R_PATH,
    R_ROLE,
)

# CKAN's dataset name rule (ckan.logic.validators.name_validator).
CKAN_NAME = re.compile(r"^[a-z0-9_-]{2,100}$")
_TAG_BAD = re.compile(r"[^\w .-]+", re.UNICODE)
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

# Licences: SPDX ids and licence URIs -> the ids of CKAN's default licence list.
_LICENCES = {
    "cc0-1.0": "cc-zero",
    "cc0": "cc-zero",
    "creativecommons.org/publicdomain/zero/1.0": "cc-zero",
    "cc-by-4.0": "cc-by",
    "cc-by-3.0": "cc-by",
    "cc-by": "cc-by",
    "creativecommons.org/licenses/by/4.0": "cc-by",
    "creativecommons.org/licenses/by/3.0": "cc-by",
    "cc-by-sa-4.0": "cc-by-sa",
    "cc-by-sa-3.0": "cc-by-sa",
    "cc-by-sa": "cc-by-sa",
    "creativecommons.org/licenses/by-sa/4.0": "cc-by-sa",
    "creativecommons.org/licenses/by-sa/3.0": "cc-by-sa",
    "cc-by-nc-4.0": "cc-nc",
    "creativecommons.org/licenses/by-nc/4.0": "cc-nc",
    "odbl-1.0": "odc-odbl",
    "opendatacommons.org/licenses/odbl/1.0": "odc-odbl",
    "opendatacommons.org/licenses/odbl": "odc-odbl",
    "odc-by-1.0": "odc-by",
    "opendatacommons.org/licenses/by/1.0": "odc-by",
    "opendatacommons.org/licenses/by": "odc-by",
    "pddl-1.0": "odc-pddl",
    "opendatacommons.org/licenses/pddl/1.0": "odc-pddl",
    "opendatacommons.org/licenses/pddl": "odc-pddl",
    "gfdl-1.3": "gfdl",
    "gfdl-1.3-or-later": "gfdl",
    "ogl-uk-3.0": "uk-ogl",
    "nationalarchives.gov.uk/doc/open-government-licence/version/3": "uk-ogl",
}

# Names and descriptions citizens see on the dataset page (the portals are Swedish).
_REPORTS: dict[str, tuple[str, str, str]] = {
    # path: (role, name, description)
    "datapackage.json": (
        "descriptor",
        "Datapaketets beskrivning (datapackage.json)",
        "Frictionless-beskrivning av de publicerade filerna med tabellscheman och sha256.",
    ),
    "validation.html": (
        "report",
        "Valideringsrapport (HTML)",
        "Resultatet av valideringen mot tabellschemana. Innehåller inga värden ur fält som "
        "inte är offentliga.",
    ),
    "validation.json": (
        "report",
        "Valideringsrapport (JSON)",
        "Valideringsrapporten i maskinläsbar form (Frictionless-format).",
    ),
    "redactions.json": (
        "report",
        "Redovisning av sekretessprövning (JSON)",
        "Vilka fält och rader som tagits bort, maskerats eller pseudonymiserats, med lagrum "
        "och antal.",
    ),
    "index.html": (
        "page",
        "Om datamängden (HTML)",
        "Sammanfattning av publiceringen: filer, validering, redovisning och proveniens.",
    ),
    HISTORY_PATH: (
        "history",
        "Tidigare proveniensdokument (JSON)",
        "Proveniensdokumenten för tidigare versioner, så att hashkedjan kan kontrolleras.",
    ),
    PROVENANCE: (
        "provenance",
        "Proveniens (provenance.json)",
        "Vad som användes och skapades, av vem och när, med sha256 för varje fil (W3C PROV).",
    ),
}
_LAST = (
    "datapackage.json",
    "validation.html",
    "validation.json",
    "redactions.json",
    "index.html",
    HISTORY_PATH,
    PROVENANCE,
)


def wants_private(descriptor: dict[str, Any]) -> bool:
    og = descriptor.get("opengov") or {}
    return isinstance(og, dict) and og.get("private") is True


def _norm_uri(text: str) -> str:
    text = text.strip().lower()
    text = re.sub(r"^https?://", "", text)
    text = re.sub(r"^www\.", "", text)
    return text.rstrip("/").removesuffix("/legalcode").removesuffix("/deed.sv").rstrip("/")


def licence_id(descriptor: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The CKAN licence id for the package's first licence (CKAN's default ids)."""
    licences = descriptor.get("licenses") or []
    if not licences or not isinstance(licences[0], dict):
        return "notspecified", {}
    lic = licences[0]
    for key in (str(lic.get("path") or ""), str(lic.get("name") or "")):
        mapped = _LICENCES.get(_norm_uri(key)) if key else None
        if mapped:
            return mapped, lic
    return str(lic.get("name") or "notspecified"), lic


def match_licence(portal: list[dict[str, Any]], wanted: str, lic: dict[str, Any]) -> str | None:
    """Find the package's licence in a portal's own licence list (ids, URLs or titles)."""
    ids = {str(item.get("id")) for item in portal}
    if wanted in ids:
        return wanted
    keys = {_norm_uri(str(lic.get(k) or "")) for k in ("path", "name", "title")} - {""}
    for item in portal:
        for k in ("url", "id", "title"):
            if _norm_uri(str(item.get(k) or "")) in keys:
                return str(item["id"])
    return None


def ckan_tags(keywords: Iterable[Any]) -> list[dict[str, str]]:
    out: list[str] = []
    for word in keywords:
        # CKAN allows letters, digits, space, - _ . in 2-100 characters.
        tag = " ".join(_TAG_BAD.sub(" ", str(word)).split())[:100]
        if len(tag) >= 2 and tag not in out:
            out.append(tag)
    return [{"name": t} for t in out]


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def metadata_extras(package: Package, lic: dict[str, Any]) -> dict[str, str]:
    """The package's metadata that CKAN has no field for, as opengov_* extras."""
    d = package.descriptor
    og = d.get("opengov") or {}
    extras = {E_FORMAT: FORMAT_VERSION}
    if isinstance(og, dict):
        for key, value in sorted(og.items()):
            if key != "private" and value not in (None, "", [], {}):
                extras[PREFIX + re.sub(r"[^\w]", "_", key)] = _text(value)
    if lic.get("path"):
        extras["opengov_licence_uri"] = str(lic["path"])
    if lic.get("name"):
        extras["opengov_licence"] = str(lic["name"])
    for key in ("contributors", "sources", "created", "id"):
        if d.get(key):
            extras[PREFIX + key] = _text(d[key])
    return extras


def dataset_fields(package: Package, org: str, licence: str) -> dict[str, Any]:
    d = package.descriptor
    og = d.get("opengov") or {}
    og = og if isinstance(og, dict) else {}
    email = str(og.get("contact_email") or "")
    fields: dict[str, Any] = {
        "name": package.name,
        "title": package.title,
        "notes": str(d.get("description") or ""),
        "license_id": licence,
        "owner_org": org,
        "url": str(d.get("homepage") or ""),
        "version": str(d.get("version") or "")[:100],
        "author": str(og.get("publisher") or ""),
        "maintainer_email": email if _EMAIL.match(email) else "",
    }
    return fields


def extras_list(values: dict[str, str]) -> list[dict[str, str]]:
    return [{"key": k, "value": v} for k, v in sorted(values.items())]


def ordered_paths(release: Release) -> list[str]:
    """Resources in the order citizens see them: data first, then reports, provenance last.

    CKAN writes a request's files in this order too; provenance.json last means a request
    that fails part-way has not yet replaced it (docs/ckan.md).
    """
    paths = [str(r["path"]) for r in release.descriptor["resources"]]
    extra = sorted(p for p in release.files if p not in paths and p not in _LAST)
    return paths + extra + [p for p in _LAST if p in release.files or p == PROVENANCE]


def desired_resource(release: Release, path: str, sha: str) -> dict[str, Any]:
    by_path = {str(r["path"]): r for r in release.descriptor["resources"]}
    suffix = Path(path).suffix
    base: dict[str, Any] = {
        R_PATH: path,
        "hash": sha,
        "hash_algorithm": SPDX_SHA256,
        "mimetype": MEDIA_TYPES.get(suffix, "application/octet-stream"),
    }
    if path in by_path:
        res = by_path[path]
        csv_name = str(res["name"]).removesuffix("-parquet").removesuffix("-xlsx")
        title = next(
            (
                str(r.get("title") or r["name"])
                for r in release.descriptor["resources"]
                if r["name"] == csv_name
            ),
            csv_name,
        )
        fmt = {"csv": "CSV", "xlsx": "XLSX"}.get(str(res["format"]), "Parquet")
        base.update(
            name=f"{title} ({fmt})",
            description=str(res.get("description") or ""),
            format=fmt,
            mimetype=str(res.get("mediatype") or base["mimetype"]),
            # A JSON string, the form ckanext-validation stores and reads (a nested object
            # sent in a multipart form would arrive as its keys only).
            schema=json.dumps(res["schema"], ensure_ascii=False, sort_keys=True),
            **{R_ROLE: "data"},
        )
        return base
    role, name, description = _REPORTS.get(path, ("report", path, ""))
    base.update(
        name=name,
        description=description,
        format={".json": "JSON", ".html": "HTML"}.get(suffix, suffix.lstrip(".").upper()),
        **{R_ROLE: role},
    )
    return base


def resource_differs(remote: dict[str, Any], desired: dict[str, Any]) -> bool:
    for key in COMPARED:
        a, b = remote.get(key), desired.get(key)
        if key == "format":
            a, b = str(a or "").lower(), str(b or "").lower()
        if (a or None) != (b or None):
            return True
    return False
