"""Run the detector families over Arrow string chunks: prefilter, normalise, detect, map back.

1. An RE2 prefilter (`pyarrow.compute`, C++, no GIL, on all cores) picks the candidate cells:
   the union of the wanted families' prefilters, and every cell holding a character that
   normalisation changes (`EXOTIC`), so no written form slips past it.
2. Candidate cells are gathered into batches of bounded size, normalised (`normalise`) and
   handed to each family in detection order; a family's spans are overwritten by NUL before
   the next family looks (e-mail only when e-mail is wanted).
3. Spans map back to the whole original byte range and come out as `Hits`: chunk row, byte
   range in the chunk's data, kind.
Everything per cell is numpy or Arrow compute; Python loops run per batch and per family.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from opengov.sources.textbytes import buffers as text_buffers

from .chars import LINE_SP
from .normalise import readings
from .registry import ALL_KINDS, DETECTION_ORDER, TAGS
from .text import I64, Family, Spans, Text

# Characters (and sequences) that normalisation changes beyond what the prefilters' own
# classes cover (whitespace of any kind, dashes, letters drawn like Latin ones): controls,
# format characters, combining marks, digits of other scripts, compatibility forms, the
# ideographic full stop, percent-encoding, HTML references.
# tests/test_detect_forms.py checks every code point against `normalise.norm_char`.
EXOTIC = (
    r"[\x00-\x08\x0e-\x1f\x7f-\x9f\p{Cf}\p{M}\p{No}\x{2024}\x{2070}-\x{209F}\x{3002}\x{3358}-\x{33FF}"
    r"\x{FB29}\x{FE10}-\x{FE19}\x{FE30}-\x{FE6F}\x{FF00}-\x{FFEF}\x{FFFD}"
    # letters and marks whose NFKC form is ASCII: ordinals, ligatures, modifier letters,
    # letterlike symbols, mathematical alphanumerics
    r"\x{00AA}\x{00BA}\x{0132}-\x{0133}\x{017F}\x{01C4}-\x{01CC}\x{01F1}-\x{01F3}"
    r"\x{02B0}-\x{02B8}\x{02E1}-\x{02E3}\x{037E}\x{1D2C}-\x{1DBF}\x{1FEF}\x{2100}-\x{214F}"
    r"\x{2C7C}-\x{2C7D}\x{A7F2}-\x{A7F4}\x{FB00}-\x{FB06}\x{107A5}\x{1D400}-\x{1D7FF}"
    # Greek symbols whose NFKC form is a letter drawn like a Latin one (chars.LOOKALIKES)
    r"\x{03D2}\x{03F1}\x{1FBE}]"
    r"|[^\P{Nd}0-9]"
    r"|%[0-9A-Fa-f]{2}"
    r"|&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});"
)

# Spaced-out digits close up in normalisation (`8 1 1 2 2 8 9 8 7 4`); in the syntax RE2 and
# Python share, so both prefilters take it.
SPACED_DIGITS = f"[0-9]{LINE_SP}[0-9]"  # `0 8 - 1 2 3 4 5 6`: two digits a space apart

_SLICE_ROWS = 1 << 17
# Work arrays take tens of bytes per byte of text: 1 MiB batches keep a scan's extra memory
# near 100 MB whatever the column's size, at no measurable cost in speed.
_BATCH_BYTES = 1 << 20
_BATCH_CELLS = 1 << 18
_WINDOW = 4 << 20
_OVERLAP = 1 << 16
_FEW_PIECES = 1 << 15
_KIND_INDEX = {kind: i for i, kind in enumerate(ALL_KINDS)}
_TAG_BYTES = [TAGS[kind].encode() for kind in ALL_KINDS]


@dataclass(frozen=True)
class Step:
    family: Family
    report: frozenset[str]  # kinds of this family the caller wants
    mask: bool  # overwrite this family's spans before the next family looks


@dataclass(frozen=True)
class Plan:
    steps: tuple[Step, ...]
    prefilter: str  # RE2, for columns
    text_prefilter: re.Pattern[str] | None  # Python re, for one string; None: every string
    selectors: tuple[Step, ...] = ()  # families that also pick cells with `candidates`


@functools.cache
def plan(want: frozenset[str]) -> Plan:
    """Which families run, which report, which mask, and the prefilters for `want`."""
    needed = [f for f in DETECTION_ORDER if want & set(f.kinds)]
    if not needed:
        return Plan((), "", None)
    last = needed[-1].order
    steps: list[Step] = []
    for family in DETECTION_ORDER:
        if family.order > last:
            break
        report = frozenset(want & set(family.kinds))
        if report or family.masks == "always":
            steps.append(Step(family, report, family.masks == "always" or bool(report)))
    by_name = {step.family.name: step.family for step in steps}
    selecting: dict[str, Family] = {}
    for step in steps:
        if step.report:
            selecting[step.family.name] = step.family
            selecting.update((n, by_name[n]) for n in step.family.freed_by if n in by_name)
    prefilters = [f.prefilter for f in selecting.values() if f.prefilter]
    patterns = sorted({EXOTIC, SPACED_DIGITS, *prefilters})
    selectors = tuple(s for s in steps if s.report and s.family.candidates is not None)
    text_prefilter: re.Pattern[str] | None = None
    if not selectors:
        try:
            text_patterns = [
                SPACED_DIGITS,
                *(f.text_prefilter or f.prefilter for f in selecting.values() if f.prefilter),
            ]
            text_prefilter = re.compile("|".join(f"(?:{p})" for p in sorted(text_patterns)))
        except re.error:
            text_prefilter = None
    return Plan(tuple(steps), "|".join(f"(?:{p})" for p in patterns), text_prefilter, selectors)


def candidate_masks(chunks: list[pa.Array], the_plan: Plan) -> list[npt.NDArray[np.bool_]]:
    """Per chunk, the candidate cells: the RE2 prefilter, or a family's own `candidates`."""
    masks = prefilter_masks(chunks, the_plan.prefilter)
    for step in the_plan.selectors:
        assert step.family.candidates is not None
        for mask, chunk in zip(masks, chunks, strict=True):
            if len(chunk):
                picked = step.family.candidates(chunk, step.report)
                mask |= np.asarray(
                    pc.fill_null(picked, False).to_numpy(zero_copy_only=False), dtype=bool
                )
    return masks


@dataclass(frozen=True)
class Hits:
    """Hits in one chunk: row, byte range in the chunk's data buffer, index into ALL_KINDS."""

    row: I64
    start: I64
    end: I64
    kind: I64

    @staticmethod
    def empty() -> Hits:
        zero = np.zeros(0, dtype=np.int64)
        return Hits(zero, zero, zero, zero)

    def __len__(self) -> int:
        return len(self.row)


def prefilter_masks(chunks: list[pa.Array], pattern: str) -> list[npt.NDArray[np.bool_]]:
    """Per chunk, which cells the RE2 prefilter selects (False for nulls).

    This is the only pass that touches every cell. The kernel is single-threaded but releases
    the GIL, so large inputs are cut into row slices and run on `pa.cpu_count()` threads.
    """
    tasks = [
        (n, chunk.slice(start, _SLICE_ROWS))
        for n, chunk in enumerate(chunks)
        for start in range(0, len(chunk), _SLICE_ROWS)
    ]

    def run(task: tuple[int, pa.Array]) -> npt.NDArray[np.bool_]:
        mask = pc.fill_null(pc.match_substring_regex(task[1], pattern=pattern), False)
        return np.asarray(mask.to_numpy(zero_copy_only=False), dtype=bool)

    workers = min(pa.cpu_count(), len(tasks))
    if workers > 1:
        with ThreadPoolExecutor(workers) as pool:
            results = list(pool.map(run, tasks))
    else:
        results = [run(task) for task in tasks]
    per_chunk: list[list[npt.NDArray[np.bool_]]] = [[] for _ in chunks]
    for (n, _), mask in zip(tasks, results, strict=True):
        per_chunk[n].append(mask)
    return [np.concatenate(m) if m else np.zeros(0, dtype=bool) for m in per_chunk]


@dataclass(frozen=True)
class _Pieces:
    """What is scanned: whole candidate cells, and windows of very large ones.

    A cell over _WINDOW bytes is scanned in windows with _OVERLAP bytes of context on each
    side, so memory stays bounded by the window, not the cell. A window keeps the hits that
    start in its core and end before its artificial edge; anything shorter than the overlap
    is whole in the window whose core it starts in."""

    row: I64  # chunk row
    start: I64  # byte range scanned, in the chunk's data
    length: I64
    core_start: I64  # hits must start in [core_start, core_end)
    core_end: I64
    edge: I64  # hits must end at or before this (the window's end, or the cell's)

    @staticmethod
    def of(rows: I64, offsets: I64, data: npt.NDArray[np.uint8]) -> _Pieces:
        starts, ends = offsets[rows], offsets[rows + 1]
        big = (ends - starts) > _WINDOW
        if not big.any():
            return _Pieces(rows, starts, ends - starts, starts, ends, ends)
        parts: list[tuple[int, int, int, int, int, int]] = []
        lead = (data & 0xC0) != 0x80
        for row, lo, hi in zip(rows.tolist(), starts.tolist(), ends.tolist(), strict=True):
            if hi - lo <= _WINDOW:
                parts.append((row, lo, hi - lo, lo, hi, hi))
                continue
            core = lo
            while core < hi:
                core_end = _char_boundary(lead, min(core + _WINDOW, hi), hi)
                first = _char_boundary(lead, max(core - _OVERLAP, lo), hi)
                last = _char_boundary(lead, min(core_end + _OVERLAP, hi), hi)
                edge = last if last == hi else last - 1
                parts.append((row, first, last - first, core, core_end, edge))
                core = core_end
        cols = np.array(parts, dtype=np.int64).reshape(-1, 6).T
        return _Pieces(cols[0], cols[1], cols[2], cols[3], cols[4], cols[5])

    def __len__(self) -> int:
        return len(self.row)

    def take(self, index: slice) -> _Pieces:
        return _Pieces(
            self.row[index], self.start[index], self.length[index],
            self.core_start[index], self.core_end[index], self.edge[index],
        )  # fmt: skip


def _char_boundary(lead: npt.NDArray[np.bool_], at: int, limit: int) -> int:
    """The first character start at or after `at` (at most `limit`)."""
    while at < limit and not lead[at]:
        at += 1
    return at


def _batches(pieces: _Pieces) -> Iterator[_Pieces]:
    """Consecutive groups of pieces, each at most _BATCH_BYTES (or one window)."""
    total = np.cumsum(pieces.length)
    begin = 0
    while begin < len(pieces):
        base = total[begin - 1] if begin else 0
        stop = int(np.searchsorted(total, base + _BATCH_BYTES, side="right"))
        stop = min(max(stop, begin + 1), begin + _BATCH_CELLS)
        yield pieces.take(slice(begin, stop))
        begin = stop


def _gather(
    data: npt.NDArray[np.uint8], starts: I64, lengths: I64
) -> tuple[npt.NDArray[np.uint8], I64]:
    offsets = np.zeros(len(starts) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    total = int(offsets[-1])
    if total == 0:
        return np.zeros(0, dtype=np.uint8), offsets
    within = np.arange(total, dtype=np.int64) - np.repeat(offsets[:-1], lengths)
    return data[np.repeat(starts, lengths) + within], offsets


def detect_batch(text: Text, steps: tuple[Step, ...]) -> Spans:
    """Spans of the wanted kinds (kind = index into ALL_KINDS) in normalised text."""
    found: list[Spans] = []
    for step in steps:
        spans = step.family.find(text, step.report)
        if not len(spans):
            continue
        names = list(step.family.kinds)
        wanted = np.array([name in step.report for name in names], dtype=bool)
        keep = wanted[spans.kind]
        if keep.any():
            index = np.array([_KIND_INDEX[name] for name in names], dtype=np.int64)
            kept = spans.where(keep)
            found.append(Spans(kept.start, kept.end, index[kept.kind]))
        if step.family.masks == "always":
            text = text.masked(spans.start, spans.end)
        elif step.mask and keep.any():
            # Only what the caller wants goes: an unwanted address's digits stay visible to
            # the identifier detectors.
            text = text.masked(spans.start[keep], spans.end[keep])
    return Spans.concat(found)


def _union(found: list[Spans]) -> Spans:
    """Spans of several readings (original coordinates) as one disjoint set: overlapping
    spans merge, keeping the kind of the earliest (the first reading's on a tie)."""
    if len(found) == 1:
        return found[0]
    spans = Spans.concat(found)  # stable: the first reading first among equal starts
    reach = np.maximum.accumulate(spans.end)
    new = np.ones(len(spans), dtype=bool)
    new[1:] = spans.start[1:] >= reach[:-1]
    group = np.cumsum(new) - 1
    heads = np.flatnonzero(new)
    ends = np.zeros(len(heads), dtype=np.int64)
    np.maximum.at(ends, group, spans.end)
    return Spans(spans.start[heads], ends, spans.kind[heads])


def chunk_hits(chunk: pa.Array, the_plan: Plan, candidates: npt.NDArray[np.bool_]) -> Hits:
    """Hits of `the_plan`'s wanted kinds in a string/large_string chunk."""
    rows = np.flatnonzero(candidates).astype(np.int64)
    if not len(rows) or not the_plan.steps:
        return Hits.empty()
    data, offsets = text_buffers(chunk)
    parts: list[Hits] = []
    for batch in _batches(_Pieces.of(rows, offsets, data)):
        starts, lengths = batch.start, batch.length
        if int(starts[-1] + lengths[-1] - starts[0]) == int(lengths.sum()):
            # Adjacent rows (a column where every cell is a candidate): a view, no copy.
            raw = data[int(starts[0]) : int(starts[-1] + lengths[-1])]
            raw_offsets = np.concatenate([[0], np.cumsum(lengths)])
        else:
            raw, raw_offsets = _gather(data, starts, lengths)
        found: list[Spans] = []
        for reading in readings(raw, raw_offsets):
            norm = reading.text
            spans = detect_batch(Text(norm.data, norm.offsets), the_plan.steps)
            if len(spans):
                _, first, last = reading.original_span(spans.start, spans.end, raw_offsets)
                found.append(Spans(first, last, spans.kind))
        if not found:
            continue
        spans = _union(found)
        piece = np.searchsorted(raw_offsets, spans.start, side="right") - 1
        shift = starts[piece] - raw_offsets[piece]
        first, last = spans.start + shift, spans.end + shift
        keep = (
            (first >= batch.core_start[piece])
            & (first < batch.core_end[piece])
            & (last <= batch.edge[piece])
        )
        parts.append(Hits(batch.row[piece][keep], first[keep], last[keep], spans.kind[keep]))
    if not parts:
        return Hits.empty()
    return Hits(
        np.concatenate([p.row for p in parts]),
        np.concatenate([p.start for p in parts]),
        np.concatenate([p.end for p in parts]),
        np.concatenate([p.kind for p in parts]),
    )


def replace_hits(chunk: pa.Array, hits: Hits) -> pa.Array:
    """`chunk` (string/large_string) with each hit's bytes replaced by its kind's tag."""
    if not len(hits):
        return chunk
    data, offsets = text_buffers(chunk)
    order = np.argsort(hits.start, kind="stable")
    start, end, kind, row = hits.start[order], hits.end[order], hits.kind[order], hits.row[order]
    pool = b"".join(_TAG_BYTES)
    tag_len = np.array([len(t) for t in _TAG_BYTES], dtype=np.int64)
    tag_at = np.cumsum(tag_len) - tag_len + len(data)
    previous = np.concatenate([[0], end[:-1]])
    # Pieces in output order: kept text before each hit, the hit's tag, then the tail.
    piece_src = np.empty(2 * len(start) + 1, dtype=np.int64)
    piece_len = np.empty(2 * len(start) + 1, dtype=np.int64)
    piece_src[0:-1:2], piece_len[0:-1:2] = previous, start - previous
    piece_src[1::2], piece_len[1::2] = tag_at[kind], tag_len[kind]
    piece_src[-1], piece_len[-1] = end[-1], len(data) - end[-1]
    # The output lives in Arrow's memory pool, which keeps freed memory for the next column;
    # a fresh numpy array would fault in every page of a large column again.
    buffer = pa.allocate_buffer(int(piece_len.sum()))
    out = np.frombuffer(buffer, dtype=np.uint8)
    if len(piece_src) <= _FEW_PIECES:
        # Few hits in much text: copy the kept stretches as slices (memcpy), no index arrays.
        tags = [np.frombuffer(t, dtype=np.uint8) for t in _TAG_BYTES]
        pieces: list[npt.NDArray[np.uint8]] = []
        for a, b, k in zip(previous.tolist(), start.tolist(), kind.tolist(), strict=True):
            pieces.append(data[a:b])
            pieces.append(tags[k])
        pieces.append(data[int(end[-1]) :])
        np.concatenate(pieces, out=out)
    else:
        source = np.concatenate([data, np.frombuffer(pool, dtype=np.uint8)])
        out[:] = _gather(source, piece_src, piece_len)[0]
    delta = np.concatenate([[0], np.cumsum(tag_len[kind] - (end - start))])
    new_offsets = offsets + delta[np.searchsorted(row, np.arange(len(offsets)), side="left")]
    large = pa.types.is_large_string(chunk.type)
    if not large and new_offsets[-1] >= 2**31:
        raise ValueError("a string chunk would pass 2 GiB after replacement; use large_string")
    validity = None
    if chunk.null_count:
        validity = pc.is_valid(chunk).buffers()[1]
    width = np.int64 if large else np.int32
    buffers = [validity, pa.py_buffer(new_offsets.astype(width)), buffer]
    return pa.Array.from_buffers(chunk.type, len(chunk), buffers, null_count=chunk.null_count)
