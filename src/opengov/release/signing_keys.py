"""keys.json at the portal root: the public keys that sign this portal's releases.

Each entry is a key statement (signing.py) with its key id, validity period and publisher;
after a rotation the old key stays listed (it signed the older releases) and the new key's
statement, signed by both, says which key it replaces. `current` names the key in use.

keys.json helps an auditor find the key; it is not what makes a release trusted: a key is
trusted when the auditor pins it (`opengov verify --trust FILE.pub`), having compared its id
with one the municipality publishes through another channel (docs/provenance.md).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from opengov.errors import LimitExceeded, PublishError
from opengov.limits import load_json
from opengov.paths import replace_file
from opengov.signing import KEYS_FILE, EnvelopeError, KeyInfo, canonical, parse_key_statement

log = logging.getLogger("opengov.keys")
FORMAT = 1


def read_keys(portal: Path) -> list[KeyInfo]:
    """The keys listed in a portal's keys.json, each statement checked; damage is logged."""
    path = portal / KEYS_FILE
    if not path.is_file():
        return []
    try:
        data = load_json(path.read_bytes().decode("utf-8"), str(path))
        entries = data["keys"] if isinstance(data, dict) else None
        if not isinstance(entries, list):
            raise ValueError("no keys")
        return [parse_key_statement(e.get("statement")) for e in entries if isinstance(e, dict)]
    except (OSError, ValueError, KeyError, LimitExceeded, EnvelopeError):
        log.warning("%s is unreadable; it is written anew with the current key", path)
        return []


def write_keys(portal: Path, current: KeyInfo) -> Path:
    keys = {k.key_id: k for k in read_keys(portal)}
    keys[current.key_id] = current
    data: dict[str, Any] = {
        "format": FORMAT,
        "current": current.key_id,
        "keys": [keys[k].to_dict() for k in sorted(keys)],
    }
    return replace_file(portal, KEYS_FILE, canonical(data), what="keys.json", error=PublishError)
