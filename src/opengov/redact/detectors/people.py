"""The `name` and `address` kinds (detectors/persons.py) as a detector family.

Asked for by name only (`on_request`): never in a default, since they read words, not digits,
and cost more. They run after e-mail and before the identifiers, and their hits are masked
before the identifiers look only when they are wanted (an address's house number is then not
a candidate for anything else). Candidate cells come from `persons.candidates` (RE2 and a name
list lookup, no Python per cell), on the column and again on each normalised batch; only those
cells are handed to `persons.find`, one Python call each.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from . import persons
from .chars import LINE_SPACES, members
from .text import Family, Spans, Text

# Spaces other than " " and no-break space, which the name shapes do not list but a reader
# (and normalisation) takes for a space.
_NAME_SPACES = " \u00a0"
_OTHER_SPACES = "[" + members("".join(c for c in LINE_SPACES if c not in _NAME_SPACES)) + "]"


def candidates(chunk: pa.Array, want: frozenset[str]) -> pa.BooleanArray:
    """Cells of a raw chunk where a wanted name or address can be found after normalisation."""
    spaced = pc.replace_substring_regex(chunk, pattern=_OTHER_SPACES, replacement=" ")
    return persons.candidates(spaced, want)


def find(text: Text, want: frozenset[str]) -> Spans:
    strings = text.strings()
    chosen = persons.candidates(strings, want).to_numpy(zero_copy_only=False)
    cells = np.flatnonzero(chosen)
    if not len(cells):
        return Spans.empty()
    kinds = list(persons.KINDS)
    starts: list[int] = []
    ends: list[int] = []
    found: list[int] = []
    values = strings.take(pa.array(cells)).to_pylist()
    for cell, value in zip(cells.tolist(), values, strict=True):
        base = int(text.offsets[cell])
        for kind, start, end in persons.find(value, want):
            # Character offsets to bytes of the batch buffer.
            head = len(value[:start].encode()) if not value.isascii() else start
            size = len(value[start:end].encode()) if not value.isascii() else end - start
            starts.append(base + head)
            ends.append(base + head + size)
            found.append(kinds.index(kind))
    return Spans(
        np.array(starts, dtype=np.int64),
        np.array(ends, dtype=np.int64),
        np.array(found, dtype=np.int64),
    )


FAMILY = Family(
    name="people",
    kinds=persons.TAGS,
    order=15,
    prefilter="",
    find=find,
    masks="when_wanted",
    on_request=True,
    candidates=candidates,
)
