"""What the database's catalog says about a table: its columns, NOT NULL, keys, uniqueness.

Read inside the same read-only transaction as the rows, so constraints and data are one
snapshot. Table names are looked up the way the database resolves them (PostgreSQL's
`to_regclass`: `bidrag`, `ekonomi.bidrag`, `"Bidrag"`), with the name as a bound parameter,
never spliced into SQL; the SELECT then uses the quoted name the catalog returns.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from opengov.errors import TableNotFound
from opengov.importers.sql.connect import query_error
from opengov.importers.sql.types import Declared
from opengov.importers.sql.url import DatabaseUrl


@dataclass(frozen=True)
class TableInfo:
    """A table as the catalog describes it."""

    qualified: str  # quoted, ready for SQL
    display: str  # as the database prints it (for messages and provenance)
    columns: tuple[str, ...]
    declared: dict[str, Declared]
    primary_key: tuple[str, ...] = ()
    unique: tuple[tuple[str, ...], ...] = ()  # each a set of columns, single ones included
    order_by: tuple[str, ...] = field(default=())  # the primary key; empty: every column


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _fetch(cursor: Any, url: DatabaseUrl, sql: str, params: tuple[Any, ...] = ()) -> list[Any]:
    try:
        cursor.execute(sql, parameters=params or None)
        return list(cursor.fetchall())
    except Exception as exc:
        raise query_error(url, exc, what="reading the table's description") from None


_PG_TABLE = """
SELECT c.oid::bigint, c.oid::regclass::text
FROM pg_class c
WHERE c.oid = to_regclass($1) AND c.relkind IN ('r', 'v', 'm', 'p', 'f')
"""
_PG_COLUMNS = """
SELECT a.attname,
       a.attnotnull OR coalesce(t.typnotnull, false),
       CASE WHEN coalesce(bt.typname, t.typname) IN ('varchar', 'bpchar')
             AND a.atttypmod > 4 THEN a.atttypmod - 4 END
FROM pg_attribute a
JOIN pg_type t ON t.oid = a.atttypid
LEFT JOIN pg_type bt ON t.typtype = 'd' AND bt.oid = t.typbasetype
WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attnum
"""
# Unique indexes on plain columns (primary keys and UNIQUE constraints are backed by one);
# partial and expression indexes do not make a column unique.
_PG_KEYS = """
SELECT i.indisprimary,
       array_to_string(ARRAY(
           SELECT quote_ident(a.attname)
           FROM unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
           JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
           ORDER BY k.ord), ',')
FROM pg_index i
JOIN pg_class ic ON ic.oid = i.indexrelid
WHERE i.indrelid = $1 AND i.indisunique AND i.indpred IS NULL AND i.indexprs IS NULL
ORDER BY i.indisprimary DESC, ic.relname
"""


def _split_quoted(text: str) -> tuple[str, ...]:
    """`a,"b,c"` (quote_ident output joined by commas) as names."""
    names: list[str] = []
    current = ""
    quoted = False
    i = 0
    while i < len(text):
        ch = text[i]
        if quoted:
            if ch == '"' and text[i + 1 : i + 2] == '"':
                current += '"'
                i += 1
            elif ch == '"':
                quoted = False
            else:
                current += ch
        elif ch == '"':
            quoted = True
        elif ch == ",":
            names.append(current)
            current = ""
        else:
            current += ch
        i += 1
    names.append(current)
    return tuple(names)


def postgresql_table(cursor: Any, url: DatabaseUrl, table: str) -> TableInfo:
    rows = _fetch(cursor, url, _PG_TABLE, (table,))
    if not rows:
        raise TableNotFound(
            f"{url.describe()} has no table or view {table!r} that this role can see "
            "(a name with capitals needs double quotes, a schema is written schema.table)"
        )
    oid, display = rows[0]
    columns = _fetch(cursor, url, _PG_COLUMNS, (oid,))
    names = tuple(str(name) for name, _, _ in columns)
    declared = {
        str(name): Declared(not_null=bool(nn), max_length=int(ml) if ml else None)
        for name, nn, ml in columns
    }
    primary: tuple[str, ...] = ()
    unique: list[tuple[str, ...]] = []
    for is_primary, cols in _fetch(cursor, url, _PG_KEYS, (oid,)):
        key = _split_quoted(str(cols))
        if is_primary and not primary:
            primary = key
        elif key not in unique:
            unique.append(key)
    return TableInfo(
        qualified=str(display) if str(display).startswith('"') else _requote(str(display)),
        display=str(display),
        columns=names,
        declared=declared,
        primary_key=primary,
        unique=tuple(unique),
        order_by=primary,
    )


def _requote(display: str) -> str:
    # regclass::text quotes only what needs quoting; quoting every part is always valid.
    return ".".join(quote_ident(part) for part in _split_dotted(display))


def _split_dotted(text: str) -> list[str]:
    parts: list[str] = []
    current = ""
    quoted = False
    i = 0
    while i < len(text):
        ch = text[i]
        if quoted:
            if ch == '"' and text[i + 1 : i + 2] == '"':
                current += '"'
                i += 1
            elif ch == '"':
                quoted = False
            else:
                current += ch
        elif ch == '"':
            quoted = True
        elif ch == ".":
            parts.append(current)
            current = ""
        else:
            current += ch
        i += 1
    parts.append(current)
    return parts


def sqlite_table(cursor: Any, url: DatabaseUrl, table: str) -> TableInfo:
    rows = _fetch(
        cursor,
        url,
        "SELECT name FROM sqlite_master WHERE type IN ('table', 'view') AND name = ?",
        (table,),
    )
    if not rows:
        raise TableNotFound(f"{url.describe()} has no table or view {table!r}")
    name = str(rows[0][0])
    qualified = quote_ident(name)
    info = _fetch(cursor, url, f"PRAGMA table_info({qualified})")
    columns = tuple(str(r[1]) for r in info)
    declared: dict[str, Declared] = {}
    pk_cols: list[tuple[int, str]] = []
    for _cid, col, declared_type, notnull, _default, pk in info:
        declared[str(col)] = Declared(
            not_null=bool(notnull) or bool(pk and _is_rowid_alias(info, str(declared_type))),
            declared_type=str(declared_type or "").split("(")[0].strip() or None,
        )
        if pk:
            pk_cols.append((int(pk), str(col)))
    primary = tuple(col for _, col in sorted(pk_cols))
    unique: list[tuple[str, ...]] = []
    for index_row in _fetch(cursor, url, f"PRAGMA index_list({qualified})"):
        index_name, is_unique, origin, partial = index_row[1:5]
        if not is_unique or partial or origin == "pk":
            continue
        cols = _fetch(cursor, url, f"PRAGMA index_info({quote_ident(str(index_name))})")
        if any(c[2] is None for c in cols):  # an expression index
            continue
        key = tuple(str(c[2]) for c in sorted(cols, key=lambda c: c[0]))
        if key not in unique:
            unique.append(key)
    unique.sort()
    return TableInfo(
        qualified=qualified,
        display=name,
        columns=columns,
        declared=declared,
        primary_key=primary,
        unique=tuple(unique),
        order_by=primary,
    )


def _is_rowid_alias(info: list[Any], declared_type: str) -> bool:
    """An INTEGER PRIMARY KEY is the rowid: never NULL, though SQLite does not say NOT NULL."""
    pks = [r for r in info if r[5]]
    return len(pks) == 1 and declared_type.upper() == "INTEGER"
