"""Publishing a release to a CKAN portal, and verifying what the portal serves.

A package becomes one CKAN dataset; each generated file (CSV and Parquet per table,
datapackage.json, the validation and redaction reports, the dataset page, the provenance
history and provenance.json) becomes one uploaded resource, found again by its `opengov_path`
field. Decisions are made by sha256 (the resource's `hash` field), never by timestamps.

Order of calls (docs/ckan.md has the reasoning and the window that remains):

1. `package_show`. If the dataset is complete (`opengov_state` = complete) with the same
   inputs fingerprint, resource hashes and visibility, stop: one call, nothing sent.
2. New dataset: `package_create` with `private=True` and no resources.
3. One `package_revise` carrying the whole resource list and every changed file as a multipart
   upload: CKAN writes the files and commits the metadata in one request and one database
   transaction. It is conditional on `metadata_modified` (`match`), so a retried request
   whose first attempt got through, or a concurrent publisher, cannot duplicate resources.
4. Read-back: every uploaded file is downloaded with the token and its sha256 compared.
5. `package_revise` that makes the dataset public (unless the package asks to stay private)
   and records the fingerprint: only now is the dataset "complete".

A run that dies at any point leaves either a private dataset (new) or a public one whose
resources and provenance.json match (update); running again finishes the job. A run that
finds an incomplete dataset re-checks the files already on the portal by downloading them,
so nothing it skips is trusted on metadata alone.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import re
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from opengov.errors import (
    CkanAuthError,
    CkanNameConflict,
    CkanUploadTooLarge,
    ConfigError,
    InputError,
    PublishError,
    VerifyFailed,
)
from opengov.load import Loaded
from opengov.package import Package, sha256_file
from opengov.release import provenance
from opengov.release.build import MEDIA_TYPES, Release, finish
from opengov.signing import SIGNATURE
from opengov.targets.base import Status, WithdrawResult, checked_reason
from opengov.targets.ckan.client import MB, CkanClient, CkanSession, StaleState, Upload
from opengov.targets.ckan.settings import CkanSettings
from opengov.targets.plan import PlanItem, PublishResult, diff
from opengov.trust import Trust
from opengov.verify import (
    PROVENANCE,
    Mismatch,
    VerifyResult,
    check_chain,
    check_outputs,
    parse_provenance,
)
from opengov.verify.ckan import check_ckan_release

log = logging.getLogger("opengov.ckan")

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
_CKAN_NAME = re.compile(r"^[a-z0-9_-]{2,100}$")
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


# ----------------------------------------------------------------------------- remote state


@dataclass
class Remote:
    """A dataset as package_show returned it, indexed the way opengov reads it."""

    dataset: dict[str, Any]
    extras: dict[str, str] = field(init=False)
    managed: dict[str, dict[str, Any]] = field(init=False)
    duplicates: list[dict[str, Any]] = field(init=False)
    unmanaged: list[dict[str, Any]] = field(init=False)

    def __post_init__(self) -> None:
        self.extras = {
            str(e.get("key")): str(e.get("value", "")) for e in self.dataset.get("extras") or []
        }
        self.managed, self.duplicates, self.unmanaged = {}, [], []
        for res in self.dataset.get("resources") or []:
            path = res.get(R_PATH)
            if not path:
                self.unmanaged.append(res)
            elif path in self.managed:
                self.duplicates.append(res)
            else:
                self.managed[str(path)] = res

    @property
    def id(self) -> str:
        return str(self.dataset["id"])

    @property
    def private(self) -> bool:
        return bool(self.dataset.get("private"))

    @property
    def complete(self) -> bool:
        return self.extras.get(E_STATE) == "complete"

    @property
    def ever_completed(self) -> bool:
        return bool(self.extras.get(E_FINGERPRINT))

    @property
    def release(self) -> int:
        try:
            return int(self.extras.get(E_RELEASE, "0"))
        except ValueError:
            return 0

    def hashes(self) -> dict[str, str]:
        return {p: str(r.get("hash") or "") for p, r in self.managed.items()}

    def files_record(self) -> dict[str, str] | None:
        try:
            data = json.loads(self.extras.get(E_FILES, ""))
        except ValueError:
            return None
        return data if isinstance(data, dict) else None


def _show(client: CkanClient, name: str) -> Remote | None:
    result = client.call("package_show", {"id": name}, what=f"package_show of {name!r}")
    return Remote(result) if result else None


def _check_ours(remote: Remote, org: str, name: str, url: str) -> None:
    if remote.dataset.get("state") == "deleted":
        raise CkanNameConflict(
            f"dataset {name!r} on {url} is deleted but still holds the name; restore it in "
            f"CKAN, or purge it for good (ckanapi action dataset_purge id={name}) and run again"
        )
    if E_FORMAT not in remote.extras:
        raise CkanNameConflict(
            f"dataset {name!r} already exists on {url} and was not published by opengov "
            "(it has no opengov_format extra); rename the package or remove that dataset"
        )
    owner = remote.dataset.get("organization") or {}
    if org not in (owner.get("name"), owner.get("id")):
        raise CkanNameConflict(
            f"dataset {name!r} on {url} belongs to organisation {owner.get('name')!r}, "
            f"not {org!r}; opengov does not move datasets between organisations"
        )


# ----------------------------------------------------------------------------- mapping


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


def _match_licence(portal: list[dict[str, Any]], wanted: str, lic: dict[str, Any]) -> str | None:
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


def _tags(keywords: Iterable[Any]) -> list[dict[str, str]]:
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


def _metadata_extras(package: Package, lic: dict[str, Any]) -> dict[str, str]:
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


def _dataset_fields(package: Package, org: str, licence: str) -> dict[str, Any]:
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


def _extras_list(values: dict[str, str]) -> list[dict[str, str]]:
    return [{"key": k, "value": v} for k, v in sorted(values.items())]


def _ordered_paths(release: Release) -> list[str]:
    """Resources in the order citizens see them: data first, then reports, provenance last.

    CKAN writes a request's files in this order too; provenance.json last means a request
    that fails part-way has not yet replaced it (docs/ckan.md).
    """
    paths = [str(r["path"]) for r in release.descriptor["resources"]]
    extra = sorted(p for p in release.files if p not in paths and p not in _LAST)
    return paths + extra + [p for p in _LAST if p in release.files or p == PROVENANCE]


def _desired_resource(release: Release, path: str, sha: str) -> dict[str, Any]:
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


def _differs(remote: dict[str, Any], desired: dict[str, Any]) -> bool:
    for key in COMPARED:
        a, b = remote.get(key), desired.get(key)
        if key == "format":
            a, b = str(a or "").lower(), str(b or "").lower()
        if (a or None) != (b or None):
            return True
    return False


# ----------------------------------------------------------------------------- publish


@dataclass
class _Finished:
    number: int
    previous: dict[str, Any] | None
    provenance_sha: str


@dataclass
class _Run:
    client: CkanClient
    settings: CkanSettings
    package: Package
    release: Release
    fingerprint: str
    private: bool
    agent: str
    finished: _Finished | None = None
    uploaded: list[str] = field(default_factory=list)
    read_back: int = 0


@dataclass
class CkanTarget:
    """A CKAN portal: one dataset per package, each file one resource."""

    kind: ClassVar[str] = "ckan"
    settings: CkanSettings
    session: CkanSession | None = None

    @contextlib.contextmanager
    def place(
        self, loaded: Loaded, *, plan_only: bool, agent: str | None, progress: bool
    ) -> Iterator[_Placement]:
        yield _Placement(self, loaded, agent, progress)

    def verify(self, dataset: str, trust: Trust | None = None) -> VerifyResult:
        return verify_ckan(self.settings.url, dataset, session=self.session, trust=trust)

    def withdraw(
        self,
        dataset: str,
        *,
        reason: str,
        agent: str | None = None,
        signing_key: Path | str | None = None,
    ) -> WithdrawResult:
        # Making it private records nothing in provenance.json yet, so there is nothing to sign.
        return withdraw_ckan(self, dataset, reason=reason, agent=agent)


def withdraw_ckan(
    target: CkanTarget, dataset: str, *, reason: str, agent: str | None = None
) -> WithdrawResult:
    """Make the dataset private (never deleted) and record why in an extra, in one call.

    A later publish finds it private with visibility "public" recorded and keeps it private,
    as for a dataset hidden by hand. The withdrawal is not yet a release in provenance.json.
    """
    settings = target.settings
    reason = checked_reason(reason)
    if not settings.token:
        raise ConfigError("withdrawing from CKAN needs an API token (CKAN_API_TOKEN or token_file)")
    session = target.session or CkanSession(
        retries=settings.retries, backoff=settings.backoff, timeout=settings.timeout
    )
    client = CkanClient(settings.url, settings.token, org=settings.org, session=session)
    location = f"{settings.url}/dataset/{dataset}"
    remote = _show(client, dataset)
    if remote is None:
        raise InputError(f"dataset {dataset!r} is not on {settings.url}")
    _check_ours(remote, settings.org, dataset, settings.url)
    if remote.private and E_WITHDRAWN in remote.extras:
        return WithdrawResult(dataset, location, "unchanged", remote.release, reason)
    record = {"reason": reason, "at": provenance.now_utc(),
              "agent": agent or provenance.default_agent()}  # fmt: skip
    extras = {**remote.extras, E_WITHDRAWN: json.dumps(record, ensure_ascii=False, sort_keys=True)}
    client.call(
        "package_patch",
        {"id": remote.id, "private": True, "extras": _extras_list(extras)},
        what=f"package_patch (withdraw) of {dataset!r}",
    )
    return WithdrawResult(dataset, location, "withdrawn", remote.release, reason)


class _Placement:
    """One dataset on the portal for one publish: what is there now, and the session to it."""

    staging_parent = None  # a temporary folder: the files are uploaded, not moved into place

    def __init__(
        self, target: CkanTarget, loaded: Loaded, agent: str | None, progress: bool
    ) -> None:
        settings = target.settings
        self.started = time.monotonic()
        self.loaded, self.settings, self.agent = loaded, settings, agent
        name = loaded.name
        if not _CKAN_NAME.match(name):
            raise PublishError(
                f"package name {name!r} is not a valid CKAN dataset name (2-100 characters: "
                "lowercase letters, digits, - and _); rename it in datapackage.json"
            )
        if not settings.token:
            raise ConfigError(
                "publishing to CKAN needs an API token (CKAN_API_TOKEN or token_file)"
            )
        session = target.session or CkanSession(
            retries=settings.retries,
            backoff=settings.backoff,
            timeout=settings.timeout,
            progress=progress,
        )
        self.client = CkanClient(settings.url, settings.token, org=settings.org, session=session)
        self.location = f"{settings.url}/dataset/{name}"
        self.private = wants_private(loaded.package.descriptor)
        self.remote = _show(self.client, name)
        self.hidden_by_hand = self.remote is not None and hidden_by_a_person(
            self.remote, self.private
        )
        if self.hidden_by_hand:
            log.warning(
                "%s is public in the package but was made private on %s by hand; it stays "
                "private (make it public in CKAN to publish it again)",
                name,
                settings.url,
            )
            self.private = True
        if self.remote is not None:
            _check_ours(self.remote, settings.org, name, settings.url)

    def _result(
        self, status: Status, number: int, plan: list[PlanItem], run: _Run | None
    ) -> PublishResult:
        stats = self.client.stats.to_dict()
        stats["seconds"] = round(time.monotonic() - self.started, 3)
        if run is not None:
            stats["uploaded"] = sorted(run.uploaded)
            stats["read_back"] = run.read_back
        if self.hidden_by_hand:
            stats["kept_private"] = "made private on the portal by hand"
        return PublishResult(self.loaded.name, self.location, status.value, number, plan, stats)

    def unchanged(self) -> PublishResult | None:
        remote = self.remote
        if remote is None or not _unchanged(remote, self.loaded.fingerprint, self.private):
            return None
        log.info("%s: unchanged on %s (release %s)", self.loaded.name, self.settings.url,
                 remote.release)  # fmt: skip
        return self._result(Status.UNCHANGED, remote.release, [], None)

    def apply(self, release: Release, *, plan_only: bool) -> PublishResult:
        name, settings = self.loaded.name, self.settings
        run = _Run(
            client=self.client,
            settings=settings,
            package=self.loaded.package,
            release=release,
            fingerprint=self.loaded.fingerprint,
            private=self.private,
            agent=self.agent or provenance.default_agent(),
        )
        remote = self.remote
        for _attempt in range(3):
            try:
                status, number, plan = _publish_round(run, remote, plan_only=plan_only)
                return self._result(Status(status), number, plan, run)
            except StaleState:
                # The dataset changed under us: our own retried request that did get through,
                # or another publisher. Read it again and plan from what is there now.
                log.info("%s changed on the portal while publishing; planning again", name)
                remote = _show(self.client, name)
                if remote is not None:
                    _check_ours(remote, settings.org, name, settings.url)
                    if hidden_by_a_person(remote, wants_private(self.loaded.package.descriptor)):
                        self.hidden_by_hand = run.private = True
        raise PublishError(
            f"dataset {name!r} kept changing on {settings.url} while publishing (is another "
            "publisher running?); run again"
        )


def publish_ckan(
    package_path: Path | str,
    settings: CkanSettings,
    *,
    plan_only: bool = False,
    agent: str | None = None,
    key_file: Path | str | None = None,
    progress: bool = False,
    engine: str = "auto",
    session: CkanSession | None = None,
) -> PublishResult:
    """Publish a package as a CKAN dataset (the spine with a `CkanTarget`)."""
    from opengov.pipeline import publish

    return publish(
        package_path,
        CkanTarget(settings, session),
        plan_only=plan_only,
        agent=agent,
        key_file=key_file,
        engine=engine,
        progress=progress,
    )


def hidden_by_a_person(remote: Remote, wanted_private: bool) -> bool:
    """Private although opengov made it public: someone hid it deliberately.

    Not tied to a complete release: an admin who hides a dataset and a publish that is then
    interrupted must not add up to the dataset being made public again.
    """
    return not wanted_private and remote.private and remote.extras.get(E_VISIBILITY) == "public"


def _unchanged(remote: Remote, fingerprint: str, private: bool) -> bool:
    """Complete, same inputs, same visibility, and the resources are the ones recorded."""
    if not remote.complete or remote.extras.get(E_FINGERPRINT) != fingerprint:
        return False
    if remote.private != private or remote.duplicates:
        return False
    record = remote.files_record()
    return record is not None and record == remote.hashes()


def _publish_round(
    run: _Run, remote: Remote | None, *, plan_only: bool
) -> tuple[str, int, list[PlanItem]]:
    client, release = run.client, run.release
    assert release is not None

    # Hashes of what the portal holds now. A dataset whose last publish did not finish is
    # checked byte by byte: its metadata may describe files that never arrived intact.
    if remote is not None and not remote.complete and not plan_only:
        actual = _actual_hashes(client, remote)
        run.read_back += len(actual)
        old = {p: h or "" for p, h in actual.items()}
    else:
        old = remote.hashes() if remote is not None else {}

    if plan_only:
        number = (remote.release + 1) if remote is not None and remote.ever_completed else 1
        new = {p: o.sha256 for p, o in release.files.items()}
        items = diff({p: h for p, h in old.items() if p not in _REGENERATED}, new)
        for path in _REGENERATED:
            items.append(PlanItem(path, "changed" if path in old else "added"))
        return "planned", number, items

    _finish_release(run, remote)
    assert run.finished is not None
    local = dict(release.files)
    prov_path = release.staging / PROVENANCE
    local[PROVENANCE] = provenance.OutputFile(
        PROVENANCE, sha256_file(prov_path), prov_path.stat().st_size, "application/json"
    )
    items = diff(old, {p: o.sha256 for p, o in local.items()})

    licence, lic = licence_id(run.package.descriptor)
    if remote is None:
        remote = _create(run, licence)
        licence = _checked_licence(run, remote, licence, lic)
    elif remote.dataset.get("license_id") != licence:
        licence = _checked_licence(run, None, licence, lic)

    remote = _upload(run, remote, local, old, licence)
    _finalise(run, remote, local)
    return "published", run.finished.number, items


# index.html, the provenance history and provenance.json change with every release.
_REGENERATED = ("index.html", HISTORY_PATH, PROVENANCE)


def _actual_hashes(client: CkanClient, remote: Remote) -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for path, res in remote.managed.items():
        if not res.get("url"):
            out[path] = None  # created by the marking request, its file never arrived
            continue
        sha, _status = client.sha256_of(client.download_url(res), what=path)
        out[path] = sha
    return out


def _finish_release(run: _Run, remote: Remote | None) -> None:
    """Number the release, link the previous provenance, write the history and provenance."""
    release = run.release
    assert release is not None
    if run.finished and remote is not None:
        if remote.extras.get(E_PROVENANCE) == run.finished.provenance_sha:
            return  # our own upload of this very release went through: keep it as it is
    number, previous, documents = 1, None, {}
    if remote is not None and remote.ever_completed:
        # The previous release is what readers were served: provenance.json as downloaded.
        prov_res = remote.managed.get(PROVENANCE)
        data = run.client.fetch(run.client.download_url(prov_res)) if prov_res is not None else None
        documents = _history_documents(run.client, remote)
        number = remote.release + 1
        if data is not None:
            sha = hashlib.sha256(data).hexdigest()
            try:
                text = data.decode("utf-8")
                number = max(number, int(json.loads(text).get("release", 0)) + 1)
                documents[sha] = text
                previous = {"sha256": sha, "path": f"{HISTORY_PATH}#{sha}"}
                previous.update(_previous_signature(run.client, remote))
            except (UnicodeDecodeError, ValueError, AttributeError, TypeError):
                log.warning(
                    "%s: the published provenance.json is unreadable; chain restarts",
                    run.package.name,
                )
        else:
            log.warning(
                "%s: no published provenance.json found; the chain restarts here", run.package.name
            )
    history = {"format": HISTORY_FORMAT, "version": 1, "documents": documents}
    release.write_bytes(HISTORY_PATH, provenance.canonical_json(history))
    finish(release, release_number=number, previous=previous, agent=run.agent)
    run.finished = _Finished(number, previous, sha256_file(release.staging / PROVENANCE))


def _previous_signature(client: CkanClient, remote: Remote) -> dict[str, Any]:
    """The published release's signature, recorded in the next provenance (signing.py)."""
    res = remote.managed.get(SIGNATURE)
    data = client.fetch(client.download_url(res)) if res is not None else None
    try:
        return {"signature": json.loads(data)} if data else {}
    except ValueError:
        log.warning("the published signature is unreadable; the next release cannot carry it")
        return {}


def _history_documents(client: CkanClient, remote: Remote) -> dict[str, str]:
    res = remote.managed.get(HISTORY_PATH)
    if res is None:
        return {}
    data = client.fetch(client.download_url(res))
    try:
        parsed = json.loads(data or b"")
    except ValueError:
        parsed = None
    docs = parsed.get("documents") if isinstance(parsed, dict) else None
    if not isinstance(docs, dict):
        log.warning("the published provenance history is unreadable; earlier links are lost")
        return {}
    return {str(k): v for k, v in docs.items() if isinstance(v, str)}


def _create(run: _Run, licence: str) -> Remote:
    fields = _dataset_fields(run.package, run.settings.org, licence)
    extras = _metadata_extras(run.package, licence_id(run.package.descriptor)[1])
    extras[E_STATE] = "uploading"
    data = {
        **fields,
        "private": True,  # invisible to citizens until every file is uploaded and read back
        "tags": _tags(run.package.descriptor.get("keywords") or []),
        "extras": _extras_list(extras),
    }
    log.info("%s: creating a private dataset on %s", run.package.name, run.settings.url)
    try:
        created = run.client.call(
            "package_create", data, what=f"creating dataset {fields['name']!r}"
        )
    except CkanNameConflict:
        # Our own create whose answer was lost (and retried), or a dataset we cannot see.
        again = _show(run.client, run.package.name)
        if again is None:
            raise CkanNameConflict(
                f"dataset name {run.package.name!r} is taken on {run.settings.url} by a "
                "dataset the token cannot see (another organisation's private or deleted "
                "dataset); rename the package"
            ) from None
        _check_ours(again, run.settings.org, run.package.name, run.settings.url)
        return again
    if created is None:
        raise PublishError(f"CKAN answered 'not found' when creating {fields['name']!r}")
    return Remote(created)


def _checked_licence(run: _Run, created: Remote | None, licence: str, lic: dict[str, Any]) -> str:
    """Make sure the portal knows the licence id (CKAN silently accepts unknown ones)."""
    if created is not None:
        title = created.dataset.get("license_title")
        if licence == "notspecified" or (title and title != licence):
            return licence  # CKAN resolved the id to one of its licences
    portal = run.client.call("license_list", {}, what="license_list") or []
    found = _match_licence(portal, licence, lic)
    if found is None:
        known = ", ".join(sorted(str(i.get("id")) for i in portal))
        raise PublishError(
            f"the licence {lic.get('name') or licence!r} is not in {run.settings.url}'s licence "
            f"list (known: {known}); add it to the portal or change the package's licence",
        )
    return found


def _upload(
    run: _Run,
    remote: Remote,
    local: dict[str, provenance.OutputFile],
    old: dict[str, str],
    licence: str,
) -> Remote:
    """One conditional package_revise: metadata, changed resources and every changed file.

    Only what changed is sent, each resource in a form field of its own: Flask refuses any
    non-file form field over 500 KB (MAX_FORM_MEMORY_SIZE), and Table Schemas add up.
    Existing resources are addressed by id, so their ids and download URLs stay; new ones are
    appended in order; resources opengov no longer produces (and duplicates) are filtered out,
    which CKAN records as deleted.
    """
    release = run.release
    if remote.managed and _anything_to_send(run, remote, local, old):
        remote = _mark_uploading(run, remote, local)
    fields: dict[str, str] = {}
    files: dict[str, Upload] = {}
    new: list[tuple[str, dict[str, Any]]] = []
    uploaded: list[str] = []
    for path in _ordered_paths(release):
        out = local[path]
        desired = _desired_resource(release, path, out.sha256)
        existing = remote.managed.get(path)
        upload = Upload(release.staging / path, Path(path).name, desired["mimetype"])
        if existing is None:
            new.append((path, desired))
            continue
        if old.get(path) != out.sha256:
            files[f"update__resources__{existing['id']}__upload"] = upload
            uploaded.append(path)
        elif not _differs(existing, desired):
            continue
        fields[f"update__resources__{existing['id']}"] = json.dumps(desired, ensure_ascii=False)
    if new:
        # `extend` appends empty resources; each is then filled from a field of its own
        # (negative indices count from the end), keeping every form field small.
        fields["update__resources__extend"] = json.dumps([{"url": ""} for _ in new])
        for i, (path, desired) in enumerate(new):
            key = f"update__resources__{i - len(new)}"
            fields[key] = json.dumps(desired, ensure_ascii=False)
            files[key + "__upload"] = Upload(
                release.staging / path, Path(path).name, desired["mimetype"]
            )
            uploaded.append(path)
    removed = [res for p, res in remote.managed.items() if p not in local] + remote.duplicates

    extras = {k: v for k, v in remote.extras.items() if not k.startswith(PREFIX)}
    extras.update(_metadata_extras(run.package, licence_id(run.package.descriptor)[1]))
    for key in (E_FINGERPRINT, E_FILES, E_VISIBILITY):
        if key in remote.extras:  # the previous complete release's, until this one is
            extras[key] = remote.extras[key]
    assert run.finished is not None
    extras.update(
        {
            E_STATE: "uploading",
            E_RELEASE: str(run.finished.number),
            E_PROVENANCE: local[PROVENANCE].sha256,
        }
    )
    dataset = _dataset_fields(run.package, run.settings.org, licence)
    dataset.pop("name")
    dataset.pop("owner_org")
    update = {
        **dataset,
        # A public dataset stays public during an update (hiding it would be an outage);
        # one that should become private is hidden by this very request.
        "private": remote.private or run.private,
        "tags": _tags(run.package.descriptor.get("keywords") or []),
        "extras": _extras_list(extras),
    }
    if not files and not fields and not removed and not _dataset_differs(remote, update):
        return remote
    _check_sizes(run, files)
    log.info(
        "%s: uploading %d file(s), %.1f MB, in one request",
        run.package.name,
        len(files),
        sum(u.size for u in files.values()) / MB,
    )
    answer = run.client.call(
        "package_revise",
        {
            "match": json.dumps(
                {"id": remote.id, "metadata_modified": remote.dataset.get("metadata_modified")}
            ),
            "filter": json.dumps(
                ["-extras", "-tags"] + [f"-resources__{res['id']}" for res in removed]
            ),
            "update": json.dumps(update, ensure_ascii=False),
            **fields,
        },
        files=files or None,
        what=f"uploading {len(files)} file(s) to {run.package.name!r}",
    )
    if not answer or "package" not in answer:
        raise PublishError(f"CKAN gave no dataset back after updating {run.package.name!r}")
    after = Remote(answer["package"])
    run.uploaded = sorted(uploaded)
    _read_back(run, after, local, uploaded)
    return after


def _anything_to_send(
    run: _Run, remote: Remote, local: dict[str, provenance.OutputFile], old: dict[str, str]
) -> bool:
    """Whether the release changes any file or resource (metadata-only updates need no mark)."""
    for path in _ordered_paths(run.release):
        existing = remote.managed.get(path)
        if existing is None or old.get(path) != local[path].sha256:
            return True
    return any(p not in local for p in remote.managed) or bool(remote.duplicates)


def _mark_uploading(run: _Run, remote: Remote, local: dict[str, provenance.OutputFile]) -> Remote:
    """Before any file of an update is sent: mark the dataset incomplete, and place resources.

    CKAN overwrites uploads in place and writes a request's files before it commits, so an
    upload request that fails part-way leaves some files replaced while its metadata change
    (state "uploading") is rolled back. Marking first, in a request of its own, means such a
    failure leaves a dataset that says it is incomplete: the next run checks every file byte by
    byte instead of trusting the metadata. Resources the release adds are created here, empty,
    and every resource is put in publishing order, so that the upload writes provenance.json
    after all data files (a reader never gets a provenance naming files not yet there).
    """
    extras = dict(remote.extras)
    extras[E_STATE] = "uploading"
    extras.pop(E_FILES, None)  # the recorded hashes no longer describe what is served
    update: dict[str, Any] = {"extras": _extras_list(extras)}
    order = _ordered_paths(run.release)
    adding = [p for p in order if p not in remote.managed]
    fields: dict[str, str] = {}
    if adding:
        fields["update__resources__extend"] = json.dumps(
            [{"url": "", "name": Path(p).name, R_PATH: p, R_ROLE: "pending"} for p in adding]
        )
    answer = run.client.call(
        "package_revise",
        {
            "match": json.dumps(
                {"id": remote.id, "metadata_modified": remote.dataset.get("metadata_modified")}
            ),
            "filter": json.dumps(["-extras"]),
            "update": json.dumps(update, ensure_ascii=False),
            **fields,
        },
        what=f"marking {run.package.name!r} as being updated",
    )
    if not answer or "package" not in answer:
        raise PublishError(f"CKAN gave no dataset back after marking {run.package.name!r}")
    marked = Remote(answer["package"])
    ids = [str(res["id"]) for res in marked.dataset.get("resources") or []]
    wanted = [str(marked.managed[p]["id"]) for p in order if p in marked.managed]
    wanted += [i for i in ids if i not in wanted]  # unmanaged and duplicates keep their place
    if adding and ids != wanted:
        run.client.call(
            "package_resource_reorder",
            {"id": marked.id, "order": wanted},
            what=f"ordering the resources of {run.package.name!r}",
        )
        fresh = _show(run.client, run.package.name)
        if fresh is None:
            raise PublishError(f"dataset {run.package.name!r} vanished while publishing")
        marked = fresh
    return marked


def _check_sizes(run: _Run, files: dict[str, Upload]) -> None:
    """Refuse before sending when a file exceeds the configured portal limit.

    CKAN checks ckan.max_resource_size only while it stores each file, after earlier files of
    the same request are already in place; knowing the limit avoids that half-written request.
    """
    if run.settings.max_upload_mb is None:
        return
    limit = run.settings.max_upload_mb * MB
    big = [(u.filename, u.size) for u in files.values() if u.size > limit]
    if big:
        raise CkanUploadTooLarge(
            f"{len(big)} file(s) exceed max_upload_mb ({run.settings.max_upload_mb:g} MB); "
            "nothing was sent",
            details=[f"{n}: {s / MB:.1f} MB" for n, s in big],
        )


def _dataset_differs(remote: Remote, update: dict[str, Any]) -> bool:
    d = remote.dataset
    for key in ("title", "notes", "license_id", "url", "version", "author", "maintainer_email"):
        if (d.get(key) or "") != (update.get(key) or ""):
            return True
    if bool(d.get("private")) != bool(update["private"]):
        return True
    tags = sorted(str(t.get("name")) for t in d.get("tags") or [])
    if tags != sorted(t["name"] for t in update["tags"]):
        return True
    wanted = {e["key"]: e["value"] for e in update["extras"]}
    return wanted != remote.extras


def _read_back(
    run: _Run, remote: Remote, local: dict[str, provenance.OutputFile], paths: Iterable[str]
) -> None:
    """Download what was just uploaded, with the token, and compare sha256."""
    problems = []
    for path in sorted(paths):
        res = remote.managed.get(path)
        if res is None:
            problems.append(f"{path}: not in the dataset after the upload")
            continue
        sha, status = run.client.sha256_of(run.client.download_url(res), what=path)
        run.read_back += 1
        if sha is None:
            problems.append(f"{path}: download failed (HTTP {status})")
        elif sha != local[path].sha256:
            problems.append(f"{path}: sha256 {sha[:12]}… instead of {local[path].sha256[:12]}…")
    if problems:
        where = (
            "the dataset stays private"
            if remote.private
            else "the dataset is marked incomplete until a run succeeds"
        )
        raise PublishError(
            f"{len(problems)} file(s) did not read back intact from {run.settings.url}; {where}; "
            "run again",
            details=problems,
        )


def _finalise(run: _Run, remote: Remote, local: dict[str, provenance.OutputFile]) -> None:
    """Mark the release complete and, unless the package stays private, make it public."""
    extras = dict(remote.extras)
    extras.update(
        {
            E_STATE: "complete",
            E_FINGERPRINT: run.fingerprint,
            # What the package asks for, not what was done: a hand-set hide stays detectable.
            E_VISIBILITY: "private" if wants_private(run.package.descriptor) else "public",
            E_FILES: json.dumps(
                {p: o.sha256 for p, o in sorted(local.items())}, separators=(",", ":")
            ),
        }
    )
    log.info(
        "%s: read back intact; %s",
        run.package.name,
        "keeping it private" if run.private else "making it public",
    )
    run.client.call(
        "package_revise",
        {
            "match": json.dumps(
                {"id": remote.id, "metadata_modified": remote.dataset.get("metadata_modified")}
            ),
            "filter": json.dumps(["-extras"]),
            "update": json.dumps(
                {"private": run.private, "extras": _extras_list(extras)}, ensure_ascii=False
            ),
        },
        what=f"completing {run.package.name!r}",
    )


# ----------------------------------------------------------------------------- verify


def verify_ckan(
    url: str,
    dataset: str,
    *,
    session: CkanSession | None = None,
    trust: Trust | None = None,
) -> VerifyResult:
    """Download every resource anonymously and check it against provenance.json and the chain.

    Anonymously on purpose: this checks what citizens get, and needs no credentials.
    """
    url = url.rstrip("/")
    client = CkanClient(url, None, session=session or CkanSession())
    try:
        found = client.call("package_show", {"id": dataset}, what=f"package_show of {dataset!r}")
    except CkanAuthError:
        found = None  # private: to an anonymous reader it is as good as absent
    if found is None:
        raise InputError(f"no public dataset {dataset!r} on {url}")
    remote = Remote(found)
    location = f"{url}/dataset/{remote.dataset.get('name') or dataset}"
    prov_res = remote.managed.get(PROVENANCE)
    if prov_res is None:
        raise InputError(f"{location} has no {PROVENANCE} resource: not published by opengov")
    data = client.fetch(client.download_url(prov_res), authenticated=False)
    if data is None:
        raise VerifyFailed(f"{location}: {PROVENANCE} cannot be downloaded")
    doc = parse_provenance(data, f"{location} {PROVENANCE}")
    mismatches: list[Mismatch] = []
    prov_sha = hashlib.sha256(data).hexdigest()
    for expected, what in (
        (remote.extras.get(E_PROVENANCE), "dataset extra " + E_PROVENANCE),
        (prov_res.get("hash"), "resource hash"),
    ):
        if expected and expected != prov_sha:
            mismatches.append(Mismatch(PROVENANCE, "changed", f"{expected} ({what})", prov_sha))

    listed = {str(e["og:path"]): str(e["og:sha256"]) for e in doc["generated"]}
    digests: dict[str, str | None] = {}

    def digest(path: str) -> str | None:
        if path not in digests:
            res = remote.managed.get(path)
            if res is None or not res.get("url"):
                digests[path] = None  # absent, or a placeholder whose file never arrived
            else:
                digests[path] = client.sha256_of(
                    client.download_url(res), authenticated=False, what=path
                )[0]
                if res.get("hash") and res.get("hash") != listed.get(path):
                    mismatches.append(
                        Mismatch(
                            path,
                            "metadata",
                            f"resource hash {res.get('hash')} differs "
                            f"from provenance {listed.get(path)}",
                        )
                    )
        return digests[path]

    checked, output_problems = check_outputs(doc, digest)
    mismatches += output_problems
    for path in sorted(set(remote.managed) - set(listed) - {PROVENANCE}):
        mismatches.append(Mismatch(path, "unexpected"))
    for res in remote.duplicates:
        mismatches.append(Mismatch(str(res.get(R_PATH)), "unexpected", "duplicate resource"))
    for res in remote.unmanaged:
        mismatches.append(
            Mismatch(str(res.get("name") or res.get("id")), "unexpected", "not in provenance")
        )

    history: dict[str, str] | None = None

    def fetch_history(path: str) -> bytes | None:
        nonlocal history
        _, _, sha = path.partition("#")
        if history is None:
            res = remote.managed.get(HISTORY_PATH)
            raw = client.fetch(client.download_url(res), authenticated=False) if res else None
            try:
                parsed = json.loads(raw or b"")
            except ValueError:
                parsed = None
            docs = parsed.get("documents") if isinstance(parsed, dict) else None
            history = docs if isinstance(docs, dict) else {}
        text = history.get(sha)
        return text.encode("utf-8") if isinstance(text, str) else None

    chain, chain_problems = check_chain(doc, fetch_history)
    result = VerifyResult(
        dataset=str(doc.get("dataset") or dataset),
        location=location,
        release=int(doc.get("release", 0)),
        files_checked=checked,
        chain_length=chain,
        mismatches=mismatches + chain_problems,
    )
    return check_ckan_release(result, client, remote, data, fetch_history, trust)


__all__ = ["CkanTarget", "licence_id", "publish_ckan", "verify_ckan", "wants_private"]
