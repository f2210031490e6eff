"""Apply rules.yaml to typed tables: what a citizen may see, and a manifest of what was withheld.

Order per resource: row rules, field actions, free-text scans, the last scan over every published
string column, the re-identification gate, then the CSV-injection guard. Resources referenced by
`not_in_published` row rules are redacted first so their published rows are known.

The manifest holds counts, rule ids and legal bases; never a withheld value.
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import hmac
import os
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from .errors import DisclosureBlocked, KeyMissing, ReidentificationRisk, RulesError
from .package import Package, ResourceSpec
from .rules import FieldRule, ResourceRules, RowRule, Rules

KEY_ENV = "OPENGOV_PSEUDONYM_KEY"
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
# Schema properties that describe the source file's dialect; the published CSV is canonical.
_SOURCE_ONLY = ("decimalChar", "groupChar", "bareNumber", "trueValues", "falseValues")


@dataclass(frozen=True)
class PseudonymKey:
    secret: bytes = field(repr=False)

    @property
    def fingerprint(self) -> str:
        """Identifies the key in provenance without revealing it."""
        return hmac.new(self.secret, b"opengov key fingerprint v1", hashlib.sha256).hexdigest()[:16]

    def fingerprint_of(self, domain: str, value: str) -> str:
        """A short keyed digest of `value` for one purpose (`domain`), unlinkable to others."""
        message = domain.encode() + b"\x00" + value.encode("utf-8")
        return hmac.new(self.secret, message, hashlib.sha256).hexdigest()[:12]

    def pseudonym(self, value: str) -> str:
        digest = hmac.new(self.secret, value.encode("utf-8"), hashlib.sha256).hexdigest()
        return "p-" + digest[:20]

    def __repr__(self) -> str:
        return f"PseudonymKey(fingerprint={self.fingerprint})"


def load_key(key_file: Path | str | None = None) -> PseudonymKey | None:
    """The key from a file (first) or OPENGOV_PSEUDONYM_KEY; None if neither is set."""
    if key_file is not None:
        path = Path(key_file)
        try:
            secret = path.read_bytes().strip()
        except OSError as exc:
            raise KeyMissing(f"cannot read the pseudonym key file {path}: {exc.strerror}") from None
        if len(secret) < 16:
            raise KeyMissing(f"the pseudonym key in {path} is shorter than 16 bytes")
        return PseudonymKey(secret)
    env = os.environ.get(KEY_ENV)
    if env:
        if len(env.encode()) < 16:
            raise KeyMissing(f"{KEY_ENV} is shorter than 16 bytes; use a long random secret")
        return PseudonymKey(env.encode())
    return None


@dataclass
class ManifestEntry:
    rule: str
    resource: str
    field_name: str | None
    action: str
    cls: str | None
    decision: dict[str, Any]
    values_affected: int = 0
    rows_affected: int = 0
    detail: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "rule": self.rule,
            "resource": self.resource,
            "field": self.field_name,
            "action": self.action,
            "class": self.cls,
            **self.decision,
            "values_affected": self.values_affected,
            "rows_affected": self.rows_affected,
        }
        if self.detail:
            out["detectors"] = dict(sorted(self.detail.items()))
        return out


@dataclass
class RedactedResource:
    name: str
    table: pa.Table  # published values, typed: what Parquet gets
    csv_table: pa.Table  # the same, formula cells neutralised: what CSV gets
    schema: dict[str, Any]  # published Table Schema
    source_rows: int
    formulas_neutralised: dict[str, int] = field(default_factory=dict)
    quarantined_rows: int = 0


@dataclass
class Redaction:
    package: Package
    rules: Rules
    resources: list[RedactedResource]
    entries: list[ManifestEntry]
    last_scan: list[dict[str, Any]]
    key_fingerprint: str | None

    def manifest(self) -> dict[str, Any]:
        return {
            "package": self.package.name,
            "rules_sha256": self.rules.sha256,
            "decided_by": self.rules.decided_by,
            "decided_at": self.rules.decided_at,
            "pseudonym_key_fingerprint": self.key_fingerprint,
            "resources": [
                {
                    "name": r.name,
                    "rows_in_source": r.source_rows,
                    "rows_published": r.table.num_rows,
                    "rows_quarantined": r.quarantined_rows,
                    "fields_published": r.table.column_names,
                    "csv_formulas_neutralised": dict(sorted(r.formulas_neutralised.items())),
                }
                for r in self.resources
            ],
            "rules": [e.to_dict() for e in self.entries],
            "last_scan": self.last_scan,
        }


# --------------------------------------------------------------------------- row rules


_DEFAULT_TRUE = ("true", "True", "TRUE", "1")
_DEFAULT_FALSE = ("false", "False", "FALSE", "0")


def _canonical(value: Any) -> str:
    """One text form for a rule value, matching `_as_text` of the typed column."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC).replace(tzinfo=None)
        return str(value.strftime("%Y-%m-%dT%H:%M:%S"))
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _as_text(column: pa.ChunkedArray) -> pa.ChunkedArray:
    if pa.types.is_boolean(column.type):
        return pc.if_else(column, "true", "false")
    if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
        return column
    if pa.types.is_timestamp(column.type):
        # Whole seconds, wall time in UTC: the form `_canonical` gives rule values.
        whole = column.cast(pa.timestamp("s", tz=column.type.tz), safe=False)
        return pc.strftime(whole, format="%Y-%m-%dT%H:%M:%S")
    return pc.cast(column, pa.string())


def _rule_value(value: Any, column: pa.ChunkedArray, field: dict[str, Any]) -> Any:
    """Read a rules.yaml value the way the field reads its cells (`ja` on a ja/nej boolean)."""
    if pa.types.is_boolean(column.type) and not isinstance(value, bool):
        text = str(value)
        if text in field.get("trueValues", _DEFAULT_TRUE):
            return True
        if text in field.get("falseValues", _DEFAULT_FALSE):
            return False
    return value


def _temporal(column: pa.ChunkedArray, values: list[Any]) -> pa.Array | None:
    """Rule values as the column's own date or timestamp type, or None if one does not read."""
    type_ = column.type
    if not (pa.types.is_timestamp(type_) or pa.types.is_date(type_)):
        return None
    out: list[Any] = []
    for value in values:
        if isinstance(value, str):
            try:
                value = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError:
                return None
        if pa.types.is_date(type_):
            if isinstance(value, dt.datetime):
                value = value.date()
            if not isinstance(value, dt.date):
                return None
        else:
            if not isinstance(value, dt.datetime):
                if not isinstance(value, dt.date):
                    return None
                value = dt.datetime(value.year, value.month, value.day)
            if value.tzinfo is not None:
                value = value.astimezone(dt.UTC).replace(tzinfo=None)
        out.append(value)
    if pa.types.is_timestamp(type_) and type_.tz:
        return pa.array(out, pa.timestamp(type_.unit)).cast(pa.timestamp(type_.unit, tz="UTC"))
    return pa.array(out, type_)


def _numeric(column: pa.ChunkedArray, values: list[Any]) -> bool:
    numbers = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)
    return numbers and (pa.types.is_integer(column.type) or pa.types.is_floating(column.type))


def _row_mask(
    table: pa.Table, rule: RowRule, published: dict[str, pa.Table], field: dict[str, Any]
) -> pa.ChunkedArray | pa.Array:
    column = table[rule.field]
    op, value = rule.condition, rule.value
    if op == "is_null":
        mask = pc.is_null(column)
        return mask if value else pc.invert(mask)
    if op == "not_in_published":
        other, ofield = str(value).split(".")
        if other not in published:
            raise RulesError(
                f"row rule {rule.id}: resource {other!r} must be published to filter by it"
            )
        if ofield not in published[other].column_names:
            raise RulesError(f"row rule {rule.id}: {value} is not a published field")
        allowed = pc.unique(_as_text(published[other][ofield]).drop_null())
        return pc.invert(pc.fill_null(pc.is_in(_as_text(column), value_set=allowed), False))
    values = [_rule_value(v, column, field) for v in (value if op != "equals" else [value])]
    moments = _temporal(column, values)
    if moments is not None:
        hit = pc.fill_null(pc.is_in(column, value_set=moments), False)
    elif _numeric(column, values):
        # Numbers compare as numbers: 1e16 written out is not "1e+16".
        candidates = pa.array([float(v) for v in values], pa.float64())
        hit = pc.fill_null(pc.is_in(pc.cast(column, pa.float64()), value_set=candidates), False)
    else:
        texts = pa.array([_canonical(v) for v in values], pa.string())
        hit = pc.fill_null(pc.is_in(_as_text(column), value_set=texts), False)
    if op in ("in", "equals"):
        return hit
    # not_in: a missing value is not in the list, so the row is dropped (fail closed).
    return pc.invert(hit)


# --------------------------------------------------------------------------- field actions


def _mask(column: pa.ChunkedArray, rule: FieldRule) -> pa.ChunkedArray:
    text = _as_text(column)
    fixed = pc.if_else(pc.is_null(text), pa.scalar(None, pa.string()), rule.mask_with)
    if rule.keep_last <= 0:
        return fixed
    lengths = pc.utf8_length(text)
    tail = pc.utf8_slice_codeunits(text, start=-rule.keep_last)
    # Keeping the last N characters of a value shorter than N would keep all of it.
    short = pc.less_equal(lengths, rule.keep_last)
    joined = pc.binary_join_element_wise(fixed, tail, "")
    return pc.if_else(short, fixed, joined)


def _pseudonymize(column: pa.ChunkedArray, key: PseudonymKey) -> pa.ChunkedArray:
    text = _as_text(column).combine_chunks()
    encoded = pc.dictionary_encode(text)
    dictionary = encoded.dictionary.to_pylist()
    mapped = pa.array([key.pseudonym(v) for v in dictionary], pa.string())
    return pa.chunked_array([pc.take(mapped, encoded.indices)])


def _generalize(column: pa.ChunkedArray, rule: FieldRule, where: str) -> pa.ChunkedArray:
    to = rule.generalize_to
    type_ = column.type
    if to in ("month", "year"):
        if not (pa.types.is_date(type_) or pa.types.is_timestamp(type_)):
            raise RulesError(f"{where}: generalize to {to} needs a date or datetime field")
        if to == "year":
            return pc.cast(pc.year(column), pa.int32())
        return pc.strftime(column, format="%Y-%m")
    if to == "band":
        if not (pa.types.is_integer(type_) or pa.types.is_floating(type_)):
            raise RulesError(f"{where}: generalize to band needs a number field")
        width = rule.width or 1.0
        low = pc.multiply(pc.floor(pc.divide(pc.cast(column, pa.float64()), width)), width)
        high = pc.subtract(pc.add(low, width), 1 if float(width).is_integer() else 0)
        as_int = float(width).is_integer()

        def fmt(a: Any) -> Any:
            return pc.cast(pc.cast(a, pa.int64()) if as_int else a, pa.string())

        return pc.binary_join_element_wise(fmt(low), fmt(high), "–")
    # postcode3: the first three digits identify an area, not a street.
    digits = pc.replace_substring_regex(_as_text(column), pattern=r"[^0-9]", replacement="")
    return pc.utf8_slice_codeunits(digits, start=0, stop=3)


def _non_null(column: pa.ChunkedArray | pa.Array) -> int:
    return int(len(column) - column.null_count)


def _published_field(fdesc: dict[str, Any], rule: FieldRule) -> dict[str, Any]:
    out = copy.deepcopy(fdesc)
    for key in _SOURCE_ONLY:
        out.pop(key, None)
    out.pop("missingValues", None)
    if out.get("type") in ("date", "datetime", "time"):
        out.pop("format", None)  # the published CSV writes ISO 8601, whatever the source used
    transformed = rule.action in ("mask", "pseudonymize", "generalize") or rule.scan
    if rule.action in ("mask", "pseudonymize") or (
        rule.action == "generalize" and rule.generalize_to != "year"
    ):
        out["type"] = "string"
        out.pop("format", None)
    elif rule.action == "generalize":
        out["type"] = "year"
        out.pop("format", None)
    if transformed:
        # A pattern or range that held for the source no longer describes the published text.
        constraints = out.get("constraints", {})
        out["constraints"] = {k: v for k, v in constraints.items() if k == "required"}
        if not out["constraints"]:
            out.pop("constraints")
        note = {
            "mask": "maskerad",
            "pseudonymize": "pseudonymiserad (HMAC-SHA256)",
            "generalize": f"generaliserad ({rule.generalize_to})",
        }.get(rule.action)
        if note:
            out["description"] = (str(out.get("description", "")) + f" [{note}]").strip()
    return out


def _published_schema(
    schema: dict[str, Any], rules: ResourceRules, kept: list[str]
) -> dict[str, Any]:
    out = {k: copy.deepcopy(v) for k, v in schema.items() if k not in ("fields", "missingValues")}
    out["fields"] = [
        _published_field(f, rules.fields[f["name"]]) for f in schema["fields"] if f["name"] in kept
    ]
    untouched = {
        name for name in kept if rules.fields[name].action == "keep" and not rules.fields[name].scan
    }
    pk = schema.get("primaryKey")
    if pk:
        pk_fields = [pk] if isinstance(pk, str) else list(pk)
        if not set(pk_fields) <= untouched:
            out.pop("primaryKey", None)
    fks = []
    for fk in schema.get("foreignKeys", []) or []:
        names = fk.get("fields")
        fk_fields = [names] if isinstance(names, str) else list(names or [])
        if set(fk_fields) <= untouched:
            fks.append(fk)
    if fks:
        out["foreignKeys"] = fks
    else:
        out.pop("foreignKeys", None)
    return out


# --------------------------------------------------------------------------- per resource


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


def redact(
    package: Package,
    rules: Rules,
    read_table: Callable[[ResourceSpec], pa.Table],
    *,
    key: PseudonymKey | None = None,
    only: set[str] | None = None,
) -> Redaction:
    """Redact every resource of `package` (or those in `only`) by `rules`."""
    from . import detect

    if rules.needs_key() and key is None:
        raise KeyMissing(
            f"rules.yaml pseudonymises fields; set {KEY_ENV} or pass --key-file "
            "(the key is kept by the municipality and never published)"
        )
    entries: list[ManifestEntry] = []
    last_scan: list[dict[str, Any]] = []
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
            mask = _row_mask(table, row, published, fdesc)
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
                entry.values_affected = _non_null(column)
                entries.append(entry)
                continue
            if rule.action == "mask":
                column = _mask(column, rule)
            elif rule.action == "pseudonymize":
                assert key is not None
                column = _pseudonymize(column, key)
            elif rule.action == "generalize":
                column = _generalize(column, rule, where)
            if rule.action != "keep":
                entry.values_affected = _non_null(column)
                entry.rows_affected = entry.values_affected
                entries.append(entry)
            if rule.scan:
                if not (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)):
                    raise RulesError(f"{where}: 'scan' needs a string field")
                scanned = detect.scan_replace(column, list(rule.scan))
                column = scanned.array
                entry.action = "scan"
                entry.detail = {k: v for k, v in scanned.matches.items() if v}
                entry.values_affected = sum(scanned.matches.values())
                entry.rows_affected = sum(scanned.cells.values())
                entries.append(entry)
            kept.append(name)
            columns.append(
                column if isinstance(column, pa.ChunkedArray) else pa.chunked_array([column])
            )
        table = pa.table(columns, names=kept) if kept else pa.table({})
        # 3. The last scan: whatever the rules say, no identifier leaves in a string column.
        table, quarantined = _last_scan(spec.name, table, res_rules, last_scan)
        # 4. Re-identification gate.
        _k_anonymity(spec.name, table, res_rules)
        csv_table, formulas = neutralise_formulas(table)
        published[spec.name] = table
        if only is None or spec.name in only:
            out.append(
                RedactedResource(
                    name=spec.name,
                    table=table,
                    csv_table=csv_table,
                    schema=_published_schema(spec.schema, res_rules, kept),
                    source_rows=source_rows,
                    formulas_neutralised=formulas,
                    quarantined_rows=quarantined,
                )
            )
    out.sort(key=lambda r: [s.name for s in package.resources].index(r.name))
    return Redaction(package, rules, out, entries, last_scan, key.fingerprint if key else None)


def _needed_by(name: str, rules: Rules, only: set[str]) -> bool:
    return any(
        row.condition == "not_in_published" and str(row.value).split(".")[0] == name
        for res in rules.resources.values()
        if res.name in only
        for row in res.rows
    )


def _last_scan(
    resource: str, table: pa.Table, rules: ResourceRules, log: list[dict[str, Any]]
) -> tuple[pa.Table, int]:
    from . import detect

    hits_any = pa.array([False] * table.num_rows) if table.num_rows else pa.array([], pa.bool_())
    blocked: list[str] = []
    for name, column in zip(table.column_names, table.columns, strict=True):
        # Integers too: a personnummer exported as a number is still a personnummer.
        if not (
            pa.types.is_string(column.type)
            or pa.types.is_large_string(column.type)
            or pa.types.is_integer(column.type)
        ):
            continue
        found = detect.find_cells(column, list(detect.DEFAULT_LAST_SCAN))
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
            "'scan' to its rule, or set on_detect: quarantine",
            details=blocked,
        )
    withheld = int(pc.sum(hits_any).as_py() or 0)
    return table.filter(pc.invert(hits_any)), withheld


def _k_anonymity(resource: str, table: pa.Table, rules: ResourceRules) -> None:
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


def counts_by_action(redaction: Redaction) -> dict[str, int]:
    totals: Counter[str] = Counter()
    for e in redaction.entries:
        totals[e.action] += e.values_affected or e.rows_affected
    return dict(sorted(totals.items()))
