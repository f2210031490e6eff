"""`opengov verify`: recompute every hash of a release against its provenance and the chain."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import InputError, VerifyFailed
from .package import sha256_file

PROVENANCE = "provenance.json"
HISTORY = "history"


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


def parse_provenance(data: bytes, where: str) -> dict[str, Any]:
    try:
        doc = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise VerifyFailed(f"{where} is not valid JSON") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("generated"), list):
        raise VerifyFailed(f"{where} is not an opengov provenance document")
    return doc


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
        except VerifyFailed:
            mismatches.append(Mismatch(path, "chain", "previous provenance unreadable"))
            break
        length += 1
    return length, mismatches


def verify_folder(path: Path | str) -> VerifyResult:
    """Verify a dataset folder of a static portal."""
    root = Path(path)
    prov_path = root / PROVENANCE
    if not prov_path.is_file():
        raise InputError(f"{root} has no {PROVENANCE}: not a published opengov dataset")
    doc = parse_provenance(prov_path.read_bytes(), str(prov_path))

    def digest(rel: str) -> str | None:
        target = (root / rel).resolve()
        if not target.is_relative_to(root.resolve()) or not target.is_file():
            return None
        return sha256_file(target)

    def history(rel: str) -> bytes | None:
        target = (root / rel).resolve()
        if not target.is_relative_to(root.resolve()) or not target.is_file():
            return None
        return target.read_bytes()

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
