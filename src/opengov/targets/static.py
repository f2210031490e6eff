"""The static portal: a folder of datasets any web server (or a file browser) can serve.

A dataset folder is replaced whole: the new release is built beside it and renamed into place,
so a reader sees the old release or the new one, never a mix. The window is the two renames
(old folder aside, new folder in), microseconds on one file system; a reader who requests a file
in between gets 404, never wrong bytes.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from opengov.errors import PublishError, VerifyFailed
from opengov.package import Package
from opengov.redact import PseudonymKey
from opengov.release import pages, provenance
from opengov.release.build import Release, build, finish, prepare
from opengov.rules import Rules
from opengov.targets.plan import PlanItem, PublishResult, diff
from opengov.verify import HISTORY, PROVENANCE, parse_provenance, verify_folder

log = logging.getLogger("opengov.static")

STAGING = ".opengov-staging"
CATALOG = "catalog.json"


def _previous(target: Path) -> dict[str, Any] | None:
    """The current release's provenance; a damaged one stops the publish.

    Publishing over it would restart the chain and lose the audit trail without anyone
    noticing, so the steward decides (verify, then restore or move the folder away).
    """
    path = target / PROVENANCE
    if not path.is_file():
        return None
    try:
        return parse_provenance(path.read_bytes(), str(path))
    except VerifyFailed as exc:
        raise PublishError(
            f"{path} is damaged, so the release chain cannot continue; check it with "
            f"`opengov verify {target}`, then restore it or move the folder away",
            details=exc.details or [exc.message],
        ) from None


def publish_static(
    package_path: Path | str,
    portal: Path | str,
    *,
    plan_only: bool = False,
    agent: str | None = None,
    key_file: Path | str | None = None,
    engine: str = "auto",
    progress: bool = False,
    base_url: str | None = None,
) -> PublishResult:
    package, rules, key, fingerprint = prepare(package_path, key_file=key_file)
    portal = Path(portal)
    target = portal / package.name
    # A plan writes nothing, so it needs no lock.
    guard = contextlib.nullcontext() if plan_only else _lock(portal, package.name)
    with guard:
        return _publish(
            package, rules, key, fingerprint, portal, target, plan_only, agent, engine, progress,
            base_url,
        )  # fmt: skip


@contextlib.contextmanager
def _lock(portal: Path, name: str) -> Iterator[None]:
    """One publish of a dataset at a time; a second one fails fast instead of racing."""
    locks = portal / STAGING
    locks.mkdir(parents=True, exist_ok=True)
    with (locks / f"{name}.lock").open("w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise PublishError(f"another publish of {name!r} to {portal} is running") from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
            (locks / f"{name}.lock").unlink(missing_ok=True)
            with contextlib.suppress(OSError):
                locks.rmdir()  # only when empty: another dataset may be publishing


def _publish(
    package: Package,
    rules: Rules,
    key: PseudonymKey | None,
    fingerprint: str,
    portal: Path,
    target: Path,
    plan_only: bool,
    agent: str | None,
    engine: str,
    progress: bool,
    base_url: str | None,
) -> PublishResult:
    previous = _previous(target)
    if previous is None and target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise PublishError(
            f"{target} exists but holds no opengov release (no {PROVENANCE}); move it away "
            "or publish to another portal folder"
        )
    if previous and previous.get("inputs_fingerprint") == fingerprint:
        if verify_folder(target).ok:
            if base_url and not plan_only:
                write_catalogue(portal, base_url=base_url)
            return PublishResult(
                dataset=package.name,
                target=str(target),
                status="unchanged",
                release=int(previous.get("release", 0)),
                plan=[],
            )
    staging_parent = None if plan_only else portal / STAGING
    release = build(
        package,
        rules,
        key,
        fingerprint=fingerprint,
        staging_parent=staging_parent,
        engine=engine,
        progress=progress,
    )
    try:
        old = {e["og:path"]: e["og:sha256"] for e in (previous or {}).get("generated", [])}
        number = int((previous or {}).get("release", 0)) + 1
        prev_link = _history_link(target) if previous else None
        if plan_only:
            # The page and provenance are regenerated on every release; list them as such.
            had_page = old.pop("index.html", None) is not None
            items = diff(old, {p: o.sha256 for p, o in release.files.items()})
            items += [PlanItem("index.html", "changed" if had_page else "added")]
            items.append(PlanItem(PROVENANCE, "changed" if previous else "added"))
            return PublishResult(package.name, str(target), "planned", number, items)
        finish(
            release,
            release_number=number,
            previous=prev_link,
            agent=agent or provenance.default_agent(),
        )
        items = diff(old, {p: o.sha256 for p, o in release.files.items()})
        items.append(PlanItem(PROVENANCE, "changed" if previous else "added"))
        _carry_history(target, release)
        _swap(target, release, portal)
        write_catalogue(portal, base_url=base_url)
        return PublishResult(package.name, str(target), "published", number, items)
    finally:
        release.cleanup()


def _history_link(target: Path) -> dict[str, Any]:
    import hashlib

    data = (target / PROVENANCE).read_bytes()
    sha = hashlib.sha256(data).hexdigest()
    return {"sha256": sha, "path": f"{HISTORY}/{sha}.json"}


def _carry_history(target: Path, release: Release) -> None:
    """Earlier provenance documents travel with the dataset so the chain can be checked."""
    if not target.is_dir():
        return
    history = release.staging / HISTORY
    history.mkdir(exist_ok=True)
    old_history = target / HISTORY
    if old_history.is_dir():
        for item in old_history.iterdir():
            if item.is_file():
                shutil.copy2(item, history / item.name)
    prov = target / PROVENANCE
    if prov.is_file():
        link = _history_link(target)
        shutil.copy2(prov, release.staging / link["path"])


def _swap(target: Path, release: Release, portal: Path) -> None:
    portal.mkdir(parents=True, exist_ok=True)
    aside = release.staging.with_name(release.staging.name + ".old")
    try:
        if target.exists():
            os.rename(target, aside)
        os.rename(release.staging, target)
    except OSError as exc:
        if aside.exists() and not target.exists():
            os.rename(aside, target)  # put the old release back
        raise PublishError(
            f"could not move the new release into {target}: {exc.strerror}"
        ) from None
    shutil.rmtree(aside, ignore_errors=True)


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
    from opengov.package import sha256_file

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
    )
    for name, data in (
        (CATALOG, provenance.canonical_json(catalog)),
        ("index.html", html.encode()),
    ):
        tmp = portal / f".{name}.tmp"
        tmp.write_bytes(data)
        os.replace(tmp, portal / name)
