"""Loading the published tables into CKAN's DataStore: typed, incremental, read back.

Each published table's CSV resource gets a DataStore table (what XLoader would attach to it,
so the resource page previews it and `datastore_search` serves it), created by
`datastore_create` with the types, primary key and data dictionary of `dictionary.py`, and
filled from the published Parquet: the redacted rows, never the source.

What a table needs is decided per table (`plan`, before anything is sent):

- keep: recorded as holding this very Parquet under the same definition; nothing is sent.
- dictionary: same rows, only labels or notes changed; the fields are sent (column comments).
- update: the rows changed, the table has a primary key and the rows it holds are known (the
  previous Parquet, downloaded and checked against the record); the keys of removed rows go
  in `datastore_delete` requests, then added and changed rows in `datastore_upsert` requests.
- sync: as update, when what the table holds is not recorded (an interrupted run): its rows
  are read back from the DataStore first.
- load: no table yet; `datastore_create` with the first rows, then the rest.
- reload: no primary key, or the column names, types or key changed; the table is dropped,
  then loaded.
- drop: the DataStore is off for this run and the table's rows changed; the table is dropped
  (a stale table would contradict the files).
- skip: a column name the DataStore refuses; nothing is sent (a warning).

Every write is one request and one PostgreSQL transaction. Requests are sized to take about
ten seconds (CKAN inserts row by row). Inserts must not run twice: they are never sent again
after a failure that leaves open whether they ran, except for a keyed table, where the same
rows go again as an upsert, which is idempotent. Everything else (upserts, deletes by key,
creating fields) is retried like any call.

Read back: a loaded table is read back whole and its row count and content hash compared; an
updated one has its row count checked and the rows sent read back by key. docs/ckan.md has
the order of calls and the window in which a citizen can see a table mid-update.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from opengov.errors import ConfigError, PublishError
from opengov.release.build import Release
from opengov.targets.ckan import rows
from opengov.targets.ckan.client import MB, CkanClient, NoAnswer
from opengov.targets.ckan.datastore_state import TableRecord
from opengov.targets.ckan.dictionary import (
    TableDefinition,
    definition,
    too_wide,
    unusable_names,
)
from opengov.targets.ckan.remote import Remote

log = logging.getLogger("opengov.ckan")

Action = Literal["keep", "dictionary", "update", "sync", "load", "reload", "drop", "skip"]
WRITES: frozenset[str] = frozenset({"dictionary", "update", "sync", "load", "reload", "drop"})

REQUEST_SECONDS = 10.0  # aim: each write request takes about this long
MAX_REQUEST_BYTES = 16 * MB  # JSON of rows in one request
FIRST_ROWS = 5_000  # rows in a table's first request, before the speed is known
MIN_ROWS, MAX_ROWS = 200, 50_000
PAGE_ROWS = 32_000  # CKAN's default ckan.datastore.search.rows_max
KEYS_PER_REQUEST = 1_000  # key values in one filter
WRITE_TIMEOUT = 300.0  # seconds to wait for a write's answer
VIEW_TYPE = "datatables_view"


# ----------------------------------------------------------------------------- the portal


@dataclass(frozen=True)
class Mode:
    """Whether this run loads the DataStore, and whether the portal can preview tables."""

    enabled: bool
    views: bool = False
    reason: str = ""


CONFLICTING = ("xloader", "datapusher")


def detect(client: CkanClient, wanted: bool | None) -> Mode:
    """From `status_show`'s extensions: on by default when the portal has the DataStore.

    XLoader and DataPusher load uploaded CSV files into the DataStore themselves, with guessed
    types, some time after each upload; two loaders of one table would overwrite each other.
    """
    if wanted is False:
        return Mode(False, reason="turned off (--no-datastore, or datastore = false)")
    status = client.call("status_show", {}, what="status_show")
    status = status if isinstance(status, dict) else {}
    extensions = {str(e) for e in status.get("extensions") or []}
    conflict = [e for e in CONFLICTING if e in extensions]
    if "datastore" not in extensions or conflict:
        why = (
            f"the portal runs {' and '.join(conflict)}, which loads uploaded CSV files into "
            "the DataStore itself"
            if conflict
            else "the portal has no DataStore (the datastore plugin is not enabled)"
        )
        if wanted:
            raise ConfigError(f"--datastore: {why}; publish with --no-datastore")
        log.info("DataStore not loaded: %s", why)
        return Mode(False, reason=why)
    return Mode(True, views=VIEW_TYPE in extensions)


# ----------------------------------------------------------------------------- tables


@dataclass
class Table:
    """One published table and what this run does with its DataStore table."""

    name: str
    csv: str  # the resource the DataStore table belongs to
    parquet: str
    sha: str  # the published Parquet's sha256
    local: Path  # the published Parquet in the staging folder
    definition: TableDefinition
    action: Action = "keep"
    reason: str = ""
    old: pa.Table | None = None  # what the table holds now (update, sync)
    dictionary_stale: bool = False  # labels or notes to set (update, sync)
    sent: pa.Table | None = None  # rows upserted (read back by key)
    _rows: pa.Table | None = None
    _summary: rows.Summary | None = None

    def published(self) -> pa.Table:
        if self._rows is None:
            self._rows = rows.canonical(pq.read_table(self.local), self.definition)
        return self._rows

    def summary(self) -> rows.Summary:
        if self._summary is None:
            self._summary = rows.summary(self.published(), self.definition)
        return self._summary

    def record(self) -> TableRecord:
        summary = self.summary()
        return TableRecord(
            parquet=self.sha,
            rows=summary.rows,
            content=summary.content,
            shape=self.definition.shape_hash,
            dictionary=self.definition.dictionary_hash,
        )


def tables_of(release: Release) -> list[Table]:
    by_name = {str(r["name"]): r for r in release.descriptor.get("resources") or []}
    out = []
    for name, files in release.resource_files.items():
        res = by_name.get(name)
        if res is None:
            continue
        schema = res.get("schema") or {}
        out.append(
            Table(
                name=name,
                csv=files["csv"],
                parquet=files["parquet"],
                sha=release.files[files["parquet"]].sha256,
                local=release.staging / files["parquet"],
                definition=definition(schema),
            )
        )
    return out


@dataclass
class DatastoreStats:
    actions: dict[str, str] = field(default_factory=dict)  # csv path -> action
    rows_sent: int = 0
    rows_deleted: int = 0
    rows_read_back: int = 0
    skipped: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "tables": dict(sorted(self.actions.items())),
            "rows_sent": self.rows_sent,
            "rows_deleted": self.rows_deleted,
            "rows_read_back": self.rows_read_back,
            "skipped": dict(sorted(self.skipped.items())),
        }


# ----------------------------------------------------------------------------- the load


class DatastoreLoad:
    """The DataStore part of one publish: plan, write, read back, record."""

    def __init__(self, client: CkanClient, release: Release, mode: Mode) -> None:
        self.client, self.mode = client, mode
        self.tables = tables_of(release)
        self.stats = DatastoreStats()

    # -- plan

    def plan(self, remote: Remote | None) -> None:
        """Decide each table's action; fetch the rows an update starts from (before the upload
        replaces the Parquet they are read from)."""
        records = remote.datastore_records() if remote is not None else {}
        for table in self.tables:
            record = records.get(table.csv)
            active = remote is not None and remote.datastore_active(table.csv)
            table.action, table.reason = self._decide(table, record, active, remote)
            if table.action == "update":
                assert remote is not None and record is not None
                table.dictionary_stale = record.dictionary != table.definition.dictionary_hash
                table.old = self._previous_rows(table, record, remote)
                if table.old is None:
                    table.action = "sync"
            self.stats.actions[table.csv] = table.action
            if table.action == "skip" or (table.action == "drop" and self.mode.enabled):
                self.stats.skipped[table.csv] = table.reason
                log.warning("%s: not loaded into the DataStore: %s", table.csv, table.reason)

    def _decide(
        self, table: Table, record: TableRecord | None, active: bool, remote: Remote | None
    ) -> tuple[Action, str]:
        holds_it = (
            record is not None
            and record.parquet == table.sha
            and record.shape == self._shape(table)
        )
        if not self.mode.enabled:
            return (
                ("drop", "the DataStore is off and the rows changed")
                if (active and not holds_it)
                else ("keep", "")
            )
        unfit = self._unfit(table)
        if unfit:
            # A table loaded before must not stay behind the files it no longer matches.
            return ("drop" if active and not holds_it else "skip"), unfit
        if not active:
            return "load", "no DataStore table yet"
        if record is not None and holds_it:
            if record.dictionary != table.definition.dictionary_hash:
                return "dictionary", "labels or notes changed"
            return "keep", ""
        if record is not None and record.shape != self._shape(table):
            return "reload", "column names, types or key changed"
        if not self._keyed(table):
            return "reload", "no primary key"
        if record is not None:
            return "update", ""
        return "sync", "what the table holds is not recorded"

    def _unfit(self, table: Table) -> str:
        """Why the DataStore cannot hold this table, if it cannot."""
        bad = unusable_names(table.definition.names)
        if bad:
            return f"column names the DataStore refuses: {', '.join(map(repr, bad))}"
        wide = too_wide(table.definition)
        if wide:
            return wide
        nul = rows.columns_with_nul(table.published(), table.definition)
        if nul:
            return (
                f"column(s) {', '.join(map(repr, nul))} hold a NUL character, which "
                "PostgreSQL cannot store"
            )
        return ""

    def _keyed(self, table: Table) -> bool:
        """A table is updated by key only when its key identifies every published row."""
        if table.definition.key and not rows.usable_key(table.published(), table.definition):
            log.info("%s: its primary key does not identify every row; no key", table.csv)
            table.definition = table.definition.without_key()
        return bool(table.definition.key)

    def _shape(self, table: Table) -> str:
        self._keyed(table)
        return table.definition.shape_hash

    def _previous_rows(self, table: Table, record: TableRecord, remote: Remote) -> pa.Table | None:
        """The rows the table holds: the previous Parquet, if it still is the recorded one."""
        res = remote.managed.get(table.parquet)
        if res is None or remote.hashes().get(table.parquet) != record.parquet:
            return None
        data = self.client.fetch(self.client.download_url(res), limit=4096 * MB)
        if data is None or hashlib.sha256(data).hexdigest() != record.parquet:
            log.info(
                "%s: the previous Parquet is not the recorded one; reading the table", table.csv
            )
            return None
        try:
            return rows.canonical(pq.read_table(io.BytesIO(data)), table.definition)
        except (pa.ArrowException, rows.RowsError, OSError):
            return None

    def kept_records(self, remote: Remote) -> dict[str, TableRecord]:
        """The entries that stay true while this run writes: the tables it leaves alone."""
        records = remote.datastore_records()
        keep = {t.csv for t in self.tables if t.action in ("keep", "skip")}
        return {p: r for p, r in records.items() if p in keep}

    @property
    def writes(self) -> bool:
        return any(t.action in WRITES for t in self.tables)

    @property
    def flags_changed(self) -> bool:
        """Whether a table was created or dropped (CKAN flips the resource's datastore_active)."""
        return any(t.action in ("load", "reload", "drop") for t in self.tables)

    def writing(self) -> set[str]:
        """The tables this run writes: recorded as being written until it is complete."""
        return {t.csv for t in self.tables if t.action in WRITES}

    # -- write

    def apply(self, remote: Remote) -> None:
        """Write every table's changes (the files are on the portal already)."""
        for table in self.tables:
            if table.action not in WRITES:
                continue
            res = remote.managed.get(table.csv)
            if res is None or not res.get("id"):
                raise PublishError(f"{table.csv} is not on the portal after the upload")
            rid = str(res["id"])
            started = time.monotonic()
            if table.action == "drop":
                self._drop(rid, table)
            elif table.action == "dictionary":
                self._fields(rid, table)
            elif table.action in ("update", "sync"):
                self._update(rid, table)
            else:
                self._load(rid, table, exists=remote.datastore_active(table.csv))
            log.info("%s: DataStore %s in %.1f s", table.csv, table.action,
                     time.monotonic() - started)  # fmt: skip

    def _drop(self, rid: str, table: Table) -> None:
        self.client.call(
            "datastore_delete",
            {"resource_id": rid, "force": True},
            what=f"datastore_delete of {table.csv}",
        )

    def _fields(self, rid: str, table: Table) -> None:
        """Set the data dictionary (and add columns): idempotent, no rows."""
        self.client.call(
            "datastore_create",
            {"resource_id": rid, "force": True, "fields": table.definition.fields()},
            what=f"datastore_create (fields) of {table.csv}",
        )

    def _update(self, rid: str, table: Table) -> None:
        if table.action == "sync":
            current = info(self.client, rid, what=table.csv)
            if not same_shape(current, table.definition):
                table.action = "reload"
                self.stats.actions[table.csv] = "reload"
                self._load(rid, table, exists=True)
                return
            table.dictionary_stale = bool(dictionary_problems(current, table.definition))
            table.old = read_rows(self.client, rid, table.definition)
            self.stats.rows_read_back += table.old.num_rows
        assert table.old is not None
        new = table.published()
        change = rows.diff(table.old, new, table.definition)
        if table.dictionary_stale:
            self._fields(rid, table)
        # Removed rows first: between the two requests (or after a run that dies there) the
        # table holds the previous release without them, never a row the new one removed.
        if len(change.delete):
            self._delete(rid, table, table.old.take(change.delete))
        if len(change.upsert):
            table.sent = new.take(change.upsert)
            self._send(rid, table, table.sent, method="upsert")

    def _load(self, rid: str, table: Table, *, exists: bool) -> None:
        if exists:
            self._drop(rid, table)  # a table already gone is no error (None: not found)
        self._send(rid, table, table.published(), method="create")

    def _send(self, rid: str, table: Table, data: pa.Table, *, method: str) -> None:
        """Rows in requests of about REQUEST_SECONDS each. method: create (a new table: its
        first request creates it), insert, or upsert."""
        keyed = bool(table.definition.key)
        per_row = _json_bytes_per_row(data, table.definition)
        size = max(1, min(FIRST_ROWS, int(MAX_REQUEST_BYTES / per_row)))
        pos, n = 0, data.num_rows
        if method == "create" and n == 0:
            self._create(rid, table, [])
            return
        while pos < n:
            chunk = data.slice(pos, size)
            payload = rows.records(chunk, table.definition)
            started = time.monotonic()
            if method == "create":
                self._create(rid, table, payload)
                method = "insert"
            elif method == "insert":
                self._insert(rid, table, payload, keyed=keyed)
            else:
                self._upsert(rid, table, payload)
            elapsed = time.monotonic() - started
            pos += chunk.num_rows
            self.stats.rows_sent += chunk.num_rows
            size = _next_size(size, elapsed, per_row)
            if pos < n:
                log.info("%s: %d of %d rows sent to the DataStore", table.csv, pos, n)

    def _create(self, rid: str, table: Table, payload: list[dict[str, Any]]) -> None:
        data: dict[str, Any] = {
            "resource_id": rid,
            "force": True,
            "fields": table.definition.fields(),
            "primary_key": list(table.definition.key),
        }
        if payload:
            data["records"] = payload
        try:
            self.client.call(
                "datastore_create",
                data,
                what=f"datastore_create of {table.csv}",
                once=bool(payload),
                timeout=WRITE_TIMEOUT,
            )
        except NoAnswer:
            if not table.definition.key:
                raise
            # The table may exist with these rows, or not at all: create is idempotent
            # without rows, and an upsert of the same rows lands them once either way.
            data.pop("records")
            self.client.call("datastore_create", data, what=f"datastore_create of {table.csv}")
            self._upsert(rid, table, payload)

    def _insert(
        self, rid: str, table: Table, payload: list[dict[str, Any]], *, keyed: bool
    ) -> None:
        try:
            self.client.call(
                "datastore_upsert",
                {"resource_id": rid, "force": True, "method": "insert", "records": payload},
                what=f"datastore_upsert (insert) into {table.csv}",
                once=True,
                timeout=WRITE_TIMEOUT,
            )
        except NoAnswer:
            if not keyed:
                raise
            self._upsert(rid, table, payload)

    def _upsert(self, rid: str, table: Table, payload: list[dict[str, Any]]) -> None:
        self.client.call(
            "datastore_upsert",
            {"resource_id": rid, "force": True, "method": "upsert", "records": payload},
            what=f"datastore_upsert into {table.csv}",
            timeout=WRITE_TIMEOUT,
        )

    def _delete(self, rid: str, table: Table, removed: pa.Table) -> None:
        for filters in key_filters(removed, table.definition):
            self.client.call(
                "datastore_delete",
                {"resource_id": rid, "force": True, "filters": filters},
                what=f"datastore_delete of rows of {table.csv}",
                timeout=WRITE_TIMEOUT,
            )
        self.stats.rows_deleted += removed.num_rows

    # -- read back

    def read_back(self, remote: Remote) -> None:
        """What the DataStore now holds equals what was published (the dataset stays private
        or incomplete otherwise)."""
        problems: list[str] = []
        for table in self.tables:
            if table.action not in WRITES or table.action == "drop":
                continue
            rid = str(remote.managed[table.csv]["id"])
            problems += self._check(rid, table)
        if problems:
            raise PublishError(
                f"{len(problems)} DataStore table(s) did not read back as published; the "
                "dataset stays private (new) or marked incomplete (update); run again",
                details=problems,
            )

    def _check(self, rid: str, table: Table) -> list[str]:
        expected = table.summary()
        found = info(self.client, rid, what=table.csv)
        problems = [f"{table.csv}: {p}" for p in dictionary_problems(found, table.definition)]
        if found.get("total") != expected.rows:
            problems.append(f"{table.csv}: {found.get('total')} rows instead of {expected.rows}")
            return problems
        if table.action in ("load", "reload"):
            held = read_rows(self.client, rid, table.definition)
            self.stats.rows_read_back += held.num_rows
            content = rows.content_hash(held, table.definition)
            if content != expected.content:
                problems.append(f"{table.csv}: content hash {content[:12]}… instead of "
                                f"{expected.content[:12]}…")  # fmt: skip
        elif table.sent is not None and table.sent.num_rows:
            held = read_by_key(self.client, rid, table.sent, table.definition)
            self.stats.rows_read_back += held.num_rows
            want = rows.encodings(table.sent, table.definition)
            got = rows.encodings(held, table.definition)
            missing = pc.sum(pc.invert(pc.is_in(want, value_set=got))).as_py() or 0
            if missing:
                problems.append(f"{table.csv}: {missing} of the rows sent did not read back")
        return problems

    def views(self, remote: Remote) -> None:
        """A datatables_view on each newly loaded table, so the resource page previews it."""
        if not self.mode.views:
            return
        for table in self.tables:
            if table.action not in ("load", "reload"):
                continue
            rid = str(remote.managed[table.csv]["id"])
            views = self.client.call("resource_view_list", {"id": rid}, what="resource_view_list")
            if any(v.get("view_type") == VIEW_TYPE for v in views or []):
                continue
            self.client.call(
                "resource_view_create",
                {
                    "resource_id": rid,
                    "view_type": VIEW_TYPE,
                    "title": "Tabell",
                    "description": "Tabellen i CKAN:s DataStore: sök, filtrera och sortera.",
                },
                what=f"resource_view_create for {table.csv}",
            )

    def records(self, remote: Remote) -> dict[str, TableRecord]:
        """What to record once the release is complete."""
        out = self.kept_records(remote) if remote is not None else {}
        for table in self.tables:
            if table.action in ("dictionary", "update", "sync", "load", "reload"):
                out[table.csv] = table.record()
            elif table.action == "drop":
                out.pop(table.csv, None)
        return out


# ----------------------------------------------------------------------------- reading


def info(client: CkanClient, rid: str, *, what: str) -> dict[str, Any]:
    """The table's fields (with types and data dictionary) and row count."""
    found = client.call(
        "datastore_search",
        {"resource_id": rid, "limit": 0},
        what=f"datastore_search of {what}",
    )
    if not isinstance(found, dict):
        raise PublishError(f"the DataStore has no table for {what}")
    return found


def read_rows(client: CkanClient, rid: str, table: TableDefinition) -> pa.Table:
    """Every row the table holds, in the canonical form (page by page, as a citizen could)."""
    parts = [rows.from_records(page, table) for page in pages(client, rid, table)]
    if not parts:
        return rows.schema_of(table).empty_table()
    return pa.concat_tables(parts)


def pages(client: CkanClient, rid: str, table: TableDefinition) -> Iterator[list[Any]]:
    offset = 0
    while True:
        found = client.call(
            "datastore_search",
            {
                "resource_id": rid,
                "fields": table.names,
                "sort": "_id",
                "records_format": "lists",
                "limit": PAGE_ROWS,
                "offset": offset,
                "include_total": False,
            },
            what="datastore_search",
        )
        records = found.get("records") if isinstance(found, dict) else None
        if not isinstance(records, list):
            raise PublishError("the DataStore answered datastore_search without records")
        if records:
            yield records
        limit = int(found.get("limit") or PAGE_ROWS)
        if len(records) < limit or not records:
            return
        offset += len(records)


def read_by_key(client: CkanClient, rid: str, wanted: pa.Table, table: TableDefinition) -> pa.Table:
    """The rows whose keys `wanted` holds."""
    parts = []
    for filters in key_filters(wanted, table):
        found = client.call(
            "datastore_search",
            {
                "resource_id": rid,
                "fields": table.names,
                "filters": filters,
                "records_format": "lists",
                "limit": PAGE_ROWS,
            },
            what="datastore_search by key",
        )
        records = found.get("records") if isinstance(found, dict) else None
        if isinstance(records, list) and records:
            parts.append(rows.from_records(records, table))
    if not parts:
        return rows.schema_of(table).empty_table()
    return pa.concat_tables(parts)


def key_filters(table: pa.Table, definition: TableDefinition) -> Iterator[dict[str, Any]]:
    """datastore_search/_delete filters that select exactly these rows by their key.

    A filter is an AND of columns, each equal to a value or IN a list: rows are grouped by
    every key column but the last, which takes the list.
    """
    key = list(definition.key)
    kinds = {c.name: c.type for c in definition.columns}
    head, last = key[:-1], key[-1]
    groups: dict[tuple[Any, ...], list[Any]] = defaultdict(list)
    columns = {name: table.column(name).to_pylist() for name in key}
    for i in range(table.num_rows):
        prefix = tuple(rows.filter_value(columns[n][i], kinds[n]) for n in head)
        groups[prefix].append(rows.filter_value(columns[last][i], kinds[last]))
    for prefix, values in groups.items():
        for start in range(0, len(values), KEYS_PER_REQUEST):
            filters: dict[str, Any] = dict(zip(head, prefix, strict=True))
            filters[last] = values[start : start + KEYS_PER_REQUEST]
            yield filters


def same_shape(found: dict[str, Any], table: TableDefinition) -> bool:
    fields = [f for f in found.get("fields") or [] if f.get("id") != "_id"]
    return [(f.get("id"), f.get("type")) for f in fields] == [
        (c.name, c.type) for c in table.columns
    ]


def dictionary_problems(found: dict[str, Any], table: TableDefinition) -> list[str]:
    """Differences between a table's fields as the DataStore shows them and the definition."""
    if not same_shape(found, table):
        shown = [f"{f.get('id')} {f.get('type')}" for f in found.get("fields") or []
                 if f.get("id") != "_id"]  # fmt: skip
        return [f"columns {shown} instead of {[f'{c.name} {c.type}' for c in table.columns]}"]
    problems = []
    by_id = {f.get("id"): f for f in found.get("fields") or []}
    for column in table.columns:
        said = by_id[column.name].get("info") or {}
        if (said.get("label") or "") != column.label or (said.get("notes") or "") != column.notes:
            problems.append(f"the data dictionary of column {column.name!r} differs")
    return problems


def _json_bytes_per_row(data: pa.Table, table: TableDefinition) -> float:
    sample = rows.records(data.slice(0, 200), table)
    if not sample:
        return 100.0
    return max(20.0, len(json.dumps(sample, ensure_ascii=False).encode("utf-8")) / len(sample))


def _next_size(size: int, elapsed: float, per_row: float) -> int:
    """Rows for the next request: towards REQUEST_SECONDS, at most doubling or halving."""
    if elapsed > 0:
        size = int(size * min(2.0, max(0.5, REQUEST_SECONDS / elapsed)))
    return max(MIN_ROWS, min(MAX_ROWS, size, int(MAX_REQUEST_BYTES / per_row)))
