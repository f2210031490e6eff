"""Four eyes: a second person approves exactly these inputs before they are published.

`rules.yaml` may require approvals:

    approvals:
      required: 2
      keys:
        - name: Anna Andersson, kommunjurist
          key: "ed25519:..."        # as `opengov key show FILE.pub` prints it

`opengov approve PACKAGE --key FILE` shows what the release will publish and writes
`PACKAGE/approvals/<key id>.json`: a DSSE envelope, signed by the approver's key, over the
dataset name and the release's inputs fingerprint (load.py). Any change to the data, the rules
or the pseudonym key changes the fingerprint, so an approval covers exactly what was reviewed.
`publish` refuses without enough valid approvals, writing nothing; the approvals go into
provenance.json, where `opengov verify` checks them again.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from opengov.errors import ApprovalsMissing, LimitExceeded, RulesError
from opengov.limits import load_json
from opengov.signing import (
    APPROVAL_TYPE,
    MAX_ENVELOPE,
    EnvelopeError,
    PublicKey,
    Signer,
    canonical,
    now_utc,
    verify_envelope,
)

APPROVALS_DIR = "approvals"
APPROVAL_STATEMENT = "opengov/approval/v1"


@dataclass(frozen=True)
class Approver:
    name: str
    key: PublicKey

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "key_id": self.key.key_id, "public_key": self.key.text}


@dataclass(frozen=True)
class ApprovalPolicy:
    required: int
    approvers: tuple[Approver, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"required": self.required, "keys": [a.to_dict() for a in self.approvers]}

    def approver(self, key_id: str) -> Approver | None:
        return next((a for a in self.approvers if a.key.key_id == key_id), None)


def parse_policy(data: Any, source: str = "rules.yaml") -> ApprovalPolicy | None:
    """The `approvals:` section of rules.yaml; `RulesError` for anything it cannot trust."""
    if data is None:
        return None
    where = f"{source}, approvals"
    if not isinstance(data, dict) or set(data) - {"required", "keys"}:
        raise RulesError(f"{where}: expected 'required' (a number) and 'keys' (a list)")
    keys = data.get("keys")
    if not isinstance(keys, list) or not keys:
        raise RulesError(f"{where}: 'keys' must list the approvers' public keys")
    approvers: list[Approver] = []
    for i, item in enumerate(keys):
        if not isinstance(item, dict) or set(item) - {"name", "key"}:
            raise RulesError(f"{where}, keys[{i}]: expected 'name' and 'key'")
        name = item.get("name")
        if not isinstance(name, str) or not name.strip():
            raise RulesError(f"{where}, keys[{i}]: 'name' must say whose key it is")
        try:
            key = PublicKey.from_text(item.get("key"), "key")
        except EnvelopeError as exc:
            raise RulesError(
                f"{where}, keys[{i}]: {exc} (print it with `opengov key show FILE.pub`)"
            ) from None
        if any(a.key == key for a in approvers):
            raise RulesError(f"{where}, keys[{i}]: the same key is listed twice")
        approvers.append(Approver(name.strip(), key))
    required = data.get("required")
    if isinstance(required, bool) or not isinstance(required, int) or required < 1:
        raise RulesError(f"{where}: 'required' must be a whole number from 1")
    if required > len(approvers):
        raise RulesError(
            f"{where}: {required} approvals required but only {len(approvers)} key(s) listed"
        )
    return ApprovalPolicy(required, tuple(approvers))


@dataclass(frozen=True)
class Approval:
    approver: str
    key_id: str
    approved_at: str
    envelope: dict[str, Any] = field(repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        """As recorded in provenance.json: who, when, with which key, and the signed statement."""
        return {
            "approver": self.approver,
            "key_id": self.key_id,
            "approved_at": self.approved_at,
            "statement": self.envelope,
        }


def sign_approval(
    signer: Signer, *, dataset: str, fingerprint: str, summary_sha256: str
) -> dict[str, Any]:
    body = {
        "_type": APPROVAL_STATEMENT,
        "dataset": dataset,
        "inputs_fingerprint": fingerprint,
        "summary_sha256": summary_sha256,
        "approver": signer.info.name,
        "key_id": signer.key_id,
        "approved_at": now_utc(),
    }
    return signer.sign(APPROVAL_TYPE, canonical(body))


def check_approval(
    envelope: Any, policy: ApprovalPolicy, *, dataset: str, fingerprint: str
) -> Approval:
    """One approval, checked against the policy's keys and this release; `EnvelopeError` else."""
    sigs = envelope.get("signatures") if isinstance(envelope, dict) else None
    first = sigs[0] if isinstance(sigs, list) and sigs and isinstance(sigs[0], dict) else {}
    approver = policy.approver(str(first.get("keyid")))
    if approver is None:
        raise EnvelopeError("signed by a key that rules.yaml does not list as an approver")
    payload = verify_envelope(envelope, APPROVAL_TYPE, approver.key)
    try:
        body = load_json(payload.decode("utf-8"), "the approval")
    except (ValueError, LimitExceeded):
        raise EnvelopeError("the approval is not JSON") from None
    if not isinstance(body, dict) or body.get("_type") != APPROVAL_STATEMENT:
        raise EnvelopeError("not an opengov approval")
    if body.get("dataset") != dataset:
        raise EnvelopeError("it approves another dataset")
    if body.get("inputs_fingerprint") != fingerprint:
        raise EnvelopeError(
            "it approves other inputs (the data, rules or key changed after the approval)"
        )
    approved_at = body.get("approved_at")
    if not isinstance(approved_at, str):
        raise EnvelopeError("it has no time of approval")
    return Approval(approver.name, approver.key.key_id, approved_at, envelope)


def count_valid(
    envelopes: list[tuple[str, Any]], policy: ApprovalPolicy, *, dataset: str, fingerprint: str
) -> tuple[list[Approval], list[str]]:
    """The valid approvals (one per key) and why each other one was not counted."""
    valid: dict[str, Approval] = {}
    rejected = []
    for where, envelope in envelopes:
        try:
            approval = check_approval(envelope, policy, dataset=dataset, fingerprint=fingerprint)
        except EnvelopeError as exc:
            rejected.append(f"{where}: {exc}")
            continue
        valid.setdefault(approval.key_id, approval)
    return sorted(valid.values(), key=lambda a: a.key_id), rejected


def approval_path(package_root: Path, key_id: str) -> Path:
    return package_root / APPROVALS_DIR / f"{key_id}.json"


def write_approval(package_root: Path, envelope: dict[str, Any], key_id: str) -> Path:
    """Atomically; an approver approving again replaces their earlier approval."""
    path = approval_path(package_root, key_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".approval.", dir=path.parent)
    with os.fdopen(fd, "wb") as handle:
        handle.write(canonical(envelope))
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)
    return path


def earlier_approval(
    package_root: Path, approver: Approver, *, dataset: str, fingerprint: str, summary_sha256: str
) -> Approval | None:
    """The approval this approver already gave for exactly this review (the same dataset,
    inputs fingerprint and summary of what was shown), if PACKAGE/approvals/<key id>.json holds
    it; None for anything else there (another review's, another key's, a damaged file)."""
    path = approval_path(package_root, approver.key.key_id)
    try:
        if not path.is_file() or path.stat().st_size > MAX_ENVELOPE:
            return None
        envelope = load_json(path.read_bytes().decode("utf-8"), str(path))
        policy = ApprovalPolicy(1, (approver,))
        approval = check_approval(envelope, policy, dataset=dataset, fingerprint=fingerprint)
        body = load_json(verify_envelope(envelope, APPROVAL_TYPE, approver.key).decode(), str(path))
    except (OSError, ValueError, LimitExceeded, EnvelopeError):
        return None
    if not isinstance(body, dict) or body.get("summary_sha256") != summary_sha256:
        return None
    return approval


def read_envelopes(package_root: Path) -> list[tuple[str, Any]]:
    folder = package_root / APPROVALS_DIR
    if not folder.is_dir():
        return []
    out: list[tuple[str, Any]] = []
    for path in sorted(folder.glob("*.json")):
        where = f"{APPROVALS_DIR}/{path.name}"
        try:
            # Not a regular file (a pipe would block the read for ever) or too large: no approval.
            if not path.is_file() or path.stat().st_size > MAX_ENVELOPE:
                out.append((where, None))
                continue
            out.append((where, load_json(path.read_bytes().decode("utf-8"), where)))
        except (OSError, ValueError, LimitExceeded):
            out.append((where, None))
    return out


def required_approvals(
    package_root: Path, policy: ApprovalPolicy | None, *, dataset: str, fingerprint: str
) -> list[Approval]:
    """The approvals a publish records; `ApprovalsMissing` when the policy is not met."""
    if policy is None:
        return []
    valid, rejected = count_valid(
        read_envelopes(package_root), policy, dataset=dataset, fingerprint=fingerprint
    )
    if len(valid) < policy.required:
        raise ApprovalsMissing(
            f"rules.yaml requires {policy.required} approval(s) from listed keys and "
            f"{len(valid)} valid one(s) were found in {APPROVALS_DIR}/; nothing was published "
            "(each approver runs `opengov approve PACKAGE --key FILE`)",
            details=rejected[:20],
        )
    return valid


def recorded(doc: dict[str, Any]) -> tuple[list[Approval], list[str]]:
    """The approvals a provenance document records, checked again; problems as messages."""
    block = doc.get("approvals")
    if block is None:
        return [], []
    if not isinstance(block, dict) or not isinstance(block.get("approvals"), list):
        return [], ["the approvals block is malformed"]
    try:
        policy = parse_policy(block.get("policy"), "provenance.json")
    except RulesError as exc:
        return [], [f"the recorded approval policy is malformed: {exc.message}"]
    if policy is None:
        return [], ["the approvals block records no policy"]
    envelopes = [
        (f"approval {i + 1}", item.get("statement") if isinstance(item, dict) else None)
        for i, item in enumerate(block["approvals"])
    ]
    valid, rejected = count_valid(
        envelopes,
        policy,
        dataset=str(doc.get("dataset")),
        fingerprint=str(doc.get("inputs_fingerprint")),
    )
    problems = list(rejected)
    if len(valid) < policy.required:
        problems.insert(0, f"{policy.required} approval(s) required, {len(valid)} valid recorded")
    return valid, problems


def provenance_block(policy: ApprovalPolicy | None, approvals: list[Approval]) -> dict[str, Any]:
    """What provenance.json records; the policy in the same shape rules.yaml takes it."""
    if policy is None:
        return {}
    return {
        "approvals": {
            "policy": {
                "required": policy.required,
                "keys": [{"name": a.name, "key": a.key.text} for a in policy.approvers],
            },
            "approvals": [a.to_dict() for a in approvals],
        }
    }
