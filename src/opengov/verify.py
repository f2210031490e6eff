"""`opengov verify`: recompute every hash of a release against its provenance and the chain."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from opengov.errors import InputError, VerifyFailed
from opengov.package import sha256_file

PROVENANCE = "provenance.json"
HISTORY = "history"

_T = TypeVar("_T")


@dataclass(frozen=True)
class Mismatch:
    path: str
    problem: str  # missing | changed | unexpected | chain | unreadable
    expected: str | None = None
    actual: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "problem": self.problem,
            "expected": self.expected,
            "actual": self.actual,
        }

    def __str__(self) -> str:
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
            "mismatches": [m.to_dict() for m in self.mismatches],
        }

    def raise_for_mismatch(self) -> None:
        if not self.ok:
            raise VerifyFailed(
                f"{len(self.mismatches)} mismatch(es) in {self.dataset} release {self.release}",
                details=[str(m) for m in self.mismatches],
            )


_SHA256 = re.compile(r"[0-9a-f]{64}")


def parse_provenance(data: bytes, where: str) -> dict[str, Any]:
    """A provenance document, checked for every field verification reads; `VerifyFailed` else.

    A tampered or truncated document must fail verification with a message naming what is
    wrong, never crash on a missing key or a value of the wrong type further on.
    """
    try:
        doc = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        raise VerifyFailed(f"{where} is not valid JSON") from None
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


def check_chain(
    doc: dict[str, Any], fetch_history: Callable[[str], bytes | None]
) -> tuple[int, list[Mismatch]]:
    """Walk `previous` links: each earlier provenance must exist and hash to what was recorded."""
    length, mismatches = 1, []
    seen: set[str] = set()
    current = doc
    while current.get("previous"):
        prev = current["previous"]
        sha, path = str(prev.get("sha256")), str(prev.get("path"))
        if sha in seen:
            mismatches.append(Mismatch(path, "chain", "the chain loops"))
            break
        seen.add(sha)
        data = fetch_history(path)
        if data is None:
            mismatches.append(Mismatch(path, "chain", f"previous provenance {sha[:12]} missing"))
            break
        actual = hashlib.sha256(data).hexdigest()
        if actual != sha:
            mismatches.append(Mismatch(path, "chain", sha, actual))
            break
        try:
            current = parse_provenance(data, path)
        except VerifyFailed as exc:
            reason = "; ".join(exc.details[:3]) or "not valid JSON"
            mismatches.append(Mismatch(path, "chain", f"previous provenance unreadable: {reason}"))
            break
        length += 1
    return length, mismatches


def _read(path: Path, read: Callable[[], _T]) -> _T:
    try:
        return read()
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror or type(exc).__name__}") from None


def verify_folder(path: Path | str) -> VerifyResult:
    """Verify a dataset folder of a static portal."""
    root = Path(path)
    prov_path = root / PROVENANCE
    if not prov_path.is_file():
        raise InputError(f"{root} has no {PROVENANCE}: not a published opengov dataset")
    doc = parse_provenance(_read(prov_path, prov_path.read_bytes), str(prov_path))

    def inside(rel: str) -> Path | None:
        target = (root / rel).resolve()
        if not target.is_relative_to(root.resolve()) or not target.is_file():
            return None
        return target

    def digest(rel: str) -> str | None:
        target = inside(rel)
        return None if target is None else _read(target, lambda: sha256_file(target))

    def history(rel: str) -> bytes | None:
        target = inside(rel)
        return None if target is None else _read(target, target.read_bytes)

    checked, mismatches = check_outputs(doc, digest)
    listed = {str(e["og:path"]) for e in doc["generated"]} | {PROVENANCE}
    for file in sorted(p for p in root.rglob("*") if p.is_file()):
        rel = file.relative_to(root).as_posix()
        if rel not in listed and not rel.startswith(HISTORY + "/"):
            mismatches.append(Mismatch(rel, "unexpected"))
    chain, chain_problems = check_chain(doc, history)
    return VerifyResult(
        dataset=str(doc.get("dataset")),
        location=str(root),
        release=int(doc.get("release", 0)),
        files_checked=checked,
        chain_length=chain,
        mismatches=mismatches + chain_problems,
    )
