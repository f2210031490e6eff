"""A resource's declared `hash`, `bytes`, `fields` and `rows` against what was read, as
frictionless' baseline check compares them (hash-count, byte-count, field-count, row-count).

The sha256 and byte count are of the bytes the reader parsed (`TypedSource.sha256`). An md5
(frictionless' default algorithm for a bare hex `hash`) is taken by reading the file once more,
and counts only if that read's sha256 is the parsed one: the same bytes, or the file changed
while it was read (an error of its own).
"""

from __future__ import annotations

import hashlib
from typing import Any

from opengov.errors import InputError
from opengov.package import ResourceSpec
from opengov.validate.model import Finding

_NOTE = 'expected is "{}" and actual is "{}"'


def declared_findings(
    resource: ResourceSpec, *, sha256: str, size: int | None, rows: int
) -> tuple[list[Finding], list[str]]:
    """Findings for every declared figure the data does not match, and warnings for declared
    hashes frictionless does not check either (algorithms other than md5 and sha256)."""
    desc = resource.descriptor
    findings: list[Finding] = []
    warnings: list[str] = []
    declared_hash = desc.get("hash")
    if declared_hash and sha256:
        algorithm, expected = _parse_hash(str(declared_hash))
        actual: str | None = None
        if algorithm == "sha256":
            actual = sha256
        elif algorithm == "md5":
            actual = _md5(resource, sha256)
        else:
            warnings.append(
                f"the declared hash uses {algorithm}, which is not checked (md5 and sha256 are)"
            )
        if actual is not None and actual != expected:
            findings.append(Finding(type="hash-count", note=_NOTE.format(expected, actual)))
    declared_bytes = _count(desc.get("bytes"))
    if declared_bytes and size is not None and sha256 and declared_bytes != size:
        findings.append(Finding(type="byte-count", note=_NOTE.format(declared_bytes, size)))
    declared_fields = _count(desc.get("fields"))
    fields = len(resource.schema.get("fields") or [])
    if declared_fields and declared_fields != fields:
        findings.append(Finding(type="field-count", note=_NOTE.format(declared_fields, fields)))
    declared_rows = _count(desc.get("rows"))
    if declared_rows and declared_rows != rows:
        findings.append(Finding(type="row-count", note=_NOTE.format(declared_rows, rows)))
    return findings, warnings


def _count(value: Any) -> int | None:
    return value if type(value) is int else None


def _parse_hash(text: str) -> tuple[str, str]:
    # frictionless' v1 reading: "algorithm:hex", or a bare hex digest, which is md5.
    algorithm, _, digest = text.partition(":")
    return (algorithm, digest) if digest else ("md5", algorithm)


def _md5(resource: ResourceSpec, sha256: str) -> str | None:
    if resource.path is None:
        return None
    md5, again = hashlib.md5(usedforsecurity=False), hashlib.sha256()
    with resource.path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            md5.update(block)
            again.update(block)
    if again.hexdigest() != sha256:
        raise InputError(
            f"resource {resource.name!r}: file {resource.path.name} changed while it was read; "
            "validate again once it is complete"
        )
    return md5.hexdigest()
