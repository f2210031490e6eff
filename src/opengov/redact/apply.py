"""Apply rules.yaml to typed batches: what a citizen may see, and a manifest of what was withheld.

Order per batch: row rules, field actions, free-text scans, the last scan over every published
column, the re-identification counts, then the CSV-injection guard. A `ResourceRedactor` is fed
one resource's batches (`feed`) and finished (`finish`); resources referenced by
`not_in_published` row rules are redacted first, and what they publish of the referenced field
is kept as a set of distinct values (`PublishedValues`).

The manifest holds counts, rule ids and legal bases; never a withheld value.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from opengov.errors import KeyMissing, RulesError
from opengov.package import Package, ResourceSpec
from opengov.redact.actions import generalize, mask_column, non_null, pseudonymize, published_schema
from opengov.redact.gates import (
    LastScan,
    QuasiCounts,
    check_linked,
    neutralise_formulas,
    repeats,
    scan_replace,
)
from opengov.redact.keys import KEY_ENV, PseudonymKey
from opengov.redact.manifest import ManifestEntry, RedactedResource, Redaction
from opengov.redact.rows import as_text, row_mask
from opengov.rules import ResourceRules, Rules


def order(package: Package, rules: Rules) -> list[ResourceSpec]:
    """Resources another resource filters by (not_in_published) come first."""
    deps: dict[str, set[str]] = {r.name: set() for r in package.resources}
    for res in rules.resources.values():
        for row in res.rows:
            if row.condition == "not_in_published":
                deps[res.name].add(str(row.value).split(".")[0])
    ordered: list[ResourceSpec] = []
    visiting: set[str] = set()

    def visit(name: str) -> None:
        if any(r.name == name for r in ordered):
            return
        if name in visiting:
            raise RulesError(f"row rules of resource {name!r} depend on each other in a cycle")
        visiting.add(name)
        for dep in sorted(deps[name]):
            visit(dep)
        visiting.discard(name)
        ordered.append(package.resource(name))

    for spec in package.resources:
        visit(spec.name)
    return ordered


def referenced_fields(rules: Rules) -> dict[str, set[str]]:
    """Per resource, the fields other resources' `not_in_published` rules look up."""
    out: dict[str, set[str]] = {}
    for res in rules.resources.values():
        for row in res.rows:
            if row.condition == "not_in_published":
                other, ofield = str(row.value).split(".")
                out.setdefault(other, set()).add(ofield)
    return out


class PublishedValues:
    """The distinct published values (as text) of the fields `not_in_published` rules name."""

    def __init__(self) -> None:
        self._parts: dict[str, dict[str, list[pa.Array]]] = {}
        self._fields: dict[str, list[str]] = {}

    def begin(self, resource: str, published_fields: list[str]) -> None:
        self._fields[resource] = published_fields
        self._parts[resource] = {}

    def add(self, resource: str, name: str, column: pa.Array | pa.ChunkedArray) -> None:
        parts = self._parts[resource].setdefault(name, [])
        parts.append(pc.unique(as_text(column)).drop_null())
        if len(parts) > 64:
            parts[:] = [pc.unique(pa.chunked_array(parts).combine_chunks())]

    def published(self, resource: str) -> bool:
        return resource in self._fields

    def fields(self, resource: str) -> list[str]:
        return self._fields.get(resource, [])

    def values(self, resource: str, name: str) -> pa.Array:
        parts = self._parts.get(resource, {}).get(name, [])
        if not parts:
            return pa.array([], pa.string())
        return pc.unique(pa.chunked_array(parts, pa.string()).combine_chunks())


@dataclass
class RedactedBatch:
    table: pa.Table  # published values, typed: what Parquet gets
    csv_table: pa.Table  # the same, formula cells neutralised: what CSV gets
    withheld: pa.BooleanArray  # over the batch's source rows: not published


@dataclass
class ResourceRedactor:
    """One resource's rules, applied batch by batch."""

    spec: ResourceSpec
    rules: ResourceRules
    key: PseudonymKey | None
    published: PublishedValues
    wanted_values: set[str] = field(default_factory=set)
    dataset: str = ""  # the package's name: pseudonyms are scoped to it unless a rule widens
    source_rows: int = 0
    rows_published: int = 0
    formulas: Counter[str] = field(default_factory=Counter)
    # Threads for a batch's columns (the publish's pool); None: one column after another.
    pool: Executor | None = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.field_names = self.spec.field_names
        self.kept = [n for n in self.field_names if self.rules.fields[n].action != "drop"]
        self.row_counts = [0] * len(self.rules.rows)
        self.entries = {
            name: ManifestEntry(
                rule.id, self.spec.name, name, rule.action, rule.cls, rule.decision.to_dict()
            )
            for name, rule in self.rules.fields.items()
        }
        self.detail: dict[str, Counter[str]] = {}
        self.scanned: dict[str, list[int]] = {}  # field -> [values replaced, cells changed]
        self.last_scan = LastScan(self.spec.name, self.rules)
        qi = self.rules.quasi_identifiers
        self.quasi = QuasiCounts(self.spec.name, qi) if qi is not None else None
        self.fields = {str(f["name"]): f for f in self.spec.schema["fields"]}
        self.published.begin(self.spec.name, self.kept)
        self.wanted_values = self.wanted_values & set(self.kept)

    def feed(self, table: pa.Table) -> RedactedBatch:
        """Redact one batch (a table of the source's typed columns, named by field)."""
        rows_in = table.num_rows
        self.source_rows += rows_in
        keep: pa.Array = pa.array([True] * rows_in, pa.bool_())
        # 1. Row rules, in order; each counts the rows it removes.
        for i, row in enumerate(self.rules.rows):
            mask = pc.fill_null(row_mask(table, row, self.published, self.fields[row.field]), False)
            self.row_counts[i] += int(pc.sum(mask).as_py() or 0)
            keep = _narrow(keep, pc.invert(mask))
            table = table.filter(pc.invert(mask))
        person = None
        if self.quasi is not None and self.quasi.qi.person is not None:
            person = table[self.quasi.qi.person]
        # 2. and 3. Each column on its own: field action, the field's scan, then the last
        # scan (whatever the rules say, no identifier leaves). Columns share no state, so a
        # batch's columns run on the pool's threads (Arrow's kernels release the GIL).
        if self.pool is not None and len(self.field_names) > 1:
            done = list(self.pool.map(lambda name: self._column(name, table[name]),
                                      self.field_names))  # fmt: skip
        else:
            done = [self._column(name, table[name]) for name in self.field_names]
        kept = [(name, out) for name, out in zip(self.field_names, done, strict=True) if out]
        table = (
            pa.table([out[0] for _, out in kept], names=self.kept) if self.kept else pa.table({})
        )
        table, quarantined = self.last_scan.record(table, {name: out[1] for name, out in kept})
        if quarantined is not None:
            keep = _narrow(keep, pc.invert(quarantined))
            if person is not None:
                person = person.filter(pc.invert(quarantined))
        # 4. Re-identification counts.
        if self.quasi is not None:
            self.quasi.feed(table, person)
        for name in self.wanted_values:
            self.published.add(self.spec.name, name, table[name])
        csv_table, formulas = neutralise_formulas(table)
        self.formulas.update(formulas)
        self.rows_published += table.num_rows
        return RedactedBatch(table, csv_table, pc.invert(keep))

    def _column(
        self, name: str, column: pa.ChunkedArray
    ) -> tuple[pa.ChunkedArray, dict[str, pa.Array]] | None:
        """One column of a batch: None when its rule drops it, else the published column and
        the cells the last scan found per kind. Touches only this column's entries."""
        rule = self.rules.fields[name]
        if rule.action == "drop":
            self.entries[name].values_affected += non_null(column)
            return None
        column = self._act(name, column)
        cleaned: Sequence[str] = ()
        if rule.scan:
            column, cleaned = self._scan(name, column)
        return column, self.last_scan.scan_column(name, column, cleaned)

    def _act(self, name: str, column: pa.ChunkedArray) -> pa.ChunkedArray:
        rule = self.rules.fields[name]
        if rule.action == "keep":
            return column
        where = f"rules.yaml, {self.spec.name}.{name}"
        if rule.action == "mask":
            column = mask_column(column, rule)
        elif rule.action == "pseudonymize":
            if self.key is None:
                raise KeyMissing(f"{where}: pseudonymize needs a key ({KEY_ENV})")
            column = pseudonymize(column, self.key, rule, self.dataset)
        elif rule.action == "generalize":
            column = generalize(column, rule, where)
        entry = self.entries[name]
        affected = non_null(column)
        entry.values_affected += affected
        entry.rows_affected += affected
        return column

    def _scan(self, name: str, column: pa.ChunkedArray) -> tuple[pa.ChunkedArray, list[str]]:
        """The field's own scan, which also does the last scan's work on this column: one pass
        over the cells with the rule's kinds and the last scan's. Returns the column and the
        kinds the last scan need not look for again."""
        rule = self.rules.fields[name]
        if not (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)):
            raise RulesError(f"rules.yaml, {self.spec.name}.{name}: 'scan' needs a string field")
        from opengov.redact import detectors as detect
        from opengov.redact.detectors import handles

        kinds = [k for k in rule.scan if k not in detect.CONTEXT_KINDS]
        distinct = repeats(column)
        extra = self.last_scan.kinds(name, column, kinds, distinct)
        wanted = [*kinds, *extra]
        memo = self.last_scan.known
        scanned = scan_replace(column, wanted, distinct, (memo, (f"scan:{name}", tuple(wanted))))
        own = {k: v for k, v in scanned.matches.items() if k in kinds}
        own_cells = {k: v for k, v in scanned.cells.items() if k in kinds}
        found = [k for k in extra if scanned.cells.get(k)]
        cleaned = [*kinds, *extra]
        out: pa.ChunkedArray = scanned.array
        if found:
            # Kinds the rule does not remove were found: the last scan blocks the publish or
            # quarantines those rows, so it looks again at the original cells for which ones.
            out = scan_replace(
                column, kinds, distinct, (memo, (f"scan:{name}", tuple(kinds)))
            ).array
            cleaned = [k for k in cleaned if k not in found]
        if handles.KIND in rule.scan:
            replaced = handles.scan_replace(out, self.rules.own_accounts)
            out = replaced.array
            own[handles.KIND], own_cells[handles.KIND] = replaced.matches, replaced.cells
        self.detail.setdefault(name, Counter()).update(own)
        counts = self.scanned.setdefault(name, [0, 0])
        counts[0] += sum(own.values())
        counts[1] += sum(own_cells.values())
        return out, cleaned

    def finish(self) -> tuple[list[ManifestEntry], RedactedResource]:
        """The manifest entries and the published resource's summary; the gates that need the
        whole resource (a blocked last scan, k-anonymity) raise here."""
        self.last_scan.finish()
        if self.quasi is not None:
            self.quasi.check()
        entries: list[ManifestEntry] = []
        for i, row in enumerate(self.rules.rows):
            entries.append(
                ManifestEntry(
                    row.id,
                    self.spec.name,
                    row.field,
                    f"drop_when {row.condition}",
                    None,
                    row.decision.to_dict(),
                    rows_affected=self.row_counts[i],
                )
            )
        for name in self.field_names:
            rule = self.rules.fields[name]
            entry = self.entries[name]
            if rule.action != "keep":
                entries.append(entry)
            if rule.scan:
                values, cells = self.scanned.get(name, [0, 0])
                entries.append(
                    ManifestEntry(
                        entry.rule,
                        entry.resource,
                        name,
                        "scan",
                        entry.cls,
                        entry.decision,
                        values_affected=values,
                        rows_affected=cells,
                        detail={k: v for k, v in self.detail.get(name, Counter()).items() if v},
                    )
                )
        resource = RedactedResource(
            name=self.spec.name,
            schema=published_schema(self.spec.schema, self.rules, self.kept),
            source_rows=self.source_rows,
            rows_published=self.rows_published,
            fields_published=list(self.kept),
            formulas_neutralised=dict(self.formulas),
            quarantined_rows=self.last_scan.quarantined,
        )
        return entries, resource


def _narrow(keep: pa.Array, survivors: pa.Array) -> pa.Array:
    """`keep` (over source rows) after a filter by `survivors` (over the rows still kept)."""
    positions = pc.indices_nonzero(keep)
    dropped = positions.filter(pc.invert(survivors))
    if not len(dropped):
        return keep
    flags = pc.is_in(pa.array(range(len(keep)), pa.int64()), value_set=dropped.cast(pa.int64()))
    return pc.and_(keep, pc.invert(flags))


def check_key(rules: Rules, key: PseudonymKey | None) -> None:
    if rules.needs_key() and key is None:
        raise KeyMissing(
            f"rules.yaml pseudonymises fields; set {KEY_ENV} or pass --key-file "
            "(the key is kept by the municipality and never published)"
        )


def redact(
    package: Package,
    rules: Rules,
    read_table: Callable[[ResourceSpec], pa.Table],
    *,
    key: PseudonymKey | None = None,
    only: set[str] | None = None,
) -> Redaction:
    """Redact every resource of `package` (or those in `only`) by `rules`, each read whole by
    `read_table`: the in-memory form of what publishing does batch by batch."""
    check_key(rules, key)
    entries: list[ManifestEntry] = []
    scan_log: list[dict[str, Any]] = []
    out: list[RedactedResource] = []
    published = PublishedValues()
    wanted = referenced_fields(rules)
    quasi: list[QuasiCounts] = []
    for spec in order(package, rules):
        if only is not None and spec.name not in only and not _needed_by(spec.name, rules, only):
            continue
        redactor = ResourceRedactor(
            spec,
            rules.resources[spec.name],
            key,
            published,
            wanted.get(spec.name, set()),
            dataset=package.name,
        )
        batch = redactor.feed(read_table(spec))
        resource_entries, resource = redactor.finish()
        scan_log.extend(redactor.last_scan.log())
        entries.extend(resource_entries)
        if redactor.quasi is not None:
            quasi.append(redactor.quasi)
        if only is None or spec.name in only:
            resource.table = batch.table
            resource.csv_table = batch.csv_table
            out.append(resource)
    check_linked(quasi)
    out.sort(key=lambda r: [s.name for s in package.resources].index(r.name))
    return Redaction(package, rules, out, entries, scan_log, key.fingerprint if key else None)


def _needed_by(name: str, rules: Rules, only: set[str]) -> bool:
    return any(
        row.condition == "not_in_published" and str(row.value).split(".")[0] == name
        for res in rules.resources.values()
        if res.name in only
        for row in res.rows
    )


def counts_by_action(redaction: Redaction) -> dict[str, int]:
    totals: Counter[str] = Counter()
    for e in redaction.entries:
        totals[e.action] += e.values_affected or e.rows_affected
    return dict(sorted(totals.items()))
