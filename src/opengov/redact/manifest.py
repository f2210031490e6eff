"""What redaction produced: published tables and the manifest of what was withheld.

The manifest holds counts, rule ids and legal bases; never a withheld value.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from opengov.package import Package
from opengov.rules import Rules

if TYPE_CHECKING:
    import pyarrow as pa


@dataclass
class ManifestEntry:
    rule: str
    resource: str
    field_name: str | None
    action: str
    cls: str | None
    decision: dict[str, Any]
    values_affected: int = 0
    rows_affected: int = 0
    detail: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "rule": self.rule,
            "resource": self.resource,
            "field": self.field_name,
            "action": self.action,
            "class": self.cls,
            **self.decision,
            "values_affected": self.values_affected,
            "rows_affected": self.rows_affected,
        }
        if self.detail:
            out["detectors"] = dict(sorted(self.detail.items()))
        return out


@dataclass
class RedactedResource:
    name: str
    schema: dict[str, Any]  # published Table Schema
    source_rows: int
    rows_published: int
    fields_published: list[str]
    formulas_neutralised: dict[str, int] = field(default_factory=dict)
    quarantined_rows: int = 0
    # The published rows, when redacted in memory (`redact`); publishing streams them instead.
    table: pa.Table | None = None  # typed: what Parquet gets
    csv_table: pa.Table | None = None  # formula cells neutralised: what CSV gets


@dataclass
class Redaction:
    package: Package
    rules: Rules
    resources: list[RedactedResource]
    entries: list[ManifestEntry]
    last_scan: list[dict[str, Any]]
    key_fingerprint: str | None

    def manifest(self) -> dict[str, Any]:
        return {
            "package": self.package.name,
            "rules_sha256": self.rules.sha256,
            "decided_by": self.rules.decided_by,
            "decided_at": self.rules.decided_at,
            "pseudonym_key_fingerprint": self.key_fingerprint,
            "resources": [
                {
                    "name": r.name,
                    "rows_in_source": r.source_rows,
                    "rows_published": r.rows_published,
                    "rows_quarantined": r.quarantined_rows,
                    "fields_published": r.fields_published,
                    "csv_formulas_neutralised": dict(sorted(r.formulas_neutralised.items())),
                }
                for r in self.resources
            ],
            "rules": [e.to_dict() for e in self.entries],
            "identifier_columns": [
                {"resource": res.name, "field": name, **rule.identifier_column.to_dict()}
                for res in self.rules.resources.values()
                for name, rule in res.fields.items()
                if rule.identifier_column is not None
            ],
            # How pseudonyms were made: who can link them (scope) and why, if widened.
            "pseudonym_scopes": [
                {
                    "resource": res.name,
                    "field": name,
                    "scope": rule.scope,
                    "canonical": rule.canonical,
                    "reason": rule.scope_reason,
                }
                for res in self.rules.resources.values()
                for name, rule in res.fields.items()
                if rule.action == "pseudonymize"
            ],
            "public_text": [
                {
                    "resource": res.name,
                    "field": name,
                    "kinds": list(rule.public_text),
                    **rule.decision.to_dict(),
                }
                for res in self.rules.resources.values()
                for name, rule in res.fields.items()
                if rule.public_text
            ],
            "last_scan": self.last_scan,
        }
