"""Build a release: validate, redact, and write every published file into a staging folder.

Targets (static folder, CKAN) take a built `Release` and decide what to change. Building never
touches a target, so `--plan` and a failed build leave the portal exactly as it was.
"""

from __future__ import annotations

import copy
import json
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from opengov import approvals, signing
from opengov.errors import PublishError, ValidationFailed
from opengov.load import Loaded
from opengov.package import Package, sha256_file
from opengov.paths import inside
from opengov.redact.keys import PseudonymKey
from opengov.redact.manifest import Redaction
from opengov.release import pages, profile, provenance, xlsx
from opengov.rules import Rules
from opengov.validate import DEFAULT_SAMPLES, ValidationReport
from opengov.validate.report import findings_text

MEDIA_TYPES = {
    ".csv": "text/csv",
    ".parquet": "application/vnd.apache.parquet",
    ".json": "application/json",
    ".html": "text/html",
    ".xlsx": xlsx.MEDIA_TYPE,
}
# The published CSV, as written by pyarrow: what datapackage.json and the page say about it.
CSV_DIALECT = {"delimiter": ",", "quoteChar": '"', "doubleQuote": True, "header": True}
REPORT_FILES = ("validation.json", "validation.html", "redactions.json")
__all__ = ["MEDIA_TYPES", "REPORT_FILES", "Release", "build", "check_report", "finish"]


@dataclass
class Release:
    package: Package
    rules: Rules
    key: PseudonymKey | None
    report: dict[str, Any]
    manifest: dict[str, Any]
    descriptor: dict[str, Any]  # the published datapackage.json
    staging: Path
    files: dict[str, provenance.OutputFile] = field(default_factory=dict)
    fingerprint: str = ""
    started: str = ""
    # Data files per published resource, for targets that upload them as resources.
    resource_files: dict[str, dict[str, str]] = field(default_factory=dict)
    # Signs provenance.json in finish(); None publishes unsigned (verify then fails closed).
    signer: signing.Signer | None = None
    # For the dataset page, per resource: what each column holds and the first rows.
    profiles: dict[str, profile.ResourceProfile] = field(default_factory=dict)
    previews: dict[str, profile.Preview] = field(default_factory=dict)
    xlsx: dict[str, xlsx.XlsxResult] = field(default_factory=dict)

    def path(self, rel: str) -> Path:
        """Where `rel` goes in the staging folder; never outside it, never through a link."""
        return inside(
            self.staging,
            rel,
            what="release file",
            within="the release folder",
            error=PublishError,
            follow_links=False,
        )

    def add(self, rel: str) -> provenance.OutputFile:
        path = self.path(rel)
        out = provenance.OutputFile(
            rel, sha256_file(path), path.stat().st_size, MEDIA_TYPES.get(path.suffix, "")
        )
        self.files[rel] = out
        return out

    def write_bytes(self, rel: str, data: bytes) -> provenance.OutputFile:
        path = self.path(rel)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        return self.add(rel)

    def cleanup(self) -> None:
        shutil.rmtree(self.staging, ignore_errors=True)


def check_report(report: ValidationReport) -> None:
    if not report.passed:
        raise ValidationFailed(
            f"validation found {report.unwaived_count} error(s) not covered by a waiver; "
            "nothing was published (see `opengov validate` for the report)",
            details=list(findings_text(report))[:50],
        )


def new_release(loaded: Loaded, staging_parent: Path | None) -> Release:
    """An empty release in a fresh staging folder (beside its destination, when given)."""
    package = loaded.package
    if staging_parent is not None:
        staging_parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{package.name}.", dir=staging_parent))
    # mkdtemp makes the folder private (0700); a portal is read by a web server and citizens.
    staging.chmod(0o755)
    return Release(
        package=package,
        rules=loaded.rules,
        key=loaded.key,
        report={},
        manifest={},
        descriptor={},
        staging=staging,
        started=provenance.now_utc(),
    )


def build(
    loaded: Loaded,
    *,
    staging_parent: Path | None = None,
    engine: str = "auto",
    samples: int = DEFAULT_SAMPLES,
    progress: bool = False,
) -> Release:
    """validate -> redact -> write, for callers that want the release only (`opengov redact`)."""
    from opengov.pipeline import build_release

    return build_release(
        loaded, staging_parent=staging_parent, engine=engine, samples=samples, progress=progress
    )


def published_report(report: ValidationReport) -> dict[str, Any]:
    """The report as published: timings removed so an unchanged input gives unchanged bytes."""
    data = report.to_dict()
    data["stats"].pop("seconds", None)
    for task in data["tasks"]:
        task["stats"].pop("seconds", None)
    return data


def add_resource(
    release: Release,
    name: str,
    schema: dict[str, Any],
    csv_out: provenance.OutputFile,
    parquet_out: provenance.OutputFile,
    profiled: profile.ResourceProfile | None = None,
    xlsx_made: xlsx.XlsxResult | None = None,
) -> None:
    """Record a resource's written files (from the streaming writers), and derive from its
    Parquet file what the dataset page shows (column profiles, unless the writer `profiled`
    them on the way; a preview) and the XLSX (unless the writer streamed it: `xlsx_made`)."""
    release.files[csv_out.path] = csv_out
    release.files[parquet_out.path] = parquet_out
    release.resource_files[name] = {"csv": csv_out.path, "parquet": parquet_out.path}
    source = release.package.resource(name).descriptor
    common: dict[str, Any] = {
        k: copy.deepcopy(source[k]) for k in ("title", "description") if k in source
    }
    fields = schema.get("fields", [])
    parquet_path = release.path(parquet_out.path)
    if profiled is None:
        profiled = profile.profile_parquet(parquet_path, fields)
    release.profiles[name] = profiled
    release.previews[name] = profile.preview_parquet(parquet_path)
    xlsx_rel = f"data/{name}.xlsx"
    title = pages.text(source.get("title")) or name
    made = xlsx_made or xlsx.write_parquet(parquet_path, release.path(xlsx_rel), fields, title)
    release.xlsx[name] = made
    described = [
        {
            "name": name,
            **common,
            "path": csv_out.path,
            "format": "csv",
            "mediatype": "text/csv",
            "encoding": "utf-8",
            "dialect": dict(CSV_DIALECT),
            "bytes": csv_out.bytes,
            "hash": f"sha256:{csv_out.sha256}",
            "schema": schema,
        },
        {
            "name": f"{name}-parquet",
            **common,
            "path": parquet_out.path,
            "format": "parquet",
            "mediatype": "application/vnd.apache.parquet",
            "bytes": parquet_out.bytes,
            "hash": f"sha256:{parquet_out.sha256}",
            "schema": schema,
        },
    ]
    if made.written:
        xlsx_out = release.add(xlsx_rel)
        release.resource_files[name]["xlsx"] = xlsx_rel
        described.append(
            {
                "name": f"{name}-xlsx",
                **common,
                "path": xlsx_rel,
                "format": "xlsx",
                "mediatype": xlsx.MEDIA_TYPE,
                "bytes": xlsx_out.bytes,
                "hash": f"sha256:{xlsx_out.sha256}",
                "schema": schema,
            }
        )
    release.descriptor.setdefault("resources_by_name", {})[name] = described


def write_metadata(
    release: Release, loaded: Loaded, report: ValidationReport, redaction: Redaction
) -> None:
    """The descriptor and the reports, once every resource is written."""
    package = release.package
    release.fingerprint = loaded.fingerprint
    release.report = published_report(report)
    release.manifest = redaction.manifest()
    by_name = release.descriptor.get("resources_by_name", {})
    written = [entry for r in package.resources for entry in by_name.get(r.name, [])]
    keep = ("name", "title", "description", "licenses", "keywords", "homepage", "version",
            "contributors", "sources", "opengov", "id", "created")  # fmt: skip
    descriptor = {k: copy.deepcopy(v) for k, v in package.descriptor.items() if k in keep}
    descriptor["name"] = package.name
    descriptor["resources"] = written
    release.descriptor = descriptor
    release.write_bytes("datapackage.json", provenance.canonical_json(descriptor))
    release.write_bytes("validation.json", provenance.canonical_json(release.report))
    release.write_bytes(
        "validation.html", pages.validation_page(release.report, package.title).encode("utf-8")
    )
    release.write_bytes("redactions.json", provenance.canonical_json(release.manifest))


def _license(descriptor: dict[str, Any]) -> dict[str, Any]:
    licenses = descriptor.get("licenses") or []
    return dict(licenses[0]) if licenses else {"name": "unknown", "title": "Licens saknas"}


def finish(
    release: Release,
    *,
    release_number: int,
    previous: dict[str, Any] | None,
    agent: str,
) -> dict[str, Any]:
    """Write the dataset page and provenance.json (and its signature) into the staging folder;
    return provenance.

    Refuses, before writing anything, when rules.yaml requires approvals that are not there, or
    when the chain is signed and this release would not continue it.
    """
    package = release.package
    release.files.pop(signing.SIGNATURE, None)  # from an earlier attempt at this release
    approved = approvals.required_approvals(
        package.root, release.rules.approvals, dataset=package.name, fingerprint=release.fingerprint
    )
    check_continues(release.signer, previous)
    page = pages.dataset_page(release, release_number, approvals=[a.to_dict() for a in approved])
    release.write_bytes("index.html", page.encode("utf-8"))
    doc = provenance.build(
        package=package,
        outputs=sorted(release.files.values(), key=lambda o: o.path),
        validation=provenance.validation_summary(release.report),
        redactions=provenance.redaction_summary(release.manifest),
        fingerprint=release.fingerprint,
        release=release_number,
        previous=previous,
        agent=agent,
        on_behalf_of=release.rules.decided_by,
        started=release.started,
        ended=provenance.now_utc(),
        key_fingerprint=release.key.fingerprint if release.key else None,
        signing=(
            provenance.signing_block(release.signer.key_id, release.signer.info.envelope)
            if release.signer
            else None
        ),
        approvals=approvals.provenance_block(release.rules.approvals, approved),
        key=release.key,
    )
    data = provenance.canonical_json(doc)
    (release.staging / "provenance.json").write_bytes(data)
    if release.signer is not None:
        # Written after provenance and not listed in it: it signs provenance's bytes.
        envelope = signing.sign_release(
            release.signer, data, dataset=package.name, release=release_number,
            signed_at=signing.now_utc(),
        )  # fmt: skip
        release.write_bytes(signing.SIGNATURE, signing.canonical(envelope))
    return doc


def check_continues(signer: signing.Signer | None, previous: dict[str, Any] | None) -> None:
    """A signed chain stays signed, and a new key only takes over from the one before it."""
    envelope = (previous or {}).get("signature")
    if not isinstance(envelope, dict):
        return
    sigs = envelope.get("signatures")
    first = sigs[0] if isinstance(sigs, list) and sigs else None
    before = str(first.get("keyid", "")) if isinstance(first, dict) else ""
    if signer is None:
        raise PublishError(
            f"the previous release is signed (key {before[:32]}); sign this one too "
            f"(--signing-key or {signing.SIGNING_KEY_ENV}), or verify fails closed on it"
        )
    if signer.key_id == before:
        return
    replaced = signer.info.replaces
    if replaced is None or replaced.key_id != before:
        raise PublishError(
            f"signing key {signer.key_id} does not take over from key {before[:32]}, which "
            "signed the previous release: make the new key with `opengov key new --signing "
            "--replaces OLD_KEY_FILE`, so the old key introduces it"
        )


def read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))
