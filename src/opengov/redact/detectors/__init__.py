"""Find and replace Swedish personal identifiers in text and in Arrow columns.

What a detector sees is what a reader sees: text is normalised first (`normalise`: digits of
any script, every dash and space, format and control characters, percent-encoding, HTML
references, fullwidth and other compatibility forms), and a hit replaces the whole original
span. Kinds and their written forms are documented in each family's module (`identifiers`,
`email`, `phone`, `postcode`) and in docs/detectors.md.

Arrays are scanned without a Python call per cell (`engine`): an RE2 prefilter picks candidate
cells, then normalisation and every exact check (Luhn, calendar, coordination numbers, phone
number metadata, e-mail syntax) run as numpy or Arrow compute kernels over whole batches. The
one-string functions (`scan_text`, `replace_text`, `contains_personal_data`) run the same
engine on a one-cell array, so strings and columns agree.

Classification does not depend on which kinds the caller asked for. A digit string that is a
valid personnummer is a personnummer even when only phones are wanted, so it is never reported
or replaced as a phone: families run in a fixed order and each one sees the spans claimed by
the earlier ones masked out. Only e-mail is the exception: when e-mail is wanted the whole
address goes, identifiers inside it included; when it is not, identifiers inside addresses are
still found. Offsets in `Hit` are Python string indices (code points) in the original string.

Reusing a scan (the contract for a pipeline that scans a column by rule and then runs the last
scan): `scan_replace(column, kinds)` returns `ScanResult.clean`, the kinds that can no longer
be found anywhere in `ScanResult.array` (every hit of those kinds was replaced by a tag, and
tags hold no digits or addresses, so no replacement creates a new hit). Pass it on:
`find_cells(result.array, DEFAULT_LAST_SCAN, clean=result.clean)` skips those kinds (their
masks come back all False) and scans only the rest. `clean` is only sound for the very array
`scan_replace` returned (or a row filter or slice of it); after any other change to the text,
scan again.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from opengov.sources.textbytes import from_numpy_bool

from . import engine
from .identifiers import classify, classify_many, luhn_valid
from .normalise import unseen_changes
from .numeric import canonical_text
from .registry import ALL_KINDS, CONTEXT_KINDS, KINDS, TAGS, TEXT_KINDS

__all__ = [
    "ALL_KINDS",
    "CONTEXT_KINDS",
    "DEFAULT_LAST_SCAN",
    "KINDS",
    "TAGS",
    "TEXT_KINDS",
    "Hit",
    "ScanResult",
    "canonical_text",
    "classify",
    "classify_many",
    "contains_personal_data",
    "find_cells",
    "luhn_valid",
    "replace_text",
    "scan_replace",
    "scan_text",
    "validate_kinds",
]

DEFAULT_LAST_SCAN: tuple[str, ...] = ("personnummer", "samordningsnummer", "email", "phone")


class Hit(NamedTuple):
    kind: str
    start: int
    end: int


@dataclass(frozen=True)
class ScanResult:
    """`array` with hits replaced; per kind, the hits (`matches`) and the cells holding at
    least one (`cells`); `clean`: the kinds `array` is now free of (see the module docstring)."""

    array: pa.Array | pa.ChunkedArray
    matches: dict[str, int]
    cells: dict[str, int]
    clean: frozenset[str] = field(default_factory=frozenset)


def validate_kinds(kinds: Iterable[str]) -> list[str]:
    """Unknown kind names, in the order given, each once (the rules loader reports them)."""
    unknown: list[str] = []
    for kind in kinds:
        if kind not in TAGS and kind not in unknown:
            unknown.append(kind)
    return unknown


def _wanted(kinds: Iterable[str]) -> frozenset[str]:
    if isinstance(kinds, str):
        # A bare string would otherwise be read as a set of one-letter kinds.
        kinds = (kinds,)
    kinds = list(kinds)
    unknown = validate_kinds(kinds)
    if unknown:
        raise ValueError(
            f"unknown detector kinds: {', '.join(unknown)}; known: {', '.join(ALL_KINDS)}"
        )
    contextual = [kind for kind in kinds if kind in CONTEXT_KINDS]
    if contextual:
        raise ValueError(f"{', '.join(contextual)} needs its own module (detectors.handles)")
    return frozenset(kinds)


def _ordered(want: Iterable[str]) -> list[str]:
    return sorted(want, key=ALL_KINDS.index)


# --- one string ---------------------------------------------------------------------------


def _text_hits(text: str, want: frozenset[str]) -> list[Hit]:
    if not want or not text:
        return []
    the_plan = engine.plan(want)
    # Most report and log strings stop here, in Python: the prefilters as Python `re`.
    prefilter = the_plan.text_prefilter
    if prefilter is not None and not prefilter.search(text) and not unseen_changes(text):
        return []
    raw = text.encode("utf-8", "replace")  # lone surrogates become "?", one code point each
    array = pa.array([raw], pa.binary()).cast(pa.large_string())
    hits = engine.chunk_hits(array, the_plan, np.ones(1, dtype=bool))
    if not len(hits):
        return []
    order = np.argsort(hits.start, kind="stable")
    bounds = sorted({*hits.start.tolist(), *hits.end.tolist()})
    # Byte offsets to code points, one pass over the string.
    chars: dict[int, int] = {}
    previous, count = 0, 0
    for bound in bounds:
        count += len(raw[previous:bound].decode("utf-8", "replace"))
        chars[bound] = count
        previous = bound
    return [
        Hit(ALL_KINDS[int(hits.kind[i])], chars[int(hits.start[i])], chars[int(hits.end[i])])
        for i in order.tolist()
    ]


def _replace(text: str, hits: Sequence[Hit]) -> str:
    parts: list[str] = []
    pos = 0
    for hit in hits:
        parts.append(text[pos : hit.start])
        parts.append(TAGS[hit.kind])
        pos = hit.end
    parts.append(text[pos:])
    return "".join(parts)


def scan_text(text: str, kinds: Sequence[str] = KINDS) -> list[Hit]:
    """Hits in one string, ordered by position; for reports, logs and files."""
    return _text_hits(text, _wanted(kinds))


# Replacing can expose a hit the first reading did not see: a run of names cut short leaves
# the rest of it ("Karin Karin Karin Karin K. Sten Karin": "Sten Karin" after the tag). Cells
# with a hit are read again until nothing more is found, a bounded number of times; the last
# scan still blocks the publish if a hit remains after that.
REPLACE_PASSES = 4


def replace_text(text: str, kinds: Sequence[str] = DEFAULT_LAST_SCAN) -> str:
    """`text` with every hit replaced by its tag (again, until nothing more is found)."""
    want = _wanted(kinds)
    for _ in range(REPLACE_PASSES):
        hits = _text_hits(text, want)
        if not hits:
            break
        text = _replace(text, hits)
    return text


def contains_personal_data(text: str, kinds: Sequence[str] = DEFAULT_LAST_SCAN) -> bool:
    return bool(_text_hits(text, _wanted(kinds)))


# --- columns ------------------------------------------------------------------------------


def _string_chunks(array: pa.Array | pa.ChunkedArray) -> tuple[list[pa.Array], pa.DataType]:
    """Chunks as string/large_string (what the kernels take) and the type to give back."""
    chunks = list(array.chunks) if isinstance(array, pa.ChunkedArray) else [array]
    original: pa.DataType = array.type
    kind = original
    if pa.types.is_dictionary(kind):
        kind = kind.value_type
        chunks = [chunk.dictionary_decode() for chunk in chunks]
        original = kind
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        return chunks, original
    if pa.types.is_string_view(kind) or pa.types.is_null(kind):
        return [pc.cast(chunk, pa.large_string()) for chunk in chunks], original
    raise TypeError(f"scan_replace needs a string column, got {original}; see canonical_text")


def scan_replace(array: pa.Array | pa.ChunkedArray, kinds: Sequence[str]) -> ScanResult:
    """Replace every hit by its tag; same length, nulls stay null.

    Returns the same container it was given (Array or ChunkedArray, chunking kept) so a large
    column is never combined into one buffer. Dictionary input comes back decoded. Raises
    TypeError for a non-string column (a rule's `scan` applies to text fields).
    """
    want = _wanted(kinds)
    order = _ordered(want)
    matches = dict.fromkeys(order, 0)
    cells = dict(matches)
    chunks, out_type = _string_chunks(array)
    if not want or pa.types.is_null(out_type):
        return ScanResult(array, matches, cells, want)
    the_plan = engine.plan(want)
    out: list[pa.Array] = []
    for chunk, candidates in zip(chunks, engine.candidate_masks(chunks, the_plan), strict=True):
        hits = engine.chunk_hits(chunk, the_plan, candidates)
        found = [hits]
        chunk = engine.replace_hits(chunk, hits)
        rows = np.unique(hits.row)
        for _ in range(REPLACE_PASSES - 1):
            if not len(rows):
                break
            again = chunk.take(pa.array(rows))
            more = engine.chunk_hits(again, the_plan, np.ones(len(again), dtype=bool))
            if not len(more):
                break
            replaced = engine.replace_hits(again, more)
            mask = np.zeros(len(chunk), dtype=bool)
            mask[rows] = True
            chunk = pc.replace_with_mask(chunk, pa.array(mask), replaced.cast(chunk.type))
            # `more` numbers the re-read rows 0, 1, ...: back to the chunk's own row numbers.
            hit_rows = rows[more.row]
            found.append(engine.Hits(hit_rows, more.start, more.end, more.kind))
            rows = np.unique(hit_rows)
        _count_all(found, matches, cells)
        out.append(chunk if chunk.type == out_type else pc.cast(chunk, out_type))
    if isinstance(array, pa.ChunkedArray):
        return ScanResult(pa.chunked_array(out, type=out_type), matches, cells, want)
    return ScanResult(out[0], matches, cells, want)


def _count_all(found: list[engine.Hits], matches: dict[str, int], cells: dict[str, int]) -> None:
    """Matches of every pass; a cell counted once per kind however many passes found it."""
    found = [h for h in found if len(h)]
    if not found:
        return
    if len(found) == 1:
        _count(found[0], matches, cells)
        return
    row = np.concatenate([h.row for h in found])
    kind = np.concatenate([h.kind for h in found])
    _count(engine.Hits(row, row, row, kind), matches, cells)


def _count(hits: engine.Hits, matches: dict[str, int], cells: dict[str, int]) -> None:
    if not len(hits):
        return
    for index in np.unique(hits.kind).tolist():
        rows = hits.row[hits.kind == index]
        kind = ALL_KINDS[index]
        matches[kind] += len(rows)
        cells[kind] += len(np.unique(rows))


def find_cells(
    array: pa.Array | pa.ChunkedArray, kinds: Sequence[str], *, clean: Iterable[str] = ()
) -> dict[str, pa.BooleanArray]:
    """Per kind, which cells hold at least one hit (False for nulls); nothing is replaced.

    Any column type is scanned, through `canonical_text` (a personnummer stored as an
    integer or a float is still found). Kinds in `clean` are known to be absent (the column is
    the output of `scan_replace` with those kinds, see the module docstring): they are not
    scanned again and their masks are all False.
    """
    want = _wanted(kinds)
    skip = _wanted(clean)
    if not want:
        return {}
    text = canonical_text(array)
    chunks = list(text.chunks) if isinstance(text, pa.ChunkedArray) else [text]
    order = _ordered(want)
    parts: dict[str, list[np.ndarray]] = {kind: [] for kind in order}
    scan = want - skip
    the_plan = engine.plan(scan) if scan else None
    masks = (
        engine.candidate_masks(chunks, the_plan)
        if the_plan
        else [np.zeros(len(c), bool) for c in chunks]
    )
    for chunk, candidates in zip(chunks, masks, strict=True):
        hits = engine.chunk_hits(chunk, the_plan, candidates) if the_plan else engine.Hits.empty()
        for kind in order:
            flags = np.zeros(len(chunk), dtype=bool)
            flags[hits.row[hits.kind == ALL_KINDS.index(kind)]] = True
            parts[kind].append(flags)
    return {
        kind: from_numpy_bool(np.concatenate(parts[kind]) if parts[kind] else np.zeros(0, bool))
        for kind in order
    }
