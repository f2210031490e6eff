"""The upload protocol: one release onto one CKAN dataset.

1. New dataset: `package_create` with `private=True` and no resources. Update: a marking
   `package_revise` (state `uploading`, recorded file hashes and the DataStore records of the
   tables about to change removed) before any file is sent.
2. One `package_revise` carrying every changed file as a multipart upload: CKAN writes the
   files and commits the metadata in one request and one database transaction. It is
   conditional on `metadata_modified` (`match`), so a retried request whose first attempt got
   through, or a concurrent publisher, cannot duplicate resources.
3. The DataStore tables (`datastore.py`): what changed, right after the files.
4. Read-back: every uploaded file is downloaded with the token and its sha256 compared; every
   DataStore table written is read back (row count, content hash or the rows sent).
5. `package_revise` that makes the dataset public (unless the package asks to stay private)
   and records the fingerprint and the DataStore tables: only now is the dataset "complete".

A run that dies at any point leaves either a private dataset (new) or a public one whose
resources and provenance.json match (update); running again finishes the job. A run that
finds an incomplete dataset re-checks the files already on the portal by downloading them,
so nothing it skips is trusted on metadata alone. docs/ckan.md has the reasoning and the
window that remains.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from opengov.errors import CkanNameConflict, CkanUploadTooLarge, PublishError
from opengov.package import Package, sha256_file
from opengov.release import provenance
from opengov.release.build import Release, finish
from opengov.signing import SIGNATURE
from opengov.targets.ckan.client import MB, CkanClient, StaleState, Upload
from opengov.targets.ckan.datastore import DatastoreLoad, Mode
from opengov.targets.ckan.datastore_state import TableRecord, dump_records
from opengov.targets.ckan.mapping import (
    E_DATASTORE,
    E_FILES,
    E_FINGERPRINT,
    E_PROVENANCE,
    E_RELEASE,
    E_STATE,
    E_VISIBILITY,
    HISTORY_FORMAT,
    HISTORY_PATH,
    PREFIX,
    R_PATH,
    R_ROLE,
    ckan_tags,
    dataset_fields,
    desired_resource,
    extras_list,
    licence_id,
    match_licence,
    metadata_extras,
    ordered_paths,
    resource_differs,
    wants_private,
)
from opengov.targets.ckan.remote import Remote, actual_hashes, check_ours, show
from opengov.targets.ckan.settings import CkanSettings
from opengov.targets.plan import PlanItem, diff
from opengov.verify import PROVENANCE

log = logging.getLogger("opengov.ckan")


@dataclass
class Finished:
    number: int
    previous: dict[str, Any] | None
    provenance_sha: str


@dataclass
class Run:
    client: CkanClient
    settings: CkanSettings
    package: Package
    release: Release
    fingerprint: str
    private: bool
    agent: str
    mode: Mode = field(default_factory=lambda: Mode(False))
    finished: Finished | None = None
    uploaded: list[str] = field(default_factory=list)
    read_back: int = 0
    datastore: DatastoreLoad | None = None


def publish_round(
    run: Run, remote: Remote | None, *, plan_only: bool
) -> tuple[str, int, list[PlanItem]]:
    client, release = run.client, run.release
    assert release is not None

    # Hashes of what the portal holds now. A dataset whose last publish did not finish is
    # checked byte by byte: its metadata may describe files that never arrived intact.
    if remote is not None and not remote.complete and not plan_only:
        actual = actual_hashes(client, remote)
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

    # Before anything is sent: an update of a table starts from the rows it holds, read from
    # the previous Parquet, which the upload is about to replace.
    run.datastore = DatastoreLoad(client, release, run.mode)
    run.datastore.plan(remote)

    licence, lic = licence_id(run.package.descriptor)
    if remote is None:
        remote = _create(run, licence)
        licence = _checked_licence(run, remote, licence, lic)
    elif remote.dataset.get("license_id") != licence:
        licence = _checked_licence(run, None, licence, lic)

    remote = _upload(run, remote, local, old, licence)
    # The DataStore right after the files, so that it lags them as briefly as possible.
    run.datastore.apply(remote)
    _read_back(run, remote, local, run.uploaded)
    run.datastore.read_back(remote)
    run.datastore.views(remote)
    if run.datastore.flags_changed:
        # CKAN 2.12 sets a resource's datastore_active with resource_patch, which changes the
        # dataset's metadata_modified (2.11 writes the flag without it): read the dataset again
        # for the conditional completion, after checking it still holds this upload.
        remote = _reread(run, local)
    _finalise(run, remote, local, run.datastore.records(remote))
    return "published", run.finished.number, items


# index.html, the provenance history and provenance.json change with every release.
_REGENERATED = ("index.html", HISTORY_PATH, PROVENANCE)


def _finish_release(run: Run, remote: Remote | None) -> None:
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
    run.finished = Finished(number, previous, sha256_file(release.staging / PROVENANCE))


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


def _create(run: Run, licence: str) -> Remote:
    fields = dataset_fields(run.package, run.settings.org, licence)
    extras = metadata_extras(run.package, licence_id(run.package.descriptor)[1])
    extras[E_STATE] = "uploading"
    data = {
        **fields,
        "private": True,  # invisible to citizens until every file is uploaded and read back
        "tags": ckan_tags(run.package.descriptor.get("keywords") or []),
        "extras": extras_list(extras),
    }
    log.info("%s: creating a private dataset on %s", run.package.name, run.settings.url)
    try:
        created = run.client.call(
            "package_create", data, what=f"creating dataset {fields['name']!r}"
        )
    except CkanNameConflict:
        # Our own create whose answer was lost (and retried), or a dataset we cannot see.
        again = show(run.client, run.package.name)
        if again is None:
            raise CkanNameConflict(
                f"dataset name {run.package.name!r} is taken on {run.settings.url} by a "
                "dataset the token cannot see (another organisation's private or deleted "
                "dataset); rename the package"
            ) from None
        check_ours(again, run.settings.org, run.package.name, run.settings.url)
        return again
    if created is None:
        raise PublishError(f"CKAN answered 'not found' when creating {fields['name']!r}")
    return Remote(created)


def _checked_licence(run: Run, created: Remote | None, licence: str, lic: dict[str, Any]) -> str:
    """Make sure the portal knows the licence id (CKAN silently accepts unknown ones)."""
    if created is not None:
        title = created.dataset.get("license_title")
        if licence == "notspecified" or (title and title != licence):
            return licence  # CKAN resolved the id to one of its licences
    portal = run.client.call("license_list", {}, what="license_list") or []
    found = match_licence(portal, licence, lic)
    if found is None:
        known = ", ".join(sorted(str(i.get("id")) for i in portal))
        raise PublishError(
            f"the licence {lic.get('name') or licence!r} is not in {run.settings.url}'s licence "
            f"list (known: {known}); add it to the portal or change the package's licence",
        )
    return found


def _upload(
    run: Run,
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
    writes = run.datastore is not None and run.datastore.writes
    if remote.managed and (writes or _anything_to_send(run, remote, local, old)):
        remote = _mark_uploading(run, remote, local)
    fields: dict[str, str] = {}
    files: dict[str, Upload] = {}
    new: list[tuple[str, dict[str, Any]]] = []
    uploaded: list[str] = []
    for path in ordered_paths(release):
        out = local[path]
        desired = desired_resource(release, path, out.sha256)
        existing = remote.managed.get(path)
        upload = Upload(release.staging / path, Path(path).name, desired["mimetype"])
        if existing is None:
            new.append((path, desired))
            continue
        if old.get(path) != out.sha256:
            files[f"update__resources__{existing['id']}__upload"] = upload
            uploaded.append(path)
        elif not resource_differs(existing, desired):
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
    extras.update(metadata_extras(run.package, licence_id(run.package.descriptor)[1]))
    for key in (E_FINGERPRINT, E_FILES, E_VISIBILITY, E_DATASTORE):
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
    dataset = dataset_fields(run.package, run.settings.org, licence)
    dataset.pop("name")
    dataset.pop("owner_org")
    update = {
        **dataset,
        # A public dataset stays public during an update (hiding it would be an outage);
        # one that should become private is hidden by this very request.
        "private": remote.private or run.private,
        "tags": ckan_tags(run.package.descriptor.get("keywords") or []),
        "extras": extras_list(extras),
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
    return after


def _anything_to_send(
    run: Run, remote: Remote, local: dict[str, provenance.OutputFile], old: dict[str, str]
) -> bool:
    """Whether the release changes any file or resource (metadata-only updates need no mark)."""
    for path in ordered_paths(run.release):
        existing = remote.managed.get(path)
        if existing is None or old.get(path) != local[path].sha256:
            return True
    return any(p not in local for p in remote.managed) or bool(remote.duplicates)


def _mark_uploading(run: Run, remote: Remote, local: dict[str, provenance.OutputFile]) -> Remote:
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
    # Nor do the records of the DataStore tables this run will write.
    if run.datastore is not None:
        _set_records(extras, run.datastore.kept_records(remote), run.datastore.writing())
    else:
        _set_records(extras, {})
    update: dict[str, Any] = {"extras": extras_list(extras)}
    order = ordered_paths(run.release)
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
        fresh = show(run.client, run.package.name)
        if fresh is None:
            raise PublishError(f"dataset {run.package.name!r} vanished while publishing")
        marked = fresh
    return marked


def _check_sizes(run: Run, files: dict[str, Upload]) -> None:
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
    run: Run, remote: Remote, local: dict[str, provenance.OutputFile], paths: Iterable[str]
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


def _reread(run: Run, local: dict[str, provenance.OutputFile]) -> Remote:
    fresh = show(run.client, run.package.name)
    if fresh is None:
        raise PublishError(f"dataset {run.package.name!r} vanished while publishing")
    check_ours(fresh, run.settings.org, run.package.name, run.settings.url)
    if any(fresh.hashes().get(path) != out.sha256 for path, out in local.items()):
        raise StaleState(f"{run.package.name!r} changed while its DataStore tables were written")
    return fresh


def _set_records(
    extras: dict[str, str], records: dict[str, TableRecord], writing: set[str] | None = None
) -> None:
    if records or writing:
        extras[E_DATASTORE] = dump_records(records, writing)
    else:
        extras.pop(E_DATASTORE, None)


def _finalise(
    run: Run,
    remote: Remote,
    local: dict[str, provenance.OutputFile],
    datastore: dict[str, TableRecord],
) -> None:
    """Mark the release complete and, unless the package stays private, make it public."""
    extras = dict(remote.extras)
    _set_records(extras, datastore)
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
                {"private": run.private, "extras": extras_list(extras)}, ensure_ascii=False
            ),
        },
        what=f"completing {run.package.name!r}",
    )
