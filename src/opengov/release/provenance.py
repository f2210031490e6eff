"""provenance.json: what was used, what was made, by whom, when; a hash chain across releases.

JSON-LD with W3C PROV terms (docs/provenance.md). Everything an auditor needs to check the
portal's bytes against the release: sha256 and size of every input and output file, the hashes
of datapackage.json and rules.yaml as used, validation and redaction summaries, versions, the
agent, and the sha256 of the previous release's provenance.
"""

from __future__ import annotations

import datetime as dt
import getpass
import hashlib
import json
import os
import platform
import socket
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from opengov import __version__
from opengov.package import InputFile, Package

FORMAT = 1
CONTEXT = {
    "prov": "http://www.w3.org/ns/prov#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "dcterms": "http://purl.org/dc/terms/",
    "og": "https://github.com/opengov/opengov/blob/main/docs/provenance.md#",
    "entity": "prov:entity",
    "activity": "prov:activity",
    "agent": "prov:agent",
    "used": {"@id": "prov:used", "@type": "@id"},
    "wasGeneratedBy": {"@id": "prov:wasGeneratedBy", "@type": "@id"},
    "wasAssociatedWith": {"@id": "prov:wasAssociatedWith", "@type": "@id"},
    "wasDerivedFrom": {"@id": "prov:wasDerivedFrom", "@type": "@id"},
    "actedOnBehalfOf": {"@id": "prov:actedOnBehalfOf", "@type": "@id"},
    "startedAtTime": {"@id": "prov:startedAtTime", "@type": "xsd:dateTime"},
    "endedAtTime": {"@id": "prov:endedAtTime", "@type": "xsd:dateTime"},
    "wasRevisionOf": {"@id": "prov:wasRevisionOf", "@type": "@id"},
}
AGENT_ENV = "OPENGOV_AGENT"


def _lib_version(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "unknown"


def tool_versions() -> dict[str, str]:
    return {
        "opengov": __version__,
        "frictionless": _lib_version("frictionless"),
        "pyarrow": _lib_version("pyarrow"),
        "python": platform.python_version(),
    }


def default_agent() -> str:
    return os.environ.get(AGENT_ENV) or f"{getpass.getuser()}@{socket.gethostname()}"


def now_utc() -> str:
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def canonical_json(data: Any) -> bytes:
    """Stable bytes for hashing and for files that must not change when nothing changed."""
    return (json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True) + "\n").encode("utf-8")


@dataclass(frozen=True)
class OutputFile:
    path: str
    sha256: str
    bytes: int
    media_type: str


def inputs_fingerprint(
    package: Package, key_fingerprint: str | None, extra: dict[str, Any] | None = None
) -> str:
    """One hash over everything that decides the output: if it is unchanged, so is the release."""
    payload = {
        "inputs": sorted((i.role, i.path, i.sha256) for i in package.inputs),
        "tool": __version__,
        "key": key_fingerprint,
        **(extra or {}),
    }
    return hashlib.sha256(canonical_json(payload)).hexdigest()


def build(
    *,
    package: Package,
    outputs: list[OutputFile],
    validation: dict[str, Any],
    redactions: dict[str, Any],
    fingerprint: str,
    release: int,
    previous: dict[str, Any] | None,
    agent: str,
    on_behalf_of: str | None,
    started: str,
    ended: str,
    key_fingerprint: str | None,
    signing: dict[str, Any] | None = None,
    approvals: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The provenance document. `signing` names the key that signs the release (its key
    statement, so verify can follow rotations through the chain); `approvals` is the block
    approvals.provenance_block makes."""
    activity_id = f"urn:opengov:{package.name}:release:{release}"
    agent_id = "urn:opengov:agent:" + hashlib.sha256(agent.encode()).hexdigest()[:16]
    inputs = [_input_entity(i) for i in package.inputs]
    by_role = {i.role: i.sha256 for i in package.inputs}
    doc: dict[str, Any] = {
        "@context": CONTEXT,
        "@id": f"{activity_id}:provenance",
        "@type": "prov:Bundle",
        "og:format": FORMAT,
        "dataset": package.name,
        "release": release,
        "previous": previous,
        "inputs_fingerprint": fingerprint,
        "datapackage_sha256": by_role.get("descriptor"),
        "rules_sha256": by_role.get("rules"),
        "pseudonym_key_fingerprint": key_fingerprint,
        "activity": {
            "@id": activity_id,
            "@type": "prov:Activity",
            "og:command": "opengov publish",
            "startedAtTime": started,
            "endedAtTime": ended,
            "wasAssociatedWith": agent_id,
            "used": [e["@id"] for e in inputs],
            "og:tools": tool_versions(),
        },
        "agent": {
            "@id": agent_id,
            "@type": [
                "prov:Agent",
                "prov:SoftwareAgent" if agent.startswith("ci:") else "prov:Person",
            ],
            "og:name": agent,
            "og:onBehalfOf": on_behalf_of,
        },
        "used": inputs,
        "generated": [
            {
                "@id": f"urn:sha256:{o.sha256}",
                "@type": "prov:Entity",
                "og:path": o.path,
                "og:sha256": o.sha256,
                "og:bytes": o.bytes,
                "dcterms:format": o.media_type,
                "wasGeneratedBy": activity_id,
                "wasDerivedFrom": [e["@id"] for e in inputs if e["og:role"] in ("data", "rules")],
            }
            for o in sorted(outputs, key=lambda o: o.path)
        ],
        "validation": validation,
        "redactions": redactions,
    }
    if previous:
        doc["wasRevisionOf"] = f"urn:sha256:{previous['sha256']}"
    if signing:
        doc["signing"] = signing
    doc.update(approvals or {})
    return doc


def signing_block(key_id: str, statement: dict[str, Any]) -> dict[str, Any]:
    return {"key_id": key_id, "key": statement}


def _input_entity(i: InputFile) -> dict[str, Any]:
    return {
        "@id": f"urn:sha256:{i.sha256}",
        "@type": "prov:Entity",
        "og:role": i.role,
        "og:path": i.path,
        "og:sha256": i.sha256,
        "og:bytes": i.bytes,
    }


def validation_summary(report: dict[str, Any]) -> dict[str, Any]:
    og = report["opengov"]
    return {
        "valid": report["valid"],
        "passed": og["passed"],
        "errors": report["stats"]["errors"],
        "waived": og["waivedErrors"],
        "by_type": _by_type(report["summary"]),
    }


def _by_type(summary: list[dict[str, Any]]) -> dict[str, int]:
    out: dict[str, int] = {}
    for row in summary:
        out[row["type"]] = out.get(row["type"], 0) + int(row["count"])
    return dict(sorted(out.items()))


def redaction_summary(manifest: dict[str, Any]) -> dict[str, Any]:
    values: dict[str, int] = {}
    rows: dict[str, int] = {}
    for rule in manifest["rules"]:
        values[rule["action"]] = values.get(rule["action"], 0) + int(rule["values_affected"])
        rows[rule["action"]] = rows.get(rule["action"], 0) + int(rule["rows_affected"])
    return {
        "rules": len(manifest["rules"]),
        "values_affected": dict(sorted(values.items())),
        "rows_affected": dict(sorted(rows.items())),
        "rows_quarantined": sum(r["rows_quarantined"] for r in manifest["resources"]),
    }
