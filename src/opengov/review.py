"""What a second person sees before approving a release, and the approval they then sign.

`review` runs the spine as `publish --plan` does (load, validate, redact, build in a temporary
folder, plan against the target) and keeps what an approver must judge: the fields each table
publishes, every redaction with its count and legal basis, the rows withheld, and the plan.
Nothing is written to the target. `approve` signs the review's inputs fingerprint
(approvals.py), so the approval holds for exactly these inputs and no others.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from opengov import approvals
from opengov.errors import SigningKeyError
from opengov.signing import Signer, canonical
from opengov.targets.base import Target
from opengov.targets.plan import PublishResult


@dataclass
class Review:
    dataset: str
    package: Path
    fingerprint: str
    resources: list[dict[str, Any]]
    redactions: list[dict[str, Any]]
    plan: PublishResult
    policy: approvals.ApprovalPolicy | None
    approved_by: list[approvals.Approval] = field(default_factory=list)

    @property
    def summary_sha256(self) -> str:
        """What was shown, hashed: the approval records it beside the fingerprint."""
        summary = {
            "dataset": self.dataset,
            "inputs_fingerprint": self.fingerprint,
            "resources": self.resources,
            "redactions": self.redactions,
        }
        return hashlib.sha256(canonical(summary)).hexdigest()

    def to_dict(self) -> dict[str, Any]:
        return {
            "dataset": self.dataset,
            "inputs_fingerprint": self.fingerprint,
            "summary_sha256": self.summary_sha256,
            "resources": self.resources,
            "redactions": self.redactions,
            "plan": self.plan.to_dict(),
            "policy": self.policy.to_dict() if self.policy else None,
            "approved_by": [
                {k: v for k, v in a.to_dict().items() if k != "statement"} for a in self.approved_by
            ],
        }


def review(
    package_path: Path | str,
    target: Target,
    *,
    key_file: Path | str | None = None,
    engine: str = "auto",
) -> Review:
    from opengov.load import load
    from opengov.pipeline import build_release

    loaded = load(package_path, key_file=key_file)
    with target.place(loaded, plan_only=True, agent=None, progress=False) as place:
        release = build_release(loaded, staging_parent=place.staging_parent, engine=engine)
        try:
            plan = place.unchanged() or place.apply(release, plan_only=True)
            manifest = release.manifest
        finally:
            release.cleanup()
    resources = [
        {
            "name": r["name"],
            "rows_in_source": r["rows_in_source"],
            "rows_published": r["rows_published"],
            "rows_withheld": r["rows_in_source"] - r["rows_published"],
            "rows_quarantined": r["rows_quarantined"],
            "fields_published": list(r["fields_published"]),
        }
        for r in manifest["resources"]
    ]
    redactions = [
        {
            "rule": e["rule"],
            "resource": e.get("resource"),
            "field": e.get("field"),
            "action": e["action"],
            "values_affected": e["values_affected"],
            "rows_affected": e["rows_affected"],
            "basis": e.get("basis"),
        }
        for e in manifest["rules"]
        if e["action"] != "keep"
    ]
    policy = loaded.rules.approvals
    approved_by: list[approvals.Approval] = []
    if policy is not None:
        envelopes = approvals.read_envelopes(loaded.package.root)
        approved_by, _ = approvals.count_valid(
            envelopes, policy, dataset=loaded.name, fingerprint=loaded.fingerprint
        )
    return Review(
        dataset=loaded.name,
        package=loaded.package.root,
        fingerprint=loaded.fingerprint,
        resources=resources,
        redactions=redactions,
        plan=plan,
        policy=policy,
        approved_by=approved_by,
    )


@dataclass(frozen=True)
class Approved:
    """An approval of a review: where it is, and whether this call wrote it (False: the same
    approver had already approved exactly this review, and that approval was kept)."""

    path: Path
    approval: approvals.Approval
    written: bool

    def to_dict(self) -> dict[str, Any]:
        data = {k: v for k, v in self.approval.to_dict().items() if k != "statement"}
        return {**data, "file": str(self.path), "written": self.written}


def already_approved(result: Review, signer: Signer) -> Approved | None:
    """The signer's approval of exactly this review (dataset, inputs fingerprint, summary of what
    was shown), if PACKAGE/approvals/<key id>.json already holds it."""
    approver = approvals.Approver(signer.info.name, signer.info.key)
    earlier = approvals.earlier_approval(
        result.package, approver, dataset=result.dataset, fingerprint=result.fingerprint,
        summary_sha256=result.summary_sha256,
    )  # fmt: skip
    if earlier is None:
        return None
    return Approved(approvals.approval_path(result.package, signer.key_id), earlier, False)


def approve(result: Review, signer: Signer) -> Approved:
    """Sign the reviewed inputs with the approver's key; write PACKAGE/approvals/<key id>.json.

    Idempotent: an approval the signer already gave for exactly this review is kept as it is
    (its time included) and nothing is written; any other file there is replaced."""
    policy = result.policy
    if policy is not None and policy.approver(signer.key_id) is None:
        raise SigningKeyError(
            f"key {signer.key_id} is not one of the approvers rules.yaml lists; an approval "
            "by it would not count"
        )
    earlier = already_approved(result, signer)
    if earlier is not None:
        return earlier
    envelope = approvals.sign_approval(
        signer,
        dataset=result.dataset,
        fingerprint=result.fingerprint,
        summary_sha256=result.summary_sha256,
    )
    check_policy = policy or approvals.ApprovalPolicy(
        1, (approvals.Approver(signer.info.name, signer.info.key),)
    )
    approval = approvals.check_approval(
        envelope, check_policy, dataset=result.dataset, fingerprint=result.fingerprint
    )
    path = approvals.write_approval(result.package, envelope, signer.key_id)
    return Approved(path, approval, True)
