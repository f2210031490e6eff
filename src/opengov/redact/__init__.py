"""Redaction: apply rules.yaml to typed tables (actions, detectors, gates) and count what was
withheld in a manifest.

Names are imported when first used: loading a package (which needs the pseudonym key) must not
import pyarrow, so an unchanged re-publish stays at the cost of hashing its inputs.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from opengov.redact.apply import counts_by_action, redact
    from opengov.redact.keys import KEY_ENV, PseudonymKey, load_key
    from opengov.redact.manifest import ManifestEntry, RedactedResource, Redaction

_WHERE = {
    "counts_by_action": "apply",
    "redact": "apply",
    "KEY_ENV": "keys",
    "PseudonymKey": "keys",
    "load_key": "keys",
    "ManifestEntry": "manifest",
    "RedactedResource": "manifest",
    "Redaction": "manifest",
}

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


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'opengov.redact' has no attribute {name!r}")
    return getattr(importlib.import_module(f"opengov.redact.{module}"), name)
