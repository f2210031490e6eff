"""Redaction: apply rules.yaml to typed tables (actions, detectors, gates) and count what was
withheld in a manifest."""

from opengov.redact.apply import counts_by_action, redact
from opengov.redact.keys import KEY_ENV, PseudonymKey, load_key
from opengov.redact.manifest import ManifestEntry, RedactedResource, Redaction

__all__ = [
    "KEY_ENV",
    "ManifestEntry",
    "PseudonymKey",
    "RedactedResource",
    "Redaction",
    "counts_by_action",
    "load_key",
    "redact",
]
