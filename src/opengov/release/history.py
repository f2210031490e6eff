"""A dataset's history a citizen can read: every release, what changed in each, and a link to
each release's provenance.

What changed is computed when a release is published, from published data only: the previous
release's published Parquet file (checked against its provenance first) against the new one.
Rows are matched by the published primary key; a table published without one is compared as a
multiset of whole rows (rows added and removed; "changed" needs a key). Both files are read a
batch at a time and only 64-bit hashes of each row's key and values are held (16 bytes a row).

The record of every release travels with the dataset in history.json (listed in provenance like
every published file) and is shown in history.html; a withdrawal (`opengov withdraw`) is a
release of its own in both.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TypeAlias

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from opengov.errors import LimitExceeded, OpengovError, VerifyFailed
from opengov.limits import MAX_DESCRIPTOR_BYTES, load_json
from opengov.package import sha256_file
from opengov.paths import read_regular
from opengov.release import pages
from opengov.sources.textbytes import buffers
from opengov.verify import (
    HISTORY,
    PROVENANCE,
    parse_provenance,
    read_history_link,
    read_published,
)

HISTORY_JSON = "history.json"
HISTORY_PAGE = "history.html"
MAX_RELEASES = 10_000


@dataclass
class ResourceChange:
    resource: str
    title: str
    rows_before: int | None
    rows_after: int | None
    added: int | None = None
    removed: int | None = None
    changed: int | None = None
    key: list[str] | None = None  # the primary key rows were matched on; None: whole rows
    columns_added: list[str] = field(default_factory=list)
    columns_removed: list[str] = field(default_factory=list)
    note: str | None = None  # first | new | gone | unverified | unreadable | after-withdrawal


@dataclass
class ReleaseRecord:
    release: int
    published: str
    kind: str = "publish"  # publish | withdrawal
    reason: str | None = None
    changes: list[ResourceChange] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# ------------------------------------------------------------------------------ comparing

# Tables are compared as 64-bit hashes of their rows, read a batch at a time, so memory is
# bounded by 16 bytes a row (key and row hash) whatever the width of the rows: reading both
# releases whole took 1.6 GB for a 1M-row table. A hash collision can only miscount a change
# in this summary for citizens; nothing is published or withheld by it.
Source: TypeAlias = pa.Table | Path
_BATCH_ROWS = 16_384
_BATCH_BYTES = 2 * 1024 * 1024  # of uncompressed Parquet a batch, at most (_batch_rows)
_MULT = 0x100000001B3  # odd: x * _MULT is one-to-one modulo 2**64


def compare(old: Source | None, new: Source | None, key: list[str] | None) -> dict[str, Any]:
    """Rows added, removed and changed from `old` to `new` (either may be missing): tables, or
    Parquet files read a batch at a time."""
    rows_before = _num_rows(old) if old is not None else 0
    rows_after = _num_rows(new) if new is not None else 0
    out: dict[str, Any] = {"rows_before": rows_before, "rows_after": rows_after}
    if old is None or new is None:
        return {**out, "added": rows_after, "removed": rows_before, "changed": 0, "key": key}
    old_types, new_types = _types(old), _types(new)
    out["columns_added"] = [c for c in new_types if c not in old_types]
    out["columns_removed"] = [c for c in old_types if c not in new_types]
    common = [c for c in new_types if c in old_types]
    # Numbers, dates and times of the same type in both releases compare by their stored
    # values; text, and a column whose type changed, by the text a reader sees.
    raw = {c for c in common if old_types[c] == new_types[c] and _fixed_width(new_types[c])}
    if key and set(key) <= set(common):
        values = [c for c in common if c not in key]
        return {**out, **_by_key(old, new, key, values, raw), "key": key}
    return {**out, **_as_multisets(old, new, common, raw), "key": None}


def _num_rows(source: Source) -> int:
    if isinstance(source, pa.Table):
        return int(source.num_rows)
    return int(pq.ParquetFile(source).metadata.num_rows)


def _types(source: Source) -> dict[str, pa.DataType]:
    """Each column's type, by name, in the source's order."""
    schema = source.schema if isinstance(source, pa.Table) else pq.read_schema(source)
    return {f.name: f.type for f in schema}


def _fixed_width(kind: pa.DataType) -> bool:
    if pa.types.is_interval(kind):  # three numbers a value: read as text
        return False
    return bool(
        pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_temporal(kind)
    )


def _batches(source: Source, columns: list[str]) -> Iterator[pa.RecordBatch]:
    if isinstance(source, pa.Table):
        yield from source.select(columns).to_batches(max_chunksize=_BATCH_ROWS)
    else:
        file = pq.ParquetFile(source)
        # One thread: the reader's threads each kept their own freed memory, and a comparison's
        # peak varied by 50 MB from run to run; it took no longer.
        rows = _batch_rows(file, columns)
        yield from file.iter_batches(batch_size=rows, columns=columns, use_threads=False)


def _batch_rows(file: pq.ParquetFile, columns: list[str]) -> int:
    """Rows a batch: _BATCH_ROWS, or fewer for wide rows, as the reader's memory follows a
    batch's bytes (16,384 rows of 700-byte text held 70 MB resident; 2 MB batches, 35 MB).

    A column's bytes are those of all its leaves (a nested column's paths are "name.list.
    element", "name.field": a leaf counts for every wanted column it may belong to, never for
    none), and rows are as wide as in the widest row group, not the file's average: a few
    wide row groups among many narrow ones would otherwise be read 16,384 rows at a time."""
    meta, wanted = file.metadata, set(columns)
    leaves = [
        c
        for c, path in enumerate(file.schema.column(i).path for i in range(meta.num_columns))
        if path in wanted or any(path.startswith(name + ".") for name in wanted)
    ]
    per_row = 0
    for g in range(meta.num_row_groups):
        group = meta.row_group(g)
        size = sum(group.column(c).total_uncompressed_size for c in leaves)
        per_row = max(per_row, size // max(group.num_rows, 1))
    return max(1, min(_BATCH_ROWS, _BATCH_BYTES // max(int(per_row), 1)))


def _hashes(
    source: Source, key: list[str], values: list[str], raw: set[str]
) -> tuple[np.ndarray, np.ndarray]:
    """Per row: the hash of its key columns and the hash of its value columns (those in `raw`
    by their stored values)."""
    keys, rows = [], []
    names = key + values
    is_raw = [name in raw for name in names]
    for batch in _batches(source, names):
        columns = [batch.column(i) for i in range(batch.num_columns)]
        cut = len(key)
        keys.append(_rows_hash(columns[:cut], is_raw[:cut], batch.num_rows))
        rows.append(_rows_hash(columns[cut:], is_raw[cut:], batch.num_rows))
    if not keys:
        return np.zeros(0, np.uint64), np.zeros(0, np.uint64)
    return np.concatenate(keys), np.concatenate(rows)


def _rows_hash(columns: list[pa.Array], is_raw: list[bool], n: int) -> np.ndarray:
    """A hash of each row's values as text: values that read alike compare equal across
    releases, even where a column's type changed between them (1 and "1").

    A row's texts are joined end to end and hashed once, by Python's bytes hash (SipHash, at C
    speed; its per-process seed is shared by both releases, compared in one process); each
    value's length (-1 for a null) is mixed in, so the joined text splits into values one way
    only. Hashing per value instead (a Python call each) took 7 s of a 1M-row, 9-column
    comparison; per row it is 1M calls a release. A row's hash depends on the row alone, so
    both releases hash it alike however they are batched."""
    shape = np.full(n, 0x9E3779B97F4A7C15, np.uint64)
    if not columns or not n:
        return shape
    for column in (c for c, fixed in zip(columns, is_raw, strict=True) if fixed):
        words, nulls = _stored(column)
        shape = _mix(shape * np.uint64(_MULT) + words)
        shape = _mix(shape * np.uint64(_MULT) + nulls)
    texts = [_as_text(c) for c, fixed in zip(columns, is_raw, strict=True) if not fixed]
    if not texts:
        return shape
    for text in texts:
        lengths = pc.fill_null(pc.binary_length(text), -1).to_numpy(zero_copy_only=False)
        shape = _mix(shape * np.uint64(_MULT) + lengths.astype(np.int64).view(np.uint64))
    joined = pc.binary_join_element_wise(*(pc.fill_null(t, "") for t in texts), "")
    data, offsets = buffers(joined)
    raw = data.tobytes()
    hashed = np.fromiter(
        map(hash, map(raw.__getitem__, map(slice, offsets[:-1].tolist(), offsets[1:].tolist()))),
        np.int64,
        n,
    )
    return _mix(hashed.view(np.uint64) ^ shape)


def _stored(column: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """A fixed-width column's values as 64-bit words (0 for a null), and 1 where null."""
    kind = column.type
    nulls = column.is_null().to_numpy(zero_copy_only=False).astype(np.uint64)
    if pa.types.is_floating(kind):
        floats = pc.fill_null(column.cast(pa.float64()), 0.0).to_numpy(zero_copy_only=False)
        # Every NaN reads "nan": one bit pattern for all, whatever payload a writer left.
        floats = np.where(np.isnan(floats), np.nan, floats)
        return np.ascontiguousarray(floats, np.float64).view(np.uint64), nulls
    if not pa.types.is_integer(kind):  # dates, times, timestamps, durations: their storage
        column = column.view(pa.int64() if kind.bit_width == 64 else pa.int32())
    ints = pc.fill_null(column, 0).to_numpy(zero_copy_only=False)
    return np.asarray(ints).astype(np.uint64), nulls


def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser (as validate/keys.py): every input bit spreads over the output."""
    x = x ^ (x >> np.uint64(30))
    x = x * np.uint64(0xBF58476D1CE4E5B9)
    x = x ^ (x >> np.uint64(27))
    x = x * np.uint64(0x94D049BB133111EB)
    mixed: np.ndarray = x ^ (x >> np.uint64(31))
    return mixed


def _as_text(column: pa.Array | pa.ChunkedArray) -> pa.Array:
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    try:
        return column.cast(pa.string())
    except (pa.ArrowNotImplementedError, pa.ArrowInvalid):
        return pa.array(
            [None if v is None else json.dumps(v, default=str, sort_keys=True)
             for v in column.to_pylist()],
            pa.string(),
        )  # fmt: skip


class _OldUnreadable(Exception):
    """The previous release's file could not be read through (see `_old_hashes`)."""


def _old_hashes(
    old: Source, key: list[str], values: list[str], raw: set[str]
) -> tuple[np.ndarray, np.ndarray]:
    """`_hashes` of the previous release's file. Its footer was read, but someone who can write
    to the portal can put a file there (an unsigned portal's provenance rewritten to match)
    whose pages are damaged, or whose cells or nested columns take more memory than the
    process may use. The comparison is a summary for citizens: such a file is said to be
    unreadable in the history, and never stops the publish."""
    try:
        return _hashes(old, key, values, raw)
    except (MemoryError, OSError, pa.ArrowException) as exc:  # ArrowMemoryError is one
        raise _OldUnreadable from exc


def _both(
    old: Source, new: Source, key: list[str], values: list[str], raw: set[str]
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """The old and the new release's hashes, one after the other. (On two threads a 1M-row
    comparison took 1.5 s instead of 1.8 s, and 60 MB more: two readers' buffers at once.)"""
    earlier = _old_hashes(old, key, values, raw)
    return earlier, _hashes(new, key, values, raw)


def _by_key(
    old: Source, new: Source, key: list[str], values: list[str], raw: set[str]
) -> dict[str, Any]:
    (old_keys, old_rows), (new_keys, new_rows) = _both(old, new, key, values, raw)
    order = np.argsort(old_keys, kind="stable")
    old_keys, old_rows = old_keys[order], old_rows[order]
    at = np.searchsorted(old_keys, new_keys)
    found = at < len(old_keys)
    found[found] = old_keys[at[found]] == new_keys[found]
    changed = int(np.count_nonzero(old_rows[at[found]] != new_rows[found]))
    kept = int(np.count_nonzero(found))
    return {"added": len(new_keys) - kept, "removed": len(old_keys) - kept, "changed": changed}


def _as_multisets(old: Source, new: Source, columns: list[str], raw: set[str]) -> dict[str, Any]:
    if not columns:
        return {"added": _num_rows(new), "removed": _num_rows(old), "changed": None}
    (_, old_rows), (_, new_rows) = _both(old, new, [], columns, raw)
    old_values, old_counts = np.unique(old_rows, return_counts=True)
    new_values, new_counts = np.unique(new_rows, return_counts=True)
    at = np.searchsorted(old_values, new_values)
    found = at < len(old_values)
    found[found] = old_values[at[found]] == new_values[found]
    before = np.zeros(len(new_values), np.int64)
    before[found] = old_counts[at[found]]
    added = int(np.maximum(new_counts - before, 0).sum())
    # Every row of the old release not matched by one of the new is removed.
    matched = int(np.minimum(new_counts, before).sum())
    return {"added": added, "removed": int(old_counts.sum()) - matched, "changed": None}


# ------------------------------------------------------------------------------ records


def _published_parquet(
    folder: Path, previous: dict[str, Any] | None
) -> tuple[dict[str, Path], set[str]]:
    """The previous release's Parquet files that match its provenance (resource name -> path),
    and the names of those that do not (changed since, or missing): they are not compared."""
    if previous is None:
        return {}, set()
    data = read_published(folder, previous, "datapackage.json")
    if data is None:
        return {}, set()
    try:
        descriptor = load_json(data.decode("utf-8"), "datapackage.json")
        resources = descriptor["resources"]
    except (ValueError, KeyError, TypeError, LimitExceeded):
        return {}, set()
    listed = {e["og:path"]: e["og:sha256"] for e in previous.get("generated", [])}
    good, bad = {}, set()
    for res in resources if isinstance(resources, list) else []:
        if not isinstance(res, dict) or res.get("format") != "parquet":
            continue
        path = res.get("path")
        name = str(res.get("name", "")).removesuffix("-parquet")
        if not isinstance(path, str) or path not in listed:
            continue
        target = folder / path
        if (
            target.resolve().is_relative_to(folder.resolve())
            and target.is_file()
            and sha256_file(target) == listed[path]
        ):
            good[name] = target
        else:
            bad.add(name)
    return good, bad


def _read(path: Path | None) -> Path | None:
    """The file, when it reads as Parquet (its footer; rows are read batch by batch later)."""
    if path is None:
        return None
    try:
        pq.read_metadata(path)
    except (OSError, pa.ArrowException):
        return None
    return path


def changes(folder: Path, previous: dict[str, Any] | None, release: Any) -> list[ResourceChange]:
    """What changed per resource from the release in `folder` to the built `release`."""
    old_files, unverified = _published_parquet(folder, previous)
    withdrawn = bool(previous and previous.get("og:withdrawal"))
    out = []
    seen = set()
    for res in release.descriptor["resources"]:
        if res.get("format") != "csv":
            continue
        name = str(res["name"])
        seen.add(name)
        new = release.path(release.resource_files[name]["parquet"])
        pk = res.get("schema", {}).get("primaryKey")
        key = [pk] if isinstance(pk, str) else list(pk) if isinstance(pk, list) else None
        old = _read(old_files.get(name))
        note = None
        if previous is None:
            note = "first"
        elif withdrawn:
            note = "after-withdrawal"
        elif name in unverified or (name in old_files and old is None):
            # The previous file no longer matches what was published: nothing to compare with.
            title = pages.text(res.get("title")) or name
            out.append(
                ResourceChange(name, title, None, _num_rows(new), key=key, note="unverified")
            )
            continue
        elif old is None:
            note = "new"
        try:
            counts = compare(old, new, key)
        except _OldUnreadable:
            title = pages.text(res.get("title")) or name
            out.append(
                ResourceChange(name, title, None, _num_rows(new), key=key, note="unreadable")
            )
            continue
        out.append(
            ResourceChange(
                resource=name, title=pages.text(res.get("title")) or name, note=note, **counts
            )
        )
    for name, path in sorted(old_files.items()):
        if name not in seen:
            old = _read(path)
            counts = compare(old, None, None)
            out.append(ResourceChange(resource=name, title=name, note="gone", **counts))
    return out


def _load_records(folder: Path, previous: dict[str, Any]) -> dict[int, ReleaseRecord]:
    """The records of earlier releases, from the previous release's history.json when it is
    still the one published (records someone added to it since are not carried on)."""
    raw = read_published(folder, previous, HISTORY_JSON)
    try:
        data = load_json(raw.decode("utf-8"), HISTORY_JSON) if raw else None
        items = data["releases"][:MAX_RELEASES]  # type: ignore[index]
    except (ValueError, KeyError, TypeError, LimitExceeded):
        return {}
    records = {}
    for item in items if isinstance(items, list) else []:
        try:
            changes_ = [ResourceChange(**c) for c in item.get("changes", [])]
            record = ReleaseRecord(
                release=int(item["release"]),
                published=str(item["published"]),
                kind=str(item.get("kind", "publish")),
                reason=item.get("reason"),
                changes=changes_,
            )
        except (KeyError, TypeError, ValueError):
            continue
        records[record.release] = record
    return records


def _provenance_links(folder: Path, previous: dict[str, Any] | None) -> dict[int, str]:
    """Release number -> where its provenance lives once the new release is in place."""
    links: dict[int, str] = {}
    if previous is None:
        return links
    import hashlib

    current: dict[str, Any] | None = previous
    head = _read_head(folder)
    if head is None:
        return links
    path = f"{HISTORY}/{hashlib.sha256(head).hexdigest()}.json"
    while current is not None and len(links) < MAX_RELEASES:
        number = current.get("release")
        if not isinstance(number, int) or number in links:
            break
        links[number] = path
        link = current.get("previous")
        data = read_history_link(folder, link)
        if data is None:
            break
        path = f"{HISTORY}/{link['sha256']}.json"  # type: ignore[index]
        try:
            current = parse_provenance(data, path)
        except VerifyFailed:
            break
    return links


def _read_head(folder: Path) -> bytes | None:
    try:
        return read_regular(folder, PROVENANCE, limit=MAX_DESCRIPTOR_BYTES, what=PROVENANCE)
    except OpengovError:
        return None


def history_files(
    folder: Path,
    previous: dict[str, Any] | None,
    record: ReleaseRecord,
    *,
    title: str,
) -> dict[str, bytes]:
    """history.json and history.html of the new release (folder holds the previous one)."""
    from opengov.release.provenance import canonical_json

    records = _load_records(folder, previous) if previous is not None else {}
    records[record.release] = record
    links = _provenance_links(folder, previous)
    links[record.release] = PROVENANCE
    ordered = [records[n] for n in sorted(records, reverse=True)]
    data = {"dataset": folder.name, "releases": [r.to_dict() for r in ordered]}
    known = set(records)
    missing = sorted((n for n in links if n not in known), reverse=True)
    html = pages.render(
        "history.html",
        title=title,
        records=ordered,
        links=links,
        missing=missing,
    )
    return {HISTORY_JSON: canonical_json(data), HISTORY_PAGE: html.encode("utf-8")}


def record_release(
    release: Any, folder: Path, number: int, previous: dict[str, Any] | None
) -> None:
    """Add history.json and history.html to a built release (before its provenance is made)."""
    record = ReleaseRecord(number, release.started, changes=changes(folder, previous, release))
    title = pages.text(release.package.title) or release.package.name
    for name, data in history_files(folder, previous, record, title=title).items():
        release.write_bytes(name, data)


def withdrawal_provenance(
    *,
    dataset: str,
    release: int,
    previous: dict[str, Any],
    outputs: list[Any],
    reason: str,
    agent: str,
    when: str,
) -> dict[str, Any]:
    """The provenance of a withdrawal: a release with no data, in the same chain and shape as
    a publish (`opengov verify` checks it the same way), saying why and when."""
    import hashlib

    from opengov.release import provenance

    activity_id = f"urn:opengov:{dataset}:release:{release}"
    agent_id = "urn:opengov:agent:" + hashlib.sha256(agent.encode()).hexdigest()[:16]
    return {
        "@context": provenance.CONTEXT,
        "@id": f"{activity_id}:provenance",
        "@type": "prov:Bundle",
        "og:format": provenance.FORMAT,
        "dataset": dataset,
        "release": release,
        "previous": previous,
        "wasRevisionOf": f"urn:sha256:{previous['sha256']}",
        "inputs_fingerprint": None,
        "og:withdrawal": {"reason": reason, "at": when},
        "activity": {
            "@id": activity_id,
            "@type": "prov:Activity",
            "og:command": "opengov withdraw",
            "startedAtTime": when,
            "endedAtTime": when,
            "wasAssociatedWith": agent_id,
            "used": [],
            "og:tools": provenance.tool_versions(),
        },
        "agent": {
            "@id": agent_id,
            "@type": [
                "prov:Agent",
                "prov:SoftwareAgent" if agent.startswith("ci:") else "prov:Person",
            ],
            "og:name": agent,
        },
        "used": [],
        "generated": [
            {
                "@id": f"urn:sha256:{o.sha256}",
                "@type": "prov:Entity",
                "og:path": o.path,
                "og:sha256": o.sha256,
                "og:bytes": o.bytes,
                "dcterms:format": o.media_type,
                "wasGeneratedBy": activity_id,
            }
            for o in sorted(outputs, key=lambda o: o.path)
        ],
    }
