"""Which resources the arrow engine validates, and why the others go to frictionless.

Cheap: looks at the descriptor and, for CSV, the first lines. A few reasons only show while
reading (an odd header, empty lines when "" is not a missing value); those come from the
reader (`sources.typed.NeedsFrictionless`).
"""

from __future__ import annotations

from typing import Any

from opengov.package import Package, ResourceSpec
from opengov.sources.cast import KNOWN_TYPES
from opengov.sources.dialect import csv_dialect
from opengov.sources.typed import primary_key
from opengov.sources.xlsx import xlsx_unsupported_option

# Key types whose frictionless values compare differently from their text or arrow value
# (yearmonth "2024-1" equals "2024-01"; JSON objects compare as dicts).
EXACT_KEY_UNSAFE = {"yearmonth", "duration", "geopoint", "geojson", "object", "array", "list"}


class NotOnFastPath(Exception):
    """This resource must be validated by frictionless; `reason` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def fast_path_reason(package: Package, resource: ResourceSpec) -> str | None:
    """Why `resource` cannot be validated by the arrow engine (None when it can)."""
    if resource.format not in {"csv", "tsv", "xlsx", "inline", "parquet"}:
        return f"format {resource.format!r}"
    schema = resource.schema
    fields = list(schema.get("fields") or [])
    if not fields:
        return "schema without fields"
    for fdesc in fields:
        ftype = str(fdesc.get("type") or "any")
        if ftype not in KNOWN_TYPES:
            return f"field {fdesc.get('name')!r} has type {ftype!r}"
        constraints = fdesc.get("constraints") or {}
        if constraints.get("unique") and ftype in EXACT_KEY_UNSAFE:
            return f"unique on a {ftype} field ({fdesc.get('name')!r})"
    by_name = {str(f["name"]): f for f in fields}
    for name in primary_key(schema):
        ftype = str(by_name.get(name, {}).get("type") or "any")
        if ftype in EXACT_KEY_UNSAFE:
            return f"primaryKey on a {ftype} field ({name!r})"
    for fk in schema.get("foreignKeys") or []:
        reason = _foreign_key_reason(package, resource, fk, by_name)
        if reason:
            return reason
    if resource.format in {"csv", "tsv"}:
        reason = csv_dialect(resource).arrow_reason()
        if reason:
            return reason
    if resource.format == "xlsx":
        option = xlsx_unsupported_option(resource)
        if option:
            return f"XLSX option {option}"
    return None


def fk_parts(fk: dict[str, Any]) -> tuple[list[str], str, list[str]]:
    fields = fk.get("fields") or []
    ref = fk.get("reference") or {}
    ref_fields = ref.get("fields") or []

    def as_list(v: Any) -> list[str]:
        return [v] if isinstance(v, str) else [str(x) for x in v]

    return as_list(fields), str(ref.get("resource") or ""), as_list(ref_fields)


def _foreign_key_reason(
    package: Package, resource: ResourceSpec, fk: dict[str, Any], by_name: dict[str, Any]
) -> str | None:
    fields, source_name, ref_fields = fk_parts(fk)
    if source_name and source_name != resource.name:
        try:
            source = package.resource(source_name)
        except Exception:
            return f"foreign key to a resource not in the package ({source_name!r})"
        if source.format in {"csv", "tsv"} and csv_dialect(source).arrow_reason():
            return f"foreign key to {source_name!r}, which is not on the fast path"
        source_fields = {str(f["name"]): f for f in source.schema.get("fields") or []}
    else:
        source = resource
        source_fields = by_name
    native = {"xlsx", "inline", "parquet"}
    typed_cells = resource.format in native or source.format in native
    if len(fields) != len(ref_fields):
        return "foreign key with different field counts"
    for mine, theirs in zip(fields, ref_fields, strict=True):
        t1 = str(by_name.get(mine, {}).get("type") or "any")
        t2 = str(source_fields.get(theirs, {}).get("type") or "any")
        numeric = {"integer", "number"}
        # Datetimes and times also compare by whether they carry an offset (a naive value
        # never equals an aware one), which the typed arrow column does not keep.
        unsafe = EXACT_KEY_UNSAFE | {"datetime", "time"}
        if typed_cells:
            unsafe = unsafe | {"any"}  # native cells: 1 and "1" differ for frictionless
        if t1 in unsafe or t2 in unsafe:
            return f"foreign key on a {t1 if t1 in unsafe else t2} field"
        if t1 != t2 and not (t1 in numeric and t2 in numeric):
            return f"foreign key between a {t1} and a {t2} field"
    return None
