"""Field and resource names a steward can type, from the labels a spreadsheet or database uses.

A Table Schema field keeps the label as its `title` ("Belopp (kr)") and gets a `name` that is a
safe lower-case identifier (`belopp_kr`): rules.yaml, row rules and the published CSV header
refer to fields by name, and a name with spaces, parentheses or a leading digit is easy to get
wrong in YAML. Swedish letters become their base letters (å, ä -> a; ö -> o), so
`Beslutsdatum för bidrag` is `beslutsdatum_for_bidrag`.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

_NOT_WORD = re.compile(r"[^a-z0-9]+")
_RESOURCE_NOT_OK = re.compile(r"[^a-z0-9_-]+")
MAX_NAME = 63  # PostgreSQL's identifier limit: names stay usable as column names too


def ascii_fold(text: str) -> str:
    """Lower case, accents and ring/diaeresis removed, other letters dropped."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def field_name(label: str, position: int) -> str:
    """A safe identifier for one label; `position` (1-based) names an empty label."""
    name = _NOT_WORD.sub("_", ascii_fold(label)).strip("_")[:MAX_NAME].rstrip("_")
    if not name:
        return f"field_{position}"
    if name[0].isdigit():
        name = f"f_{name}"[:MAX_NAME]
    return name


def field_names(labels: Sequence[str]) -> list[str]:
    """Safe, distinct names for a header row; a repeated name gets `_2`, `_3`, ..."""
    taken: set[str] = set()
    names: list[str] = []
    for position, label in enumerate(labels, start=1):
        base = field_name(label, position)
        name = base
        counter = 2
        while name in taken:
            suffix = f"_{counter}"
            name = base[: MAX_NAME - len(suffix)] + suffix
            counter += 1
        taken.add(name)
        names.append(name)
    return names


def resource_name(text: str, fallback: str = "data") -> str:
    """A Frictionless resource or package name (`^[a-z0-9._-]+$`, here without dots)."""
    name = _RESOURCE_NOT_OK.sub("-", ascii_fold(text)).strip("-_")[:MAX_NAME].strip("-_")
    return name or fallback
