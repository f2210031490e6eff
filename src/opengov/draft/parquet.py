"""`opengov init` for a Parquet file: the types are the file's own; the columns are renamed.

The package's Parquet is the source's rows with the columns renamed to the safe field names
(opengov's reader matches columns to fields by name), written batch by batch. Types come from
the Arrow schema through the same mapping as database imports (importers/sql/types.py), so a
column with no Table Schema equivalent stops the draft with its name and type.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from opengov import __version__
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
from opengov.errors import InputError
from opengov.importers.sql.types import plan_column
from opengov.package import sha256_file

if TYPE_CHECKING:
    from opengov.draft.init import InitResult


def init_parquet(
    source: Path, *, out: Path, name: str | None, now: dt.datetime | None
) -> InitResult:
    from opengov.draft.init import IMPORTER, FieldSummary, InitResult, _stamp, safe_titles

    existing = read_existing(out, IMPORTER)
    rname = resource_name(name or source.stem)
    try:
        parquet = pq.ParquetFile(str(source))
    except (pa.ArrowInvalid, OSError):
        raise InputError(f"{source.name} is not a readable Parquet file") from None
    schema = parquet.schema_arrow
    plans = [plan_column(f, "parquet") for f in schema]
    titles = safe_titles([f.name for f in schema])
    names = field_names([t if t is not None else "" for t in titles])
    out_schema = pa.schema([pa.field(n, p.arrow_type) for n, p in zip(names, plans, strict=True)])
    nulls = [0] * len(plans)
    rows = 0
    sample: list[pa.RecordBatch] = []
    sampled = 0
    with Staging(out) as staging:
        data_rel = f"data/{rname}.parquet"
        target = staging.path / data_rel
        target.parent.mkdir(parents=True, exist_ok=True)
        with pq.ParquetWriter(str(target), out_schema) as writer:
            try:
                for batch in parquet.iter_batches(batch_size=65536):
                    converted = pa.RecordBatch.from_arrays(
                        [p.convert(c) for p, c in zip(plans, batch.columns, strict=True)],
                        schema=out_schema,
                    )
                    rows += converted.num_rows
                    for i, column in enumerate(converted.columns):
                        nulls[i] += column.null_count
                    if sampled < SAMPLE_ROWS:
                        part = converted.slice(0, SAMPLE_ROWS - sampled)
                        sample.append(part)
                        sampled += part.num_rows
                    writer.write_batch(converted)
            except (pa.ArrowInvalid, OSError):
                raise InputError(f"{source.name} is not a readable Parquet file") from None
        table = pa.Table.from_batches(sample, schema=out_schema)
        fields: list[dict[str, Any]] = []
        drafts: list[FieldDraft] = []
        for i, (n, plan) in enumerate(zip(names, plans, strict=True)):
            fdesc: dict[str, Any] = {"name": n}
            if titles[i] is not None and titles[i] != n:
                fdesc["title"] = titles[i]
            fdesc.update(plan.field)
            if rows and nulls[i] == 0:
                fdesc["constraints"] = {"required": True}
            fields.append(fdesc)
            column = table.column(i)
            drafts.append(
                FieldDraft(
                    name=n,
                    title=titles[i],
                    type=plan.field["type"],
                    observation=observe(pc.drop_null(column)),
                    facts=(
                        f"Parquet {plan.db_type}",
                        f"{rows - nulls[i]:,} of {rows:,} rows filled",
                    ),
                )
            )
        resource = {
            "name": rname,
            "path": data_rel,
            "format": "parquet",
            "schema": {"fields": fields},
        }
        descriptor = merge_descriptor(
            {"name": rname, "title": source.stem, "licenses": [dict(CC0)], "resources": [resource]},
            existing.descriptor,
        )
        draft = render_rules(rname, drafts, command=f"opengov init {source.name}")
        rules_bytes = existing.rules if existing.rules_edited and existing.rules else draft
        record = {
            "importer": IMPORTER,
            "opengov": __version__,
            "source": {
                "file": source.name,
                "format": "parquet",
                "sha256": sha256_file(source),
                "bytes": source.stat().st_size,
            },
            "imported_at": _stamp(now),
            "rows": rows,
            "key_candidates": [],
            "data": {
                "path": data_rel,
                "sha256": sha256_file(target),
                "bytes": target.stat().st_size,
            },
            "rules_draft_sha256": hashlib.sha256(draft).hexdigest(),
        }
        staging.write(DESCRIPTOR, json_bytes(descriptor))
        staging.write(RULES, rules_bytes)
        staging.write(RECORD, json_bytes(record))
        changed = not staging.same_as_out({RECORD: ("imported_at", "opengov")})
        if changed:
            staging.commit()
    return InitResult(
        source=str(source),
        out=str(out),
        resource=rname,
        format="parquet",
        encoding=None,
        dialect={},
        rows=rows,
        fields=tuple(
            FieldSummary(n, titles[i], plans[i].field["type"], nulls[i] == 0, None)
            for i, n in enumerate(names)
        ),
        primary_key=(),
        key_candidates=(),
        changed=changed,
        rules="kept" if rules_bytes is not draft else "drafted",
        unclassified=unclassified(rules_bytes, rname, names),
    )
