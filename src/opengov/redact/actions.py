"""Field actions: mask, pseudonymise, generalise, and the published schema they imply."""

from __future__ import annotations

import copy
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from opengov.errors import RulesError
from opengov.redact.keys import PseudonymKey
from opengov.redact.rows import as_text
from opengov.rules import FieldRule, ResourceRules

# Schema properties that describe the source file's dialect; the published CSV is canonical.
_SOURCE_ONLY = ("decimalChar", "groupChar", "bareNumber", "trueValues", "falseValues")


def mask_column(column: pa.ChunkedArray, rule: FieldRule) -> pa.ChunkedArray:
    text = as_text(column)
    fixed = pc.if_else(pc.is_null(text), pa.scalar(None, pa.string()), rule.mask_with)
    if rule.keep_last <= 0:
        return fixed
    lengths = pc.utf8_length(text)
    tail = pc.utf8_slice_codeunits(text, start=-rule.keep_last)
    # Keeping the last N characters of a value shorter than N would keep all of it.
    short = pc.less_equal(lengths, rule.keep_last)
    joined = pc.binary_join_element_wise(fixed, tail, "")
    return pc.if_else(short, fixed, joined)


def pseudonymize(
    column: pa.ChunkedArray, key: PseudonymKey, rule: FieldRule, dataset: str
) -> pa.ChunkedArray:
    """Keyed pseudonyms of the rule's canonical form, scoped to the dataset unless widened."""
    text = as_text(column).combine_chunks()
    encoded = pc.dictionary_encode(text)
    dictionary = encoded.dictionary.to_pylist()
    scope = rule.pseudonym_scope(dataset)
    mapped: list[str | None] = []
    unread = 0
    for value in dictionary:
        try:
            mapped.append(key.pseudonym(value, scope=scope, canonical=rule.canonical))
        except ValueError:
            mapped.append(None)
            unread += 1
    if unread:
        # Counted, never shown: the values are what the rule withholds.
        raise RulesError(
            f"rules.yaml, {rule.resource}.{rule.field}: canonical: personnummer, but {unread} "
            "different value(s) do not read as a personnummer or samordningsnummer; correct "
            "them, or use canonical: auto"
        )
    return pa.chunked_array([pc.take(pa.array(mapped, pa.string()), encoded.indices)])


def generalize(column: pa.ChunkedArray, rule: FieldRule, where: str) -> pa.ChunkedArray:
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
    digits = pc.replace_substring_regex(as_text(column), pattern=r"[^0-9]", replacement="")
    return pc.utf8_slice_codeunits(digits, start=0, stop=3)


def non_null(column: pa.ChunkedArray | pa.Array) -> int:
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


def published_schema(
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
