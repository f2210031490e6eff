"""The `name` and `address` kinds: private persons' names and street addresses in free text.

The detectors package calls `find` for one string and `candidates` for an Arrow chunk. Picking
candidates is vectorised and never calls Python per cell:

- addresses and role words: one RE2 pass (`pc.match_substring_regex`);
- names without a role word: a second RE2 pass for a name's shape (two capitalised words
  joined by a space, an initial, a particle, "Surname, First", a preposition before a capital);
  the cells with that shape are split on non-letters (`pc.split_pattern_regex`) and every
  piece is looked up in the name set (`pc.is_in`, a C++ hash lookup). A cell with the shape
  and a listed piece is a candidate.

Each is a superset of what `names.find` and `addresses.find` accept (every name rule needs a
role word, or a listed token in one of those shapes; a property test checks it on random
text), so skipping a cell never loses a hit. Python then runs only on the candidates.

Letters of other scripts that look like Latin ones (Cyrillic а, е, о, Greek Α, Ο, Armenian օ:
a copy-paste or a deliberate disguise, "Аnna Svеnsson") are read as the Latin letters they look
like before a name or an address is sought (`chars.LOOKALIKES`, the table normalisation reads
them by too; one character for one, so every span found is a span of the original text); the
vectorised pick reads them the same way.

`profile` looks at a sample of a column and says what was seen (private names, officials'
names, addresses, and whether the column is free text), for `opengov init` to suggest a rule.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from opengov.redact.detectors import addresses, names
from opengov.redact.detectors.chars import LOOKALIKE_FOREIGN, LOOKALIKE_LATIN, members
from opengov.sources.textbytes import buffers

KINDS: tuple[str, ...] = ("name", "address")
TAGS: dict[str, str] = {"name": "[namn borttaget]", "address": "[adress borttagen]"}

# Role words as RE2 alternatives, as whole words; any occurrence makes a cell a candidate.
_CUE_PATTERN = (
    r"(?:^|[^\p{L}])(?i:"
    + "|".join(sorted(names.STRONG_CUES, key=len, reverse=True))
    + r")(?:$|[^\p{L}])"
)
# Letters of other scripts drawn like a Latin letter (Cyrillic а, Greek Ο, ...: the one table,
# `chars.LOOKALIKES`), read as that letter.
_LOOKALIKES = str.maketrans(LOOKALIKE_FOREIGN, LOOKALIKE_LATIN)
# Only a chunk holding one of them has look-alikes to read.
_LOOKALIKE_SCRIPTS = f"[{members(LOOKALIKE_FOREIGN)}]"
# Splitting on runs of non-letters gives every piece `names` could look up ("Anna-Karin" gives
# "Anna" and "Karin"; "Svenssons" stays whole, so possessive forms are in the set).
_SPLIT = r"[^\p{L}]+"


@cache
def _name_set() -> pa.Array:
    return pa.array(list(names.prefilter_tokens()), pa.string())


# Registry text repeats itself (every document of a case carries the case's subject), so
# results for short cells are kept, up to a bound; the detectors are pure functions of the text.
_CACHE: dict[tuple[str, frozenset[str]], list[tuple[str, int, int]]] = {}
_CACHE_MAX = 32_768
_CACHE_TEXT = 512
_ADDRESS_NEEDS = re.compile(r"[0-9]|[cC]/[oO]")


def find(text: str, want: Iterable[str]) -> list[tuple[str, int, int]]:
    """(kind, start, end) of private names and addresses in `text`, ordered, not overlapping.

    Addresses are found first and win: a c/o line's name is part of the address.
    """
    want = frozenset(want)
    if len(text) > _CACHE_TEXT:
        return _find(text, want)
    key = (text, want)
    hits = _CACHE.get(key)
    if hits is None:
        if len(_CACHE) >= _CACHE_MAX:
            _CACHE.clear()
        hits = _CACHE[key] = _find(text, want)
    return list(hits)


def _find(text: str, want: frozenset[str]) -> list[tuple[str, int, int]]:
    if not text.isascii():
        text = text.translate(_LOOKALIKES)  # one for one: spans stay the original's
    hits: list[tuple[str, int, int]] = []
    taken: list[tuple[int, int]] = []
    # Every address part needs a digit or "c/o"; most cells have neither.
    if _ADDRESS_NEEDS.search(text):
        taken = addresses.find(text)
        if "address" in want:
            hits.extend(("address", s, e) for s, e in taken)
    if "name" in want:
        masked = text
        if taken:
            # Masked with NUL (not a letter) so a name never runs into an address.
            chars = list(text)
            for s, e in taken:
                chars[s:e] = "\0" * (e - s)
            masked = "".join(chars)
        hits.extend(("name", s, e) for s, e in names.private_spans(masked))
    hits.sort(key=lambda h: h[1])
    return hits


def candidates(chunk: pa.Array, want: Iterable[str]) -> pa.BooleanArray:
    """Which cells of a string chunk can hold a wanted hit (False for nulls)."""
    want = frozenset(want)
    chunk = _read_as_latin(chunk)
    patterns = []
    if "address" in want or "name" in want:
        # Addresses are needed for names too: their spans are masked before names are sought.
        patterns.append(addresses.PREFILTER)
    if "name" in want:
        patterns.append(_CUE_PATTERN)
    if not patterns or len(chunk) == 0:
        return pc.fill_null(pa.nulls(len(chunk), pa.bool_()), False)
    mask = pc.fill_null(
        pc.match_substring_regex(chunk, pattern="|".join(f"(?:{p})" for p in patterns)), False
    )
    if "name" not in want:
        return mask
    # Without a role word a name needs a listed piece and a name's shape; the (cheap) shape
    # test runs on every cell, the list lookup only on cells with the shape.
    shaped = pc.fill_null(pc.match_substring_regex(chunk, pattern=_shape_pattern()), False)
    listed = pc.fill_null(pa.nulls(len(chunk), pa.bool_()), False)
    if pc.any(shaped).as_py():
        hit = _has_listed_piece(pc.filter(chunk, shaped))
        listed = pc.replace_with_mask(listed, shaped, hit)
    return pc.or_(mask, listed)


def _read_as_latin(chunk: pa.Array) -> pa.Array:
    """The chunk with look-alike letters replaced as `find` reads them (`_LOOKALIKES`), so the
    name lookup and the address patterns see what `find` sees; only a chunk holding one of
    them pays for it (taking every such cell as a candidate instead sent a column
    of Russian text to Python a cell at a time, 58 us each)."""
    if not pc.any(pc.match_substring_regex(chunk, pattern=_LOOKALIKE_SCRIPTS)).as_py():
        return chunk
    # Only the look-alikes the chunk holds: every one is two bytes in UTF-8, found by numpy.
    data, _ = buffers(chunk)
    pairs = (data[:-1].astype(np.uint16) << 8) | data[1:] if len(data) > 1 else data[:0]
    held = set(np.unique(pairs).tolist())
    for foreign, latin in _LOOKALIKES.items():
        code = int.from_bytes(chr(foreign).encode(), "big")
        if code in held:
            chunk = pc.replace_substring(chunk, chr(foreign), chr(latin))
    return chunk


@cache
def _shape_pattern() -> str:
    return names.shape_prefilter()


def _has_listed_piece(chunk: pa.Array) -> pa.BooleanArray:
    """Cells with a piece in the name set, from a running count of listed pieces.

    The count before each cell's first piece and after its last come from the list offsets,
    so no Python runs per cell or per piece.
    """
    pieces = pc.split_pattern_regex(chunk, pattern=_SPLIT)
    flat = pieces.values  # the split result is fresh: its offsets start at 0
    value_set = _name_set()
    if flat.type != value_set.type:
        value_set = value_set.cast(flat.type)
    if len(flat) < len(value_set):
        # `is_in` hashes its value set on every call: with fewer pieces than listed names it is
        # cheaper to hash the pieces, probe the name set with them, and look up in what matched
        # (the same answer: a piece is listed iff it is one of the listed names it equals).
        value_set = pc.filter(value_set, pc.is_in(value_set, value_set=pc.unique(flat)))
    listed = pc.cast(pc.is_in(flat, value_set=value_set), pa.int64())
    running = pa.concat_arrays(
        [pa.array([0], pa.int64()), pc.cumulative_sum(listed) if len(listed) else listed]
    )
    at = pc.take(running, pieces.offsets)
    counts = pc.subtract(at.slice(1), at.slice(0, len(at) - 1))
    return pc.greater(counts, 0)


@dataclass(frozen=True)
class TextProfile:
    """What the name and address detectors saw in a sample of one column."""

    cells: int
    free_text: bool
    private_name_cells: int
    official_name_cells: int
    address_cells: int

    @property
    def suggestion(self) -> str:
        """`scan` (private names or addresses), `names: public` (only officials), or `none`."""
        if self.private_name_cells or self.address_cells:
            return "scan"
        if self.official_name_cells:
            return "names: public"
        return "none"

    def to_dict(self) -> dict[str, object]:
        return {
            "cells": self.cells,
            "free_text": self.free_text,
            "private_name_cells": self.private_name_cells,
            "official_name_cells": self.official_name_cells,
            "address_cells": self.address_cells,
            "suggestion": self.suggestion,
        }


def profile(sample: Sequence[str | None]) -> TextProfile:
    """Run the detectors over a sample of a column (never returns a value, only counts)."""
    from opengov.redact.free_text import is_free_text

    values = [v for v in sample if v]
    private = official = address = 0
    for value in values:
        kinds = {kind for kind, _, _ in find(value, KINDS)}
        private += "name" in kinds
        address += "address" in kinds
        official += any(h.role == "official" for h in names.find(value))
    return TextProfile(
        cells=len(values),
        free_text=is_free_text(pa.array(values, pa.string())),
        private_name_cells=private,
        official_name_cells=official,
        address_cells=address,
    )
