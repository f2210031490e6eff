"""A dataset's history a citizen can read: every release, what changed in each, and a link to
each release's provenance.

What changed is computed when a release is published, from published data only: the previous
release's published Parquet file (checked against its provenance first) against the new one.
Rows are matched by the published primary key; a table published without one is compared as a
multiset of whole rows (rows added and removed; "changed" needs a key). Both tables are read
into memory, as the release builder holds them anyway.

The record of every release travels with the dataset in history.json (listed in provenance like
every published file) and is shown in history.html; a withdrawal (`opengov withdraw`) is a
release of its own in both.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from opengov.errors import LimitExceeded, OpengovError, VerifyFailed
from opengov.limits import MAX_DESCRIPTOR_BYTES, load_json
from opengov.package import sha256_file
from opengov.paths import read_regular
from opengov.release import pages
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
    note: str | None = None  # first | new | gone | unverified | after-withdrawal


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


def compare(old: pa.Table | None, new: pa.Table | None, key: list[str] | None) -> dict[str, Any]:
    """Rows added, removed and changed from `old` to `new` (either may be missing)."""
    rows_before = old.num_rows if old is not None else 0
    rows_after = new.num_rows if new is not None else 0
    out: dict[str, Any] = {"rows_before": rows_before, "rows_after": rows_after}
    if old is None or new is None:
        return {**out, "added": rows_after, "removed": rows_before, "changed": 0, "key": key}
    old_cols, new_cols = set(old.column_names), set(new.column_names)
    out["columns_added"] = [c for c in new.column_names if c not in old_cols]
    out["columns_removed"] = [c for c in old.column_names if c not in new_cols]
    common = [c for c in new.column_names if c in old_cols]
    if key and set(key) <= set(common):
        return {**out, **_by_key(old, new, key, [c for c in common if c not in key]), "key": key}
    return {**out, **_as_multisets(old, new, common), "key": None}


def _comparable(table: pa.Table, columns: list[str], prefix: str) -> pa.Table:
    """The columns, as text where their types differ between releases or cannot be joined."""
    arrays = []
    for name in columns:
        column = table.column(name)
        if not (pa.types.is_primitive(column.type) or pa.types.is_string(column.type)):
            column = _as_text(column)
        arrays.append(column)
    return pa.table(arrays, names=[prefix + c for c in columns])


def _as_text(column: pa.ChunkedArray) -> pa.ChunkedArray:
    try:
        return column.cast(pa.string())
    except (pa.ArrowNotImplementedError, pa.ArrowInvalid):
        return pa.chunked_array(
            [
                pa.array(
                    [
                        None if v is None else json.dumps(v, default=str, sort_keys=True)
                        for v in column.to_pylist()
                    ],
                    pa.string(),
                )
            ]
        )


def _align(old: pa.Table, new: pa.Table, columns: list[str]) -> tuple[pa.Table, pa.Table]:
    """Both tables with each column of the same type (text where the two releases differ)."""
    olds, news = [], []
    for name in columns:
        a, b = old.column(name), new.column(name)
        if a.type != b.type:
            a, b = _as_text(a), _as_text(b)
        olds.append(a)
        news.append(b)
    return pa.table(olds, names=columns), pa.table(news, names=columns)


def _by_key(old: pa.Table, new: pa.Table, key: list[str], values: list[str]) -> dict[str, Any]:
    old, new = _align(old, new, key + values)
    left = pa.table(
        [*_comparable(new, key, "").columns, *_comparable(new, values, "n:").columns,
         pa.array([True] * new.num_rows, pa.bool_())],
        names=[*key, *("n:" + v for v in values), "n:present"],
    )  # fmt: skip
    right = pa.table(
        [*_comparable(old, key, "").columns, *_comparable(old, values, "o:").columns,
         pa.array([True] * old.num_rows, pa.bool_())],
        names=[*key, *("o:" + v for v in values), "o:present"],
    )  # fmt: skip
    joined = left.join(right, keys=key, join_type="full outer")
    in_new = pc.fill_null(joined.column("n:present"), False)
    in_old = pc.fill_null(joined.column("o:present"), False)
    both = pc.and_(in_new, in_old)
    differs = pa.chunked_array([pa.array([False] * joined.num_rows, pa.bool_())])
    for name in values:
        a, b = joined.column("n:" + name), joined.column("o:" + name)
        same_null = pc.and_(pc.is_null(a), pc.is_null(b))
        unequal = pc.fill_null(pc.not_equal(a, b), True)
        differs = pc.or_(differs, pc.and_(pc.invert(same_null), unequal))
    return {
        "added": _count(pc.and_(in_new, pc.invert(in_old))),
        "removed": _count(pc.and_(in_old, pc.invert(in_new))),
        "changed": _count(pc.and_(both, differs)),
    }


def _as_multisets(old: pa.Table, new: pa.Table, columns: list[str]) -> dict[str, Any]:
    if not columns:
        return {"added": new.num_rows, "removed": old.num_rows, "changed": None}
    old, new = _align(old, new, columns)

    def counted(table: pa.Table) -> pa.Table:
        # Joins never match a null key, so every value is text and null a marker of its own.
        text = pa.table(
            [pc.fill_null(_as_text(table.column(c)), "\x00") for c in columns], names=columns
        )
        return text.group_by(columns).aggregate([([], "count_all")])

    joined = (
        counted(new)
        .rename_columns([*columns, "n"])
        .join(counted(old).rename_columns([*columns, "o"]), keys=columns, join_type="full outer")
    )
    n = pc.fill_null(joined.column("n"), 0)
    o = pc.fill_null(joined.column("o"), 0)
    diff = pc.subtract(n, o)
    added = pc.sum(pc.max_element_wise(diff, 0)).as_py() or 0
    removed = pc.sum(pc.max_element_wise(pc.negate(diff), 0)).as_py() or 0
    return {"added": int(added), "removed": int(removed), "changed": None}


def _count(mask: Any) -> int:
    return int(pc.sum(mask).as_py() or 0)


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


def _read(path: Path | None) -> pa.Table | None:
    if path is None:
        return None
    try:
        return pq.read_table(path)
    except (OSError, pa.ArrowException):
        return None


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
        new = pq.read_table(release.path(release.resource_files[name]["parquet"]))
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
            out.append(ResourceChange(name, title, None, new.num_rows, key=key, note="unverified"))
            continue
        elif old is None:
            note = "new"
        counts = compare(old, new, key)
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
