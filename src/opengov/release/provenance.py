"""provenance.json: what was used, what was made, by whom, when; a hash chain across releases.

JSON-LD with W3C PROV terms (docs/provenance.md). Everything an auditor needs to check the
portal's bytes against the release: sha256 and size of every output file, a keyed digest of
every input, validation and redaction summaries, versions, the agent, and the sha256 of the
previous release's provenance.

Inputs are not published, and a plain hash of one is not safe to publish: with a one-row source
file, its sha256 and size were enough to recover the withheld personnummer by trying every
candidate. So an input's digest is an HMAC under the pseudonym key (the municipality and its
auditors, who hold the key, can check it; nobody else can test a guess), its size is left out,
and without a key no digest of an input is published at all.
"""

from __future__ import annotations

import datetime as dt
import getpass
import hashlib
import hmac
import json
import os
import platform
import socket
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from opengov import __version__
from opengov.package import InputFile, Package, load_package
from opengov.redact.keys import PseudonymKey

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
    from importlib.metadata import PackageNotFoundError, version

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


INPUT_DOMAIN = "provenance input"
FINGERPRINT_DOMAIN = "inputs fingerprint"


def inputs_fingerprint(
    package: Package, key: PseudonymKey | None, extra: dict[str, Any] | None = None
) -> str:
    """One digest of everything that decides the output: if it is unchanged, so is the release.

    It is published (provenance, CKAN extras), so it must not let anyone test a guess at an
    input. With a key it is an HMAC over the inputs' hashes. Without one there is no secret to
    key it with, so it covers each input's identity on disk (`_identities`: size, modification
    and change time to the nanosecond, inode) instead of its content: stable while the files
    are untouched, and no use for guessing what they hold. A fresh checkout then counts as a
    change (docs/provenance.md).
    """
    if key is not None:
        inputs: list[Any] = sorted((i.role, i.path, i.sha256) for i in package.inputs)
    else:
        # The listed inputs: `package.inputs` would hash every data file for nothing here.
        inputs = _identities(package)
    payload = {
        "inputs": inputs,
        "tool": __version__,
        "key": key.fingerprint if key else None,
        **(extra or {}),
    }
    if key is not None:
        return key.mac(FINGERPRINT_DOMAIN, canonical_json(payload).decode("utf-8"))
    return hashlib.sha256(canonical_json(payload)).hexdigest()


Identity = tuple[int, int, int, int]  # size, mtime_ns, ctime_ns, inode
# How long a fingerprint waits for the inputs' newest change to leave the file system's tick:
# a jiffy on most; a whole second where times are whole seconds. Where no clock can be read
# there (no O_TMPFILE: macOS, overlayfs before Linux 6.6, NFS) it does not wait: the system
# clock's two seconds would have held every publish of a freshly written input that long.
_SETTLE_NS = 1_500_000_000


def _identities(package: Package) -> list[Any]:
    """Each listed input's role, path and identity on disk, taken once none of them changed
    within the file system's current tick.

    The modification time alone is not an identity: `cp -p`, `rsync -t`, `tar x` and `touch
    -r` put a file with other bytes (of the same size) in place with the old one's time. The
    change time and inode are what no unprivileged writer can set back (the Parquet reader
    compares the same four, sources/typed.py). And a file changed again within the tick of its
    last change keeps its times (git's "racy" files): such an input is waited for until the
    file system's clock has moved on, so that any later change shows. An input whose change
    time stays in the future (a file server's clock ahead of ours) makes the fingerprint one
    of a kind: the next publish builds the release and compares it instead."""
    deadline = time.monotonic_ns() + _SETTLE_NS
    while True:
        seen: list[tuple[InputFile, Path, os.stat_result | None]] = []
        for item in package.listed_inputs:
            path = item.location or package.root / item.path
            seen.append((item, path, _stat(path)))
        racy, clocked = _any_fresh([(path, st) for _, path, st in seen])
        if not racy or not clocked or time.monotonic_ns() >= deadline:
            break
        time.sleep(0.002)
    inputs: list[Any] = sorted((i.role, i.path, *_identity(st)) for i, _, st in seen)
    if racy:
        inputs.append(("racy", os.urandom(16).hex()))
    return inputs


def _any_fresh(files: list[tuple[Path, os.stat_result | None]]) -> tuple[bool, bool]:
    """Whether any file changed in its file system's current tick (folder_state's rule, with
    `fs_now` read in its folder, leaving no name there), and whether every such file was
    judged by its file system's clock (else waiting would take RACY_NS: not worth it)."""
    from opengov.targets.folder_state import changed_in_tick, fs_now

    clocks: dict[Path, Any] = {}
    now = time.time_ns()
    fresh, clocked = False, True
    for path, st in files:
        if st is None:
            continue
        if path.parent not in clocks:
            clocks[path.parent] = fs_now(path.parent, named=False)
        stamp = clocks[path.parent]
        if changed_in_tick(st.st_ctime_ns, st.st_dev, now, stamp):
            fresh = True
            clocked = clocked and stamp is not None and stamp.dev == st.st_dev
    return fresh, clocked


def _stat(path: Path) -> os.stat_result | None:
    try:
        return path.stat()
    except OSError:
        return None


def _identity(st: os.stat_result | None) -> Identity:
    if st is None:
        return (-1, -1, -1, -1)
    return (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)


def input_digest(key: PseudonymKey, dataset: str, item: InputFile) -> str:
    """The published stand-in for an input's sha256: HMAC under the pseudonym key, bound to the
    dataset, the input's role and path, so equal files in two datasets are not linkable."""
    return key.mac(INPUT_DOMAIN, dataset, item.role, item.path, item.sha256)


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
    key: PseudonymKey | None = None,
) -> dict[str, Any]:
    """The provenance document. `signing` names the key that signs the release (its key
    statement, so verify can follow rotations through the chain); `approvals` is the block
    approvals.provenance_block makes."""
    activity_id = f"urn:opengov:{package.name}:release:{release}"
    agent_id = "urn:opengov:agent:" + hashlib.sha256(agent.encode()).hexdigest()[:16]
    published = {o.sha256 for o in outputs}
    inputs = [
        _input_entity(i, n, package.name, key, published)
        for n, i in enumerate(package.inputs, start=1)
    ]
    # Plain hashes only of inputs whose exact bytes are published anyway (none, today).
    by_role = {i.role: i.sha256 for i in package.inputs if i.sha256 in published}
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


def _input_entity(
    i: InputFile, number: int, dataset: str, key: PseudonymKey | None, published: set[str]
) -> dict[str, Any]:
    entity: dict[str, Any] = {"@type": "prov:Entity", "og:role": i.role, "og:path": i.path}
    if i.sha256 in published:
        # The same bytes are a published file: their hash tells nobody anything new.
        return {"@id": f"urn:sha256:{i.sha256}", **entity, "og:sha256": i.sha256,
                "og:bytes": i.bytes}  # fmt: skip
    if key is not None:
        digest = input_digest(key, dataset, i)
        # No size: it narrows a guess (the length of a withheld value) and the key holder,
        # who can check the digest, needs none.
        return {"@id": f"urn:opengov:input:hmac-sha256:{digest}", **entity,
                "og:hmacSha256": digest, "og:digest": "hmac-sha256"}  # fmt: skip
    return {"@id": f"urn:opengov:{dataset}:input:{number}", **entity, "og:digest": "withheld"}


@dataclass(frozen=True)
class InputCheck:
    role: str
    path: str
    ok: bool
    problem: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"role": self.role, "path": self.path, "ok": self.ok, "problem": self.problem}


def check_inputs(
    doc: dict[str, Any], package_path: Path | str, key: PseudonymKey
) -> list[InputCheck]:
    """For the key holder: do the package's files match the inputs a release says it used?

    Each `used` entity is matched by role and path against the package as it is now; its keyed
    digest (or plain hash, for an input that is also a published file) is recomputed.
    """
    package = load_package(package_path)
    dataset = str(doc.get("dataset"))
    local = {(i.role, i.path): i for i in package.inputs}
    checks = []
    for entity in doc.get("used") or []:
        if not isinstance(entity, dict):
            continue
        role, path = str(entity.get("og:role")), str(entity.get("og:path"))
        item = local.get((role, path))
        if item is None:
            checks.append(InputCheck(role, path, False, "not in the package"))
        elif "og:hmacSha256" in entity:
            ok = hmac.compare_digest(str(entity["og:hmacSha256"]), input_digest(key, dataset, item))
            checks.append(InputCheck(role, path, ok, None if ok else "differs (or another key)"))
        elif "og:sha256" in entity:
            ok = entity["og:sha256"] == item.sha256
            checks.append(InputCheck(role, path, ok, None if ok else "differs"))
        else:
            checks.append(InputCheck(role, path, False, "published without a digest (no key)"))
    return checks


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
