"""Which field each column is read as, and what is wrong with the header: frictionless' rules.

When the labels are exactly the schema's field names (the usual case) every column is its
field and nothing is wrong; that needs no frictionless. Otherwise frictionless' own `Header`
class judges the labels (blank, duplicate, missing, extra, incorrect), so label problems and the
field each column is read as are frictionless' by construction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from opengov.package import ResourceSpec
from opengov.sources.dialect import CsvDialect

# frictionless' `supported_constraints` per field type.
_NUMERIC = ["required", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "enum"]
SUPPORTED: dict[str, list[str]] = {
    "string": ["required", "minLength", "maxLength", "pattern", "enum"],
    "integer": _NUMERIC,
    "number": _NUMERIC,
    "boolean": ["required", "enum"],
    "date": _NUMERIC,
    "datetime": _NUMERIC,
    "time": _NUMERIC,
    "year": _NUMERIC,
    "yearmonth": _NUMERIC,
    "duration": ["required", "enum"],
    "geopoint": ["required", "enum"],
    "geojson": ["required", "enum"],
    "object": ["required", "minLength", "maxLength", "enum"],
    "array": ["required", "minLength", "maxLength", "enum"],
    "list": ["required", "minLength", "maxLength"],
    "any": ["required", "enum"],
}


class HeaderNotSupported(Exception):
    """frictionless refused to match this header; the resource takes the frictionless path."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Expected:
    """A column of the data as frictionless reads it (number = position + 1)."""

    number: int
    name: str
    descriptor: dict[str, Any]  # with its effective "missingValues"
    missing_values: list[str]
    supported: list[str]

    @property
    def type(self) -> str:
        return str(self.descriptor.get("type") or "any")


@dataclass(frozen=True)
class LabelProblem:
    """A header error as frictionless reports it (blank-label, duplicate-label, ...)."""

    type: str
    note: str
    label: str | None = None
    field_name: str | None = None
    field_number: int | None = None
    row_number: int | None = None


@dataclass
class Header:
    expected: list[Expected]
    problems: list[LabelProblem] = field(default_factory=list)
    exact: bool = True  # the labels are the schema's field names, in order
    by_name: bool = False  # labels were matched to fields by name (`fieldsMatch` not exact)


def schema_missing_values(resource: ResourceSpec) -> list[str]:
    raw = resource.schema.get("missingValues", [""])
    return [str(v["value"]) if isinstance(v, dict) else str(v) for v in raw]


_FIELDS_MATCH = ("exact", "equal", "subset", "superset", "partial")


def match_header(resource: ResourceSpec, labels: list[str], dialect: CsvDialect) -> Header:
    fields: list[dict[str, Any]] = list(resource.schema.get("fields") or [])
    names = [str(f.get("name")) for f in fields]
    fields_match = resource.schema.get("fieldsMatch")
    # Labels that are the field names, in order, each once: under every `fieldsMatch` (exact,
    # equal, subset, superset, partial) frictionless expects those fields in that order and
    # finds no label problem. Deciding it here spares importing frictionless and building its
    # schema (about 0.5 s) for national specifications that declare `superset`.
    if (
        dialect.header
        and labels == names
        and fields_match in (None, *_FIELDS_MATCH)
        and len(set(names)) == len(names)
        and all(names)
    ):
        schema_missing = schema_missing_values(resource)
        return Header(
            [_expected(i, f, schema_missing) for i, f in enumerate(fields, start=1)], exact=True
        )
    return _frictionless_header(resource, labels, dialect)


def _expected(number: int, fdesc: dict[str, Any], schema_missing: list[str]) -> Expected:
    descriptor = dict(fdesc)
    descriptor["type"] = str(fdesc.get("type") or "string")  # Table Schema's default type
    raw = fdesc.get("missingValues")
    missing = (
        [str(v["value"]) if isinstance(v, dict) else str(v) for v in raw]
        if raw is not None
        else list(schema_missing)
    )
    descriptor["missingValues"] = missing
    return Expected(
        number=number,
        name=str(fdesc["name"]),
        descriptor=descriptor,
        missing_values=missing,
        supported=list(SUPPORTED.get(descriptor["type"], ["required"])),
    )


def _frictionless_header(resource: ResourceSpec, labels: list[str], dialect: CsvDialect) -> Header:
    from frictionless import FrictionlessException, Schema
    from frictionless.table import fields_match as fields_match_module
    from frictionless.table.header import Header as FlHeader

    schema = Schema.from_descriptor(resource.schema)
    declared = schema.fields_match if schema.has_defined("fields_match") else None
    try:
        header = FlHeader(
            labels,
            fields=schema.fields,
            row_numbers=list(dialect.header_rows),
            ignore_case=not dialect.header_case,
            fields_match=fields_match_module.resolve(declared, schema_sync=False),
        )
        expected_fields = header.get_expected_fields()
    except FrictionlessException as exc:
        raise HeaderNotSupported(f"header matching: {exc}") from None
    problems = [
        LabelProblem(
            type=error.type,
            note=str(getattr(error, "note", "") or ""),
            label=getattr(error, "label", None),
            field_name=getattr(error, "field_name", None),
            field_number=getattr(error, "field_number", None),
            row_number=getattr(error, "row_number", None),
        )
        for error in header.errors
    ]
    expected = []
    for number, fl_field in enumerate(expected_fields, start=1):
        descriptor = fl_field.to_descriptor()
        if fl_field.has_defined("missing_values"):
            missing = list(fl_field.missing_values)
        elif fl_field.schema is not None:
            missing = list(fl_field.schema.missing_values)
        else:
            missing = [""]
        descriptor["missingValues"] = missing
        expected.append(
            Expected(
                number=number,
                name=fl_field.name,
                descriptor=descriptor,
                missing_values=missing,
                supported=list(fl_field.supported_constraints),
            )
        )
    return Header(expected, problems, exact=False, by_name=declared not in (None, "exact"))
