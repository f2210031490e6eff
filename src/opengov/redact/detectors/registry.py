"""The detector families, in one place.

To add a family: write a module with a `FAMILY` (see `text.Family`: its kinds and tags, an
`order`, an RE2 prefilter or a `candidates` function, and a `find` over normalised text) and
add it to `FAMILIES` below (`people.py` does this for the name and address detectors). The
tuple's order is the report order of `KINDS`; the families' `order` fields are the detection
order. A kind whose detector needs context from rules.yaml (`handle`:
the account's own handles) is not a family: its tag goes in `CONTEXT_TAGS`, and the redaction
step calls its module.
"""

from __future__ import annotations

from . import email, handles, identifiers, people, phone, postcode
from .text import Family

FAMILIES: tuple[Family, ...] = (
    identifiers.FAMILY,
    email.FAMILY,
    phone.FAMILY,
    postcode.FAMILY,
    people.FAMILY,
)

# The default kinds (what `scan_text` looks for unless told), and those asked for by name only.
KINDS: tuple[str, ...] = tuple(k for f in FAMILIES if not f.on_request for k in f.kinds)
TEXT_KINDS: tuple[str, ...] = tuple(k for f in FAMILIES if f.on_request for k in f.kinds)
ALL_KINDS: tuple[str, ...] = KINDS + TEXT_KINDS
# Kinds whose detector needs context from rules.yaml (the account's own handles): they live in
# their own modules and the redaction step calls them; the engine's functions refuse them.
CONTEXT_TAGS: dict[str, str] = {handles.KIND: handles.TAG}
CONTEXT_KINDS: tuple[str, ...] = tuple(CONTEXT_TAGS)
TAGS: dict[str, str] = {
    **{kind: tag for family in FAMILIES for kind, tag in family.kinds.items()},
    **CONTEXT_TAGS,
}
FAMILY_OF: dict[str, Family] = {kind: family for family in FAMILIES for kind in family.kinds}
DETECTION_ORDER: tuple[Family, ...] = tuple(sorted(FAMILIES, key=lambda f: f.order))

assert len(ALL_KINDS) + len(CONTEXT_KINDS) == len(TAGS), "a kind is registered twice"
assert len({f.order for f in FAMILIES}) == len(FAMILIES), "two families share an order"
