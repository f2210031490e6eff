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
import json
import logging
import os
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from opengov.errors import PublishError, VerifyFailed
from opengov.load import Loaded
from opengov.paths import inside
from opengov.release import provenance
from opengov.release.build import Release, finish
from opengov.release.catalogue import write_catalogue
from opengov.release.signing_keys import write_keys
from opengov.signing import SIGNATURE
from opengov.targets.base import Status
from opengov.targets.plan import PlanItem, PublishResult, diff
from opengov.trust import Trust
from opengov.verify import HISTORY, PROVENANCE, VerifyResult, parse_provenance, verify_folder

log = logging.getLogger("opengov.static")

STAGING = ".opengov-staging"


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
        # A plan writes nothing, so it needs no lock.
        guard = contextlib.nullcontext() if plan_only else _lock(self.portal, loaded.name)
        with guard:
            yield _Placement(self, loaded, plan_only, agent)

    def verify(self, dataset: str, trust: Trust | None = None) -> VerifyResult:
        return verify_folder(self.portal / dataset, trust)


@dataclass
class _Placement:
    target: StaticTarget
    loaded: Loaded
    plan_only: bool
    agent: str | None

    def __post_init__(self) -> None:
        self.folder = _in_portal(self.target.portal, self.loaded.name)
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
        previous = self.previous
        if not previous or previous.get("inputs_fingerprint") != self.loaded.fingerprint:
            return None
        signer, signing = self.loaded.signer, previous.get("signing")
        signed_by = signing.get("key_id") if isinstance(signing, dict) else None
        if signer is not None and signed_by != signer.key_id:
            return None  # to be signed, or signed by the key that took over: a new release
        # Consistency is what decides here; whether the auditor trusts the key is theirs.
        if not verify_folder(self.folder, Trust(allow_unsigned=True)).ok:
            return None  # same inputs, damaged folder: publish again to repair it
        if self.target.base_url and not self.plan_only:
            write_catalogue(self.target.portal, base_url=self.target.base_url)
        return self._result(Status.UNCHANGED, int(previous.get("release", 0)), [])

    def apply(self, release: Release, *, plan_only: bool) -> PublishResult:
        previous = self.previous
        old = {e["og:path"]: e["og:sha256"] for e in (previous or {}).get("generated", [])}
        number = int((previous or {}).get("release", 0)) + 1
        if plan_only:
            # The page and provenance are regenerated on every release; list them as such.
            had_page = old.pop("index.html", None) is not None
            items = diff(old, {p: o.sha256 for p, o in release.files.items()})
            items += [PlanItem("index.html", "changed" if had_page else "added")]
            items.append(PlanItem(PROVENANCE, "changed" if previous else "added"))
            return self._result(Status.PLANNED, number, items)
        finish(
            release,
            release_number=number,
            previous=_history_link(self.folder) if previous else None,
            agent=self.agent or provenance.default_agent(),
        )
        items = diff(old, {p: o.sha256 for p, o in release.files.items()})
        items.append(PlanItem(PROVENANCE, "changed" if previous else "added"))
        _carry_history(self.folder, release)
        _swap(self.folder, release, self.target.portal)
        if release.signer is not None:
            write_keys(self.target.portal, release.signer.info)
        write_catalogue(self.target.portal, base_url=self.target.base_url)
        return self._result(Status.PUBLISHED, number, items)


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
    """Staging folders of this dataset that a killed publish left (`.<name>.<8 random>[.old]`).

    Only this dataset's: its lock is held, so none of them belongs to a running publish. The
    random part of `tempfile.mkdtemp` has no `.`, so `a` never matches `a.b`'s folders.
    """
    pattern = re.compile(rf"\.{re.escape(name)}\.[a-z0-9_]{{8}}(\.old)?")
    for item in locks.iterdir():
        if pattern.fullmatch(item.name) and item.is_dir() and not item.is_symlink():
            shutil.rmtree(item, ignore_errors=True)


def _history_link(target: Path) -> dict[str, Any]:
    """The link to the current release; its signature goes into the next provenance, where the
    chain's hashes cover it."""
    data = (target / PROVENANCE).read_bytes()
    sha = hashlib.sha256(data).hexdigest()
    link: dict[str, Any] = {"sha256": sha, "path": f"{HISTORY}/{sha}.json"}
    sig = target / SIGNATURE
    if sig.is_file():
        try:
            link["signature"] = json.loads(sig.read_bytes().decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
            raise PublishError(
                f"{sig} is damaged, so the signed chain cannot continue; check it with "
                f"`opengov verify {target}`, then restore it"
            ) from None
    return link


def _chain_files(target: Path) -> list[str]:
    """The history documents the current release's chain names, and nothing else."""
    paths: list[str] = []
    current = parse_provenance((target / PROVENANCE).read_bytes(), PROVENANCE)
    while isinstance(prev := current.get("previous"), dict):
        path = prev.get("path")
        if not isinstance(path, str) or path in paths or not path.startswith(HISTORY + "/"):
            break
        file = target / path
        if not file.is_file():
            break
        paths.append(path)
        try:
            current = parse_provenance(file.read_bytes(), path)
        except VerifyFailed:
            break
    return paths


def _carry_history(target: Path, release: Release) -> None:
    """Earlier provenance documents travel with the dataset so the chain can be checked;
    only those the chain names (a file planted in history/ is not carried on)."""
    if not target.is_dir():
        return
    history = release.staging / HISTORY
    history.mkdir(exist_ok=True)
    if (target / PROVENANCE).is_file():
        for path in _chain_files(target):
            shutil.copy2(target / path, release.staging / path)
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


__all__ = ["STAGING", "StaticTarget", "publish_static", "write_catalogue"]
