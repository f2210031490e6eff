"""A published table's DataStore definition: column types, primary key and data dictionary.

The types come from the published Table Schema, never guessed from the data (what XLoader and
DataPusher do): integer -> int8, number -> numeric, date -> date, datetime -> timestamp,
boolean -> bool, object/array/geojson -> json, everything else -> text. `int8` because a Table
Schema integer has no upper bound and ten-digit numbers (invoice, case or account numbers)
overflow PostgreSQL's 4-byte `integer`; `numeric` because it holds every published decimal
exactly. The data dictionary (`info.label`, `info.notes`) is the field's title and
description, the Swedish text the steward wrote, with a Swedish note where the DataStore
shows a value differently from the files.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

DsType = Literal["int8", "numeric", "date", "timestamp", "bool", "json", "text"]

# Bumped when the mapping below changes: a table loaded by another mapping is loaded again.
MAPPING_VERSION = 1

_TYPES: dict[str, DsType] = {
    "integer": "int8",
    "year": "int8",
    "number": "numeric",
    "date": "date",
    "datetime": "timestamp",
    "boolean": "bool",
    "object": "json",
    "array": "json",
    "geojson": "json",
}

# What CKAN's DataStore shows differently from the published files, told to citizens where the
# column is described.
_NOTES: dict[DsType, str] = {
    "timestamp": "Tidpunkten anges i UTC och till hela sekunder här; filerna har full precision.",
}
_KEY_NOTE = "Ingår i tabellens primärnyckel."


@dataclass(frozen=True)
class Column:
    name: str
    type: DsType
    label: str
    notes: str

    def field(self) -> dict[str, Any]:
        """The field as datastore_create takes it."""
        return {
            "id": self.name,
            "type": self.type,
            "info": {"label": self.label, "notes": self.notes},
        }


@dataclass(frozen=True)
class TableDefinition:
    columns: tuple[Column, ...]
    key: tuple[str, ...]  # empty: no primary key, the table is reloaded whole when it changes

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    def fields(self) -> list[dict[str, Any]]:
        return [c.field() for c in self.columns]

    @property
    def shape_hash(self) -> str:
        """Names, types and key: what a table cannot change without being created again.

        Prefixed with the mapping's version, so a record made by another mapping is seen as
        such without knowing the schema it was made from.
        """
        shape = [[c.name, c.type] for c in self.columns], list(self.key)
        return f"v{MAPPING_VERSION}:{_sha(shape)}"

    @property
    def dictionary_hash(self) -> str:
        """Labels and notes: changed in place (datastore_create alters the column comments)."""
        return _sha([[c.name, c.label, c.notes] for c in self.columns])

    def without_key(self) -> TableDefinition:
        return TableDefinition(self.columns, ())


def _sha(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def ds_type(field: dict[str, Any]) -> DsType:
    return _TYPES.get(str(field.get("type") or "string"), "text")


def unusable_names(names: Sequence[str]) -> list[str]:
    """Field names the DataStore refuses (ckanext.datastore.helpers.is_valid_field_name, and
    PostgreSQL's 63-byte identifiers)."""
    bad = []
    for name in names:
        if (
            not name
            or name != name.strip()
            or name.startswith("_")
            or '"' in name
            or len(name.encode("utf-8")) > 63
        ):
            bad.append(name)
    return bad


# PostgreSQL: a table has at most 1,600 columns (the DataStore adds _id and _full_text), and a
# row's fixed-width values must fit in one 8 KB page (only variable-width values can move out).
_MAX_COLUMNS = 1600 - 2
_FIXED_WIDTH: dict[DsType, int] = {"int8": 8, "timestamp": 8, "date": 4, "bool": 1}
_MAX_ROW = 8160


def too_wide(table: TableDefinition) -> str | None:
    """Why PostgreSQL cannot hold the table, if it cannot (checked before sending anything)."""
    if len(table.columns) > _MAX_COLUMNS:
        return f"{len(table.columns)} columns; a DataStore table holds at most {_MAX_COLUMNS}"
    fixed = 24 + 4 + 18 + (len(table.columns) + 9) // 8  # header, _id, _full_text, nulls
    fixed += sum(_FIXED_WIDTH.get(c.type, 0) for c in table.columns)
    if fixed > _MAX_ROW:
        return (
            f"its rows take at least {fixed} bytes in PostgreSQL (numbers, dates and booleans "
            f"cannot be stored apart from the row), more than a page's {_MAX_ROW}"
        )
    return None


def definition(schema: dict[str, Any]) -> TableDefinition:
    """The DataStore definition of a published resource's Table Schema."""
    fields = [f for f in schema.get("fields") or [] if isinstance(f, dict)]
    pk = schema.get("primaryKey") or []
    key = tuple([pk] if isinstance(pk, str) else [str(k) for k in pk])
    names = [str(f.get("name")) for f in fields]
    if not set(key) <= set(names):
        key = ()
    columns = []
    for f in fields:
        name = str(f.get("name"))
        kind = ds_type(f)
        notes = [str(f.get("description") or "").strip()]
        if kind in _NOTES:
            notes.append(_NOTES[kind])
        if name in key:
            notes.append(_KEY_NOTE)
        columns.append(
            Column(
                name=name,
                type=kind,
                label=str(f.get("title") or name).strip(),
                notes=" ".join(n for n in notes if n),
            )
        )
    return TableDefinition(tuple(columns), key)
