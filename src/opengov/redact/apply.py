"""Apply rules.yaml to typed tables: what a citizen may see, and a manifest of what was withheld.

Order per resource: row rules, field actions, free-text scans, the last scan over every published
string column, the re-identification gate, then the CSV-injection guard. Resources referenced by
`not_in_published` row rules are redacted first so their published rows are known.

The manifest holds counts, rule ids and legal bases; never a withheld value.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from opengov.errors import KeyMissing, RulesError
from opengov.package import Package, ResourceSpec
from opengov.redact.actions import generalize, mask_column, non_null, pseudonymize, published_schema
from opengov.redact.gates import k_anonymity, last_scan, neutralise_formulas
from opengov.redact.keys import KEY_ENV, PseudonymKey
from opengov.redact.manifest import ManifestEntry, RedactedResource, Redaction
from opengov.redact.rows import row_mask
from opengov.rules import Rules


def _order(package: Package, rules: Rules) -> list[ResourceSpec]:
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


def redact(
    package: Package,
    rules: Rules,
    read_table: Callable[[ResourceSpec], pa.Table],
    *,
    key: PseudonymKey | None = None,
    only: set[str] | None = None,
) -> Redaction:
    """Redact every resource of `package` (or those in `only`) by `rules`."""
    from opengov.redact import detectors as detect
    from opengov.redact.detectors import handles

    if rules.needs_key() and key is None:
        raise KeyMissing(
            f"rules.yaml pseudonymises fields; set {KEY_ENV} or pass --key-file "
            "(the key is kept by the municipality and never published)"
        )
    entries: list[ManifestEntry] = []
    scan_log: list[dict[str, Any]] = []
    published: dict[str, pa.Table] = {}
    out: list[RedactedResource] = []
    for spec in _order(package, rules):
        if only is not None and spec.name not in only and not _needed_by(spec.name, rules, only):
            continue
        res_rules = rules.resources[spec.name]
        table = read_table(spec)
        source_rows = table.num_rows
        # 1. Row rules, in order; each counts the rows it removes.
        for row in res_rules.rows:
            fdesc = next(f for f in spec.schema["fields"] if f["name"] == row.field)
            mask = row_mask(table, row, published, fdesc)
            dropped = int(pc.sum(mask).as_py() or 0)
            table = table.filter(pc.invert(mask))
            entries.append(
                ManifestEntry(
                    row.id,
                    spec.name,
                    row.field,
                    f"drop_when {row.condition}",
                    None,
                    row.decision.to_dict(),
                    rows_affected=dropped,
                )
            )
        # 2. Field actions and scans.
        kept: list[str] = []
        columns: list[pa.ChunkedArray] = []
        for name in spec.field_names:
            rule = res_rules.fields[name]
            column = table[name]
            where = f"rules.yaml, {spec.name}.{name}"
            entry = ManifestEntry(
                rule.id, spec.name, name, rule.action, rule.cls, rule.decision.to_dict()
            )
            if rule.action == "drop":
                entry.values_affected = non_null(column)
                entries.append(entry)
                continue
            if rule.action == "mask":
                column = mask_column(column, rule)
            elif rule.action == "pseudonymize":
                assert key is not None
                column = pseudonymize(column, key, rule, package.name)
            elif rule.action == "generalize":
                column = generalize(column, rule, where)
            if rule.action != "keep":
                entry.values_affected = non_null(column)
                entry.rows_affected = entry.values_affected
                entries.append(entry)
            if rule.scan:
                if not (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)):
                    raise RulesError(f"{where}: 'scan' needs a string field")
                kinds = [k for k in rule.scan if k not in detect.CONTEXT_KINDS]
                scanned = detect.scan_replace(column, kinds)
                column = scanned.array
                matches, cells = dict(scanned.matches), dict(scanned.cells)
                if handles.KIND in rule.scan:
                    found = handles.scan_replace(column, res_rules.own_accounts)
                    column = found.array
                    matches[handles.KIND], cells[handles.KIND] = found.matches, found.cells
                entry.action = "scan"
                entry.detail = {k: v for k, v in matches.items() if v}
                entry.values_affected = sum(matches.values())
                entry.rows_affected = sum(cells.values())
                entries.append(entry)
            kept.append(name)
            columns.append(
                column if isinstance(column, pa.ChunkedArray) else pa.chunked_array([column])
            )
        table = pa.table(columns, names=kept) if kept else pa.table({})
        # 3. The last scan: whatever the rules say, no identifier leaves in a string column.
        table, quarantined = last_scan(spec.name, table, res_rules, scan_log)
        # 4. Re-identification gate.
        k_anonymity(spec.name, table, res_rules)
        csv_table, formulas = neutralise_formulas(table)
        published[spec.name] = table
        if only is None or spec.name in only:
            out.append(
                RedactedResource(
                    name=spec.name,
                    table=table,
                    csv_table=csv_table,
                    schema=published_schema(spec.schema, res_rules, kept),
                    source_rows=source_rows,
                    formulas_neutralised=formulas,
                    quarantined_rows=quarantined,
                )
            )
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
