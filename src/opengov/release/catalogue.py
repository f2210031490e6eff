"""The portal's catalogue: index.html and catalog.json listing every dataset folder, and
dcat.rdf for dataportal.se when the portal's public URL is known."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

from opengov.errors import VerifyFailed
from opengov.package import sha256_file
from opengov.release import pages, provenance
from opengov.verify import PROVENANCE, parse_provenance

log = logging.getLogger("opengov.catalogue")

CATALOG = "catalog.json"


def catalogue_entries(portal: Path) -> list[dict[str, Any]]:
    entries = []
    for folder in sorted(p for p in portal.iterdir() if p.is_dir() and not p.name.startswith(".")):
        prov, desc = folder / PROVENANCE, folder / "datapackage.json"
        if not (prov.is_file() and desc.is_file()):
            continue
        try:
            doc = parse_provenance(prov.read_bytes(), str(prov))
            descriptor = json.loads(desc.read_text(encoding="utf-8"))
            if not isinstance(descriptor, dict) or not isinstance(
                descriptor.get("resources"), list
            ):
                raise ValueError("no resources")
        except (VerifyFailed, ValueError):
            # Another dataset's damage must not stop this publish; it is left out and said.
            log.warning("%s: unreadable release, left out of the catalogue", folder.name)
            continue
        hashes = {e["og:path"]: e["og:sha256"] for e in doc["generated"]}
        licenses = descriptor.get("licenses") or [{}]
        resources = [
            {
                "name": r["name"],
                "title": r.get("title") or r["name"],
                "csv": r["path"],
                "parquet": r["path"].removesuffix(".csv") + ".parquet",
                "csv_sha256": hashes.get(r["path"]),
            }
            for r in descriptor["resources"]
            if r.get("format") == "csv"
        ]
        og = descriptor.get("opengov") or {}
        entries.append(
            {
                "name": folder.name,
                "title": descriptor.get("title") or folder.name,
                "description": descriptor.get("description", ""),
                "keywords": descriptor.get("keywords", []),
                "publisher": og.get("publisher"),
                "contact_email": og.get("contact_email"),
                "theme": og.get("theme", []),
                "license": licenses[0].get("path") or licenses[0].get("name"),
                "license_title": licenses[0].get("title") or licenses[0].get("name", ""),
                "release": doc.get("release"),
                "published": doc["activity"]["endedAtTime"],
                "page": f"{folder.name}/index.html",
                "provenance": f"{folder.name}/{PROVENANCE}",
                "provenance_sha256": _sha(prov),
                "resources": resources,
            }
        )
    return entries


def _sha(path: Path) -> str:
    return sha256_file(path)


def write_catalogue(portal: Path, title: str = "Öppna data", base_url: str | None = None) -> None:
    """Rewrite index.html and catalog.json (and dcat.rdf when the portal's URL is known)."""
    if base_url:
        from opengov.release import dcat

        dcat.write(portal, base_url)
    entries = catalogue_entries(portal)
    catalog = {"title": title, "datasets": entries}
    html = pages.render(
        "catalogue.html",
        portal_title=title,
        datasets=entries,
        has_dcat=(portal / "dcat.rdf").is_file(),
        has_keys=(portal / "keys.json").is_file(),
    )
    for name, data in (
        (CATALOG, provenance.canonical_json(catalog)),
        ("index.html", html.encode()),
    ):
        tmp = portal / f".{name}.tmp"
        tmp.write_bytes(data)
        os.replace(tmp, portal / name)
