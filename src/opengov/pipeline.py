"""The spine of `opengov publish`, the same for every target:

    load -> (target already holds it? stop) -> for each resource, one pass:
                read batch -> validate batch -> redact batch -> write batch
            -> reports -> target

Each source file is read once; its batches go to the validator and the redactor together, so
what is published is what was validated, and memory is bounded by a batch and the key state.
Resources only frictionless can validate are validated by it first, then read by the same
readers for publishing (`sources.readers.open_for_publishing`).
"""

from __future__ import annotations

import logging
import time
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from opengov.errors import OpengovError
from opengov.load import Loaded, load
from opengov.package import ResourceSpec
from opengov.progress import Progress
from opengov.targets.base import Target
from opengov.targets.plan import PublishResult
from opengov.validate.model import DEFAULT_SAMPLES

if TYPE_CHECKING:
    from concurrent.futures import ThreadPoolExecutor

    import pyarrow as pa

    from opengov.release.build import Release
    from opengov.release.writers import ResourceWriter
    from opengov.sources.typed import TypedBatch
    from opengov.stream import Run

log = logging.getLogger("opengov.pipeline")


def publish(
    package_path: Path | str,
    target: Target,
    *,
    plan_only: bool = False,
    agent: str | None = None,
    key_file: Path | str | None = None,
    engine: str = "auto",
    progress: bool = False,
    signing_key: Path | str | None = None,
) -> PublishResult:
    """Validate, redact and publish one package to `target`: only what changed.

    With `signing_key` the release is signed (signing.py); approvals that rules.yaml requires
    are checked before any work, and again when provenance is written.
    """
    from opengov.signing import signer_for_publish

    started = time.monotonic()
    signer = signer_for_publish(signing_key) if signing_key is not None else None
    loaded = replace(load(package_path, key_file=key_file), signer=signer)
    log.info("%s: loaded in %.2f s", loaded.name, time.monotonic() - started)
    with target.place(loaded, plan_only=plan_only, agent=agent, progress=progress) as place:
        started = time.monotonic()
        done = place.unchanged()
        log.info("%s: compared with the target in %.2f s", loaded.name, time.monotonic() - started)
        if done is not None:
            return done
        if not plan_only and loaded.rules.approvals is not None:
            from opengov.approvals import required_approvals

            # Approvals name the inputs' fingerprint: the data files are hashed ahead for it.
            required_approvals(
                loaded.package.root, loaded.rules.approvals, dataset=loaded.name,
                fingerprint=loaded.fingerprint,
            )  # fmt: skip
        release = build_release(
            loaded, staging_parent=place.staging_parent, engine=engine, progress=progress
        )
        release.signer = signer
        try:
            started = time.monotonic()
            result = place.apply(release, plan_only=plan_only)
            log.info("%s: handed to the target in %.2f s", loaded.name, time.monotonic() - started)
            return result
        finally:
            release.cleanup()


def build_release(
    loaded: Loaded,
    *,
    staging_parent: Path | None = None,
    engine: str = "auto",
    samples: int = DEFAULT_SAMPLES,
    progress: bool = False,
) -> Release:
    """Every published file of the package, in a staging folder; nothing if anything fails."""
    # The reading and writing machinery (pyarrow) is imported here, not with this module: an
    # unchanged re-publish needs none of it.
    from concurrent.futures import ThreadPoolExecutor

    from opengov.release.build import new_release, write_metadata
    from opengov.stream import Run
    from opengov.validate.arrow_engine import WORKERS

    release = new_release(loaded, staging_parent)
    run = Run(loaded, engine=engine, samples=samples, progress=Progress(enabled=progress))
    try:
        with ThreadPoolExecutor(max_workers=WORKERS) as pool:
            for spec in run.order():
                started = time.monotonic()
                rows = publish_resource(run, spec, release, pool)
                log.info("%s: %s rows read, validated, redacted and written in %.2f s",
                         spec.name, f"{rows:,}", time.monotonic() - started)  # fmt: skip
        run.progress.close()
        # Validation decides first, then what redaction refused, then re-identification.
        reports, redaction = run.finish()
        write_metadata(release, loaded, reports.published, redaction)
    except BaseException:
        run.progress.close()
        release.cleanup()
        raise
    return release


def publish_resource(
    run: Run, spec: ResourceSpec, release: Release, pool: ThreadPoolExecutor
) -> int:
    """One pass over one resource: each batch validated, redacted and written."""
    from opengov.redact.actions import published_schema
    from opengov.redact.apply import ResourceRedactor
    from opengov.release.build import add_resource
    from opengov.release.profile import unique_columns
    from opengov.release.writers import ResourceWriter
    from opengov.sources.readers import check_kept
    from opengov.stream import open_resource

    source, validator, publishable = open_resource(run, spec, pool)
    redactor = ResourceRedactor(spec, run.rules(spec), run.loaded.key, run.published,
                                run.wanted.get(spec.name, set()),
                                dataset=run.loaded.name, pool=pool)  # fmt: skip
    schema = published_schema(spec.schema, redactor.rules, redactor.kept)
    writer = (
        ResourceWriter(release, spec.name, schema["fields"], unique_columns(schema))
        if publishable
        else None
    )
    run.progress.resource(spec.name, spec.path.stat().st_size if spec.path else 0,
                          "validating, redacting, writing")  # fmt: skip
    rows = 0
    try:
        for batch in run.batches(spec, source, validator, pool):
            if not rows and writer is not None and source is not None and source.text_cells:
                stream_xlsx(spec, batch, writer, schema)
            withheld = None
            # The batch's checks run on the pool while it is redacted.
            started = validator.begin(batch)
            if run.failed is None and writer is not None:
                try:
                    check_kept(spec, batch)
                    out = redactor.feed(typed_table(spec, batch))
                    writer.write(out.table, out.csv_table)
                    withheld = out.withheld
                except OpengovError as exc:
                    run.fail(exc)  # raised after validation, which decides first
            validator.feed(batch, withheld, started)
            rows += batch.num_rows
            run.progress.update(batch.num_rows, source.position if source else 0)
        if run.failed is None and writer is not None and not rows:
            empty = redactor.feed(typed_table(spec, None))  # a header, and a typed empty Parquet
            writer.write(empty.table, empty.csv_table)
    except BaseException:
        if writer is not None:
            writer.abort()
        validator.close()
        raise
    run.finished(spec, source, validator, redactor)
    if writer is not None and run.failed is None:
        csv_out, parquet_out = writer.close()
        made = writer.xlsx()  # first: it stops the XLSX thread, whatever the profile does
        add_resource(release, spec.name, run.redacted[spec.name].schema, csv_out, parquet_out,
                     writer.profile(), made)  # fmt: skip
    elif writer is not None:
        writer.abort()
    return rows


# Stream the XLSX download when the table looks to stay within the download limit: a larger
# one would be written in part and thrown away.
_XLSX_ESTIMATE_MARGIN = 1.25


def stream_xlsx(
    spec: ResourceSpec, first: TypedBatch, writer: ResourceWriter, schema: dict[str, Any]
) -> None:
    """Have `writer` write the XLSX download on the way if the table's rows, estimated from
    the first batch's own text (its cells' bytes, a separator each: quotes make the estimate
    larger, never smaller), stay within the download limit. Otherwise the XLSX is decided
    after the pass from the Parquet file; both ways write the same bytes."""
    import pyarrow.compute as pc

    from opengov.release import pages
    from opengov.release.xlsx import DOWNLOAD_MAX_ROWS

    size = spec.path.stat().st_size if spec.path is not None else 0
    rows = first.num_rows
    if rows <= 0 or size <= 0:
        return
    text = sum(int(pc.sum(pc.binary_length(c.cells)).as_py() or 0) for c in first.columns)
    per_row = (text + len(first.columns) * rows) / rows
    if size / per_row > _XLSX_ESTIMATE_MARGIN * DOWNLOAD_MAX_ROWS:
        return
    title = pages.text(spec.descriptor.get("title")) or spec.name
    writer.stream_xlsx(schema["fields"], title)


def typed_table(spec: ResourceSpec, batch: TypedBatch | None) -> pa.Table:
    """A batch's cast columns as a table named by field, in schema order (the published
    reader's layout; columns matched by name where `fieldsMatch` says so)."""
    import pyarrow as pa

    from opengov.sources.cast import arrow_type

    fields = spec.schema.get("fields", [])
    if batch is None:
        arrays = [pa.array([], arrow_type(f)) for f in fields]
    else:
        arrays = batch.schema_arrays(fields)
    return pa.table(arrays, names=[str(f["name"]) for f in fields])
