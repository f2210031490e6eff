"""Record ids for exports that carry none (Facebook): keyed digests of the record's content.

A Facebook export has no post or comment ids, so an id must be derived from what the record
says. An unkeyed hash of it would be reversible: a published comment id over author and text
lets anyone with a short list of names (or of phone numbers) test guesses until one gives the
published id, and so recover a commenter's dropped name or a redacted number. The ids are
therefore HMAC-SHA256 under the pseudonym key (the one `pseudonymize` uses), with a domain of
their own so they never equal a pseudonym of the same text.

Keyed and not random, because a keyed id is a pure function of export and key: importing the
same export again (into the same package or a new one) gives byte-identical files, decisions made
with `opengov classify` keep matching their records, and the example package can be rebuilt and
compared. Random ids would need an unkeyed fingerprint of every record stored beside it to be
recognised on the next import, which is the same weakness kept in a different column. The cost:
the key is needed at import time, and a new key gives new ids (keep the key, as for pseudonyms).
"""

from __future__ import annotations

import hashlib
import hmac
import json

from opengov.errors import KeyMissing
from opengov.redact.keys import KEY_ENV, PseudonymKey

_DOMAIN = b"opengov social-media record id v1\x00"


def keyed_id(key: PseudonymKey, *parts: str) -> str:
    """16 hex digits (64 bits) of HMAC-SHA256 over the parts, encoded without ambiguity."""
    message = _DOMAIN + json.dumps(list(parts), ensure_ascii=False).encode("utf-8")
    return hmac.new(key.secret, message, hashlib.sha256).hexdigest()[:16]


def require_key(key: PseudonymKey | None, platform: str) -> PseudonymKey:
    if key is None:
        raise KeyMissing(
            f"a {platform} export has no record ids, so opengov derives them with the pseudonym "
            f"key (a keyed digest cannot be reversed); set {KEY_ENV} or pass --key-file"
        )
    return key
