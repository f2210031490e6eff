"""What a verification reports: each mismatch, and the exit code the worst of them earns."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from opengov.errors import (
    ApprovalsMissing,
    ChainBroken,
    DescriptorMismatch,
    LimitExceeded,
    OpengovError,
    ReplayDetected,
    SignatureInvalid,
    UnlistedFiles,
    Unsigned,
    UntrustedKey,
    VerifyFailed,
)
from opengov.limits import load_json

PROVENANCE = "provenance.json"
HISTORY = "history"

# Each kind of problem leaves with its own exit code. When several are found, the first kind in
# this order decides: a tampered signed file always also breaks its signature, and the
# specific finding (a cut history, a stale descriptor) says more than "signature invalid".
ERRORS: dict[str, type[OpengovError]] = {
    "untrusted": UntrustedKey,
    "replay": ReplayDetected,
    "chain": ChainBroken,
    "unexpected": UnlistedFiles,
    "descriptor": DescriptorMismatch,
    "changed": VerifyFailed,
    "link": VerifyFailed,
    "missing": VerifyFailed,
    "metadata": VerifyFailed,
    "unreadable": VerifyFailed,
    "approvals": ApprovalsMissing,
    "signature": SignatureInvalid,
    "unsigned": Unsigned,
}


@dataclass(frozen=True)
class Mismatch:
    path: str
    problem: str  # a key of ERRORS
    expected: str | None = None
    actual: str | None = None
    detail: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "problem": self.problem,
            "expected": self.expected,
            "actual": self.actual,
            "detail": self.detail,
        }

    def __str__(self) -> str:
        if self.detail:
            return f"{self.path}: {self.detail}"
        if self.problem == "changed":
            return f"{self.path}: sha256 {self.actual} does not match provenance {self.expected}"
        if self.problem == "missing":
            return f"{self.path}: listed in provenance but missing"
        if self.problem == "unexpected":
            return f"{self.path}: present but not listed in provenance"
        return f"{self.path}: {self.problem} ({self.expected or ''})".rstrip(" ()")


@dataclass
class VerifyResult:
    dataset: str
    location: str
    release: int
    files_checked: int
    chain_length: int
    mismatches: list[Mismatch] = field(default_factory=list)
    # Filled in by the authenticity checks (verify.authenticity); "not checked" otherwise.
    signatures_checked: bool = False
    trust: str = "not checked"
    signers: list[dict[str, Any]] = field(default_factory=list)
    approvals: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.mismatches

    def to_dict(self) -> dict[str, Any]:
        return {
            "dataset": self.dataset,
            "location": self.location,
            "release": self.release,
            "ok": self.ok,
            "files_checked": self.files_checked,
            "chain_length": self.chain_length,
            "signatures_checked": self.signatures_checked,
            "trust": self.trust,
            "signers": self.signers,
            "approvals": self.approvals,
            "warnings": self.warnings,
            "mismatches": [m.to_dict() for m in self.mismatches],
        }

    def error(self) -> OpengovError | None:
        """The error this result ends in: the class of its most telling problem."""
        if self.ok:
            return None
        kinds = {m.problem for m in self.mismatches}
        cls = next((c for k, c in ERRORS.items() if k in kinds), VerifyFailed)
        return cls(
            f"{len(self.mismatches)} problem(s) in {self.dataset} release {self.release}",
            details=[str(m) for m in self.mismatches],
        )

    def raise_for_mismatch(self) -> None:
        error = self.error()
        if error is not None:
            raise error


_SHA256 = re.compile(r"[0-9a-f]{64}")


def parse_provenance(data: bytes, where: str) -> dict[str, Any]:
    """A provenance document, checked for every field verification reads; `VerifyFailed` else.

    A tampered or truncated document must fail verification with a message naming what is
    wrong, never crash on a missing key or a value of the wrong type further on.
    """
    try:
        doc = load_json(data.decode("utf-8"), where)
    except ValueError:
        raise VerifyFailed(f"{where} is not valid JSON") from None
    except LimitExceeded as exc:
        raise VerifyFailed(f"{where} is not a provenance document: {exc.message}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("generated"), list):
        raise VerifyFailed(f"{where} is not an opengov provenance document")
    problems = _provenance_problems(doc)
    if problems:
        raise VerifyFailed(
            f"{where} is not a valid opengov provenance document", details=problems[:10]
        )
    return doc


def _provenance_problems(doc: dict[str, Any]) -> list[str]:
    problems = []
    dataset = doc.get("dataset")
    if not isinstance(dataset, str) or not dataset or not dataset.isprintable():
        problems.append("dataset must be the dataset's name")
    release = doc.get("release")
    if isinstance(release, bool) or not isinstance(release, int) or release < 1:
        problems.append("release must be a whole number from 1")
    seen: set[str] = set()
    for i, entity in enumerate(doc["generated"]):
        if not isinstance(entity, dict):
            problems.append(f"generated[{i}] must be an object")
            continue
        path = entity.get("og:path")
        if not isinstance(path, str) or not path or not path.isprintable():
            problems.append(f"generated[{i}] og:path must be a non-empty file path")
        elif path in seen:
            problems.append(f"generated[{i}] og:path {path!r} is listed twice")
        else:
            seen.add(path)
        sha = entity.get("og:sha256")
        if not isinstance(sha, str) or not _SHA256.fullmatch(sha):
            problems.append(f"generated[{i}] og:sha256 must be 64 lowercase hex digits")
    previous = doc.get("previous")
    if previous is not None:
        if not isinstance(previous, dict):
            problems.append("previous must be an object with sha256 and path, or null")
        else:
            sha = previous.get("sha256")
            if not isinstance(sha, str) or not _SHA256.fullmatch(sha):
                problems.append("previous.sha256 must be 64 lowercase hex digits")
            path = previous.get("path")
            if not isinstance(path, str) or not path or not path.isprintable():
                problems.append("previous.path must be a non-empty path")
    return problems


def check_outputs(
    doc: dict[str, Any], digest_of: Callable[[str], str | None]
) -> tuple[int, list[Mismatch]]:
    """Compare each generated entity with `digest_of(path)` (None when the file is absent)."""
    mismatches = []
    for entity in doc["generated"]:
        path = str(entity["og:path"])
        actual = digest_of(path)
        if actual is None:
            mismatches.append(Mismatch(path, "missing", entity["og:sha256"]))
        elif actual != entity["og:sha256"]:
            mismatches.append(Mismatch(path, "changed", entity["og:sha256"], actual))
    return len(doc["generated"]), mismatches
