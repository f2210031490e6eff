"""What a detector family works on: a batch of normalised cells, and the spans it returns.

A family sees `Text`: the normalised UTF-8 bytes of many cells at once, with the spans found by
the families before it overwritten by NUL bytes (NUL is neither digit, letter nor separator, so
a masked span splits candidates apart). It returns `Spans`: byte ranges into that same buffer,
each with the index of its kind in the family's `kinds`. Positions are absolute in the batch
buffer; `Text.cell_of` gives the cell.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt
import pyarrow as pa

U8 = npt.NDArray[np.uint8]
I64 = npt.NDArray[np.int64]
Bools = npt.NDArray[np.bool_]

NUL = 0


_PAD = 32  # zero bytes after the buffer, so fixed-width windows never run off its end


class Text:
    """Normalised cells: `data[offsets[i]:offsets[i+1]]` is cell i.

    Masking is lazy: a masked copy shares the bytes until someone reads `data`, and keeps the
    digit runs the mask did not touch, so a family with nothing left to look at (phone
    numbers after every cell of an organisation-number column was claimed) costs nothing.
    """

    def __init__(
        self,
        data: U8,
        offsets: I64,
        *,
        runs: Runs | None = None,
        pending: tuple[tuple[I64, I64], ...] = (),
    ) -> None:
        self._data = data
        self.offsets = offsets
        self._runs = runs
        self._pending = pending
        self._padded: U8 | None = None

    @property
    def data(self) -> U8:
        if self._pending:
            data = self._data.copy()
            n = len(data)
            for starts, ends in self._pending:
                delta = np.zeros(n + 1, dtype=np.int8)
                delta[starts] += 1  # spans are disjoint: starts distinct, ends distinct
                delta[ends] -= 1
                data[np.cumsum(delta[:n], dtype=np.int8) > 0] = NUL
            self._data, self._pending = data, ()
        return self._data

    def runs(self) -> Runs:
        """The digit runs (computed once; a masked copy keeps the runs it did not touch)."""
        if self._runs is None:
            self._runs = digit_runs(self)
        return self._runs

    def columns(self, positions: I64, width: int) -> U8:
        """A (width, len(positions)) matrix: row j holds the byte at each position + j (zero
        past the end of the buffer). Rows, not columns, so reductions over it are fast."""
        assert width <= _PAD
        if self._padded is None:
            self._padded = np.concatenate([self.data, np.zeros(_PAD, dtype=np.uint8)])
        out = np.empty((width, len(positions)), dtype=np.uint8)
        for j in range(width):
            out[j] = self._padded[positions + j]
        return out

    @property
    def cells(self) -> int:
        return len(self.offsets) - 1

    def cell_of(self, positions: I64) -> I64:
        return np.searchsorted(self.offsets, positions, side="right").astype(np.int64) - 1

    def cell_start(self, positions: I64) -> I64:
        return self.offsets[self.cell_of(positions)]

    def cell_end(self, positions: I64) -> I64:
        return self.offsets[self.cell_of(positions) + 1]

    def at(self, positions: I64, lower: I64, upper: I64) -> npt.NDArray[np.int16]:
        """Bytes at `positions`, -1 where a position is outside [lower, upper) (its cell)."""
        inside = (positions >= lower) & (positions < upper)
        safe = np.clip(positions, 0, max(len(self.data) - 1, 0))
        values = self.data[safe].astype(np.int16) if len(self.data) else np.zeros(0, np.int16)
        return np.where(inside, values, -1).astype(np.int16)

    def strings(self) -> pa.LargeStringArray:
        """The cells as an Arrow array (no copy), for RE2 kernels."""
        buffers = [None, pa.py_buffer(self.offsets), pa.py_buffer(self.data)]
        array = pa.Array.from_buffers(pa.large_string(), self.cells, buffers)
        assert isinstance(array, pa.LargeStringArray)
        return array

    def masked(self, starts: I64, ends: I64) -> Text:
        """A copy with [starts[i], ends[i]) overwritten by NUL (spans sorted and disjoint)."""
        if not len(starts):
            return self
        carried: Runs | None = None
        runs = self._runs
        if runs is not None:
            # Runs a span covers whole are gone; the rest stay as they were. A span that
            # cuts a run (none of ours does) means counting again.
            i = np.searchsorted(ends, runs.start, side="right")
            safe = np.minimum(i, len(starts) - 1)
            touched = (i < len(starts)) & (starts[safe] < runs.end)
            whole = touched & (starts[safe] <= runs.start) & (ends[safe] >= runs.end)
            if np.array_equal(touched, whole):
                keep = ~touched
                carried = Runs(runs.start[keep], runs.end[keep], runs.cell[keep])
        return Text(
            self._data, self.offsets, runs=carried, pending=(*self._pending, (starts, ends))
        )


@dataclass(frozen=True)
class Spans:
    """Byte ranges [start, end) into a `Text` buffer, each with a kind index; sorted by start."""

    start: I64
    end: I64
    kind: I64

    @staticmethod
    def empty() -> Spans:
        zero = np.zeros(0, dtype=np.int64)
        return Spans(zero, zero, zero)

    @staticmethod
    def concat(parts: list[Spans]) -> Spans:
        parts = [p for p in parts if len(p)]
        if not parts:
            return Spans.empty()
        start = np.concatenate([p.start for p in parts])
        order = np.argsort(start, kind="stable")
        return Spans(
            start[order],
            np.concatenate([p.end for p in parts])[order],
            np.concatenate([p.kind for p in parts])[order],
        )

    def __len__(self) -> int:
        return len(self.start)

    def where(self, keep: Bools) -> Spans:
        return Spans(self.start[keep], self.end[keep], self.kind[keep])

    def take(self, indices: npt.NDArray[np.integer]) -> Spans:
        return Spans(self.start[indices], self.end[indices], self.kind[indices])


def overlapping(spans: Spans, blockers: Spans) -> Bools:
    """Which `spans` overlap any of `blockers` (blockers sorted by start and disjoint)."""
    if not len(blockers) or not len(spans):
        return np.zeros(len(spans), dtype=bool)
    i = np.searchsorted(blockers.end, spans.start, side="right")
    hit = i < len(blockers)
    safe = np.minimum(i, len(blockers) - 1)
    return hit & (blockers.start[safe] < spans.end)


@dataclass(frozen=True)
class Runs:
    """Maximal runs of ASCII digits, cell by cell, in position order."""

    start: I64
    end: I64
    cell: I64

    def __len__(self) -> int:
        return len(self.start)

    @property
    def length(self) -> I64:
        return self.end - self.start

    def same_cell_next(self) -> Bools:
        """Per run: the next run exists and is in the same cell."""
        out = np.zeros(len(self), dtype=bool)
        out[:-1] = self.cell[1:] == self.cell[:-1]
        return out

    def next_gap(self, text: Text, width: int) -> tuple[I64, npt.NDArray[np.int16]]:
        """Per run: the length of the gap to the next run (-1 if none in the cell), and a
        (width, runs) matrix of the gap's first bytes (-1 past its end)."""
        m = len(self)
        length = np.full(m, -1, dtype=np.int64)
        same = self.same_cell_next()
        length[same] = self.start[1:][same[:-1]] - self.end[same]
        inside = np.arange(width, dtype=np.int64)[:, None] < length
        values = text.columns(self.end, width).astype(np.int16)
        return length, np.where(inside, values, np.int16(-1))


def is_digit(values: npt.NDArray[np.integer]) -> Bools:
    return np.asarray((values >= 48) & (values <= 57), dtype=bool)


def digit_runs(text: Text) -> Runs:
    data = text.data
    n = len(data)
    if not n:
        zero = np.zeros(0, dtype=np.int64)
        return Runs(zero, zero, zero)
    digit = (data - np.uint8(48)) < 10  # uint8 wraps below "0"
    boundary = np.zeros(n + 1, dtype=bool)
    boundary[text.offsets] = True  # a cell start (and the end of the buffer)
    prev = np.zeros(n, dtype=bool)
    prev[1:] = digit[:-1]
    nxt = np.zeros(n, dtype=bool)
    nxt[:-1] = digit[1:]
    starts = np.flatnonzero(digit & (~prev | boundary[:n]))
    ends = np.flatnonzero(digit & (~nxt | boundary[1:])) + 1
    # Cell of each run: how many cells start at or before it, less one (empty cells too).
    first = text.offsets[:-1]
    marks = np.bincount(first[first < n], minlength=n)
    cell = (np.cumsum(marks) - 1)[starts].astype(np.int64)
    return Runs(starts.astype(np.int64), ends.astype(np.int64), cell)


Finder = Callable[[Text, frozenset[str]], Spans]
Selector = Callable[[pa.Array, frozenset[str]], pa.BooleanArray]


@dataclass(frozen=True)
class Family:
    """One detector family, registered in `registry.FAMILIES`.

    `kinds`: kind name -> the tag that replaces a hit, in report order.
    `order`: detection order; a family sees the spans of every earlier family masked out
    (all of them for `masks="always"`; for `"when_wanted"`, only the hits of wanted kinds).
    `prefilter`: an RE2 pattern over the original cell text that matches every cell where this
    family can find something after normalisation (cells with characters that normalisation
    changes are always candidates, see `engine`); a superset is fine, a miss is a leak.
    Write it in the syntax RE2 and Python `re` share (explicit classes from `chars`, no
    `\\p{..}` or `\\s`): one-string calls run it with Python `re`. If it needs RE2-only
    syntax, give a Python form in `text_prefilter` (None there and a pattern Python cannot
    compile: one-string calls treat every string as a candidate).
    `candidates`: instead of, or beside, the prefilter, a function that picks the candidate
    cells of a raw chunk for the wanted kinds of this family (a name list lookup).
    `freed_by`: names of earlier families whose masking can create a hit here that the
    prefilter does not see (a phone right after a masked personnummer); their prefilters are
    added to this one's.
    `find(text, want)`: the exact detector over normalised, masked text; `want` holds the
    family's kinds the caller asked for (a family may find the others too).
    `on_request`: kinds asked for by name only, never part of `KINDS` (names, addresses).
    """

    name: str
    kinds: Mapping[str, str]
    order: int
    prefilter: str
    find: Finder
    masks: Literal["always", "when_wanted"] = "always"
    freed_by: tuple[str, ...] = ()
    text_prefilter: str | None = None
    candidates: Selector | None = None
    on_request: bool = False
