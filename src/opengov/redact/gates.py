"""Gates that run after the rules, whatever the rules say: the last scan for personal data,
the re-identification (k-anonymity) check, and the CSV formula guard."""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from opengov.errors import DisclosureBlocked, ReidentificationRisk, RulesError
from opengov.redact.free_text import last_scan_kinds
from opengov.rules import ResourceRules

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def neutralise_formulas(table: pa.Table) -> tuple[pa.Table, dict[str, int]]:
    """Prefix cells a spreadsheet would run as a formula with an apostrophe (CSV only)."""
    counts: dict[str, int] = {}
    columns = []
    for name, column in zip(table.column_names, table.columns, strict=True):
        if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
            starts = pc.fill_null(pc.match_substring_regex(column, pattern=r"^[=+\-@\t\r]"), False)
            count = int(pc.sum(starts).as_py() or 0)
            if count:
                counts[name] = count
                column = pc.if_else(starts, pc.binary_join_element_wise("'", column, ""), column)
        columns.append(column)
    return pa.table(columns, names=table.column_names), counts


def last_scan(
    resource: str, table: pa.Table, rules: ResourceRules, log: list[dict[str, Any]]
) -> tuple[pa.Table, int]:
    from opengov.redact import detectors as detect

    hits_any = pa.array([False] * table.num_rows) if table.num_rows else pa.array([], pa.bool_())
    blocked: list[str] = []
    for name, column in zip(table.column_names, table.columns, strict=True):
        # Every column a reader sees digits or text in (find_cells scans numbers through their
        # canonical text: a personnummer read as an integer or a float is still one). Booleans,
        # dates and times print in fixed formats that cannot carry an identifier.
        if pa.types.is_boolean(column.type) or pa.types.is_temporal(column.type):
            continue
        kinds = last_scan_kinds(column, rules.fields.get(name))
        if not kinds:
            continue
        found = detect.find_cells(column, kinds)
        for kind, cells in found.items():
            count = int(pc.sum(cells).as_py() or 0)
            if not count:
                continue
            log.append(
                {
                    "resource": resource,
                    "field": name,
                    "detector": kind,
                    "cells": count,
                    "outcome": "quarantined" if rules.on_detect == "quarantine" else "blocked",
                }
            )
            blocked.append(f"{resource}.{name}: {kind} in {count} cell(s)")
            hits_any = pc.or_(hits_any, cells)
    if not blocked:
        return table, 0
    if rules.on_detect != "quarantine":
        raise DisclosureBlocked(
            "the last scan found personal data in published columns; classify the field, add "
            "'scan' to its rule, or set on_detect: quarantine (names and addresses in free "
            "text: 'scan: [name, address]', or 'names: public' with a basis and reason)",
            details=blocked,
        )
    withheld = int(pc.sum(hits_any).as_py() or 0)
    return table.filter(pc.invert(hits_any)), withheld


def k_anonymity(resource: str, table: pa.Table, rules: ResourceRules) -> None:
    qi = rules.quasi_identifiers
    if qi is None or table.num_rows == 0:
        return
    missing = [f for f in qi.fields if f not in table.column_names]
    if missing:
        raise RulesError(
            f"quasi_identifiers of {resource!r} name fields that are not published: "
            + ", ".join(missing)
        )
    counts = table.group_by(list(qi.fields)).aggregate([([], "count_all")])
    small = int(pc.sum(pc.less(counts["count_all"], qi.k)).as_py() or 0)
    if small:
        raise ReidentificationRisk(
            f"{resource}: {small} combination(s) of ({', '.join(qi.fields)}) occur fewer than "
            f"k={qi.k} times; generalise one of these fields or suppress rows",
        )
