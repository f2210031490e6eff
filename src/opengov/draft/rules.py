"""A rules.yaml draft: every field listed, none classified, each with what the detectors saw.

The draft parses as rules with no field rules at all: each field's rule is a comment, so
`opengov publish` stops with exit 5 (unclassified fields) until a person writes a decision for
every field. The comments carry counts, shares, types and suggestions, never a value from the
data; the field names and titles come from the header or the database's column names.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import yaml

from opengov.draft.observe import Observation

_ID_KINDS = ("personnummer", "samordningsnummer")
_CONTACT_KINDS = ("email", "phone")
# What the last scan always looks for; a free-text field's scan names at least these.
_SCAN_DEFAULT = ("personnummer", "samordningsnummer", "email", "phone")
_KIND_TEXT = {
    "personnummer": "valid personnummer",
    "samordningsnummer": "valid samordningsnummer",
    "organisationsnummer": "valid organisationsnummer",
    "email": "e-mail addresses",
    "phone": "Swedish phone numbers",
    "postcode": "postcodes",
    "name": "private persons' names",
    "address": "street addresses",
}
# A column is "made of" a kind when at least this share of its sampled cells hold one.
DOMINANT = 0.5
_TITLE_HINTS = (
    (re.compile(r"f[oö]delse|birth", re.I), "the title suggests a date of birth (personal data)"),
    (re.compile(r"namn|name", re.I), "the title suggests names: private persons' are personal"),
    (re.compile(r"adress|address|gata", re.I), "the title suggests addresses (personal data)"),
    (re.compile(r"personnummer|pnr|personnr", re.I), "the title suggests personnummer"),
)


@dataclass(frozen=True)
class FieldDraft:
    """One field as the draft describes it."""

    name: str
    title: str | None
    type: str
    observation: Observation
    facts: tuple[str, ...] = ()  # "20 of 20 rows filled", "all distinct: a key candidate"


@dataclass(frozen=True)
class Advice:
    notes: tuple[str, ...]
    suggestion: dict[str, Any] = field(default_factory=dict)


def _count(n: int) -> str:
    return f"{n:,}"


def _cells(n: int) -> str:
    return f"{n:,} sampled cell" if n == 1 else f"{n:,} sampled cells"


def _found(n: int, of: int, what: str) -> str:
    """ "98% of 5,000 sampled cells hold valid personnummer" (floor: 4,999 never reads 100%)."""
    if n == of:
        return f"the sampled cell holds {what}" if of == 1 else f"all {_cells(of)} hold {what}"
    verb = "holds" if n == 1 else "hold"
    if n * 100 >= of:
        return f"{min(int(100 * n / of), 99)}% of {_cells(of)} hold {what}"
    return f"{n:,} of {_cells(of)} {verb} {what}"


def advise(draft: FieldDraft) -> Advice:
    """What the detectors saw, and a decision to consider (the steward decides)."""
    obs = draft.observation
    notes: list[str] = []
    label = f"{draft.name} {draft.title or ''}"
    for pattern, hint in _TITLE_HINTS:
        if pattern.search(label):
            notes.append(hint)
            break
    if obs.sampled == 0:
        notes.append("empty in the sample: nothing for the detectors to read")
        return Advice(tuple(notes), {"class": "public"})
    if not obs.scanned:
        notes.append(
            f"{draft.type.split(' ')[0]}: the detectors read text and whole numbers, not this type "
            f"({_cells(obs.sampled)})"
        )
        return Advice(tuple(notes), {"class": "public"})
    found = {kind: n for kind, n in obs.cells.items() if n}
    if not found:
        notes.append(f"detectors: nothing found in {_cells(obs.sampled)}")
        return Advice(tuple(notes), {"class": "public"})
    for kind, n in sorted(found.items(), key=lambda kv: -kv[1]):
        notes.append(_found(n, obs.sampled, _KIND_TEXT.get(kind, kind)))
    dominant = [k for k in found if obs.share(k) >= DOMINANT]
    if sum(obs.share(k) for k in _ID_KINDS) >= DOMINANT:
        notes.append("consider class secret, action drop, basis 21 kap. 7 § OSL")
        notes.append("(or action pseudonymize, to keep rows linkable without the number)")
        return Advice(
            tuple(notes), {"class": "secret", "action": "drop", "basis": "21 kap. 7 § OSL"}
        )
    if sum(obs.share(k) for k in _CONTACT_KINDS) >= DOMINANT:
        notes.append("contact details: consider class personal, action drop, basis 21 kap. 7 § OSL")
        notes.append("(an authority's own addresses and numbers may be public)")
        return Advice(
            tuple(notes), {"class": "personal", "action": "drop", "basis": "21 kap. 7 § OSL"}
        )
    if dominant == ["organisationsnummer"]:
        notes.append(
            "organisationsnummer of companies and associations are public "
            "(an enskild firma's number is a personnummer and would show above)"
        )
        return Advice(tuple(notes), {"class": "public"})
    if draft.type.split(" ")[0] != "string":
        # `scan` puts a tag inside text; rules refuse it on a number field (exit 4). Left
        # public, the last scan still stops the publish (exit 9, the field named) when such a
        # number is a personnummer, samordningsnummer or phone number.
        notes.append(
            f"{draft.type.split(' ')[0]}: a few numbers look like identifiers; scan is for text, "
            "so decide the column (an identifier_column with its reason, or drop)"
        )
        return Advice(tuple(notes), {"class": "public"})
    text_kinds = [k for k in found if k in ("name", "address")]
    scan = [*_SCAN_DEFAULT, *(k for k in found if k not in _SCAN_DEFAULT and k != "postcode")]
    if text_kinds:
        notes.append(
            "free text with names or addresses: consider scan: [name, address] to replace "
            "them, or names: public with basis and reason if they are officials in office"
        )
    else:
        notes.append("free text with identifiers inside: consider class public with scan")
    return Advice(tuple(notes), {"class": "public", "scan": scan})


# YAML breaks lines at these too; JSON leaves them as they are. A title holding one must not
# end its comment line and start a line of YAML.
_LINE_BREAKS = {"\u0085": "\\x85", "\u2028": "\\u2028", "\u2029": "\\u2029"}


def _quoted(text: str) -> str:
    quoted = json.dumps(text, ensure_ascii=False)
    for char, escape in _LINE_BREAKS.items():
        quoted = quoted.replace(char, escape)
    return quoted


def _yaml(value: Any) -> str:
    """A YAML flow value: plain words as they are, other strings JSON-quoted (valid YAML)."""
    if isinstance(value, str):
        # YAML reads some plain words as other types (true, on, off, no, null: a field named
        # `true` became the key True, which names no field), so a word stays plain only when
        # it reads back as itself.
        if re.fullmatch(r"[a-z][a-z0-9_]*", value) and yaml.safe_load(value) == value:
            return value
        return _quoted(value)
    if isinstance(value, list):
        return "[" + ", ".join(_yaml(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_yaml(v)}" for k, v in value.items()) + "}"
    return json.dumps(value)


_HEADER = """\
# rules.yaml: a DRAFT written by `{command}`.
#
# Every field below is UNCLASSIFIED: its rule is a comment, so nothing is published until a
# person has decided each one (`opengov publish` stops with exit 5 until then). For each
# field, write its rule under `fields:` (remove the "# " before the suggestion, or write your
# own), for example:
#   diarienummer: {{class: public}}
#   personnummer: {{class: secret, action: drop, basis: "21 kap. 7 § OSL", reason: "..."}}
# Classes: public, personal, confidential, secret. Actions: keep (public only), drop, mask,
# pseudonymize, generalize; every action but keep needs a basis. See docs/rules.md.
#
# The comments say what opengov's detectors saw in a sample of the data. No value from the
# data is written in this file. The suggestions are a start, not a decision.
"""


def render_rules(resource: str, fields: Sequence[FieldDraft], *, command: str) -> bytes:
    """The draft's text; a pure function of its arguments (re-drafting gives the same bytes)."""
    lines = [_HEADER.format(command=command).rstrip("\n")]
    lines.append("version: 1")
    lines.append('# decided_by: "Förvaltning, befattning"   # who decides (the delegation)')
    lines.append("resources:")
    lines.append(f"  {_yaml(resource)}:")
    lines.append("    fields:")
    for index, draft in enumerate(fields):
        advice = advise(draft)
        if index:
            lines.append("")
        key = _yaml(draft.name)
        heading = f"      # {key}"
        if draft.title and draft.title != draft.name:
            heading += f" ({_yaml(draft.title)})"
        lines.append(f"{heading}: {', '.join((draft.type, *draft.facts))}")
        lines.extend(f"      #   {note}" for note in advice.notes)
        lines.append(f"      # {key}: {_yaml(advice.suggestion)}")
    return ("\n".join(lines) + "\n").encode("utf-8")


def unclassified(rules: bytes, resource: str, names: list[str]) -> tuple[str, ...]:
    """Fields rules.yaml leaves unclassified (all of them in a draft)."""
    try:
        data = yaml.safe_load(rules.decode("utf-8-sig"))
    except (UnicodeDecodeError, yaml.YAMLError):
        return tuple(names)
    fields = (((data or {}).get("resources") or {}).get(resource) or {}).get("fields") or {}
    return tuple(n for n in names if not isinstance(fields, dict) or n not in fields)
