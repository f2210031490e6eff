"""What a citizen gets from the portal, checked against provenance.json and its chain.

Files by sha256; each DataStore table by its row count, content hash and data dictionary,
against what the published Parquet (checked against provenance) and datapackage.json imply:
the table must hold exactly the published rows, as `datastore_search` serves them.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from opengov.errors import CkanAuthError, InputError, PublishError, VerifyFailed
from opengov.targets.ckan import rows
from opengov.targets.ckan.client import CkanClient, CkanSession
from opengov.targets.ckan.datastore import dictionary_problems, info, read_rows, same_shape
from opengov.targets.ckan.dictionary import definition
from opengov.targets.ckan.mapping import E_PROVENANCE, HISTORY_PATH, R_PATH
from opengov.targets.ckan.remote import Remote
from opengov.trust import Trust
from opengov.verify import (
    PROVENANCE,
    Mismatch,
    VerifyResult,
    check_chain,
    check_outputs,
    parse_provenance,
)
from opengov.verify.ckan import check_ckan_release


def verify_ckan(
    url: str,
    dataset: str,
    *,
    session: CkanSession | None = None,
    trust: Trust | None = None,
) -> VerifyResult:
    """Download every resource anonymously and check it against provenance.json and the chain.

    Anonymously on purpose: this checks what citizens get, and needs no credentials.
    """
    with tempfile.TemporaryDirectory(prefix="opengov-verify-") as scratch:
        return _verify(url, dataset, session, trust, Path(scratch))


DESCRIPTOR = "datapackage.json"


def _verify(
    url: str, dataset: str, session: CkanSession | None, trust: Trust | None, scratch: Path
) -> VerifyResult:
    url = url.rstrip("/")
    client = CkanClient(url, None, session=session or CkanSession())
    try:
        found = client.call("package_show", {"id": dataset}, what=f"package_show of {dataset!r}")
    except CkanAuthError:
        found = None  # private: to an anonymous reader it is as good as absent
    if found is None:
        raise InputError(f"no public dataset {dataset!r} on {url}")
    remote = Remote(found)
    location = f"{url}/dataset/{remote.dataset.get('name') or dataset}"
    prov_res = remote.managed.get(PROVENANCE)
    if prov_res is None:
        raise InputError(f"{location} has no {PROVENANCE} resource: not published by opengov")
    data = client.fetch(client.download_url(prov_res), authenticated=False)
    if data is None:
        raise VerifyFailed(f"{location}: {PROVENANCE} cannot be downloaded")
    doc = parse_provenance(data, f"{location} {PROVENANCE}")
    mismatches: list[Mismatch] = []
    prov_sha = hashlib.sha256(data).hexdigest()
    for expected, what in (
        (remote.extras.get(E_PROVENANCE), "dataset extra " + E_PROVENANCE),
        (prov_res.get("hash"), "resource hash"),
    ):
        if expected and expected != prov_sha:
            mismatches.append(Mismatch(PROVENANCE, "changed", f"{expected} ({what})", prov_sha))

    listed = {str(e["og:path"]): str(e["og:sha256"]) for e in doc["generated"]}
    digests: dict[str, str | None] = {}
    # The DataStore tables to check: those opengov says it loads (not one XLoader made).
    listed_tables = remote.datastore_tables()
    tables = {csv: parquet for csv, parquet in remote.data_tables().items() if csv in listed_tables}
    kept: dict[str, Path] = {}  # files the DataStore check reads, downloaded once

    def digest(path: str) -> str | None:
        if path not in digests:
            res = remote.managed.get(path)
            if res is None or not res.get("url"):
                digests[path] = None  # absent, or a placeholder whose file never arrived
            elif tables and (path in tables.values() or path == DESCRIPTOR):
                kept[path] = scratch / f"{len(kept)}.bin"
                digests[path] = client.download_to(
                    client.download_url(res), kept[path], authenticated=False, what=path
                )[0]
            else:
                digests[path] = client.sha256_of(
                    client.download_url(res), authenticated=False, what=path
                )[0]
                if res.get("hash") and res.get("hash") != listed.get(path):
                    mismatches.append(
                        Mismatch(
                            path,
                            "metadata",
                            f"resource hash {res.get('hash')} differs "
                            f"from provenance {listed.get(path)}",
                        )
                    )
        return digests[path]

    checked, output_problems = check_outputs(doc, digest)
    mismatches += output_problems
    for path in (DESCRIPTOR, *tables.values()):
        digest(path)  # a file not listed in provenance is reported above; read it anyway
    schemas = _schemas(kept.get(DESCRIPTOR), digests.get(DESCRIPTOR), listed.get(DESCRIPTOR))
    for csv, parquet in sorted(tables.items()):
        trusted = digests.get(parquet) is not None and digests.get(parquet) == listed.get(parquet)
        if not trusted or csv not in schemas:
            continue  # the file itself is reported; nothing trustworthy to compare with
        mismatches += _check_table(client, remote, csv, kept[parquet], schemas[csv])
    for path in sorted(set(remote.managed) - set(listed) - {PROVENANCE}):
        mismatches.append(Mismatch(path, "unexpected"))
    for res in remote.duplicates:
        mismatches.append(Mismatch(str(res.get(R_PATH)), "unexpected", "duplicate resource"))
    for res in remote.unmanaged:
        mismatches.append(
            Mismatch(str(res.get("name") or res.get("id")), "unexpected", "not in provenance")
        )

    history: dict[str, str] | None = None

    def fetch_history(path: str) -> bytes | None:
        nonlocal history
        _, _, sha = path.partition("#")
        if history is None:
            res = remote.managed.get(HISTORY_PATH)
            raw = client.fetch(client.download_url(res), authenticated=False) if res else None
            try:
                parsed = json.loads(raw or b"")
            except ValueError:
                parsed = None
            docs = parsed.get("documents") if isinstance(parsed, dict) else None
            history = docs if isinstance(docs, dict) else {}
        text = history.get(sha)
        return text.encode("utf-8") if isinstance(text, str) else None

    chain, chain_problems = check_chain(doc, fetch_history)
    result = VerifyResult(
        dataset=str(doc.get("dataset") or dataset),
        location=location,
        release=int(doc.get("release", 0)),
        files_checked=checked,
        chain_length=chain,
        mismatches=mismatches + chain_problems,
    )
    return check_ckan_release(result, client, remote, data, fetch_history, trust)


def _schemas(path: Path | None, sha: str | None, listed: str | None) -> dict[str, dict[str, Any]]:
    """{csv path: Table Schema} from the published datapackage.json, if it is the one listed."""
    if path is None or sha is None or sha != listed:
        return {}
    try:
        descriptor = json.loads(path.read_bytes())
    except (OSError, ValueError):
        return {}
    out = {}
    for res in descriptor.get("resources") or [] if isinstance(descriptor, dict) else []:
        if (
            isinstance(res, dict)
            and res.get("format") == "csv"
            and isinstance(res.get("schema"), dict)
        ):
            out[str(res.get("path"))] = res["schema"]
    return out


def _check_table(
    client: CkanClient, remote: Remote, csv: str, parquet: Path, schema: dict[str, Any]
) -> list[Mismatch]:
    """The DataStore table of `csv` against the published Parquet, as a citizen reads it."""
    where = f"{csv} (DataStore)"
    table = definition(schema)
    try:
        published = rows.canonical(pq.read_table(parquet), table)
    except (pa.ArrowException, rows.RowsError, OSError) as exc:
        return [
            Mismatch(where, "unreadable", detail=f"the published Parquet cannot be read: {exc}")
        ]
    if table.key and not rows.usable_key(published, table):
        table = table.without_key()
    expected = rows.summary(published, table)
    res = remote.managed[csv]
    if not remote.datastore_active(csv):
        return [Mismatch(where, "missing", detail="listed as loaded, but the portal has no table")]
    rid = str(res.get("id"))
    try:
        found = info(client, rid, what=csv)
        problems = [
            Mismatch(where, "metadata", detail=p) for p in dictionary_problems(found, table)
        ]
        if not same_shape(found, table):
            return problems  # other columns: its rows cannot be compared
        held = read_rows(client, rid, table)
    except (PublishError, rows.RowsError) as exc:
        return [Mismatch(where, "missing", detail=f"the table cannot be read: {exc}")]
    actual = rows.summary(held, table)
    if actual != expected:
        problems.append(
            Mismatch(
                where,
                "changed",
                expected.content,
                actual.content,
                detail=f"{actual.rows} rows with content hash {actual.content[:12]}…, the "
                f"published Parquet has {expected.rows} rows with {expected.content[:12]}…",
            )
        )
    return problems
