"""Hints for type errors, from the shape of the failing cells and never from their values.

A number field whose failing cells read `104 824,50` was exported with a decimal comma and a
space between thousands: the hint says which `decimalChar`/`groupChar` to declare. A date
field whose failing cells read `01/03/2024` gets the `format` they all fit. The hint is fixed
text chosen by matching the cells against the shapes `opengov init` knows (draft/infer.py),
so a report or a terminal that shows it shows no cell.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import pyarrow as pa

from opengov.draft.infer import (
    DATE_FORMATS,
    DATETIME_FORMATS,
    Guess,
    NumberStyle,
    fits,
)

# Without a group separator first (so "1,500" reads as a decimal comma, as in Swedish), then
# with one, a point before a comma (so "1 000" claims no decimal comma).
_HINT_STYLES = (
    NumberStyle("."),
    NumberStyle(","),
    *(NumberStyle(d, g) for g in (" ", "\u00a0", "\u202f") for d in (".", ",")),
    NumberStyle(",", "."),
    NumberStyle(".", ","),
)
_SPACE_NAMES = {" ": "a space", "\u00a0": "a no-break space", "\u202f": "a narrow no-break space"}


def _declared_type(note: str) -> str | None:
    # frictionless' type-error note: 'type is "number/default"'
    if 'type is "' not in note:
        return None
    return note.split('type is "', 1)[1].split("/", 1)[0]


def type_hint(note: str, cells: Sequence[str | None]) -> str | None:
    """A hint for a field's type errors, or None when the cells fit no known shape."""
    declared = _declared_type(note)
    values = pa.array([c for c in cells if c not in (None, "")], pa.string())
    if declared is None or len(values) == 0:
        return None
    if declared in ("number", "integer"):
        for style in _HINT_STYLES:
            if fits(Guess("number", number=style), values):
                return _number_hint(style, declared)
        return None
    if declared == "date":
        for fmt in DATE_FORMATS:
            if fmt != "%Y-%m-%d" and fits(Guess("date", format=fmt), values):
                return f'the cells look like dates written {fmt}: declare "format": "{fmt}"'
        return None
    if declared == "datetime":
        for fmt in DATETIME_FORMATS:
            if fits(Guess("datetime", format=fmt), values):
                return f'the cells look like date-times written {fmt}: declare "format": "{fmt}"'
        return None
    if declared == "boolean" and fits(Guess("boolean"), values):
        return (
            'the cells read ja/nej: declare "trueValues": ["ja", "Ja"], '
            '"falseValues": ["nej", "Nej"]'
        )
    return None


def _number_hint(style: NumberStyle, declared: str) -> str | None:
    if style.decimal == "." and style.group is None:
        if declared == "integer":
            return 'the cells are decimal numbers: declare "type": "number"'
        return None
    parts = []
    if style.decimal != ".":
        parts.append("a decimal comma")
    if style.group:
        parts.append(f"{_SPACE_NAMES.get(style.group, repr(style.group))} between thousands")
    declare = []
    if style.decimal != ".":
        declare.append(f'"decimalChar": {json.dumps(style.decimal)}')
    if style.group:
        declare.append(f'"groupChar": {json.dumps(style.group)}')
    if declared == "integer":
        declare.append('"type": "number"')
    return f"the cells are numbers written with {' and '.join(parts)}: declare {', '.join(declare)}"
