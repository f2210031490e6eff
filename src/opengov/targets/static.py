"""The static portal: a folder of datasets any web server (or a file browser) can serve.

A dataset folder is replaced whole: the new release is built beside it and renamed into place,
so a reader sees the old release or the new one, never a mix. The window is the two renames
(old folder aside, new folder in), microseconds on one file system; a reader who requests a file
in between gets 404, never wrong bytes.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import logging
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from opengov.errors import InputError, LimitExceeded, PublishError, VerifyFailed
from opengov.limits import MAX_DESCRIPTOR_BYTES, load_json
from opengov.load import Loaded
from opengov.paths import inside, read_regular
from opengov.release import pages, provenance
from opengov.release import portal as portal_settings
from opengov.release.catalogue import CATALOG, WITHDRAWAL, render_catalogue, write_catalogue
from opengov.release.signing_keys import write_keys
from opengov.signing import SIGNATURE
from opengov.targets import folder_state
from opengov.targets.base import Status, WithdrawResult, checked_reason
from opengov.targets.plan import PlanItem, PublishResult, diff
from opengov.trust import Trust

if TYPE_CHECKING:
    from opengov.release.build import Release
    from opengov.signing import Signer
from opengov.verify import (
    HISTORY,
    PROVENANCE,
    VerifyResult,
    parse_provenance,
    read_history_link,
    read_published,
    verify_folder,
)

log = logging.getLogger("opengov.static")

STAGING = ".opengov-staging"


def _check_apart(portal: Path, package: Path) -> None:
    """`PublishError` unless the portal and the package are separate folders. A portal is served
    as it is: one that holds the package (`--to .` in the package, `--to www` for `www/pkg`)
    would serve its unredacted data files and rules.yaml beside the release; one inside the
    package (`--to pkg/data`) would mix its files into the package's."""
    where, root = Path(os.path.realpath(portal)), Path(os.path.realpath(package))
    if where == root or root.is_relative_to(where):
        raise PublishError(
            f"the portal folder {portal} holds the package {package}: a web server would serve "
            "its unredacted data files and rules.yaml; publish to a folder outside the package"
        )
    if where.is_relative_to(root):
        raise PublishError(
            f"the portal folder {portal} is inside the package {package}; publish to a folder "
            "outside the package"
        )


@dataclass
class StaticTarget:
    """A portal folder: one sub-folder per dataset, a catalogue at the top."""

    kind: ClassVar[str] = "static"
    portal: Path
    base_url: str | None = None

    @contextlib.contextmanager
    def place(
        self, loaded: Loaded, *, plan_only: bool, agent: str | None, progress: bool
    ) -> Iterator[_Placement]:
        _check_apart(self.portal, loaded.package.root)
        # A plan writes nothing, so it needs no lock.
        guard = contextlib.nullcontext() if plan_only else _lock(self.portal, loaded.name)
        with guard:
            yield _Placement(self, loaded, plan_only, agent)

    def verify(self, dataset: str, trust: Trust | None = None) -> VerifyResult:
        return verify_folder(self.portal / dataset, trust)

    def withdraw(
        self,
        dataset: str,
        *,
        reason: str,
        agent: str | None = None,
        signing_key: Path | str | None = None,
    ) -> WithdrawResult:
        return withdraw_static(
            self.portal, dataset, reason=reason, agent=agent, signing_key=signing_key
        )


@dataclass
class _Placement:
    target: StaticTarget
    loaded: Loaded
    plan_only: bool
    agent: str | None

    def __post_init__(self) -> None:
        self.folder = _in_portal(self.target.portal, self.loaded.name)
        # The portal's settings (portal.json); a --base-url that contradicts them stops here.
        self.settings = portal_settings.for_publish(
            self.target.portal, self.target.base_url, write=False
        )
        self.previous = _previous(self.folder)
        if self.previous is None and self.folder.exists():
            if not self.folder.is_dir() or any(self.folder.iterdir()):
                raise PublishError(
                    f"{self.folder} exists but holds no opengov release (no {PROVENANCE}); move "
                    "it away or publish to another portal folder"
                )

    @property
    def staging_parent(self) -> Path | None:
        return None if self.plan_only else self.target.portal / STAGING

    def _result(self, status: Status, number: int, items: list[PlanItem]) -> PublishResult:
        return PublishResult(self.loaded.name, str(self.folder), status.value, number, items)

    def unchanged(self) -> PublishResult | None:
        """The last release, if it was made from exactly these inputs (data, descriptor, schemas,
        rules.yaml, pseudonym key, opengov's version: the fingerprint), signed as this publish
        would sign it, with the approvals this publish would record, and the folder still holds
        it (docs/security.md, "What an unchanged re-publish trusts")."""
        previous = self.previous
        if not previous or previous.get("inputs_fingerprint") != self.loaded.fingerprint:
            return None
        if not _same_signing_and_approvals(self.loaded, previous):
            return None
        return self._unchanged_if_published(previous)

    def _unchanged_if_published(self, previous: dict[str, Any]) -> PublishResult | None:
        if not self._still_published():
            return None  # same inputs, damaged folder: publish again to repair it
        if not self.plan_only:
            _refresh_catalogue(self.target.portal, self.settings)
        return self._result(Status.UNCHANGED, int(previous.get("release", 0)), [])

    def _same_content(self, release: Release) -> bool:
        """The built release is what the folder already publishes: the same files with the same
        bytes, apart from the pages and history a new release number would rewrite.

        Without a pseudonym key the inputs' fingerprint covers file times, not content (it is
        published, and unkeyed content hashes would let anyone test guesses), so a fresh
        checkout or a `touch` misses the fast path. Comparing what was built keeps such a
        publish from making a release that changes nothing."""
        previous = self.previous
        if not previous or previous.get("og:withdrawal"):
            return False
        if not _same_signing_and_approvals(self.loaded, previous):
            return False
        activity = previous.get("activity")
        tools = activity.get("og:tools") if isinstance(activity, dict) else None
        version = provenance.tool_versions()["opengov"]
        if not isinstance(tools, dict) or tools.get("opengov") != version:
            return False  # a release names the version that made it: a new one is a release
        from opengov.release import history

        rewritten = {"index.html", history.HISTORY_PAGE, history.HISTORY_JSON, PROVENANCE}
        old = {
            e.get("og:path"): e.get("og:sha256")
            for e in previous.get("generated", [])
            if isinstance(e, dict) and e.get("og:path") not in rewritten
        }
        new = {p: o.sha256 for p, o in release.files.items() if p not in rewritten}
        return bool(new) and old == new

    def _still_published(self) -> bool:
        """The folder as the last publish (or the last full check) left it, by lstat; else the
        full check, whose success is recorded for the next time."""
        prov_sha = _provenance_sha256(self.folder)
        if prov_sha is None:
            return False
        # The file system's clock is read in the staging folder, which a plan does not create.
        clock = None if self.plan_only else self.target.portal / STAGING
        if folder_state.untouched(self.folder, prov_sha, clock=clock):
            return True
        before = folder_state.observe(self.folder, clock)
        # Consistency is what decides here; whether the auditor trusts the key is theirs.
        if not verify_folder(self.folder, Trust(allow_unsigned=True)).ok:
            folder_state.forget(self.folder)
            return False
        if before is not None and before.stats == folder_state.snapshot(self.folder):
            folder_state.record(self.folder, prov_sha, _generated(self.previous), before)
        return True

    def apply(self, release: Release, *, plan_only: bool) -> PublishResult:
        previous = self.previous
        old = {e["og:path"]: e["og:sha256"] for e in (previous or {}).get("generated", [])}
        number = int((previous or {}).get("release", 0)) + 1
        # Imported here, not with this module: an unchanged re-publish needs none of pyarrow.
        from opengov.release import history
        from opengov.release.build import finish

        if previous is not None and self._same_content(release):
            same = self._unchanged_if_published(previous)
            if same is not None:
                return same
        if plan_only:
            # The pages and provenance are regenerated on every release; list them as such.
            items = diff(old, {p: o.sha256 for p, o in release.files.items()})
            for page in ("index.html", history.HISTORY_PAGE, history.HISTORY_JSON):
                had = old.pop(page, None) is not None
                items = [i for i in items if i.path != page]
                items.append(PlanItem(page, "changed" if had else "added"))
            items.append(PlanItem(PROVENANCE, "changed" if previous else "added"))
            return self._result(Status.PLANNED, number, items)
        # What changed since the previous release, from the published files (history.html).
        history.record_release(release, self.folder, number, previous)
        finish(
            release,
            release_number=number,
            previous=_history_link(self.folder) if previous else None,
            agent=self.agent or provenance.default_agent(),
        )
        new = {p: o.sha256 for p, o in release.files.items() if p != SIGNATURE}
        items = diff(old, new)
        items.append(PlanItem(PROVENANCE, "changed" if previous else "added"))
        if SIGNATURE in release.files:
            # Provenance does not list the signature that signs it, so a diff against the
            # previous provenance would call it "added" on every signed release.
            signed_before = previous is not None and bool(previous.get("signing"))
            change = "changed" if signed_before else "added"
            items.append(PlanItem(SIGNATURE, change, release.files[SIGNATURE].sha256))
        _carry_history(self.folder, release.staging)
        # The catalogue must render with the new release before anything is swapped in.
        _check_catalogue(self.target.portal, self.settings, {self.loaded.name: release.staging})
        _swap(self.folder, release.staging, self.target.portal)
        _record_published(
            self.folder, {p: o.sha256 for p, o in release.files.items()}, self.target.portal
        )
        if release.signer is not None:
            write_keys(self.target.portal, release.signer.info)
        _write_and_record_catalogue(self.target.portal, self.settings)
        return self._result(Status.PUBLISHED, number, items)


def _same_signing_and_approvals(loaded: Loaded, previous: dict[str, Any]) -> bool:
    """This publish would sign as the previous release was signed and record the same
    approvals. Otherwise it is a release: to be signed, signed by the key that took over, left
    unsigned (which the publish refuses for a signed chain), or an approval added or withdrawn
    (recorded, or refused, anew)."""
    signer, signing = loaded.signer, previous.get("signing")
    signed_by = signing.get("key_id") if isinstance(signing, dict) else None
    if signed_by != (signer.key_id if signer is not None else None):
        return False
    return _same_approvals(loaded, previous)


def _read_own(target: Path, rel: str) -> bytes | None:
    """A file of the current release, read without following links (a link planted in the
    portal must not have a publish copy a file from elsewhere into it); None when absent."""
    return read_regular(target, *rel.split("/"), limit=MAX_DESCRIPTOR_BYTES, what=rel,
                        within=f"the dataset folder {target}", error=PublishError)  # fmt: skip


def _previous(target: Path) -> dict[str, Any] | None:
    """The current release's provenance; a damaged one stops the publish.

    Publishing over it would restart the chain and lose the audit trail without anyone
    noticing, so the steward decides (verify, then restore or move the folder away).
    """
    path = target / PROVENANCE
    if not (path.exists() or path.is_symlink()):
        return None
    data = _read_own(target, PROVENANCE)
    if data is None:
        return None
    try:
        return parse_provenance(data, str(path))
    except VerifyFailed as exc:
        raise PublishError(
            f"{path} is damaged, so the release chain cannot continue; check it with "
            f"`opengov verify {target}`, then restore it or move the folder away",
            details=exc.details or [exc.message],
        ) from None


def _provenance_sha256(folder: Path) -> str | None:
    """The sha256 of the current release's provenance, read as `_previous` reads it."""
    try:
        data = _read_own(folder, PROVENANCE)
    except (OSError, PublishError):
        return None
    return None if data is None else hashlib.sha256(data).hexdigest()


def _generated(doc: dict[str, Any] | None) -> dict[str, str]:
    """The sha256 provenance records for each published file."""
    return {str(e["og:path"]): str(e["og:sha256"]) for e in (doc or {}).get("generated", [])}


def _record_published(folder: Path, written: dict[str, str], portal: Path) -> None:
    """What was just swapped in is the release's bytes: remember the folder as it is now (the
    file system's clock read in the staging folder: the release was renamed from there into
    place, so it is on the same file system)."""
    prov_sha = _provenance_sha256(folder)
    if prov_sha is not None:
        folder_state.record(folder, prov_sha, written, clock=portal / STAGING)


def _same_approvals(loaded: Loaded, previous: dict[str, Any]) -> bool:
    """The approvals valid now are those the last release records (by key)."""
    policy = loaded.rules.approvals
    if policy is None:
        return previous.get("approvals") is None
    from opengov import approvals

    recorded, problems = approvals.recorded(previous)
    if problems:
        return False
    now, _ = approvals.count_valid(
        approvals.read_envelopes(loaded.package.root), policy,
        dataset=loaded.name, fingerprint=loaded.fingerprint,
    )  # fmt: skip
    return {a.key_id for a in now} == {a.key_id for a in recorded}


def _in_portal(portal: Path, *parts: str, what: str = "dataset folder") -> Path:
    return inside(
        portal,
        *parts,
        what=what,
        within="the portal folder",
        error=PublishError,
        follow_links=False,
    )


@contextlib.contextmanager
def _lock(portal: Path, name: str) -> Iterator[None]:
    """One publish of a dataset at a time; a second one fails fast instead of racing.

    The staging folder goes when the last publish using it ends, whatever ended it; what a
    killed publish of this dataset left there is removed once its lock is held again.
    """
    locks = _in_portal(portal, STAGING, f"{name}.lock", what="staging folder").parent
    try:
        locks.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise PublishError(f"cannot create {locks}: {exc.strerror}") from None
    try:
        with (locks / f"{name}.lock").open("w") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise PublishError(f"another publish of {name!r} to {portal} is running") from None
            try:
                _remove_leftovers(locks, name)
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)
                (locks / f"{name}.lock").unlink(missing_ok=True)
    finally:
        with contextlib.suppress(OSError):
            locks.rmdir()  # only when empty: another dataset may be publishing


def _remove_leftovers(locks: Path, name: str) -> None:
    """Staging folders of this dataset that a killed publish left (`.<name>.<8 random>[.old]`),
    and the file system clock's files (`~clock.<8 random>`, where a file system cannot create
    unnamed files) that a publish killed within the microseconds one exists left.

    Only this dataset's: its lock is held, so none of them belongs to a running publish. The
    random part of `tempfile.mkdtemp` has no `.`, so `a` never matches `a.b`'s folders. A clock
    file is read through its open descriptor, so removing one in use takes nothing from it.
    """
    pattern = re.compile(rf"\.{re.escape(name)}\.[a-z0-9_]{{8}}(\.old)?")
    for item in locks.iterdir():
        if pattern.fullmatch(item.name) and item.is_dir() and not item.is_symlink():
            shutil.rmtree(item, ignore_errors=True)
        elif folder_state.CLOCK_NAME.fullmatch(item.name) and (
            item.is_symlink() or not item.is_dir()
        ):
            with contextlib.suppress(OSError):
                item.unlink()


def _history_link(target: Path) -> dict[str, Any]:
    """The link to the current release; its signature goes into the next provenance, where the
    chain's hashes cover it."""
    data = _read_own(target, PROVENANCE)
    if data is None:
        raise PublishError(f"{target / PROVENANCE} disappeared during the publish")
    sha = hashlib.sha256(data).hexdigest()
    link: dict[str, Any] = {"sha256": sha, "path": f"{HISTORY}/{sha}.json"}
    sig = _read_own(target, SIGNATURE)
    if sig is not None:
        try:
            link["signature"] = load_json(sig.decode("utf-8"), SIGNATURE)
        except (UnicodeDecodeError, ValueError, LimitExceeded):
            raise PublishError(
                f"{target / SIGNATURE} is damaged, so the signed chain cannot continue; check "
                f"it with `opengov verify {target}`, then restore it"
            ) from None
    return link


def _chain_files(target: Path) -> list[tuple[str, bytes]]:
    """The history documents the current release's chain names, each as the bytes its link
    hashes to. A link that is missing, changed, a symbolic link, or not where this target keeps
    it (`history/<sha256>.json`) stops the publish: carrying it on would put someone else's
    bytes under the publisher's next signature, or copy a file from outside into the portal."""
    from opengov.release import history

    out: list[tuple[str, bytes]] = []
    data = _read_own(target, PROVENANCE)
    current = parse_provenance(data or b"", PROVENANCE)
    while isinstance(link := current.get("previous"), dict):
        if len(out) >= history.MAX_RELEASES:
            break
        where = str(link.get("path"))[:120]
        data = read_history_link(target, link)
        if data is None:
            raise PublishError(
                f"the release chain of {target} is damaged at {where!r} (missing, changed, a "
                f"link, or not history/<sha256>.json): check it with `opengov verify {target}`, "
                "then restore the file, or move the folder away to start a new chain"
            )
        out.append((f"{HISTORY}/{link['sha256']}.json", data))
        try:
            current = parse_provenance(data, where)
        except VerifyFailed:
            raise PublishError(
                f"the release chain of {target} is damaged at {where!r} (not a provenance "
                f"document): check it with `opengov verify {target}`"
            ) from None
    return out


def _carry_history(target: Path, staging: Path) -> None:
    """Earlier provenance documents travel with the dataset so the chain can be checked;
    only those the chain names, as the bytes their links hash to (a file planted in history/
    is not carried on)."""
    if not target.is_dir() or _read_own(target, PROVENANCE) is None:
        return
    history_dir = staging / HISTORY
    history_dir.mkdir(exist_ok=True)
    for path, data in _chain_files(target):
        (staging / path).write_bytes(data)
    link = _history_link(target)
    current = _read_own(target, PROVENANCE)
    if current is None or hashlib.sha256(current).hexdigest() != link["sha256"]:
        raise PublishError(f"{target / PROVENANCE} changed during the publish")
    (staging / link["path"]).write_bytes(current)


def _swap(target: Path, staging: Path, portal: Path) -> None:
    portal.mkdir(parents=True, exist_ok=True)
    aside = staging.with_name(staging.name + ".old")
    try:
        if target.exists():
            os.rename(target, aside)
        os.rename(staging, target)
    except OSError as exc:
        if aside.exists() and not target.exists():
            os.rename(aside, target)  # put the old release back
        raise PublishError(
            f"could not move the new release into {target}: {exc.strerror}"
        ) from None
    shutil.rmtree(aside, ignore_errors=True)


# ------------------------------------------------------------------------------ catalogue


def _check_catalogue(
    portal: Path, settings: portal_settings.PortalSettings, overrides: dict[str, Path]
) -> None:
    """Render the catalogue as it will be with the new folder; a failure stops the publish
    while the portal is untouched (nothing swapped in, nothing written)."""
    try:
        render_catalogue(portal, settings, overrides)
    except (ValueError, TypeError, KeyError, AttributeError, UnicodeError) as exc:
        names = ", ".join(sorted(overrides))
        raise PublishError(
            f"the portal catalogue could not be written with {names} "
            f"({type(exc).__name__}); nothing was changed in {portal}"
        ) from None


def _catalogue_inputs(
    portal: Path, settings: portal_settings.PortalSettings
) -> folder_state.CatalogueInputs:
    from opengov.release.dcat import DCAT_FILE
    from opengov.signing import KEYS_FILE

    datasets = sorted(p.name for p in portal.iterdir() if p.is_dir() and p.name[0] != ".")
    files = ["index.html", CATALOG, DCAT_FILE, KEYS_FILE, portal_settings.SETTINGS]
    return folder_state.catalogue_inputs(portal, settings.to_dict(), datasets, files)


def _refresh_catalogue(portal: Path, settings: portal_settings.PortalSettings) -> None:
    """The catalogue, after an unchanged publish: rewritten only when what it is made from (the
    settings, any dataset's provenance or descriptor, the signing keys) or the catalogue's own
    files changed since it was last written (by lstat, as `folder_state` records it)."""
    before = _catalogue_inputs(portal, settings)
    if folder_state.catalogue_current(portal, before.digest):
        return
    _write_and_record_catalogue(portal, settings, before)


def _write_and_record_catalogue(
    portal: Path,
    settings: portal_settings.PortalSettings,
    before: folder_state.CatalogueInputs | None = None,
) -> None:
    """Write the catalogue and remember what it was rendered from, so that the next unchanged
    publish need not render it again (the dataset's lock is held: the staging folder exists)."""
    before = _catalogue_inputs(portal, settings) if before is None else before
    _write_catalogue(portal, settings)
    folder_state.record_catalogue(
        portal, before, lambda: _catalogue_inputs(portal, settings), clock=portal / STAGING
    )


def _write_catalogue(portal: Path, settings: portal_settings.PortalSettings) -> None:
    """The catalogue, and portal.json when this publish recorded the portal's URL."""
    if portal_settings.load(portal) != settings:
        portal_settings.save(portal, settings)
    write_catalogue(portal, settings)


# ------------------------------------------------------------------------------ withdraw

_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]*$")


def withdraw_static(
    portal: Path | str,
    dataset: str,
    *,
    reason: str,
    agent: str | None = None,
    signing_key: Path | str | None = None,
) -> WithdrawResult:
    """Take a dataset off the portal: its files are replaced by a notice, the catalogue and
    dcat.rdf leave it out, and a new release in its provenance chain records why and when.

    A signed chain stays signed: the withdrawal is signed with `signing_key` (refused without
    one, as a publish is). Publishing the package again later continues the chain.
    """
    from opengov.signing import signer_for_publish

    portal = Path(portal)
    signer = signer_for_publish(signing_key) if signing_key is not None else None
    if ".." in dataset or not _NAME.match(dataset):
        raise InputError(f"{dataset!r} is not a dataset name (lower-case letters, digits, . _ -)")
    reason = checked_reason(reason)
    if not portal.is_dir():
        # Checked before the lock, which would create the folder: a mistyped --to leaves no
        # empty portal behind.
        raise InputError(f"{dataset!r} is not published in {portal}: there is no such folder")
    folder = _in_portal(portal, dataset)
    settings = portal_settings.load(portal)
    with _lock(portal, dataset):
        previous = _previous(folder)
        if previous is None:
            raise InputError(f"{dataset!r} is not published in {portal}")
        number = int(previous.get("release", 0))
        if previous.get(WITHDRAWAL):
            earlier = previous[WITHDRAWAL].get("reason") if isinstance(
                previous[WITHDRAWAL], dict) else None  # fmt: skip
            return WithdrawResult(dataset, str(folder), "unchanged", number, str(earlier or ""))
        number += 1
        parent = portal / STAGING
        parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{dataset}.", dir=parent))
        staging.chmod(0o755)
        try:
            _build_withdrawal(
                folder, staging, previous, number=number, reason=reason,
                agent=agent or provenance.default_agent(), signer=signer,
            )  # fmt: skip
            _check_catalogue(portal, settings, {dataset: staging})
            _swap(folder, staging, portal)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        if signer is not None:
            write_keys(portal, signer.info)
        write_catalogue(portal, settings)
    return WithdrawResult(dataset, str(folder), "withdrawn", number, reason)


def _build_withdrawal(
    folder: Path,
    staging: Path,
    previous: dict[str, Any],
    *,
    number: int,
    reason: str,
    agent: str,
    signer: Signer | None,
) -> None:
    from opengov import signing
    from opengov.package import sha256_file
    from opengov.release import history
    from opengov.release.build import MEDIA_TYPES, check_continues

    link = _history_link(folder)  # with the previous release's signature, if it has one
    check_continues(signer, link)
    now = provenance.now_utc()
    descriptor = _published_descriptor(folder, previous)
    title = pages.text(descriptor.get("title")).strip() or folder.name
    record = history.ReleaseRecord(number, now, kind="withdrawal", reason=reason)
    # The data package stays described, with no resources: nothing of it is published now.
    descriptor = {k: v for k, v in descriptor.items() if k != "resources"}
    descriptor.update(name=folder.name, resources=[])
    files = {
        "index.html": pages.render("withdrawn.html", title=title, when=now, reason=reason).encode(
            "utf-8"
        ),
        "datapackage.json": provenance.canonical_json(descriptor),
        **history.history_files(folder, previous, record, title=title),
    }
    outputs = []
    for name, data in sorted(files.items()):
        (staging / name).write_bytes(data)
        path = staging / name
        outputs.append(
            provenance.OutputFile(
                name, sha256_file(path), path.stat().st_size, MEDIA_TYPES.get(path.suffix, "")
            )
        )
    _carry_history(folder, staging)
    doc = history.withdrawal_provenance(
        dataset=folder.name, release=number, previous=link, outputs=outputs, reason=reason,
        agent=agent, when=now,
    )  # fmt: skip
    if signer is not None:
        doc["signing"] = provenance.signing_block(signer.key_id, signer.info.envelope)
    data = provenance.canonical_json(doc)
    (staging / PROVENANCE).write_bytes(data)
    if signer is not None:
        # As a publish does: the signature covers provenance's bytes and is not listed in it.
        envelope = signing.sign_release(
            signer, data, dataset=folder.name, release=number, signed_at=signing.now_utc()
        )
        (staging / signing.SIGNATURE).write_bytes(signing.canonical(envelope))


def _published_descriptor(folder: Path, previous: dict[str, Any]) -> dict[str, Any]:
    """The withdrawn release's datapackage.json, if it is still the one published (the
    withdrawal carries its title and description under a new signature)."""
    data = read_published(folder, previous, "datapackage.json")
    try:
        descriptor = load_json(data.decode("utf-8"), "datapackage.json") if data else None
    except (ValueError, LimitExceeded):
        return {}
    return descriptor if isinstance(descriptor, dict) else {}


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
    signing_key: Path | str | None = None,
) -> PublishResult:
    """Publish one package to a portal folder (the spine with a `StaticTarget`)."""
    from opengov.pipeline import publish

    return publish(
        package_path,
        StaticTarget(Path(portal), base_url=base_url),
        plan_only=plan_only,
        agent=agent,
        key_file=key_file,
        engine=engine,
        progress=progress,
        signing_key=signing_key,
    )


__all__ = ["STAGING", "StaticTarget", "publish_static", "withdraw_static", "write_catalogue"]
