"""`opengov verify`: a release's bytes against its provenance, its chain, its signatures.

`verify_folder` checks a dataset folder of a static portal; `verify.ckan.check_ckan_release`
adds the same authenticity checks to the CKAN target's verification. What each check proves,
and what none of them can, is in docs/provenance.md ("Threat model").
"""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from opengov.errors import InputError, LimitExceeded, OpengovError, VerifyFailed
from opengov.limits import MAX_DESCRIPTOR_BYTES, load_json
from opengov.package import sha256_file
from opengov.paths import inside as inside_path
from opengov.paths import read_regular
from opengov.signing import MAX_ENVELOPE, SIGNATURE, canonical
from opengov.trust import Trust, TrustStore
from opengov.verify.authenticity import (
    Authenticity,
    Chain,
    Link,
    check_approvals,
    check_chain,
    check_descriptor,
    check_replay,
    check_signatures,
    remember,
    walk_chain,
)
from opengov.verify.model import (
    HISTORY,
    PROVENANCE,
    Mismatch,
    VerifyResult,
    check_outputs,
    parse_provenance,
)

_T = TypeVar("_T")
_LINK = "{} is a symbolic link; a release holds only regular files and folders"

__all__ = [
    "HISTORY",
    "PROVENANCE",
    "SIGNATURE",
    "Mismatch",
    "Trust",
    "TrustStore",
    "VerifyResult",
    "check_chain",
    "check_outputs",
    "parse_provenance",
    "read_history_link",
    "read_published",
    "verify_folder",
]


def _read_plain(folder: Path, rel: str) -> bytes | None:
    try:
        return read_regular(folder, *rel.split("/"), limit=MAX_DESCRIPTOR_BYTES, what=rel,
                            within="the dataset folder")  # fmt: skip
    except OpengovError:
        return None


def read_published(folder: Path, doc: dict[str, Any], rel: str) -> bytes | None:
    """The bytes of `rel` in a release folder when they are exactly what `doc`, that release's
    provenance, lists for it; None when the file is missing, changed, unlisted, a link or not a
    regular file.

    What a new release carries forward from the one before (history.json, a title) goes through
    here: someone who can write to the portal must not get their bytes into the publisher's next,
    signed release, nor have a link planted there copy a file from elsewhere into the portal.
    """
    listed = {
        e.get("og:path"): e.get("og:sha256")
        for e in doc.get("generated", [])
        if isinstance(e, dict)
    }
    expected = listed.get(rel)
    data = _read_plain(folder, rel) if isinstance(expected, str) else None
    if data is None or hashlib.sha256(data).hexdigest() != expected:
        return None
    return data


def read_history_link(folder: Path, link: Any) -> bytes | None:
    """The earlier provenance document a `previous` link names, when it is where this target
    keeps it (`history/<sha256>.json`, a regular file) and hashes to the link; None otherwise."""
    if not isinstance(link, dict):
        return None
    sha, path = link.get("sha256"), link.get("path")
    if not isinstance(sha, str) or len(sha) != 64 or path != f"{HISTORY}/{sha}.json":
        return None
    data = _read_plain(folder, path)
    if data is None or hashlib.sha256(data).hexdigest() != sha:
        return None
    return data


def _read(path: Path, read: Callable[[], _T]) -> _T:
    try:
        return read()
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror or type(exc).__name__}") from None


def head_envelope(data: bytes | None, trust: Trust) -> tuple[Any, list[Mismatch]]:
    """The head release's DSSE envelope from its file, which must be exactly as written: its
    bytes are not hashed anywhere else, so any other form is a change after signing."""
    if data is None or trust.allow_unsigned:
        return None, []
    problem = None
    envelope: Any = None
    if len(data) > MAX_ENVELOPE:
        problem = "is too large to be a signature"
    else:
        try:
            envelope = load_json(data.decode("utf-8"), SIGNATURE)
        except (ValueError, LimitExceeded):
            problem = "is not JSON"
        else:
            if canonical(envelope) != data:
                problem = "is not as opengov wrote it (changed after signing)"
    if problem:
        return None, [Mismatch(SIGNATURE, "signature", detail=problem)]
    return envelope, []


def authenticate(
    result: VerifyResult,
    chain: Chain,
    *,
    envelope: Any,
    descriptor: bytes | None,
    expected_dataset: str,
    trust: Trust,
    origin: str,
) -> VerifyResult:
    """Add the checks a consistent forgery cannot pass to a byte-level `result`."""
    head = chain.head
    problems = list(chain.problems)
    problems += check_descriptor(head.doc, descriptor)
    if head.doc.get("dataset") != expected_dataset:
        problems.append(
            Mismatch(
                PROVENANCE,
                "replay",
                detail=f"{expected_dataset!r} holds a release of another dataset "
                f"({str(head.doc.get('dataset'))[:100]!r})",
            )
        )
    shown, approval_problems = check_approvals(head.doc)
    problems += approval_problems
    auth: Authenticity = check_signatures(chain, envelope, trust, origin)
    problems += auth.problems
    problems += check_replay(chain, trust, origin)
    result.mismatches += problems
    result.chain_length = len(chain.releases)
    result.signatures_checked = auth.checked
    result.trust = auth.trust
    result.signers = auth.signers
    result.approvals = shown
    result.warnings += auth.warnings
    if result.ok:
        remember(chain, auth, trust, origin)
    return result


def verify_folder(path: Path | str, trust: Trust | None = None) -> VerifyResult:
    """Verify a dataset folder of a static portal.

    Fails closed: without `trust` no signature is trusted, so only
    `Trust(allow_unsigned=True)` (consistency only) can pass without a pinned key.
    """
    trust = trust or Trust()
    root = Path(path)
    prov_path = root / PROVENANCE
    if not prov_path.is_file() and not prov_path.is_symlink():
        raise InputError(f"{root} has no {PROVENANCE}: not a published opengov dataset")
    # Read as publish reads it back: a regular file, no link (to a copy elsewhere that could
    # change behind the portal), no more than a provenance document can be (a planted 3 GB file
    # took 6 GB of memory).
    try:
        data = read_regular(root, PROVENANCE, limit=MAX_DESCRIPTOR_BYTES, what=PROVENANCE,
                            within="the dataset folder", error=VerifyFailed)  # fmt: skip
    except LimitExceeded as exc:
        raise VerifyFailed(f"{prov_path} is not a provenance document: {exc.message}") from None
    if data is None:
        raise InputError(f"{root} has no {PROVENANCE}: not a published opengov dataset")
    doc = parse_provenance(data, str(prov_path))

    def inside(rel: str) -> Path | None:
        """A regular file at `rel`, reached through no link; None for anything else."""
        try:
            target = inside_path(root, *rel.split("/"), what=rel, within="the dataset folder",
                                 follow_links=False)  # fmt: skip
        except OpengovError:
            return None
        try:
            return target if stat.S_ISREG(os.lstat(target).st_mode) else None
        except OSError:
            return None

    def digest(rel: str) -> str | None:
        target = inside(rel)
        return None if target is None else _read(target, lambda: sha256_file(target))

    def read(rel: str) -> bytes | None:
        return _read_plain(root, rel)

    checked, mismatches = check_outputs(doc, digest)
    head = Link(PROVENANCE, hashlib.sha256(data).hexdigest(), data, doc)
    chain = walk_chain(head, read, link_path=lambda sha: f"{HISTORY}/{sha}.json")
    # Every file must be named by the chain: one planted in history/ is as foreign as any.
    listed = {str(e["og:path"]) for e in doc["generated"]} | {PROVENANCE, SIGNATURE}
    listed |= chain.named
    # A release is regular files in folders. A link, even to a copy with the right bytes, makes
    # the portal serve whatever it points to later; a pipe or device is nothing opengov wrote.
    if root.is_symlink():
        mismatches.append(Mismatch(".", "link", detail=_LINK.format("the dataset folder")))
    for file in sorted(root.rglob("*")):
        rel = file.relative_to(root).as_posix()
        if file.is_symlink():
            mismatches.append(Mismatch(rel, "link", detail=_LINK.format("it")))
        elif not file.is_dir() and rel not in listed:
            mismatches.append(Mismatch(rel, "unexpected"))
    envelope, envelope_problems = head_envelope(read(SIGNATURE), trust)
    result = VerifyResult(
        dataset=str(doc.get("dataset")),
        location=str(root),
        release=int(doc.get("release", 0)),
        files_checked=checked,
        chain_length=len(chain.releases),
        mismatches=mismatches + envelope_problems,
    )
    return authenticate(
        result,
        chain,
        envelope=envelope,
        descriptor=read("datapackage.json"),
        expected_dataset=root.resolve().name,
        trust=trust,
        origin=root.resolve().parent.as_uri(),
    )
