"""The arrow validator: frictionless' findings, computed with pyarrow kernels, batch by batch.

For every input on the fast path the set of (error type, row number, field) and the totals
per (field, type) equal what frictionless 5.21 reports; `tests/test_validate_parity.py` holds
it to that. A `ResourceValidator` is fed the typed batches of one resource (`sources.typed`)
and finished:

- Header: the reader's header match (frictionless' rules) gives label errors.
- Cells: type errors from the cast; constraints from `checks.check_column`, one column per
  thread (pyarrow kernels release the GIL, so both cores work).
- Rows: blank rows, missing and extra cells follow frictionless' `Row` rules (a blank row
  reports only `blank-row`; missing cells also fail `required`).
- Keys: `keys.DuplicateFinder` (unique, primaryKey) and canonical keys (foreignKeys).

Two reports come out: the steward's (every row) and the published one, which leaves out rows
the redaction withheld (`feed(batch, withheld=...)`): a report published beside the data
describes the published rows only.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, Future
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from opengov.package import Package, ResourceSpec
from opengov.sources.header import Expected, Header
from opengov.sources.typed import TypedBatch, TypedColumn, falses, nulled, primary_key
from opengov.validate import checks
from opengov.validate.checks import ConstraintFailure
from opengov.validate.declared import declared_findings
from opengov.validate.foreign import fold_zero, lookup_keys, member
from opengov.validate.keys import DuplicateFinder, canonical_key, make_spill_dir
from opengov.validate.model import Finding, ResourceResult, SampleCollector
from opengov.validate.policy import fk_parts


@dataclass
class Validated:
    """One resource's findings: for the steward, and for the published report."""

    steward: ResourceResult
    published: ResourceResult


@dataclass(frozen=True)
class Checks:
    """A batch's column checks under way on the pool (None: no pool, checked in `feed`)."""

    futures: list[Future[list[ConstraintFailure]]] | None


class ResourceValidator:
    """Findings of one resource, fed batch by batch; `finish` gives the results."""

    def __init__(
        self,
        package: Package,
        resource: ResourceSpec,
        labels: list[str],
        header: Header,
        *,
        samples: int,
        pool: Executor | None = None,
    ) -> None:
        self.package = package
        self.resource = resource
        self.labels = labels
        self.expected = header.expected
        self.pool = pool
        self.start = time.perf_counter()
        self.rows = 0
        self.collector = SampleCollector(samples)
        self.public = SampleCollector(samples)  # findings in published rows only
        self.notes: dict[tuple[str, str], str] = {}
        self._spill = make_spill_dir()
        self.spill = Path(self._spill.name)
        self._withheld: list[pa.Array] = []
        for problem in header.problems:
            finding = Finding(
                type=problem.type,
                row_number=problem.row_number,
                field_name=problem.field_name,
                field_number=problem.field_number,
                note=problem.note,
                label=problem.label,
            )
            self.collector.add(finding)
            self.public.add(finding)
        self._prepare_keys()

    # -- batches --

    def begin(self, batch: TypedBatch) -> Checks:
        """Begin checking a batch's columns on the pool; `feed` collects the results. A publish
        redacts the batch meanwhile (the published report needs to know what it withholds)."""
        if self.pool is None:
            return Checks(None)
        return Checks([self.pool.submit(self._check, e, c)
                       for e, c in zip(self.expected, batch.columns, strict=True)])  # fmt: skip

    def feed(
        self, batch: TypedBatch, withheld: pa.Array | None = None, started: Checks | None = None
    ) -> None:
        """Check one batch. `withheld`: rows the redaction keeps out of the published data;
        `started`: what `begin` returned for this batch."""
        numbers = batch.row_numbers
        self.rows += len(numbers)
        if not len(numbers):
            return
        shown_mask = pc.invert(pc.fill_null(withheld, True)) if withheld is not None else None
        if withheld is not None and self._keyed:
            hidden = numbers.filter(pc.fill_null(withheld, True))
            if len(hidden):
                self._withheld.append(hidden)
        if started is not None and started.futures is not None:
            failures = [future.result() for future in started.futures]
        else:
            mapper: Callable[..., Any] = self.pool.map if self.pool is not None else map
            failures = list(mapper(self._check, self.expected, batch.columns))
        cols = batch.columns
        # A row is blank when every cell is missing: none is when some column has no missing
        # cell (the usual case), and then no mask needs combining with it.
        blank: pa.Array | None = None
        if cols and all(c.cast.missing.true_count for c in cols):
            blank = cols[0].cast.missing
            for col in cols[1:]:
                blank = pc.and_(blank, col.cast.missing)
            blank = pc.fill_null(blank, False)
            alive = pc.invert(blank)

        def unblank(mask: pa.Array) -> pa.Array:
            return mask if blank is None else pc.and_(mask, alive)

        emit = functools.partial(self._emit, numbers=numbers, shown_mask=shown_mask)
        for exp, col, found in zip(self.expected, cols, failures, strict=True):
            # (Masks are never null: `true_count` says without a kernel call whether any
            # cell is flagged, and most columns of most batches have none.)
            if col.cast.invalid.true_count:
                emit(
                    unblank(col.cast.invalid),
                    type_="type-error",
                    exp=exp,
                    cells=col.cells,
                    note=f'type is "{exp.descriptor.get("type", "any")}/'
                    f'{exp.descriptor.get("format", "default")}"',
                    shown=col.shown,
                )
            for failure in found:
                constraint = (exp.descriptor.get("constraints") or {}).get(failure.name)
                emit(
                    unblank(failure.mask),
                    type_="constraint-error",
                    exp=exp,
                    cells=col.cells,
                    note=f'constraint "{failure.name}" is "{constraint}"',
                    shown=col.shown,
                )
            if col.absent.true_count:
                emit(unblank(col.absent), type_="missing-cell", exp=exp, cells=None, note="")
        if blank is not None:
            self._emit_rows(blank, numbers, "blank-row", None, note="", shown_mask=shown_mask)
        if batch.ragged:
            self._extra_cells(
                batch, blank if blank is not None else falses(len(numbers)), shown_mask
            )
        self._keys(batch, shown_mask)

    def _check(self, exp: Expected, col: TypedColumn) -> list[ConstraintFailure]:
        if col.native_failures is not None:
            found = [ConstraintFailure(name, mask) for name, mask in col.native_failures]
            pattern = (exp.descriptor.get("constraints") or {}).get("pattern")
            if pattern is not None and "pattern" in exp.supported:
                ok = pc.fill_null(pc.invert(pc.or_(col.cast.missing, col.cast.invalid)), False)
                mask = checks.pattern_failures(
                    str(pattern), col.cast.array, ok, exp.name, self.notes
                )
                if pc.any(mask).as_py():
                    found.append(ConstraintFailure("pattern", mask))
            return found
        return checks.check_column(
            exp.descriptor,
            col.checked or col.cast,
            col.cells,
            exp.missing_values,
            exp.supported,
            notes=self.notes,
            field_name=exp.name,
        )

    def _extra_cells(self, batch: TypedBatch, blank: pa.Array, shown: pa.Array | None) -> None:
        n = len(self.expected)
        blank_rows = set(
            batch.row_numbers.filter(blank).to_pylist() if pc.any(blank).as_py() else []
        )
        hidden = (
            set(batch.row_numbers.filter(pc.invert(shown)).to_pylist())
            if shown is not None
            else set()
        )
        for row in batch.ragged:
            if len(row.cells) <= n or row.number in blank_rows:
                continue
            for number, cell in enumerate(row.cells[n:], start=n + 1):
                finding = Finding(
                    type="extra-cell",
                    row_number=row.number,
                    field_name="",
                    field_number=number,
                    cell=cell,
                )
                self.collector.add(finding)
                if shown is not None and row.number not in hidden:
                    self.public.add(finding)

    def _emit(
        self,
        mask: pa.Array,
        *,
        numbers: pa.Array,
        shown_mask: pa.Array | None,
        type_: str,
        exp: Expected,
        cells: pa.Array | None,
        note: str,
        shown: pa.Array | None = None,
    ) -> None:
        mask = pc.fill_null(mask, False)
        if not pc.any(mask).as_py():
            return
        self._emit_to(self.collector, mask, numbers, type_, exp, cells, note, shown)
        if shown_mask is not None:
            self._emit_to(
                self.public, pc.and_(mask, shown_mask), numbers, type_, exp, cells, note, shown
            )

    @staticmethod
    def _emit_to(
        collector: SampleCollector,
        mask: pa.Array,
        numbers: pa.Array,
        type_: str,
        exp: Expected,
        cells: pa.Array | None,
        note: str,
        shown: pa.Array | None,
    ) -> None:
        count = int(pc.sum(mask).as_py() or 0)
        if not count:
            return
        room = max(0, collector.limit - collector.totals[(exp.name, type_)])
        if room:
            where = pc.indices_nonzero(mask).slice(0, room)
            rows = numbers.take(where).to_pylist()
            if cells is None:
                texts: list[Any] = [""] * len(rows)
            elif shown is not None:
                texts = [None if v is None else str(v) for v in shown.take(where).to_pylist()]
            else:
                texts = cells.take(where).to_pylist()
            for row, text in zip(rows, texts, strict=True):
                collector.add(
                    Finding(
                        type=type_,
                        row_number=row,
                        field_name=exp.name,
                        field_number=exp.number,
                        note=note,
                        cell="None" if text is None and type_ == "constraint-error" else text,
                    )
                )
            count -= len(rows)
        if count:
            collector.add_count(exp.name, type_, count)

    def _emit_rows(
        self,
        mask: pa.Array,
        numbers: pa.Array,
        type_: str,
        field_name: str | None,
        *,
        note: str,
        shown_mask: pa.Array | None,
    ) -> None:
        mask = pc.fill_null(mask, False)
        if not pc.any(mask).as_py():
            return
        targets = [(self.collector, mask)]
        if shown_mask is not None:
            targets.append((self.public, pc.and_(mask, shown_mask)))
        for collector, where in targets:
            count = int(pc.sum(where).as_py() or 0)
            if not count:
                continue
            room = max(0, collector.limit - collector.totals[(field_name, type_)])
            rows = numbers.filter(where).slice(0, room).to_pylist() if room else []
            for row in rows:
                collector.add(Finding(type=type_, row_number=row, field_name=field_name, note=note))
            if count > len(rows):
                collector.add_count(field_name, type_, count - len(rows))

    # -- keys --

    def _prepare_keys(self) -> None:
        names = [e.name for e in self.expected]
        index = {name: i for i, name in enumerate(names)}
        self.unique_finders: list[tuple[int, DuplicateFinder]] = []
        for i, exp in enumerate(self.expected):
            if (exp.descriptor.get("constraints") or {}).get("unique"):
                finder = DuplicateFinder(
                    name=f"unique-{i}",
                    fields=[exp.descriptor],
                    missing_values=[exp.missing_values],
                    spill_dir=self.spill,
                )
                self.unique_finders.append((i, finder))
        pk = primary_key(self.resource.schema)
        self.pk_index = [index[name] for name in pk] if pk and set(pk) <= set(names) else []
        self.pk_finder = (
            DuplicateFinder(
                name="primary-key",
                fields=[self.expected[i].descriptor for i in self.pk_index],
                missing_values=[self.expected[i].missing_values for i in self.pk_index],
                spill_dir=self.spill,
            )
            if self.pk_index
            else None
        )
        self.fk_groups: list[tuple[list[int], pa.Array, str]] = []
        for fk in self.resource.schema.get("foreignKeys") or []:
            fields, source_name, ref_fields = fk_parts(fk)
            if not set(fields) <= set(names):
                continue
            lookup = lookup_keys(self.package, self.resource, source_name, ref_fields)
            note = f'for "{", ".join(fields)}": not found in the lookup table'
            self.fk_groups.append(([index[f] for f in fields], lookup, note))
        self.exact_seen: dict[str, tuple[dict[Any, int], dict[Any, int]]] = {}
        self._keyed = bool(self.unique_finders or self.pk_finder)

    def _keys(self, batch: TypedBatch, shown: pa.Array | None) -> None:
        cols = batch.columns
        numbers = batch.row_numbers
        # Only the key columns' validity is needed (not a kernel pair for every column).
        wanted = {i for i, _ in self.unique_finders} | set(self.pk_index)
        wanted.update(i for index, _, _ in self.fk_groups for i in index)
        valid = {i: pc.invert(pc.or_(cols[i].cast.missing, cols[i].cast.invalid)) for i in wanted}
        for i, finder in self.unique_finders:
            exact = cols[i].exact
            if exact is not None:
                self._exact_duplicates(
                    f"u{i}", [exact], numbers, valid[i], "unique-error", i, shown
                )
            else:
                finder.add([cols[i].cast.array], [cols[i].cells], valid[i], numbers)
        if self.pk_index:
            all_none: pa.Array = pc.invert(valid[self.pk_index[0]])
            for i in self.pk_index[1:]:
                all_none = pc.and_(all_none, pc.invert(valid[i]))
            self._emit_rows(
                all_none,
                numbers,
                "primary-key",
                None,
                note='cells composing the primary keys are all "None"',
                shown_mask=shown,
            )
            keyed = pc.invert(all_none)
            exacts = [cols[i].exact for i in self.pk_index]
            if all(e is not None for e in exacts):
                self._exact_duplicates(
                    "pk",
                    [e for e in exacts if e is not None],
                    numbers,
                    keyed,
                    "primary-key",
                    None,
                    shown,
                )
            elif self.pk_finder is not None:
                self.pk_finder.add(
                    [nulled(cols[i].cast.array, valid[i]) for i in self.pk_index],
                    [nulled(cols[i].cells, valid[i]) for i in self.pk_index],
                    keyed,
                    numbers,
                )
        for index, lookup, note in self.fk_groups:
            parts = [nulled(cols[i].cast.array, valid[i]) for i in index]
            any_value: pa.Array = valid[index[0]]
            for i in index[1:]:
                any_value = pc.or_(any_value, valid[i])
            key = canonical_key([fold_zero(p) for p in parts])
            missing = pc.and_(any_value, pc.invert(member(key, lookup)))
            self._emit_rows(missing, numbers, "foreign-key", None, note=note, shown_mask=shown)

    def _exact_duplicates(
        self,
        name: str,
        values: Sequence[list[Any]],
        numbers: pa.Array,
        keyed: pa.Array,
        type_: str,
        field_index: int | None,
        shown: pa.Array | None,
    ) -> None:
        seen, seen_public = self.exact_seen.setdefault(name, ({}, {}))
        flags = pc.fill_null(keyed, False).to_pylist()
        public = pc.fill_null(shown, False).to_pylist() if shown is not None else None
        for offset, number in enumerate(numbers.to_pylist()):
            if not flags[offset]:
                continue
            key = tuple(v[offset] for v in values)
            try:
                earlier = seen.get(key)
            except TypeError:
                key = tuple(repr(k) for k in key)
                earlier = seen.get(key)
            seen[key] = number
            if earlier is not None:
                self._key_finding(self.collector, type_, number, earlier, field_index)
            if public is not None and public[offset]:
                earlier_public = seen_public.get(key)
                seen_public[key] = number
                if earlier_public is not None:
                    self._key_finding(self.public, type_, number, earlier_public, field_index)

    def _key_finding(
        self,
        collector: SampleCollector,
        type_: str,
        row: int,
        earlier: int,
        field_index: int | None,
    ) -> None:
        exp = self.expected[field_index] if field_index is not None else None
        name = exp.name if exp else None
        if collector.totals[(name, type_)] >= collector.limit:
            collector.add_count(name, type_, 1)  # counted, not kept: samples are bounded
            return
        collector.add(
            Finding(
                type=type_,
                row_number=row,
                field_name=name,
                field_number=exp.number if exp else None,
                note=f"the same as in the row at position {earlier}",
            )
        )

    def _finish_keys(self) -> None:
        hidden: set[int] = set()
        for part in self._withheld:
            hidden.update(part.to_pylist())

        def report(type_: str, field_index: int | None) -> dict[str, Any]:
            return {
                "found": functools.partial(
                    self._key_finding, self.collector, type_, field_index=field_index
                ),
                "published": functools.partial(
                    self._key_finding, self.public, type_, field_index=field_index
                ),
                "withheld": hidden.__contains__,
            }

        for i, finder in self.unique_finders:
            finder.duplicates(**report("unique-error", i))
        if self.pk_finder is not None:
            self.pk_finder.duplicates(**report("primary-key", None))

    # -- results --

    def finish(self, *, sha256: str = "", size: int | None = None) -> Validated:
        try:
            self._finish_keys()
        finally:
            self._spill.cleanup()
        res = self.resource
        declared, warnings = declared_findings(res, sha256=sha256, size=size, rows=self.rows)
        for finding in declared:
            self.collector.add(finding)
            self.public.add(finding)
        results = []
        for collector in (self.collector, self.public):
            result = ResourceResult(
                name=res.name,
                place=res.relpath or res.name,
                engine="arrow",
                labels=self.labels,
                rows=self.rows,
                fields=len(res.schema.get("fields") or []),
                bytes=size if size is not None else (res.path.stat().st_size if res.path else 0),
                sha256=sha256,
                seconds=time.perf_counter() - self.start,
                python_checks=dict(self.notes),
                warnings=list(warnings),
            )
            collector.fill(result)
            results.append(result)
        return Validated(steward=results[0], published=results[1])

    def close(self) -> None:
        self._spill.cleanup()
