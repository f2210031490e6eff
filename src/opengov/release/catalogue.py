"""The portal's catalogue: index.html and catalog.json listing every published dataset folder,
and dcat.rdf for dataportal.se when the portal's public URL is known (portal.json).

Rendering reads each folder's published datapackage.json and provenance.json and never trusts
their shapes: a keyword that is a number, a title with a control character or a licence path
of `javascript:` is shown as text or left out, never a crash and never a link. A publish
renders the catalogue with its new release *before* swapping the release in
(`render_catalogue(..., overrides=...)`), so a catalogue that cannot be written stops the publish
while the portal is still as it was.
"""

from __future__ import annotations

import contextlib
import fcntl
import locale
import logging
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from opengov.errors import LimitExceeded, PublishError, VerifyFailed
from opengov.limits import load_json
from opengov.package import sha256_file
from opengov.paths import replace_file
from opengov.release import pages, provenance
from opengov.release.portal import PortalSettings
from opengov.release.portal import load as load_settings
from opengov.signing import KEYS_FILE
from opengov.verify import PROVENANCE, parse_provenance

log = logging.getLogger("opengov.catalogue")

CATALOG = "catalog.json"
DISTRIBUTION_FORMATS = ("csv", "xlsx", "parquet")
_HEX64 = re.compile(r"[0-9a-f]{64}")
WITHDRAWAL = "og:withdrawal"


def _folders(portal: Path, overrides: dict[str, Path]) -> list[tuple[str, Path]]:
    found = {
        p.name: p
        for p in (portal.iterdir() if portal.is_dir() else [])
        if p.is_dir() and not p.name.startswith(".")
    }
    found.update(overrides)
    return sorted(found.items())


def catalogue_entries(
    portal: Path, overrides: dict[str, Path] | None = None
) -> list[dict[str, Any]]:
    """One entry per published dataset folder (or per `overrides` folder, by dataset name)."""
    entries = []
    for name, folder in _folders(portal, overrides or {}):
        prov, desc = folder / PROVENANCE, folder / "datapackage.json"
        if not prov.is_file():
            continue
        try:
            doc = parse_provenance(prov.read_bytes(), str(prov))
            if doc.get(WITHDRAWAL):
                continue  # withdrawn: the folder keeps a notice, the catalogue leaves it out
            descriptor = (
                load_json(desc.read_text(encoding="utf-8"), str(desc)) if desc.is_file() else None
            )
            if not isinstance(descriptor, dict) or not isinstance(
                descriptor.get("resources"), list
            ):
                raise ValueError("no resources")
            entries.append(_entry(name, folder, doc, descriptor))
        except (VerifyFailed, ValueError, OSError, RecursionError, LimitExceeded):
            # Another dataset's damage must not stop this publish; it is left out and said.
            log.warning("%s: unreadable release, left out of the catalogue", name)
    return entries


def _entry(
    name: str, folder: Path, doc: dict[str, Any], descriptor: dict[str, Any]
) -> dict[str, Any]:
    text, texts = pages.text, pages.texts
    hashes = {e["og:path"]: e["og:sha256"] for e in doc["generated"]}
    resources_desc = [r for r in descriptor["resources"] if isinstance(r, dict)]
    paths = {text(r.get("name")): text(r.get("path")) for r in resources_desc}
    resources = []
    for r in resources_desc:
        if r.get("format") != "csv" or not isinstance(r.get("path"), str):
            continue
        res_name = text(r.get("name"))
        resources.append(
            {
                "name": res_name,
                "title": text(r.get("title")) or res_name,
                "csv": r["path"],
                "parquet": paths.get(f"{res_name}-parquet")
                or r["path"].removesuffix(".csv") + ".parquet",
                "xlsx": paths.get(f"{res_name}-xlsx") or None,
                "csv_sha256": hashes.get(r["path"]),
            }
        )
    distributions = []
    for r in resources_desc:
        fmt, path = text(r.get("format")), r.get("path")
        if fmt not in DISTRIBUTION_FORMATS or not isinstance(path, str):
            continue
        size = r.get("bytes")
        digest = text(r.get("hash")).removeprefix("sha256:")
        distributions.append(
            {
                "path": path,
                "format": fmt,
                "title": text(r.get("title")) or text(r.get("name")).removesuffix(f"-{fmt}"),
                "bytes": size if isinstance(size, int) and not isinstance(size, bool) else None,
                "sha256": digest if _HEX64.fullmatch(digest) else None,
            }
        )
    og: dict[str, Any] = (
        descriptor["opengov"] if isinstance(descriptor.get("opengov"), dict) else {}
    )
    licenses = descriptor.get("licenses")
    license_ = licenses[0] if isinstance(licenses, list) and licenses else {}
    if not isinstance(license_, dict):
        license_ = {}
    activity = _object(doc.get("activity"))
    release = doc.get("release")
    return {
        "name": name,
        "title": text(descriptor.get("title")).strip() or name,
        "description": text(descriptor.get("description")),
        "keywords": texts(descriptor.get("keywords")),
        "publisher": text(og.get("publisher")) or None,
        "publisher_uri": text(og.get("publisher_uri")) or None,
        "contact_email": text(og.get("contact_email")) or None,
        "theme": [t.upper() for t in texts(og.get("theme"))],
        "title_en": text(og.get("title_en")) or None,
        "description_en": text(og.get("description_en")) or None,
        "conforms_to": text(og.get("conformsTo")) or None,
        "license": text(license_.get("path") or license_.get("name")) or None,
        "license_title": text(license_.get("title") or license_.get("name")),
        "release": release,
        "published": text(activity.get("endedAtTime")),
        "page": f"{name}/index.html",
        "history": f"{name}/history.html" if (folder / "history.html").is_file() else None,
        "provenance": f"{name}/{PROVENANCE}",
        "provenance_sha256": sha256_file(folder / PROVENANCE),
        "resources": resources,
        "distributions": distributions,
    }


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _facets(entries: list[dict[str, Any]]) -> dict[str, list[tuple[str, str]]]:
    """The values each filter offers: (value, label), in Swedish order."""

    def order(values: set[tuple[str, str]]) -> list[tuple[str, str]]:
        try:
            locale.setlocale(locale.LC_COLLATE, "sv_SE.UTF-8")
            key = locale.strxfrm
        except locale.Error:
            key = str.casefold
        return sorted(values, key=lambda v: key(v[1]))

    return {
        "publisher": order({(e["publisher"], e["publisher"]) for e in entries if e["publisher"]}),
        "theme": order({(t, pages.theme_sv(t)) for e in entries for t in e["theme"]}),
        "keywords": order({(k, k) for e in entries for k in e["keywords"]}),
    }


def render_catalogue(
    portal: Path,
    settings: PortalSettings | None = None,
    overrides: dict[str, Path] | None = None,
) -> dict[str, bytes]:
    """The catalogue's files (name -> bytes), rendered but not written."""
    settings = settings or load_settings(portal)
    entries = catalogue_entries(portal, overrides)
    catalog = {
        "title": settings.title,
        "description": settings.description,
        "publisher": settings.publisher,
        "contact_email": settings.contact_email,
        "base_url": settings.base_url,
        "datasets": entries,
    }
    out: dict[str, bytes] = {}
    has_keys = (portal / KEYS_FILE).is_file()
    if settings.base_url:
        from opengov.release import dcat

        out[dcat.DCAT_FILE] = dcat.render(catalog, settings, keys=has_keys)
    html = pages.render(
        "catalogue.html",
        settings=settings,
        contact=pages.mailto(settings.contact_email),
        datasets=entries,
        facets=_facets(entries),
        has_dcat=dcat_present(portal) or bool(settings.base_url),
        has_keys=has_keys,
    )
    out["index.html"] = html.encode("utf-8")
    out[CATALOG] = provenance.canonical_json(catalog)
    return out


def dcat_present(portal: Path) -> bool:
    from opengov.release.dcat import DCAT_FILE

    return (portal / DCAT_FILE).is_file()


@contextlib.contextmanager
def catalogue_lock(portal: Path) -> Iterator[None]:
    """One catalogue writer at a time: each reads every folder and then writes, so a publish
    that finished meanwhile is never written over by an older view of the portal. The lock is
    on the portal folder itself, so it leaves no file behind."""
    portal.mkdir(parents=True, exist_ok=True)
    handle = os.open(portal, os.O_RDONLY | os.O_DIRECTORY)
    try:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
    finally:
        os.close(handle)


def write_catalogue(
    portal: Path, settings: PortalSettings | None = None, *, base_url: str | None = None
) -> list[str]:
    """Rewrite index.html and catalog.json, and dcat.rdf when the portal's URL is known.

    `base_url` is recorded in portal.json the first time (see `opengov.release.portal`).
    Returns the names of the files written.
    """
    from opengov.release.portal import for_publish

    if settings is None:
        settings = for_publish(portal, base_url, write=True)
    with catalogue_lock(portal):
        files = render_catalogue(portal, settings)
        for name, data in files.items():
            replace_file(portal, name, data, what="catalogue file", error=PublishError)
    return sorted(files)
