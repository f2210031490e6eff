"""The fast validation engine, for a package's resources: read each once (`sources.typed`),
check every batch (`engine.ResourceValidator`).

A resource that is not on the fast path raises `NotOnFastPath(reason)` (see
`policy.fast_path_reason`); the dispatcher validates it with frictionless and records the
reason. Publishing drives the same reader and validator itself, with redaction in the same pass
(`opengov.pipeline`).
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

from opengov.package import Package, ResourceSpec
from opengov.progress import Progress
from opengov.sources.typed import NeedsFrictionless, open_typed
from opengov.validate.engine import ResourceValidator
from opengov.validate.model import ResourceResult
from opengov.validate.policy import NotOnFastPath, fast_path_reason

# Columns of a batch are cast and checked on this many threads; pyarrow's kernels release the
# GIL, so two threads use both cores of a two-core machine.
WORKERS = max(2, os.cpu_count() or 2)

__all__ = ["WORKERS", "NotOnFastPath", "fast_path_reason", "validate_resources"]


def validate_resources(
    package: Package,
    resources: list[ResourceSpec],
    *,
    samples: int,
    progress: bool = False,
) -> list[ResourceResult]:
    """Validate each resource on the fast path; raises NotOnFastPath for one that is not."""
    results = []
    bar = Progress(enabled=progress)
    try:
        with ThreadPoolExecutor(max_workers=WORKERS) as pool:
            for resource in resources:
                results.append(validate_one(package, resource, samples, pool, bar))
    finally:
        bar.close()
    return results


def validate_one(
    package: Package,
    resource: ResourceSpec,
    samples: int,
    pool: ThreadPoolExecutor | None,
    bar: Progress,
) -> ResourceResult:
    reason = fast_path_reason(package, resource)
    if reason:
        raise NotOnFastPath(reason)
    try:
        source = open_typed(resource, strict=True)
    except NeedsFrictionless as exc:
        raise NotOnFastPath(exc.reason) from None
    validator = ResourceValidator(
        package, resource, source.labels, source.header, samples=samples, pool=pool
    )
    bar.resource(resource.name, source.total_bytes, "validating")
    try:
        for batch in source.batches(pool):
            validator.feed(batch)
            bar.update(batch.num_rows, source.position)
    except BaseException:
        validator.close()
        raise
    return validator.finish(sha256=source.sha256 or "", size=source.size or None).steward
