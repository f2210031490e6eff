"""One import: connect, read the catalog, stream the rows to Parquet, draft schema and rules.

Everything happens inside one read-only REPEATABLE READ transaction on PostgreSQL (the
catalog and the rows are one snapshot, and a --query cannot write), and on SQLite through a
read-only connection. Rows of a table come in primary-key order (every column's order when
there is none), so a re-import of an unchanged table writes the same bytes; a --query keeps
the order its own ORDER BY gives.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import queue
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from opengov import __version__
from opengov.draft.init import safe_titles
from opengov.draft.naming import field_names, resource_name
from opengov.draft.observe import SAMPLE_ROWS, observe
from opengov.draft.package import (
    CC0,
    DESCRIPTOR,
    RECORD,
    RULES,
    Staging,
    json_bytes,
    merge_descriptor,
    read_existing,
)
from opengov.draft.rules import FieldDraft, render_rules, unclassified
from opengov.errors import DatabaseUrlError, OpengovError
from opengov.importers.sql.catalog import (
    TableInfo,
    postgresql_table,
    quote_ident,
    sqlite_table,
)
from opengov.importers.sql.connect import connect, query_error
from opengov.importers.sql.types import ColumnPlan, Declared, plan_column
from opengov.importers.sql.url import DatabaseUrl, parse_url

IMPORTER = "import sql"
ROW_GROUP_ROWS = 1 << 17  # rows per Parquet row group: bounded memory, few groups
ROW_GROUP_BYTES = 32 << 20


@dataclass(frozen=True)
class SqlImportResult:
    """What an import did; `to_dict()` is exactly what `--json` prints."""

    source: dict[str, Any]
    out: str
    resource: str
    rows: int
    fields: tuple[str, ...]
    data: dict[str, Any]
    changed: bool  # False: the package already held exactly this snapshot
    rules: str  # "drafted" or "kept" (a rules.yaml the steward edited is never overwritten)
    unclassified: tuple[str, ...]  # fields rules.yaml does not classify yet
    not_carried: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": dict(self.source),
            "out": self.out,
            "resource": self.resource,
            "rows": self.rows,
            "fields": list(self.fields),
            "data": dict(self.data),
            "changed": self.changed,
            "rules": self.rules,
            "unclassified": list(self.unclassified),
            "not_carried": list(self.not_carried),
        }


def import_sql(
    url: str | DatabaseUrl,
    *,
    out: Path,
    table: str | None = None,
    query: str | None = None,
    name: str | None = None,
    now: dt.datetime | None = None,
) -> SqlImportResult:
    """Import one table or query as a package in `out` (created, or updated in place)."""
    parsed = url if isinstance(url, DatabaseUrl) else parse_url(url)
    if (table is None) == (query is None):
        raise DatabaseUrlError("give exactly one of --table and --query")
    if query is not None and not query.strip().rstrip(";").strip():
        raise DatabaseUrlError("the --query is empty")
    existing = read_existing(out, IMPORTER)
    with connect(parsed) as conn, Staging(out) as staging:
        cursor = conn.cursor()
        try:
            if parsed.driver == "postgresql":
                _execute(
                    cursor, parsed, "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY"
                )
            info: TableInfo | None = None
            if table is not None:
                info = (
                    postgresql_table(cursor, parsed, table)
                    if parsed.driver == "postgresql"
                    else sqlite_table(cursor, parsed, table)
                )
                sql = _table_select(info, parsed.driver)
                what = f"reading table {info.display}"
            else:
                assert query is not None
                sql = query.strip().rstrip(";").strip()
                what = "the query"
            table_name = info.display.split(".")[-1].strip('"') if info else None
            if table_name is not None and safe_titles([table_name])[0] is None:
                table_name = None  # named like a value: not to become a file and resource name
            rname = resource_name(name or table_name or out.name)
            snapshot = _snapshot(cursor, parsed, sql, what, info, staging, rname)
        finally:
            try:
                cursor.close()
            except Exception:  # noqa: S110 - a failed cursor must not hide the first error
                pass
        source = {**parsed.provenance(), **({"table": info.display} if info else {"query": sql})}
        descriptor = merge_descriptor(
            _descriptor(rname, snapshot, info, source), existing.descriptor
        )
        draft = render_rules(rname, snapshot.drafts, command=_command(parsed, info))
        rules_bytes = existing.rules if existing.rules_edited and existing.rules else draft
        record: dict[str, Any] = {
            "importer": IMPORTER,
            "opengov": __version__,
            "source": source,
            "imported_at": _stamp(now),
            "rows": snapshot.rows,
            "columns": [
                {"name": f, "source": p.source, "database_type": p.db_type}
                for f, p in zip(snapshot.names, snapshot.plans, strict=True)
            ],
            "not_carried": list(snapshot.not_carried),
            "data": snapshot.data,
            "rules_draft_sha256": hashlib.sha256(draft).hexdigest(),
        }
        staging.write(DESCRIPTOR, json_bytes(descriptor))
        staging.write(RULES, rules_bytes)
        staging.write(RECORD, json_bytes(record))
        changed = not staging.same_as_out({RECORD: ("imported_at", "opengov")})
        if changed:
            staging.commit()
    missing = unclassified(rules_bytes, rname, snapshot.names)
    return SqlImportResult(
        source=source,
        out=str(out),
        resource=rname,
        rows=snapshot.rows,
        fields=tuple(snapshot.names),
        data=snapshot.data,
        changed=changed,
        rules="kept" if rules_bytes is not draft else "drafted",
        unclassified=missing,
        not_carried=tuple(snapshot.not_carried),
    )


def _stamp(now: dt.datetime | None) -> str:
    moment = (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC).replace(microsecond=0)
    return moment.isoformat().replace("+00:00", "Z")


def _command(url: DatabaseUrl, info: TableInfo | None) -> str:
    what = f"--table {info.display}" if info else "--query ..."
    return f"opengov import sql {url.driver}://... {what}"


def _execute(cursor: Any, url: DatabaseUrl, sql: str) -> None:
    try:
        cursor.execute(sql)
    except Exception as exc:
        raise query_error(url, exc, what="starting a read-only transaction") from None


def _table_select(info: TableInfo, driver: str) -> str:
    if info.order_by:
        order = ", ".join(quote_ident(c) for c in info.order_by)
    elif driver == "postgresql":
        # Without a key every column orders the rows; as text, so that types without an
        # ordering (json) order too, in the C collation, which does not depend on the locale.
        order = ", ".join(f'{quote_ident(c)}::text COLLATE "C"' for c in info.columns)
    else:
        order = ", ".join(quote_ident(c) for c in info.columns)
    columns = ", ".join(quote_ident(c) for c in info.columns)
    return f"SELECT {columns} FROM {info.qualified} ORDER BY {order}"  # noqa: S608 - quoted


@dataclass
class _Snapshot:
    plans: list[ColumnPlan]
    names: list[str]
    titles: list[str | None]
    rows: int
    data: dict[str, Any]
    drafts: list[FieldDraft]
    not_carried: list[str]


_DONE = object()


def _batches(reader: Any, url: DatabaseUrl, what: str) -> Iterator[pa.RecordBatch]:
    """The reader's batches, read one step ahead on a thread.

    The driver (reading from the server) and the Parquet writer (encoding, compressing) both
    release the GIL, so reading the next batch while the last one is written takes the time of
    the slower of the two rather than their sum. The queue holds at most two batches: memory
    stays bounded. Any failure of the driver reaches the caller as the error it would have
    raised here, and a caller that stops early (an error while writing) stops the thread.
    """
    batches: queue.Queue[Any] = queue.Queue(maxsize=2)
    stop = threading.Event()

    def pump() -> None:
        try:
            while not stop.is_set():
                try:
                    batch = reader.read_next_batch()
                except StopIteration:
                    break
                while not stop.is_set():
                    try:
                        batches.put(batch, timeout=0.1)
                        break
                    except queue.Full:
                        continue
        except BaseException as exc:
            batches.put(exc)
            return
        batches.put(_DONE)

    thread = threading.Thread(target=pump, name="opengov-sql-reader", daemon=True)
    thread.start()
    try:
        while True:
            item = batches.get()
            if item is _DONE:
                return
            if isinstance(item, OpengovError):
                raise item
            if isinstance(item, BaseException):
                raise query_error(url, item, what=what) from None
            yield item
    finally:
        stop.set()
        while thread.is_alive():
            try:
                batches.get_nowait()
            except queue.Empty:
                thread.join(0.1)


def _snapshot(
    cursor: Any,
    url: DatabaseUrl,
    sql: str,
    what: str,
    info: TableInfo | None,
    staging: Staging,
    rname: str,
) -> _Snapshot:
    try:
        cursor.execute(sql)
        reader = cursor.fetch_record_batch()
    except Exception as exc:
        raise query_error(url, exc, what=what) from None
    schema: pa.Schema = reader.schema
    sources = [f.name for f in schema]
    declared = info.declared if info else {}
    plans = [plan_column(f, url.driver, declared.get(f.name, Declared())) for f in schema]
    # As `init` does: a column named like a value (a personnummer, an e-mail address: a pivot
    # or a data row loaded as the header) is not published as a title, nor folded into a name.
    titles = safe_titles(sources)
    names = field_names([t if t is not None else "" for t in titles])
    out_schema = pa.schema([pa.field(n, p.arrow_type) for n, p in zip(names, plans, strict=True)])
    rel = f"data/{rname}.parquet"
    target = staging.path / rel
    target.parent.mkdir(parents=True, exist_ok=True)
    rows = 0
    sample: list[pa.RecordBatch] = []
    sampled = 0
    pending: list[pa.RecordBatch] = []
    pending_rows = pending_bytes = 0
    with pq.ParquetWriter(str(target), out_schema) as writer:
        for batch in _batches(reader, url, what):
            converted = pa.RecordBatch.from_arrays(
                [p.convert(col) for p, col in zip(plans, batch.columns, strict=True)],
                schema=out_schema,
            )
            rows += converted.num_rows
            if sampled < SAMPLE_ROWS:
                part = converted.slice(0, SAMPLE_ROWS - sampled)
                sample.append(part)
                sampled += part.num_rows
            pending.append(converted)
            pending_rows += converted.num_rows
            pending_bytes += converted.nbytes
            if pending_rows >= ROW_GROUP_ROWS or pending_bytes >= ROW_GROUP_BYTES:
                _flush(writer, pending, out_schema)
                pending, pending_rows, pending_bytes = [], 0, 0
        _flush(writer, pending, out_schema)
    digest = hashlib.sha256()
    with target.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    data = {"path": rel, "sha256": digest.hexdigest(), "bytes": target.stat().st_size}
    sample_table = pa.Table.from_batches(sample, schema=out_schema)
    drafts = [
        FieldDraft(
            name=n,
            title=t if t is not None and t != n else None,
            type=p.field["type"],
            observation=observe(sample_table.column(i)),
            facts=_facts(p, info, url),
        )
        for i, (n, t, p) in enumerate(zip(names, titles, plans, strict=True))
    ]
    return _Snapshot(
        plans=plans,
        names=names,
        titles=titles,
        rows=rows,
        data=data,
        drafts=drafts,
        not_carried=_not_carried(info),
    )


def _flush(writer: Any, pending: list[pa.RecordBatch], schema: pa.Schema) -> None:
    if pending:
        table = pa.Table.from_batches(pending, schema=schema)
        writer.write_table(table, row_group_size=table.num_rows)


def _facts(plan: ColumnPlan, info: TableInfo | None, url: DatabaseUrl) -> tuple[str, ...]:
    facts = [f"{'PostgreSQL' if url.driver == 'postgresql' else 'SQLite'} {plan.db_type}"]
    if info is None:
        return tuple(facts)
    if info.declared.get(plan.source, Declared()).not_null:
        facts.append("NOT NULL")
    if plan.source in info.primary_key:
        facts.append("primary key" if len(info.primary_key) == 1 else "part of the primary key")
    elif (plan.source,) in info.unique:
        facts.append("unique")
    return tuple(facts)


def _not_carried(info: TableInfo | None) -> list[str]:
    if info is None:
        return ["a --query carries no constraints (NOT NULL, keys, uniqueness): add them by hand"]
    return [
        f"unique ({', '.join(key)}): Table Schema has no unique key over several fields"
        for key in info.unique
        if len(key) > 1
    ]


def _descriptor(
    rname: str, snapshot: _Snapshot, info: TableInfo | None, source: dict[str, Any]
) -> dict[str, Any]:
    by_source = dict(zip((p.source for p in snapshot.plans), snapshot.names, strict=True))
    fields: list[dict[str, Any]] = []
    for name, title, plan in zip(snapshot.names, snapshot.titles, snapshot.plans, strict=True):
        fdesc: dict[str, Any] = {"name": name}
        if title is not None and title != name:
            fdesc["title"] = title
        fdesc.update({k: v for k, v in plan.field.items()})
        if info and (plan.source,) in info.unique:
            fdesc.setdefault("constraints", {})["unique"] = True
        fields.append(fdesc)
    schema: dict[str, Any] = {"fields": fields}
    if info and info.primary_key:
        schema["primaryKey"] = [by_source[c] for c in info.primary_key]
    title = (safe_titles([info.display])[0] if info else None) or rname
    return {
        "name": rname,
        "title": title,
        "licenses": [dict(CC0)],
        "resources": [
            {
                "name": rname,
                "path": snapshot.data["path"],
                "format": "parquet",
                "schema": schema,
            }
        ],
    }
