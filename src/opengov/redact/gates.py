"""Gates that run after the rules, whatever the rules say, batch by batch: the last scan for
personal data, the re-identification (k-anonymity) check, and the CSV formula guard."""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from opengov.errors import DisclosureBlocked, ReidentificationRisk, RulesError
from opengov.redact.free_text import Distinct, KnownWords, last_scan_kinds
from opengov.rules import QuasiIdentifiers, ResourceRules
from opengov.sources.textbytes import from_numpy, from_numpy_bool

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def neutralise_formulas(table: pa.Table) -> tuple[pa.Table, dict[str, int]]:
    """Prefix cells a spreadsheet would run as a formula with an apostrophe (CSV only)."""
    counts: dict[str, int] = {}
    columns = []
    for name, column in zip(table.column_names, table.columns, strict=True):
        if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
            starts = formula_cells(column)
            count = int(starts.sum())
            if count:
                counts[name] = count
                quote, empty = pa.scalar("'", column.type), pa.scalar("", column.type)
                quoted = pc.binary_join_element_wise(quote, column, empty)
                column = pc.if_else(pa.array(starts), quoted, column)
        columns.append(column)
    return pa.table(columns, names=table.column_names), counts


_FORMULA_BYTES = np.zeros(256, dtype=bool)
_FORMULA_BYTES[[ord(p) for p in FORMULA_PREFIXES]] = True


def formula_cells(column: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """Which cells of a string column start with a formula character: each prefix is one
    ASCII byte, which in UTF-8 never begins a longer character, so the first byte decides
    (numpy over the offsets, not a string kernel per cell)."""
    from opengov.sources.textbytes import buffers

    chunks = column.chunks if isinstance(column, pa.ChunkedArray) else [column]
    parts = []
    for chunk in chunks:
        data, offsets = buffers(chunk)
        firsts = offsets[:-1]
        filled = offsets[1:] > firsts
        starts = np.zeros(len(chunk), dtype=bool)
        starts[filled] = _FORMULA_BYTES[data[firsts[filled]]]
        if chunk.null_count:
            starts &= np.asarray(pc.is_valid(chunk).to_numpy(zero_copy_only=False), dtype=bool)
        parts.append(starts)
    return np.concatenate(parts) if parts else np.zeros(0, dtype=bool)


def _is_scalar(kind: pa.DataType) -> bool:
    """Numbers and times: values whose text is a function of a fixed-width value."""
    t = pa.types
    return bool(
        t.is_integer(kind) or t.is_floating(kind) or t.is_decimal(kind) or t.is_date(kind)
        or t.is_timestamp(kind) or t.is_time(kind)
    )  # fmt: skip


def scan_text(column: pa.ChunkedArray | pa.Array) -> pa.ChunkedArray | pa.Array:
    """A column as the text the detectors read: strings as they are, every other type as a
    reader of the published files sees it (`detectors.canonical_text`: 198112289874.0 as
    "198112289874", not Arrow's "1.98112289874e+11", which no detector reads as the
    personnummer that Parquet, the XLSX and the page show digit by digit)."""
    from opengov.redact.detectors import canonical_text

    kind = column.type
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        return column
    if pa.types.is_dictionary(kind):
        return pc.cast(column, kind.value_type)
    if pa.types.is_null(kind):
        return pc.cast(column, pa.string())
    if pa.types.is_timestamp(kind):
        return pc.strftime(column, format="%Y-%m-%dT%H:%M:%S")
    return canonical_text(column)


@dataclass
class LastScan:
    """Whatever the rules say, no identifier leaves: every published column is scanned.

    A column a field's own `scan` already cleaned of some kinds is scanned for the other kinds
    only (the replaced text holds tags, not identifiers); a declared identifier column skips
    the kinds it declares. Hits block the publish (the counts cover every batch) or, with
    `on_detect: quarantine`, withhold their rows.
    """

    resource: str
    rules: ResourceRules
    counts: Counter[tuple[str, str]] = field(default_factory=Counter)
    quarantined: int = 0
    known: KnownClean = field(default_factory=lambda: KnownClean())
    words: dict[str, KnownWords] = field(default_factory=dict)  # per column: free-text decisions

    def kinds(
        self,
        name: str,
        column: pa.Array | pa.ChunkedArray,
        cleaned: Sequence[str],
        distinct: Distinct | None = None,
    ) -> list[str]:
        """What to look for in this column (`free_text.last_scan_kinds`: the identifier kinds
        less a declared identifier column's, names and addresses in free text), less what the
        field's own scan already removed. `distinct`: `repeats(column)`, when the caller has it."""
        known = self.words.setdefault(name, KnownWords()) if distinct is not None else None
        kinds = last_scan_kinds(column, self.rules.fields.get(name), distinct, known)
        return [k for k in kinds if k not in cleaned]

    def scan_column(
        self, name: str, column: pa.Array | pa.ChunkedArray, cleaned: Sequence[str]
    ) -> dict[str, pa.Array]:
        """Which cells of one column hold each kind. Touches only this column's state (its
        known-clean values and word counts), so columns can be scanned on several threads."""
        if not len(column) or pa.types.is_boolean(column.type):
            return {}  # true/false: no identifier fits
        if not _is_scalar(column.type):
            text = scan_text(column)
            # One dictionary of the column's values serves the free-text decision and the scan.
            distinct = repeats(text)
            kinds = self.kinds(name, column, cleaned, distinct if text is column else None)
        else:
            # Dates, numbers: the repeats are found on the typed values (cheaper to hash than
            # their text), and only the distinct ones are written out as text.
            kinds = self.kinds(name, column, cleaned, None)
            if not kinds:
                return {}
            typed = repeats(column)
            if typed is None:
                text, distinct = scan_text(column), None
            else:
                text, distinct = column, (scan_text(typed[0]), typed[1])
        if not kinds:
            return {}
        if distinct is not None:
            return self.known.find_cells((name, tuple(kinds)), distinct, kinds)
        return find_cells(text, kinds, distinct)

    def record(
        self, table: pa.Table, found: dict[str, dict[str, pa.Array]]
    ) -> tuple[pa.Table, pa.BooleanArray | None]:
        """Count what `scan_column` found in each column of `table` (in column order): the
        batch to publish, and which of its rows were withheld (None: none)."""
        hits_any: pa.Array | None = None
        for name in table.column_names:
            for kind, cells in found.get(name, {}).items():
                count = int(pc.sum(cells).as_py() or 0)
                if not count:
                    continue
                self.counts[(name, kind)] += count
                hits_any = cells if hits_any is None else pc.or_(hits_any, cells)
        if hits_any is None or self.rules.on_detect != "quarantine":
            return table, None
        hits = pc.fill_null(hits_any, False)
        self.quarantined += int(pc.sum(hits).as_py() or 0)
        return table.filter(pc.invert(hits)), hits

    @property
    def blocked(self) -> bool:
        return bool(self.counts) and self.rules.on_detect != "quarantine"

    def log(self) -> list[dict[str, Any]]:
        outcome = "quarantined" if self.rules.on_detect == "quarantine" else "blocked"
        return [
            {
                "resource": self.resource,
                "field": name,
                "detector": kind,
                "cells": count,
                "outcome": outcome,
            }
            for (name, kind), count in self.counts.items()
        ]

    def finish(self) -> None:
        if self.blocked:
            raise DisclosureBlocked(
                "the last scan found personal data in published columns; classify the field, "
                "add 'scan' to its rule, or set on_detect: quarantine (names and addresses in "
                "free text: 'scan: [name, address]', or 'names: public' with a basis and reason)",
                details=[
                    f"{self.resource}.{name}: {kind} in {count} cell(s)"
                    for (name, kind), count in self.counts.items()
                ],
            )


# --- re-identification -------------------------------------------------------------------------

_COUNT = "__rows"
_PERSON = "__person"


@dataclass
class QuasiCounts:
    """How many rows (or people) share each combination of quasi-identifiers, kept as counts.

    Without a person field, the state is one row per combination with its count. With one,
    it is the distinct (combination, person) pairs, a person as a 64-bit fingerprint of its
    source value: a collision can only merge two people, which makes the gate stricter.
    """

    resource: str
    qi: QuasiIdentifiers
    parts: list[pa.Table] = field(default_factory=list)
    pending_rows: int = 0

    def feed(self, published: pa.Table, person: pa.Array | pa.ChunkedArray | None) -> None:
        if not published.num_rows:
            return
        missing = [f for f in self.qi.fields if f not in published.column_names]
        if missing:
            raise RulesError(
                f"quasi_identifiers of {self.resource!r} name fields that are not published: "
                + ", ".join(missing)
            )
        columns = {f: published[f] for f in self.qi.fields}
        if person is not None:
            from opengov.validate.keys import fingerprint

            if isinstance(person, pa.ChunkedArray):
                person = person.combine_chunks()
            text = pc.cast(person, pa.string()) if not pa.types.is_string(person.type) else person
            columns[_PERSON] = fingerprint(text)
            part = pa.table(columns).group_by(list(columns)).aggregate([])
        else:
            part = pa.table(columns).group_by(list(self.qi.fields)).aggregate([([], "count_all")])
            part = part.rename_columns([*self.qi.fields, _COUNT])
        self.parts.append(part)
        self.pending_rows += part.num_rows
        if self.pending_rows > 1 << 18:
            self.parts = [self.state()]
            self.pending_rows = self.parts[0].num_rows

    def state(self) -> pa.Table:
        """The combined state: distinct pairs, or combinations with summed counts."""
        if not self.parts:
            return pa.table({})
        table = pa.concat_tables(self.parts, promote_options="permissive")
        if self.qi.person is not None:
            return table.group_by(table.column_names).aggregate([])
        summed = table.group_by(list(self.qi.fields)).aggregate([(_COUNT, "sum")])
        return summed.rename_columns([*self.qi.fields, _COUNT])

    def check(self) -> None:
        state = self.state()
        if not state.num_rows:
            return
        if self.qi.person is not None:
            counts = state.group_by(list(self.qi.fields)).aggregate([([], "count_all")])
            sizes = counts["count_all"]
            unit = "people"
        else:
            sizes = state[_COUNT]
            unit = "rows"
        small = int(pc.sum(pc.less(sizes, self.qi.k)).as_py() or 0)
        if small:
            raise ReidentificationRisk(
                f"{self.resource}: {small} combination(s) of ({', '.join(self.qi.fields)}) are "
                f"shared by fewer than k={self.qi.k} {unit}; generalise one of these fields or "
                "suppress rows",
            )


def check_linked(groups: Sequence[QuasiCounts]) -> None:
    """Resources that name the same person field, joined on it: every person's combination of
    all their quasi-identifiers must be shared by k people (the largest k declared)."""
    by_person: dict[str, list[QuasiCounts]] = {}
    for group in groups:
        if group.qi.person is not None:
            by_person.setdefault(group.qi.person, []).append(group)
    for person, linked in by_person.items():
        if len(linked) < 2:
            continue
        joined: pa.Table | None = None
        names: list[str] = []
        for group in linked:
            state = group.state()
            if not state.num_rows:
                return
            renamed = [f"{group.resource}.{f}" for f in group.qi.fields]
            state = state.rename_columns([*renamed, _PERSON])
            names.extend(renamed)
            joined = state if joined is None else joined.join(state, _PERSON, join_type="inner")
        assert joined is not None
        if not joined.num_rows:
            continue
        k = max(g.qi.k for g in linked)
        counts = joined.group_by(names).aggregate([(_PERSON, "count_distinct")])
        small = int(pc.sum(pc.less(counts[f"{_PERSON}_count_distinct"], k)).as_py() or 0)
        if small:
            raise ReidentificationRisk(
                f"{small} combination(s) of ({', '.join(names)}), joined on {person!r}, are "
                f"shared by fewer than k={k} people; generalise one of these fields or suppress "
                "rows"
            )


# --- detectors over distinct values ------------------------------------------------------------

_DISTINCT_SHARE = 0.5  # below this share of distinct values, scan each value once
_PROBE_ROWS = 1024


def repeats(column: pa.ChunkedArray | pa.Array) -> Distinct | None:
    """The distinct values of a column and each cell's index among them, when repeats make
    scanning each value once cheaper than scanning each cell (detectors depend on the value
    alone)."""
    array = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    if len(array) < 64:
        return None
    if len(array) > 2 * _PROBE_ROWS:
        # A column whose sampled rows (spread over the batch) are all different (ids, amounts,
        # timestamps) is not dictionary-encoded whole to find that out; either way the
        # verdicts are the same.
        step = len(array) // _PROBE_ROWS
        probe = array.take(from_numpy(np.arange(_PROBE_ROWS, dtype=np.int64) * step, pa.int64()))
        if pc.count_distinct(probe, mode="all").as_py() == len(probe):
            return None
    encoded = pc.dictionary_encode(array)
    if len(encoded.dictionary) > _DISTINCT_SHARE * len(array):
        return None
    return encoded.dictionary, encoded.indices


KNOWN_CLEAN_MAX = 1 << 16  # distinct values remembered per column and set of kinds
KNOWN_CLEAN_BYTES = 32 << 20  # and their text, so long repeated cells cannot grow it unbounded


@dataclass
class KnownClean:
    """Values of a column the detectors already found nothing in, per column and set of kinds,
    so that a later batch scans only the values it brings that no earlier batch had: a column
    of suppliers, categories or dates is scanned value by value once, not batch by batch.

    Sound because a detector's verdict depends on the value alone (the same text always gets
    the same hits). Only values with no hit of any of the kinds are remembered, so every cell
    with a hit is found and counted in every batch; at most `KNOWN_CLEAN_MAX` values a key,
    after which new values are scanned every time they come."""

    values: dict[tuple[str, tuple[str, ...]], pa.Array] = field(default_factory=dict)

    def find_cells(
        self, key: tuple[str, tuple[str, ...]], distinct: Distinct, kinds: Sequence[str]
    ) -> dict[str, pa.Array]:
        """`find_cells` over a column given as `repeats(column)`."""
        from opengov.redact import detectors as detect

        uniques, index = distinct
        known = self.values.get(key)
        if known is not None and known.type != uniques.type:
            known = known.cast(uniques.type)
        fresh = (
            pc.invert(pc.fill_null(pc.is_in(uniques, value_set=known), False))
            if known is not None
            else None
        )
        new = uniques if fresh is None else uniques.filter(fresh)
        found = detect.find_cells(new, kinds) if len(new) else {}
        masks: dict[str, pa.Array] = {}
        hit_any = from_numpy_bool(np.zeros(len(new), bool))
        for kind, mask in found.items():
            hit_any = pc.or_(hit_any, mask)
            if fresh is not None:
                # Over all distinct values: known ones False, new ones as scanned.
                known_false = from_numpy_bool(np.zeros(len(uniques), bool))
                mask = pc.replace_with_mask(known_false, fresh, mask)
            masks[kind] = pc.fill_null(mask.take(index), False)
        clean = new.filter(pc.invert(hit_any))
        roomy = known is None or (len(known) < KNOWN_CLEAN_MAX and known.nbytes < KNOWN_CLEAN_BYTES)
        if len(clean) and roomy:
            self.values[key] = clean if known is None else pa.concat_arrays([known, clean])
        if not found:
            none = from_numpy_bool(np.zeros(len(index), bool))
            masks = {kind: none for kind in kinds}
        return masks


def find_cells(
    column: pa.ChunkedArray | pa.Array, kinds: Sequence[str], distinct: Distinct | None = None
) -> dict[str, pa.Array]:
    """`detectors.find_cells`, each distinct value scanned once (`distinct`: `repeats(column)`
    when the caller already has it)."""
    from opengov.redact import detectors as detect

    if distinct is None:
        distinct = repeats(column)
    if distinct is None:
        return dict(detect.find_cells(column, kinds))
    uniques, index = distinct
    found = detect.find_cells(uniques, kinds)
    return {kind: pc.fill_null(mask.take(index), False) for kind, mask in found.items()}


def scan_replace(
    column: pa.ChunkedArray,
    kinds: Sequence[str],
    distinct: Distinct | None = None,
    known: tuple[KnownClean, tuple[str, tuple[str, ...]]] | None = None,
) -> Any:
    """`detectors.scan_replace`; a column whose distinct values hold no hit is returned as it
    is after scanning each value once (the usual case), else every cell is scanned for exact
    counts. `distinct`: `repeats(column)`, when the caller already has it; `known`: the values
    earlier batches of the column showed clean for these kinds, and the key to them (only the
    new values are scanned)."""
    from opengov.redact import detectors as detect

    if distinct is None:
        distinct = repeats(column)
    if distinct is not None and known is not None:
        memo, key = known
        masks = memo.find_cells(key, distinct, kinds)
        if not any(pc.any(mask).as_py() for mask in masks.values()):
            none = dict.fromkeys(detect._ordered(detect._wanted(kinds)), 0)
            return detect.ScanResult(column, none, dict(none), detect._wanted(kinds))
        return detect.scan_replace(column, kinds)
    if distinct is not None:
        probe = detect.scan_replace(distinct[0], kinds)
        if not any(probe.matches.values()):
            # Nothing to replace: the column as it is, with the probe's counts (all zero).
            return dataclasses.replace(probe, array=column)
    return detect.scan_replace(column, kinds)
