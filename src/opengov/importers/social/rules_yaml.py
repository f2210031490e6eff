"""The rules.yaml an import writes: safe to publish as it stands (docs/rules.md).

- Only records classified `official` are published; comments only with their post.
- Commenters' names are never published in clear: pseudonymised with the key, or dropped.
- Free text (text, activity lines, attachments' alt texts and names, reasons) is scanned for
  personnummer, samordningsnummer, e-mail, phone numbers and @handles; handles of the
  authority's own accounts (`own_accounts`) are kept, all others replaced.
- The id of another account's post that a post replies to is not published (often a private
  person's post); mentions and the replied-to account are scanned for handles.
- Columns of platform ids, record ids, URLs and checksums are declared identifier columns, so
  the digit detectors of the last scan do not read a 2009 status id as a personnummer.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from opengov.importers.social.records import COMMENT_FIELDS, POST_FIELDS

_TEXT_KINDS = ("personnummer", "samordningsnummer", "email", "phone")
# Kinds for people's names and addresses in free text (issue 11); used when opengov has them.
_OPTIONAL_TEXT_KINDS = ("name", "address")
_FREE_TEXT = {"text", "title", "attachments"}
_IDENTIFIERS = {
    "record_id": "Postens id i paketet (tw- och plattformens id, eller en nyckelad hash); "
    "inga personuppgifter",
    "post_record_id": "Id för inlägget som kommentaren gäller; inga personuppgifter",
    "platform_post_id": "Id-nummer som plattformen gav myndighetens eget inlägg; inga "
    "personuppgifter",
    "in_reply_to": "Id för myndighetens eget inlägg som detta svarar på; inga personuppgifter",
    "urls": "Webbadresser i inlägget; andra kontons länkar ersätts av handle-skanningen",
    "source_sha256": "Kontrollsumma för källfilen; inga personuppgifter",
}
_ACCOUNT_NAME = {
    "names": "public",
    "basis": "2 kap. 1 § TF",
    "reason": "Kontots namn, som det angavs vid importen: avsändaren av inlägg som är allmänna "
    "handlingar",
}
_RULES_HEADER = """\
# rules.yaml skapad av `opengov import` (sociala medier). Säker att publicera som den är:
# bara poster klassificerade som official publiceras, kommentarer bara om deras inlägg
# publiceras, kommentatorers namn aldrig i klartext, fritext skannas efter personnummer,
# samordningsnummer, e-post, telefonnummer och @användarnamn (myndighetens egna konton i
# own_accounts behålls), och id för andras inlägg publiceras inte. En ändrad fil skrivs inte
# över vid nästa import.
"""


def text_kinds() -> list[str]:
    from opengov.redact.detectors import TAGS

    return [*_TEXT_KINDS, *(k for k in _OPTIONAL_TEXT_KINDS if k in TAGS)]


def _field(name: str, author: dict[str, Any], account_names: bool = True) -> dict[str, Any]:
    if name == "author_comment":
        return author
    if name == "in_reply_to_external":
        return {
            "class": "personal",
            "action": "drop",
            "basis": "21 kap. 7 § OSL",
            "harm_test": "straight",
            "reason": "Id för ett annat kontos inlägg, ofta en privatpersons; publiceras inte",
        }
    spec: dict[str, Any] = {"class": "public"}
    if account_names and name in ("account", "author"):
        # The account's own name, as the steward gave it with --account (a post's author is
        # the account; a commenter is `author_comment`). On an official's personal account it
        # is a person's name, which the last scan would stop: published by this decision.
        spec.update(_ACCOUNT_NAME)
    if name in _FREE_TEXT:
        spec["scan"] = [*text_kinds(), "handle"]
    elif name == "reason":
        spec["scan"] = text_kinds()
    elif name in ("mentions", "in_reply_to_account", "urls"):
        spec["scan"] = ["handle"]
    if name in _IDENTIFIERS:
        spec["identifier_column"] = {"reason": _IDENTIFIERS[name]}
    return spec


def _comment_field(name: str) -> str:
    # A comment's author is the commenter, unlike a post's, which is the account itself.
    return "author_comment" if name == "author" else name


def rules_data(
    pseudonymize: bool, own_accounts: Sequence[str] = (), *, account_names: bool = True
) -> dict[str, Any]:
    """The generated rules as data (the tests compare this with the parsed YAML).

    `account_names=False` gives the rules of 0.1.0 and before, which left the account's name
    to the last scan (a personal account's name stopped the publish): a re-import recognises
    them as generated, not edited, and replaces them."""
    author: dict[str, Any] = {
        "class": "personal",
        "action": "pseudonymize" if pseudonymize else "drop",
        "basis": "21 kap. 7 § OSL",
        "harm_test": "straight",
        "reason": "Kommentatorer är oftast privatpersoner; namnen publiceras inte i klartext",
    }

    def not_official(what: str) -> dict[str, Any]:
        return {
            "drop_when": {"field": "classification", "not_in": ["official"]},
            "basis": "2 kap. 4 § TF",
            "reason": f"Privat {what} eller {what} som ännu inte bedömts: ingen allmän handling "
            "att publicera",
        }

    own = sorted(own_accounts, key=str.lower)
    return {
        "version": 1,
        "decided_by": "opengov import (standardregler för sociala medier)",
        "resources": {
            "posts": {
                "own_accounts": own,
                "fields": {
                    spec.name: _field(spec.name, author, account_names) for spec in POST_FIELDS
                },
                "rows": [{"id": "posts-inte-allman-handling", **not_official("inlägg")}],
            },
            "comments": {
                "own_accounts": own,
                "fields": {
                    s.name: _field(_comment_field(s.name), author, account_names)
                    for s in COMMENT_FIELDS
                },
                "rows": [
                    {"id": "comments-inte-allman-handling", **not_official("kommentar")},
                    {
                        "id": "comments-inlagg-publiceras-inte",
                        "drop_when": {
                            "field": "post_record_id",
                            "not_in_published": "posts.record_id",
                        },
                        "basis": "21 kap. 7 § OSL",
                        "reason": "Kommentar till ett inlägg som inte publiceras (eller okänt "
                        "inlägg): publiceras inte utan sitt sammanhang",
                    },
                ],
            },
        },
    }


def render_rules(
    pseudonymize: bool, own_accounts: Sequence[str] = (), *, account_names: bool = True
) -> bytes:
    """rules.yaml text: one line per field, a comment header, flow style for leaves."""
    data = rules_data(pseudonymize, own_accounts, account_names=account_names)
    lines = [_RULES_HEADER.rstrip("\n")]
    lines.append(f"version: {data['version']}")
    lines.append(f"decided_by: {_yaml(data['decided_by'])}")
    lines.append("resources:")
    for rname, res in data["resources"].items():
        lines.append(f"  {rname}:")
        lines.append(f"    own_accounts: {_yaml(res['own_accounts'])}")
        lines.append("    fields:")
        lines.extend(f"      {fname}: {_yaml(spec)}" for fname, spec in res["fields"].items())
        lines.append("    rows:")
        for row in res["rows"]:
            first = True
            for key, value in row.items():
                lines.append(f"      {'- ' if first else '  '}{key}: {_yaml(value)}")
                first = False
    return ("\n".join(lines) + "\n").encode("utf-8")


_PLAIN = re.compile(r"^[a-z][a-z0-9_.-]*$")


def _yaml(value: Any) -> str:
    """A YAML flow scalar or collection; strings JSON-quoted (valid YAML) unless plain words."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        if _PLAIN.match(value) and value not in ("true", "false", "null", "yes", "no"):
            return value
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ", ".join(_yaml(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_yaml(v)}" for k, v in value.items()) + "}"
    raise TypeError(type(value).__name__)
